"""Static checks of an expression before anything runs: names, types, enum values.

Like Cedar's validator, we reject at load time what would otherwise fail (or silently
mislead) at run time: an unknown or misspelt name, money added to a date, an enum compared
with a value it can never take, a presence test on a fact that is always present.
"""

from __future__ import annotations

from collections.abc import Mapping

from .conventions import Convention
from .errors import did_you_mean
from .expressions import (
    COMPARISONS,
    Binary,
    Call,
    ExpressionError,
    If,
    ListLit,
    Literal,
    Name,
    Node,
    Unary,
)
from .functions import FUNCTIONS, SignatureError
from .values import BOOLEAN, NULL, NUMBER, Kind, Type, numeric_result


def check(node: Node, env: Mapping[str, Type], convention: Convention) -> Type:
    """The type of ``node``; raise ExpressionError (with position) when it is ill-typed."""
    return Checker(env, convention).infer(node)


class Checker:
    """Infers the type of a node (and checks it); ``lower`` asks it for each node's type."""

    def __init__(self, env: Mapping[str, Type], convention: Convention) -> None:
        self.env = env
        self.convention = convention

    def infer(self, node: Node) -> Type:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node)

    def _literal(self, node: Literal) -> Type:
        value = node.value
        if value is None:
            return NULL
        if isinstance(value, bool):
            return BOOLEAN
        if isinstance(value, str):
            return Type(Kind.TEXT, literal=True)
        kind = (
            Kind.INTEGER
            if value == value.to_integral_value() and "." not in node.text
            else Kind.NUMBER
        )
        return Type(kind, literal=True)

    def _name(self, node: Name) -> Type:
        if node.name not in self.env:
            hint = did_you_mean(node.name, self.env)
            raise ExpressionError(f"unknown name {node.name!r}{hint}", node.pos)
        # Reading a name asserts it is present (the compiled read raises if it is absent),
        # so the value read is never null; only given(name) looks at absence.
        t = self.env[node.name]
        return Type(t.kind, t.values, False, False, t.item)

    def _unary(self, node: Unary) -> Type:
        operand = self.infer(node.operand)
        if node.op == "not":
            self._want_boolean(operand, node.operand)
            return BOOLEAN
        if not operand.numeric:
            raise ExpressionError(f"cannot negate {operand}", node.pos)
        return operand

    def _listlit(self, node: ListLit) -> Type:
        if not node.items:
            raise ExpressionError("an empty list can never contain anything", node.pos)
        types = [self.infer(item) for item in node.items]
        for item, t in zip(node.items, types, strict=True):
            if not isinstance(item, Literal):
                raise ExpressionError("list items must be written as literal values", item.pos)
            if t.kind != types[0].kind:
                raise ExpressionError(f"a list mixes {types[0]} and {t}", item.pos)
        return Type(Kind.LIST, item=types[0])

    def _if(self, node: If) -> Type:
        self._want_boolean(self.infer(node.cond), node.cond)
        then, otherwise = self.infer(node.then), self.infer(node.otherwise)
        if then.kind == Kind.NULL:
            return Type(otherwise.kind, otherwise.values, True, otherwise.literal, otherwise.item)
        if otherwise.kind == Kind.NULL:
            return Type(then.kind, then.values, True, then.literal, then.item)
        joined = self._join(then, otherwise)
        if joined is None:
            raise ExpressionError(f"the branches disagree: {then} vs {otherwise}", node.pos)
        return joined

    def _join(self, a: Type, b: Type) -> Type | None:
        nullable = a.nullable or b.nullable
        if a.numeric and b.numeric:
            joined = numeric_result(a, b)
            return Type(joined.kind, nullable=nullable) if joined else None
        if a.kind == b.kind:
            return Type(a.kind, a.values or b.values, nullable, a.literal and b.literal)
        if {a.kind, b.kind} == {Kind.ENUM, Kind.TEXT}:
            enum = a if a.kind == Kind.ENUM else b
            return Type(Kind.ENUM, enum.values, nullable)
        return None

    def _call(self, node: Call) -> Type:
        function = FUNCTIONS.get(node.func)
        if function is None:
            hint = did_you_mean(node.func, FUNCTIONS)
            raise ExpressionError(f"unknown function {node.func!r}{hint}", node.pos)
        count = len(node.args)
        if not function.min_args <= count <= function.max_args:
            wanted = (
                str(function.min_args)
                if function.min_args == function.max_args
                else f"{function.min_args} to {function.max_args}"
            )
            raise ExpressionError(
                f"{node.func}() takes {wanted} argument(s), got {count}", node.pos
            )
        if node.func == "given":
            arg = node.args[0]
            if isinstance(arg, Name) and not self.env.get(arg.name, NULL).nullable:
                raise ExpressionError(
                    f"given({arg.name}) is always true: {arg.name!r} is never absent", node.pos
                )
        types = [self.infer(arg) for arg in node.args]
        try:
            return function.check(types, node.args)
        except SignatureError as exc:
            raise ExpressionError(f"{node.func}() {exc}", node.pos) from None

    def _binary(self, node: Binary) -> Type:
        left, right = self.infer(node.left), self.infer(node.right)
        op = node.op
        if op in ("and", "or"):
            self._want_boolean(left, node.left)
            self._want_boolean(right, node.right)
            return BOOLEAN
        if op in ("in", "not in"):
            if right.kind != Kind.LIST or right.item is None:
                raise ExpressionError(f"'{op}' needs a list on its right", node.right.pos)
            self._comparable(left, right.item, node)
            self._enum_literals(left, node.right)
            return BOOLEAN
        if node.word is not None:
            if self.convention.bound(node.word) is None:
                raise ExpressionError(
                    f"{node.word!r} is not a threshold word of this document", node.pos
                )
            self._ordered(left, right, node)
            return BOOLEAN
        if op in COMPARISONS:
            if op in ("==", "!="):
                self._comparable(left, right, node)
                self._enum_literals(left, node.right)
                self._enum_literals(right, node.left)
            else:
                self._ordered(left, right, node)
            return BOOLEAN
        return self._arithmetic(op, left, right, node)

    def _arithmetic(self, op: str, left: Type, right: Type, node: Binary) -> Type:
        if not (left.numeric and right.numeric):
            raise ExpressionError(f"cannot compute {left} {op} {right}", node.pos)
        if op in "+-":
            result = numeric_result(left, right)
            if result is None:
                raise ExpressionError(f"cannot compute {left} {op} {right}", node.pos)
            return result
        if op == "*":
            if left.kind == Kind.MONEY and right.kind == Kind.MONEY:
                raise ExpressionError("money times money has no meaning", node.pos)
            if Kind.MONEY in (left.kind, right.kind):
                return Type(Kind.MONEY, literal=left.literal and right.literal)
            if left.kind == right.kind == Kind.INTEGER:
                return Type(Kind.INTEGER, literal=left.literal and right.literal)
            return NUMBER
        # division
        if left.kind == Kind.MONEY and right.kind == Kind.MONEY:
            return NUMBER
        if right.kind == Kind.MONEY:
            raise ExpressionError("a number divided by money has no meaning", node.pos)
        return Type(Kind.MONEY) if left.kind == Kind.MONEY else NUMBER

    def _want_boolean(self, t: Type, node: Node) -> None:
        if t.kind != Kind.BOOLEAN:
            raise ExpressionError(f"expected a true/false condition, got {t}", node.pos)

    def _ordered(self, left: Type, right: Type, node: Binary) -> None:
        if left.numeric and right.numeric:
            if numeric_result(left, right) is None:
                raise ExpressionError(f"cannot compare {left} with {right}", node.pos)
            return
        if left.kind == right.kind == Kind.DATE:
            return
        raise ExpressionError(f"cannot order {left} against {right}", node.pos)

    def _comparable(self, left: Type, right: Type, node: Binary) -> None:
        if left.numeric and right.numeric:
            if numeric_result(left, right) is None:
                raise ExpressionError(f"cannot compare {left} with {right}", node.pos)
            return
        textual = {Kind.ENUM, Kind.TEXT}
        if left.kind in textual and right.kind in textual:
            return
        if left.kind != right.kind:
            raise ExpressionError(f"cannot compare {left} with {right}", node.pos)

    def _enum_literals(self, enum: Type, other: Node) -> None:
        """``scheme == 'enterprize'`` can never hold: say so, with a suggestion."""
        if enum.kind != Kind.ENUM or not enum.values:
            return
        literals = other.items if isinstance(other, ListLit) else (other,)
        for item in literals:
            if (
                isinstance(item, Literal)
                and isinstance(item.value, str)
                and item.value not in enum.values
            ):
                hint = did_you_mean(item.value, enum.values)
                allowed = ", ".join(sorted(enum.values))
                raise ExpressionError(f"{item.value!r} is not one of {allowed}{hint}", item.pos)
