"""Compile a checked expression tree into Python closures, once, at load time.

Each node becomes a small function of the case's environment (a dict of facts,
parameters and computed values that computes a missing value on first read). This is
several times faster than walking the tree for every case, and no Python source is ever
generated or executed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from .conventions import Convention
from .errors import EvaluationError
from .expressions import Binary, Call, If, ListLit, Literal, Name, Node, Unary
from .functions import FUNCTIONS

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


def operator_of(node: Binary, convention: Convention) -> str:
    """The comparison a node stands for, with legal words read by the document's convention."""
    if node.word is None:
        return node.op
    bound = convention.bound(node.word)
    assert bound is not None  # the typechecker refused unknown words
    return bound.operator


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
            cond, then, otherwise = map(self.build, (node.cond, node.then, node.otherwise))
            return lambda env: then(env) if cond(env) else otherwise(env)
        if isinstance(node, ListLit):
            items = frozenset(item.value for item in node.items if isinstance(item, Literal))
            return lambda env: items
        if isinstance(node, Call):
            return self._call(node)
        return self._binary(node)

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
        if len(args) == 1:
            (a,) = args
            return lambda env: impl(a(env))
        if len(args) == 2:
            a, b = args
            return lambda env: impl(a(env), b(env))
        return lambda env: impl(*(f(env) for f in args))

    def _binary(self, node: Binary) -> Compiled:
        left, right = self.build(node.left), self.build(node.right)
        op = operator_of(node, self.convention)
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


def _divide(a: Decimal, b: Decimal) -> Decimal:
    try:
        return a / b
    except (ZeroDivisionError, DivisionByZero, InvalidOperation):
        raise EvaluationError(f"division of {a} by zero") from None
