"""The column forms of the rule language's functions, by the kernel names the registry
(``language.functions.FUNCTIONS``, each ``Function.column``) gives them.

A kernel takes the argument values (``Val``) and returns the result for every row, with
the scalar form's meaning (``Function.impl``); a function whose column form is
``PER_ROW`` has no kernel: the rows that use it go to the scalar engine. A function of
one date column (an age on a fixed day, the year of a date, the end of its month) is
computed once per day in the column's range and gathered (``by_value``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from ..language.functions import FUNCTIONS, LOWERED, PER_ROW
from .operations import _round
from .values import (
    EPOCH_ORDINAL,
    Date,
    Num,
    Unsupported,
    Val,
    _align,
    _bad,
    _by_value,
    _pow10,
    _valued,
)

Kernel = Callable[..., Val]


def _minmax(vals: list[Val], pick: Callable) -> Val:
    if any(val.v is None for val in vals):
        raise Unsupported("an operand with no value in this batch")
    out = vals[0]
    for val in vals[1:]:
        x, y = out.v, val.v
        if not (isinstance(x, Num) and isinstance(y, Num)):
            raise Unsupported("min/max of fractions")
        xd, yd, s, over = _align(x, y)
        out = Val(Num(pick(xd, yd), s), False, out.bad | val.bad | over)
    return out


@_valued
def _abs(a: Val) -> Val:
    if isinstance(a.v, Num):
        return Val(Num(np.abs(a.v.data), a.v.scale), a.null, a.bad)
    raise Unsupported("abs of a fraction")


def _ymd_exact(days: Any) -> tuple[Any, Any, Any]:
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def _year_key(days: Any) -> Any:
    """year*10000 + month*100 + day: whole years between two dates are the difference
    of their keys, floored to 10000 (the month and day break the tie, as a birthday)."""
    year, month, day = _ymd_exact(days)
    return year * 10000 + month * 100 + day


def _month_key(days: Any) -> Any:
    """(year*12 + month)*100 + day: as ``_year_key`` for whole months (floored to 100)."""
    year, month, day = _ymd_exact(days)
    return (year * 12 + month) * 100 + day


@_valued
def _days_between(a: Val, b: Val) -> Val:
    x, y = a.v, b.v
    assert isinstance(x, Date) and isinstance(y, Date)
    return Val(Num(np.subtract(y.data, x.data, dtype=np.int64)), False, _bad(a, b))


@_valued
def _whole_units(key: Callable[[Any], Any], unit: int, a: Val, b: Val) -> Val:
    """Completed years (``_year_key``, 10000) or months (``_month_key``, 100) from a to b."""
    x, y = a.v, b.v
    assert isinstance(x, Date) and isinstance(y, Date)
    bad = _bad(a, b)
    start, end = x.data, y.data
    if np.ndim(end) == 0:  # age on a fixed day: one lookup per row
        k = int(key(end))
        data = _by_value(start, lambda d: np.floor_divide(k - key(d), unit))
    elif np.ndim(start) == 0:
        k = int(key(start))
        data = _by_value(end, lambda d: np.floor_divide(key(d) - k, unit))
    else:
        data = np.subtract(_by_value(end, key), _by_value(start, key), dtype=np.int64)
        np.floor_divide(data, unit, out=data)
    return Val(Num(np.asarray(data, dtype=np.int64)), False, bad)


@_valued
def _date_part(part: int, a: Val) -> Val:
    """The year (0), month (1) or day (2) of a date."""
    assert isinstance(a.v, Date)
    data = _by_value(a.v.data, lambda d: _ymd_exact(d)[part])
    return Val(Num(np.asarray(data, dtype=np.int64)), False, a.bad)


_DAY_MIN = dt.date.min.toordinal() - EPOCH_ORDINAL
_DAY_MAX = dt.date.max.toordinal() - EPOCH_ORDINAL


@_valued
def _add_days(a: Val, b: Val) -> Val:
    x, y = a.v, b.v
    assert isinstance(x, Date) and isinstance(y, Num)
    n = np.asarray(y.data) // _pow10(y.scale)
    big = np.abs(n) > 4_000_000
    days = np.add(x.data, np.where(big, 0, n), dtype=np.int64)
    out = big | (days < _DAY_MIN) | (days > _DAY_MAX)
    return Val(Date(days), False, _bad(a, b) | out)


def _months(days: Any) -> Any:
    """The month of each day (days since 1970-01-01) as numpy months."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")


@_valued
def _start_of_month(a: Val) -> Val:
    assert isinstance(a.v, Date)
    data = _by_value(a.v.data, lambda d: _months(d).astype("datetime64[D]").astype(np.int64))
    return Val(Date(np.asarray(data, dtype=np.int64)), False, a.bad)


@_valued
def _end_of_month(a: Val) -> Val:
    """The next month's first day, less one (valid to 9999-12-31: numpy's calendar goes on)."""
    assert isinstance(a.v, Date)

    def last(d: Any) -> Any:
        return (_months(d) + 1).astype("datetime64[D]").astype(np.int64) - 1

    data = _by_value(a.v.data, last)
    return Val(Date(np.asarray(data, dtype=np.int64)), False, a.bad)


def _rounded(mode: str) -> Kernel:
    return lambda a: _round(a, 0, mode)


KERNELS: dict[str, Kernel] = {
    "minimum": lambda *vals: _minmax(list(vals), np.minimum),
    "maximum": lambda *vals: _minmax(list(vals), np.maximum),
    "absolute": _abs,
    "ceiling": _rounded("ceiling"),
    "floor": _rounded("floor"),
    "whole_years": lambda a, b: _whole_units(_year_key, 10000, a, b),
    "whole_months": lambda a, b: _whole_units(_month_key, 100, a, b),
    "days_between": _days_between,
    "year": lambda a: _date_part(0, a),
    "month": lambda a: _date_part(1, a),
    "day": lambda a: _date_part(2, a),
    "add_days": _add_days,
    "start_of_month": _start_of_month,
    "end_of_month": _end_of_month,
}


def kernel(func: str) -> Kernel:
    """The column form of registry function ``func``; ``Unsupported`` when it has none
    (``PER_ROW``: the rows that use it go to the scalar engine)."""
    column = FUNCTIONS[func].column
    if column == PER_ROW:
        raise Unsupported(f"{func}() has no vectorised form")
    if column == LOWERED:  # pragma: no cover - lowering never leaves one as a call
        raise Unsupported(f"{func}() is lowered to a core node, not called")
    return KERNELS[column]


# The functions whose rows the columnar engine sends to the scalar engine, derived from
# the registry.
SCALAR_ONLY = tuple(name for name, f in FUNCTIONS.items() if f.column == PER_ROW)
