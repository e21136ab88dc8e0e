"""Decision tables over columns: the core tree's rows (``core.Table``), tried in order,
the first that holds giving the value.

A table whose results are all constants of one kind (amounts, codes, flags) is a lookup:
each row's first matching table row, then its result by index; and one that tests a
single integer-coded column is matched once per value in that column's range, not per
row. Otherwise each result is chosen where its row is the first to hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, assert_never, cast

import numpy as np

from ..language import core
from .operations import _compare, _isin, _select
from .values import (
    EPOCH_ORDINAL,
    SAFE,
    Bool,
    Cat,
    Context,
    Date,
    Num,
    Unsupported,
    Val,
    Vec,
    _by_value,
    _mand,
    _mor,
    _num_const,
    _pow10,
)

Fn = Callable[[Context], Val]
Tests = Sequence[core.Test]


def table(node: core.Table, columns: Sequence[Fn], thens: Sequence[Fn], default: Fn | None) -> Fn:
    """The table's value: ``columns``, ``thens`` and ``default`` are the compiled column
    reads (in the table's order), row results and default of ``node``."""
    names = [c.name for c in node.columns]
    tests = [row.tests for row in node.rows]
    tested = sorted({t.column for row in tests for t in row})

    def run(ctx: Context) -> Val:
        inputs = {name: read(ctx) for name, read in zip(names, columns, strict=True)}
        bad = _mor(*(_mor(val.bad, val.null) for val in inputs.values()))
        vals = [then(ctx) for then in thens]
        rest = default(ctx) if default is not None else None
        consts = _constants([*vals, rest] if rest is not None else vals)
        if consts is not None:
            out, unmatched = _lookup(ctx, tests, tested, inputs, consts, rest is None)
            return Val(out, False, _mor(bad, unmatched))
        return _pick_rows(ctx, tests, inputs, vals, rest, bad)

    return run


def _pick_rows(
    ctx: Context,
    cells: Sequence[Tests],
    inputs: dict[str, Val],
    vals: list[Val],
    rest: Val | None,
    bad: Any,
) -> Val:
    """A decision table whose results vary by row: each row's result where it is the
    first row that matches, the default (or an error) where none does."""
    n = ctx.n
    taken: Any = False
    picks: list[tuple[Any, Val]] = []
    for tests, val in zip(cells, vals, strict=True):
        match = _row_matches(ctx, tests, inputs, n)
        first = match if taken is False else match & ~taken
        taken = match if taken is False else taken | match
        bad = _mor(bad, _mand(first, val.bad))
        picks.append((first, val))
    left = ~taken if taken is not False else np.ones(n, dtype=bool)
    if rest is not None:
        bad = _mor(bad, _mand(left, rest.bad))
        out = rest
    else:
        bad = _mor(bad, left)
        out = picks[-1][1] if picks else Val(None, True)
    for first, val in reversed(picks):
        chosen = _select(first, val, out)
        out = Val(chosen.v, chosen.null, _mor(chosen.bad, _mand(first, out.bad)))
    return Val(out.v, out.null, _mor(bad, out.bad))


def _row_matches(ctx: Context, tests: Tests, inputs: dict[str, Val], m: int) -> Any:
    """Where one table row's cells all match (an m-row mask)."""
    match: Any = None
    for test in tests:
        hit = _test_matches(ctx, test, inputs[test.column])
        match = hit if match is None else match & hit
    return np.ones(m, dtype=bool) if match is None else np.broadcast_to(match, (m,))


def _constants(vals: list[Val]) -> tuple[type, np.ndarray, int] | None:
    """The results of a decision table as one array, when every result is a constant
    of one kind (the usual table: amounts, codes, flags): then a row's result is a lookup."""
    kinds = {type(val.v) for val in vals}
    if not vals or len(kinds) != 1:
        return None
    kind = kinds.pop()
    consts: list[Num | Cat | Date | Bool] = []
    for val in vals:
        v = val.v
        if (
            not isinstance(v, Num | Cat | Date | Bool)
            or val.null is not False
            or val.bad is not False
            or np.ndim(v.data) != 0
        ):
            return None
        consts.append(v)
    if kind is Bool:
        return kind, np.array([bool(v.data) for v in consts]), 0
    scale = max((v.scale for v in consts if isinstance(v, Num)), default=0)
    data = [int(v.data) * _pow10(scale - getattr(v, "scale", 0)) for v in consts]
    if any(abs(x) >= SAFE for x in data):
        return None
    return kind, np.array(data, dtype=np.int64), scale


def _lookup(
    ctx: Context,
    cells: Sequence[Tests],
    tested: list[str],
    inputs: dict[str, Val],
    consts: tuple[type, np.ndarray, int],
    no_default: bool,
) -> tuple[Vec, Any]:
    """A table of constant results: each row's first matching table row, then its result
    by index; and where no row matches (if there is no default). A table that tests one
    integer-coded column is matched once per value in that column's range, not per row."""
    kind, results, scale = consts
    last = len(cells)  # the default's index, or "no row matched"
    if no_default:
        results = np.append(results, results[-1])

    def first_rows(vals: dict[str, Val], m: int) -> np.ndarray:
        out = np.full(m, last, dtype=np.int64)
        taken: Any = False
        for i, tests in enumerate(cells):
            match = _row_matches(ctx, tests, vals, m)
            first = match if taken is False else match & ~taken
            taken = match if taken is False else taken | match
            out -= np.multiply(first, last - i, dtype=np.int64)
        return out

    v = inputs[tested[0]].v if len(tested) == 1 else None
    if isinstance(v, Num | Date | Cat) and isinstance(v.data, np.ndarray) and v.data.ndim == 1:
        col, data = tested[0], v.data
        remake = (lambda d: Num(d, v.scale)) if isinstance(v, Num) else type(v)

        def by_value(d: Any) -> np.ndarray:
            return first_rows({col: Val(remake(d))}, np.size(d))

        if not no_default:  # the result itself, gathered once
            found = _by_value(data, lambda d: results[by_value(d)])
            return (Num(found, scale) if kind is Num else kind(found)), False
        rows = _by_value(data, by_value)
    else:
        rows = first_rows(inputs, ctx.n)
    found = results[rows]
    unmatched: Any = False
    if no_default:
        unmatched = rows == last
        unmatched = unmatched if unmatched.any() else False
    return (Num(found, scale) if kind is Num else kind(found)), unmatched


def _test_matches(ctx: Context, test: core.Test, val: Val) -> Any:
    v = val.v
    match test:
        case core.SetTest(values=values):
            if isinstance(v, Cat):
                return _isin(v.data, [ctx.code(str(x)) for x in values])
            if isinstance(v, Bool):
                hit = np.zeros(np.shape(v.data), dtype=bool)
                for x in values:
                    hit = hit | (np.asarray(v.data) == bool(x))
                return hit
            # A column's set holds values of the column's type (``tables.parse_cell`` reads
            # them by it): dates in a date column, Decimals in a number column.
            if isinstance(v, Date):
                dates = cast("frozenset[dt.date]", values)
                days = [x.toordinal() - EPOCH_ORDINAL for x in dates]
                return _isin(v.data, days)
            if isinstance(v, Num):
                hit = np.zeros(np.shape(v.data), dtype=bool)
                for x in cast("frozenset[Decimal]", values):
                    cmp = _compare(val, Val(_num_const(x)), "==")
                    hit = hit | np.asarray(cast(Bool, cmp.v).data)  # a comparison is a Bool
                return hit
            raise Unsupported("table cell")
        case core.IntervalTest(lo=lo, lo_closed=lo_closed, hi=hi, hi_closed=hi_closed):
            found: Any = True
            for bound, op in ((lo, ">=" if lo_closed else ">"), (hi, "<=" if hi_closed else "<")):
                if bound is None:
                    continue
                if isinstance(bound, dt.date):
                    other = Val(Date(bound.toordinal() - EPOCH_ORDINAL))
                else:
                    other = Val(_num_const(bound))
                cmp = _compare(Val(val.v), other, op)
                found = found & np.asarray(cast(Bool, cmp.v).data)  # a comparison is a Bool
            return found
        case _:
            assert_never(test)
