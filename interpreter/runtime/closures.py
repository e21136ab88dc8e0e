"""Compile a policy's core definitions into Python closures, once per program.

Each core node becomes a small function of the case's environment (a dict of facts,
parameters and computed values that computes a missing value on first read, see
``engine.CaseEnv``). This is several times faster than walking the tree for every case,
and it lets the traced path note every step. Untraced evaluation uses ``codegen``, which
is faster again; both read the same core tree (``language.core``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any, assert_never

from ..language import core
from ..language.errors import EvaluationError
from ..language.functions import FUNCTIONS, ROUNDING
from ..language.values import FEN

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


def compile_definition(definition: core.Definition) -> Compiled:
    """The closure computing one definition from a case's environment."""
    return _Compiler(definition).build(definition.body)


def compile_expression(expr: core.Expr) -> Compiled:
    """The closure of one core expression (e.g. an ``IfExp`` condition, for coverage)."""
    return _Compiler(None).build(expr)


def divide(a: Decimal, b: Decimal) -> Decimal:
    try:
        return a / b
    except (ZeroDivisionError, DivisionByZero, InvalidOperation):
        raise EvaluationError(f"division of {a} by zero") from None


def absent(name: str) -> EvaluationError:
    return EvaluationError(f"{name!r} is needed here but was not given")


class _Compiler:
    def __init__(self, definition: core.Definition | None) -> None:
        self.definition = definition

    def build(self, node: core.Expr) -> Compiled:
        match node:
            case core.Const(value=value):
                return lambda env: value
            case core.Read(name=name):
                return lambda env: env[name]
            case core.Required(name=name):
                return self._required(name)
            case core.Given(name=name):
                return lambda env: env[name] is not None
            case core.Not(operand=operand):
                inner = self.build(operand)
                return lambda env: not inner(env)
            case core.Neg(operand=operand):
                inner = self.build(operand)
                return lambda env: -inner(env)
            case core.IfExp():
                return self._if(node)
            case core.Member(operand=operand, values=values, negated=negated):
                left = self.build(operand)
                if negated:
                    return lambda env: left(env) not in values
                return lambda env: left(env) in values
            case core.And(left=left, right=right):
                a, b = self.build(left), self.build(right)
                return lambda env: a(env) and b(env)
            case core.Or(left=left, right=right):
                a, b = self.build(left), self.build(right)
                return lambda env: a(env) or b(env)
            case core.Arith(op="/", left=left, right=right):
                a, b = self.build(left), self.build(right)
                return lambda env: divide(a(env), b(env))
            case (
                core.Arith(op=op, left=left, right=right)
                | core.Compare(op=op, left=left, right=right)
            ):
                return self._binary(_OPS[op], left, right)
            case core.Round(operand=operand, places=places, mode=mode):
                quantum, rounding = Decimal(1).scaleb(-places), ROUNDING[mode]
                unrounded = self.build(operand)
                return lambda env: unrounded(env).quantize(quantum, rounding=rounding)
            case core.Call():
                return self._call(node)
            case core.WholeFen(operand=operand):
                return self._whole_fen(self.build(operand))
            case core.Table():
                return self._table(node)
            case _:
                assert_never(node)

    def _required(self, name: str) -> Compiled:
        def read(env: Env) -> Any:
            value = env[name]
            if value is None:
                raise absent(name)
            return value

        return read

    def _whole_fen(self, inner: Compiled) -> Compiled:
        definition = self.definition
        clause = definition.at.clause if definition else "?"
        name = definition.name if definition else "?"

        def check(env: Env) -> Any:
            value = inner(env)
            if value is not None and value != value.quantize(FEN):
                raise EvaluationError(
                    f"clause {clause}, {name}: {value} is not a whole number of fen; "
                    "the clause must say how it rounds",
                    placed=True,
                )
            return value

        return check

    def _if(self, node: core.IfExp) -> Compiled:
        """``if eligible then x else 0`` is the commonest shape in the law: read the flag,
        the name and the constant in place instead of through a closure each."""
        cond, then, otherwise = node.cond, node.then, node.otherwise
        if isinstance(cond, core.Not) and isinstance(cond.operand, core.Read):
            cond, then, otherwise = cond.operand, otherwise, then  # if not f then a else b
        c, t, o = self.build(cond), self.build(then), self.build(otherwise)
        if isinstance(cond, core.Read):
            flag = cond.name
            if isinstance(otherwise, core.Const):
                constant = otherwise.value
                if isinstance(then, core.Read):
                    value = then.name
                    return lambda env: env[value] if env[flag] else constant
                return lambda env: t(env) if env[flag] else constant
            if isinstance(then, core.Const):
                constant = then.value
                return lambda env: constant if env[flag] else o(env)
            return lambda env: t(env) if env[flag] else o(env)
        if isinstance(otherwise, core.Const):
            constant = otherwise.value
            return lambda env: t(env) if c(env) else constant
        return lambda env: t(env) if c(env) else o(env)

    def _call(self, node: core.Call) -> Compiled:
        impl = FUNCTIONS[node.func].impl
        args = [self.build(arg) for arg in node.args]
        plain = [arg.name if isinstance(arg, core.Read) else None for arg in node.args]
        if len(args) == 1:
            (a,) = args
            (x,) = plain
            if x is not None:
                return lambda env: impl(env[x])
            return lambda env: impl(a(env))
        if len(args) == 2:
            a, b = args
            x, y = plain
            if x is not None and y is not None:
                return lambda env: impl(env[x], env[y])
            return lambda env: impl(a(env), b(env))
        return lambda env: impl(*(f(env) for f in args))

    def _binary(self, fn: Callable[[Any, Any], Any], left: core.Expr, right: core.Expr) -> Compiled:
        """Read names and constants in place: most comparisons are ``name op constant``,
        and a closure call per operand is most of the cost of evaluating them."""
        a = left.name if isinstance(left, core.Read) else None
        b = right.name if isinstance(right, core.Read) else None
        if a is not None and isinstance(right, core.Const):
            c = right.value
            return lambda env: fn(env[a], c)
        if isinstance(left, core.Const) and b is not None:
            c = left.value
            return lambda env: fn(c, env[b])
        if a is not None and b is not None:
            return lambda env: fn(env[a], env[b])
        if a is not None:
            r = self.build(right)
            return lambda env: fn(env[a], r(env))
        if b is not None:
            lf = self.build(left)
            return lambda env: fn(lf(env), env[b])
        lf, r = self.build(left), self.build(right)
        return lambda env: fn(lf(env), r(env))

    def _table(self, table: core.Table) -> Compiled:
        """One closure for the whole table: every column is read first and must be given;
        the first row whose tests hold wins. The row taken is noted in
        ``env.rows_hit[name]`` (None for the default) for the trace and for coverage."""
        columns = tuple(c.name for c in table.columns if isinstance(c, core.Read | core.Required))
        rows = [
            (tuple((t.column, _predicate(t)) for t in row.tests), self.build(row.then))
            for row in table.rows
        ]
        default = self.build(table.default) if table.default is not None else None
        where = table.name

        def evaluate(env: Any) -> Any:
            values = {c: env[c] for c in columns}
            for c, v in values.items():
                if v is None:
                    raise absent(c)
            for index, (tests, then) in enumerate(rows):
                for column, test in tests:
                    if not test(values[column]):
                        break
                else:
                    env.rows_hit[where] = index
                    return then(env)
            if default is not None:
                env.rows_hit[where] = None
                return default(env)
            shown = ", ".join(f"{c}={values[c]}" for c in columns)
            raise EvaluationError(f"no row of {where} applies to {shown}, and it has no default")

        return evaluate


def _predicate(test: core.Test) -> Callable[[Any], bool]:
    """The test as one small closure: evaluated once per row and case, so it matters."""
    match test:
        case core.SetTest(values=values):
            return values.__contains__
        case core.IntervalTest(lo=lo, lo_closed=lo_closed, hi=hi, hi_closed=hi_closed):
            if lo is not None and hi is not None:
                if lo_closed and hi_closed:
                    return lambda x: lo <= x <= hi
                if lo_closed:
                    return lambda x: lo <= x < hi
                if hi_closed:
                    return lambda x: lo < x <= hi
                return lambda x: lo < x < hi
            if lo is not None:
                return (lambda x: x >= lo) if lo_closed else (lambda x: x > lo)
            if hi is not None:
                return (lambda x: x <= hi) if hi_closed else (lambda x: x < hi)
            return lambda x: True
        case _:
            assert_never(test)
