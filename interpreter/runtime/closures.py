"""Compile a checked expression tree into Python closures, once, at load time.

Each node becomes a small function of the case's environment (a dict of facts,
parameters and computed values that computes a missing value on first read). This is
several times faster than walking the tree for every case, and it lets the traced path
note every step. Untraced evaluation uses ``codegen`` instead, which is faster again.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from ..language.analysis import FEN, operator_of  # noqa: F401 (FEN: codegen reads it here)
from ..language.conventions import Convention
from ..language.errors import EvaluationError
from ..language.expressions import Binary, Call, If, ListLit, Literal, Name, Node, Unary
from ..language.functions import FUNCTIONS, ROUNDING

Env = dict  # a case's values; see engine.CaseEnv
Compiled = Callable[[Env], Any]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_expr(node: Node, convention: Convention, nullable: frozenset[str]) -> Compiled:
    """``nullable`` names may be absent: reading one that is absent is an error."""
    return _Compiler(convention, nullable).build(node)


class _Compiler:
    def __init__(self, convention: Convention, nullable: frozenset[str]) -> None:
        self.convention = convention
        self.nullable = nullable

    def build(self, node: Node) -> Compiled:
        if isinstance(node, Literal):
            value = node.value
            return lambda env: value
        if isinstance(node, Name):
            return self._name(node.name)
        if isinstance(node, Unary):
            inner = self.build(node.operand)
            if node.op == "not":
                return lambda env: not inner(env)
            return lambda env: -inner(env)
        if isinstance(node, If):
            return self._if(node)
        if isinstance(node, ListLit):
            items = frozenset(item.value for item in node.items if isinstance(item, Literal))
            return lambda env: items
        if isinstance(node, Call):
            return self._call(node)
        return self._binary(node)

    def _if(self, node: If) -> Compiled:
        """``if eligible then x else 0`` is the commonest shape in the law: read the flag,
        the name and the constant in place instead of through a closure each."""
        cond, then, otherwise = map(self.build, (node.cond, node.then, node.otherwise))
        flag = node.cond.name if self._plain_name(node.cond) else None  # type: ignore[union-attr]
        negated = (
            isinstance(node.cond, Unary)
            and node.cond.op == "not"
            and self._plain_name(node.cond.operand)
        )
        if negated:
            flag = node.cond.operand.name  # type: ignore[union-attr]
            cond, then, otherwise = cond, otherwise, then  # if not f then a else b
            node = If(node.cond.operand, node.otherwise, node.then, node.pos)  # type: ignore[union-attr]
        if flag is not None and isinstance(node.otherwise, Literal):
            constant = node.otherwise.value
            if self._plain_name(node.then):
                value = node.then.name  # type: ignore[union-attr]
                return lambda env: env[value] if env[flag] else constant
            return lambda env: then(env) if env[flag] else constant
        if flag is not None and isinstance(node.then, Literal):
            constant = node.then.value
            return lambda env: constant if env[flag] else otherwise(env)
        if flag is not None:
            return lambda env: then(env) if env[flag] else otherwise(env)
        if isinstance(node.otherwise, Literal):
            constant = node.otherwise.value
            return lambda env: then(env) if cond(env) else constant
        return lambda env: then(env) if cond(env) else otherwise(env)

    def _name(self, name: str) -> Compiled:
        if name not in self.nullable:
            return lambda env: env[name]

        def read(env: Env) -> Any:
            value = env[name]
            if value is None:
                raise EvaluationError(f"{name!r} is needed here but was not given")
            return value

        return read

    def _call(self, node: Call) -> Compiled:
        if node.func == "given":
            (arg,) = node.args
            name = arg.name if isinstance(arg, Name) else ""
            return lambda env: env[name] is not None
        impl = FUNCTIONS[node.func].impl
        args = [self.build(arg) for arg in node.args]
        if node.func == "round" and all(isinstance(a, Literal) for a in node.args[1:]):
            places = node.args[1].value if len(node.args) > 1 else 2  # type: ignore[union-attr]
            mode = ROUNDING[node.args[2].value] if len(node.args) > 2 else ROUNDING["half_up"]  # type: ignore[union-attr,index]
            quantum = Decimal(1).scaleb(-int(places))  # type: ignore[arg-type]
            value = args[0]
            return lambda env: value(env).quantize(quantum, rounding=mode)
        plain = [self._plain_name(arg) for arg in node.args]
        if len(args) == 1:
            (a,) = args
            if plain[0]:
                name = node.args[0].name  # type: ignore[union-attr]
                return lambda env: impl(env[name])
            return lambda env: impl(a(env))
        if len(args) == 2:
            a, b = args
            if all(plain):
                x, y = (arg.name for arg in node.args)  # type: ignore[union-attr]
                return lambda env: impl(env[x], env[y])
            return lambda env: impl(a(env), b(env))
        return lambda env: impl(*(f(env) for f in args))

    def _binary(self, node: Binary) -> Compiled:
        op = operator_of(node, self.convention)
        if op in _OPS:
            fast = self._direct(node, _OPS[op])
            if fast is not None:
                return fast
        left, right = self.build(node.left), self.build(node.right)
        if op == "and":
            return lambda env: left(env) and right(env)
        if op == "or":
            return lambda env: left(env) or right(env)
        if op == "in":
            return lambda env: left(env) in right(env)
        if op == "not in":
            return lambda env: left(env) not in right(env)
        if op == "/":
            return lambda env: _divide(left(env), right(env))
        fn = _OPS[op]
        return lambda env: fn(left(env), right(env))

    def _direct(self, node: Binary, fn: Callable[[Any, Any], Any]) -> Compiled | None:
        """Read names and constants in place: most comparisons are ``name op constant``,
        and a closure call per operand is most of the cost of evaluating them."""
        left, right = node.left, node.right
        plain = self._plain_name
        if plain(left) and isinstance(right, Literal):
            a, c = left.name, right.value  # type: ignore[union-attr]
            return lambda env: fn(env[a], c)
        if isinstance(left, Literal) and plain(right):
            c, b = left.value, right.name  # type: ignore[union-attr]
            return lambda env: fn(c, env[b])
        if plain(left) and plain(right):
            a, b = left.name, right.name  # type: ignore[union-attr]
            return lambda env: fn(env[a], env[b])
        if plain(left):
            a, r = left.name, self.build(right)  # type: ignore[union-attr]
            return lambda env: fn(env[a], r(env))
        if plain(right):
            lf, b = self.build(left), right.name  # type: ignore[union-attr]
            return lambda env: fn(lf(env), env[b])
        return None

    def _plain_name(self, node: Node) -> bool:
        return isinstance(node, Name) and node.name not in self.nullable


def _divide(a: Decimal, b: Decimal) -> Decimal:
    try:
        return a / b
    except (ZeroDivisionError, DivisionByZero, InvalidOperation):
        raise EvaluationError(f"division of {a} by zero") from None
