"""The core tree (``language.core``) compiled to functions over column values.

Each node becomes a closure of the batch's ``Context`` that returns a ``Val`` for every
row. The meaning is the core tree's: comparisons are already read by the document's
convention, rounding has its places and mode, an optional value read where it is needed
is a ``Required`` node, a table is its tests in row order. Both sides of ``if``/``and``/
``or`` are evaluated over all rows and chosen with masks; an error on a branch a row does
not take is not that row's error.

A money result is converted to whole fen (``_to_money``) in each branch of an ``if`` and
in each result of a table, where a constant converts once instead of the whole column
after the choice; a fraction of a fen there (``WholeFen``: the scalar engine's error) is
a row for the scalar engine. A construct with no column form raises ``Unsupported``: the
rows that read it go to the scalar engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import assert_never

import numpy as np

from ..language import core
from ..language.functions import ROUNDING
from ..language.values import Kind
from . import tables
from .kernels import kernel
from .operations import (
    _addsub,
    _and,
    _compare,
    _divide,
    _if,
    _member,
    _neg,
    _not,
    _or,
    _round,
    _times,
    _to_money,
)
from .values import EPOCH_ORDINAL, Bool, Cat, Context, Date, Unsupported, Val, _num_const

Fn = Callable[[Context], Val]


def compile_definition(definition: core.Definition) -> Fn:
    """A computed value's function; a money value comes out in fen (scale 2)."""
    if definition.type.kind == Kind.MONEY:
        return _money(definition.body)
    return build(definition.body)


def _money(node: core.Expr) -> Fn:
    """A money value in fen, the conversion pushed into the branches of an ``if`` and
    the results of a table. Every money result is converted and checked, whether or not
    the rule provably keeps whole fen (``WholeFen``): where it does, no row fails the
    check."""
    match node:
        case core.WholeFen(operand=operand):
            return _money(operand)
        case core.IfExp(cond=cond, then=then, otherwise=otherwise):
            c, t, o = build(cond), _money(then), _money(otherwise)
            return lambda ctx: _if(c(ctx), t(ctx), o(ctx))
        case core.Table():
            return _table(node, _money)
        case _:
            inner = build(node)
            return lambda ctx: _to_money(inner(ctx))


def build(node: core.Expr) -> Fn:
    match node:
        case core.Const(value=value):
            return _const(value)
        case core.Read(name=name):
            return lambda ctx: ctx.values[name]
        case core.Required(name=name):

            def required(ctx: Context) -> Val:
                val = ctx.values[name]
                return Val(val.v, False, val.bad | val.null)

            return required
        case core.Given(name=name):

            def given(ctx: Context) -> Val:
                val = ctx.values[name]
                if val.v is None:
                    return Val(Bool(np.zeros((), dtype=bool)), False, val.bad)
                return Val(Bool(~np.asarray(val.null, dtype=bool)), False, val.bad)

            return given
        case core.Neg(operand=operand):
            inner = build(operand)
            return lambda ctx: _neg(inner(ctx))
        case core.Not(operand=operand):
            inner = build(operand)
            return lambda ctx: _not(inner(ctx))
        case core.Arith(op=op, left=left, right=right):
            return _arith(op, build(left), build(right))
        case core.Compare(op=op, left=left, right=right):
            a, b = build(left), build(right)
            return lambda ctx: _compare(a(ctx), b(ctx), op)
        case core.And(left=left, right=right):
            a, b = build(left), build(right)
            return lambda ctx: _and(a(ctx), b(ctx))
        case core.Or(left=left, right=right):
            a, b = build(left), build(right)
            return lambda ctx: _or(a(ctx), b(ctx))
        case core.Member(operand=operand, values=values, negated=negated):
            inner, items = build(operand), list(values)
            return lambda ctx: _member(ctx, inner(ctx), items, negated)
        case core.IfExp(cond=cond, then=then, otherwise=otherwise):
            c, t, o = build(cond), build(then), build(otherwise)
            return lambda ctx: _if(c(ctx), t(ctx), o(ctx))
        case core.Round(operand=operand, places=places, mode=mode):
            if mode not in ROUNDING:  # pragma: no cover - the typechecker allows no other
                raise Unsupported(mode)
            inner = build(operand)
            return lambda ctx: _round(inner(ctx), places, mode)
        case core.Call(func=func, args=args):
            run = kernel(func)
            compiled = [build(a) for a in args]
            if len(compiled) == 1:
                (a,) = compiled
                return lambda ctx: run(a(ctx))
            if len(compiled) == 2:
                a, b = compiled
                return lambda ctx: run(a(ctx), b(ctx))
            return lambda ctx: run(*(f(ctx) for f in compiled))
        case core.WholeFen(operand=operand):  # a money value inside a larger expression
            return _money(operand)
        case core.Table():
            return _table(node, build)
        case _:
            assert_never(node)


def _const(value: core.Scalar | frozenset[core.Scalar]) -> Fn:
    match value:
        case None:
            return lambda ctx: Val(None, True)
        case bool():
            const = Val(Bool(value))
            return lambda ctx: Val(const.v)
        case Decimal():
            num = _num_const(value)
            return lambda ctx: Val(num)
        case dt.date():
            day = Date(value.toordinal() - EPOCH_ORDINAL)
            return lambda ctx: Val(day)
        case str():
            text = value
            return lambda ctx: Val(Cat(ctx.code(text)))
        case frozenset():
            raise Unsupported("a list outside 'in'")
        case _:
            assert_never(value)


def _arith(op: str, a: Fn, b: Fn) -> Fn:
    match op:
        case "+" | "-":
            return lambda ctx: _addsub(a(ctx), b(ctx), op)
        case "*":
            return lambda ctx: _times(a(ctx), b(ctx))
        case "/":
            return lambda ctx: _divide(a(ctx), b(ctx))
    raise Unsupported(f"operator {op}")  # pragma: no cover - core.ARITHMETIC only


def _table(node: core.Table, result: Callable[[core.Expr], Fn]) -> Fn:
    """A table, each result (and the default) compiled by ``result``."""
    columns = [build(c) for c in node.columns]
    thens = [result(row.then) for row in node.rows]
    default = result(node.default) if node.default is not None else None
    return tables.table(node, columns, thens, default)
