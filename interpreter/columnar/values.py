"""Column values and the integer kernels every operation is made of.

Money is an ``int64`` count of fen; every other number is an exact fixed-point integer
column with a decimal scale (``Num``); a quotient is kept as an exact fraction (``Rat``)
until it is rounded. Never a float. Booleans are ``bool`` arrays, dates ``int64`` days
since 1970-01-01, enum and text values integer codes into one vocabulary (``Cat``); a
``Val`` adds where the value is null and where reading it would fail (``bad``: those rows
go to the scalar engine).

For speed, choices are made by integer arithmetic rather than ``np.where``, results are
built in place in fresh arrays, and a function of one integer column is computed once per
value in the column's range and gathered (``by_value``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
SAFE = 2**62  # every valid integer in a column stays below this in magnitude
_FSAFE = float(2**61)  # products estimated in float64 above this are sent to the scalar engine
MAX_SCALE = 12  # a number with more decimals than this goes to the scalar engine


class Unsupported(Exception):
    """A construct with no vectorised form: the rows that read it go to the scalar engine."""


# --------------------------------------------------------------------------- values


@dataclass
class Num:
    """data / 10**scale, exactly. ``data`` is an int64 array or a Python int."""

    data: Any
    scale: int = 0


@dataclass
class Rat:
    """num / den / 10**scale exactly (den > 0): a quotient not yet rounded. (``scale``
    keeps a product's decimals out of den until the rounding needs them, if ever.)

    The scalar engine holds a quotient as a Decimal rounded to 28 digits. ``origin`` (the
    quotient's own numerator and denominator) and ``factors`` (what it was multiplied by
    since) tell, for the few rows where that could matter, whether its Decimal was
    exact: see ``_rat_exact``.
    """

    num: Any
    den: Any
    origin: tuple[Any, Any] = (0, 1)
    factors: tuple[Any, ...] = ()
    scale: int = 0


@dataclass
class Bool:
    data: Any


@dataclass
class Date:
    data: Any  # days since 1970-01-01


@dataclass
class Cat:
    data: Any  # codes into the batch vocabulary


Vec = Num | Rat | Bool | Date | Cat


@dataclass
class Val:
    """A column value: the data, where it is null, where reading it would fail (``bad``)."""

    v: Vec | None  # None: null everywhere
    null: Any = False  # bool array or False
    bad: Any = False  # bool array or False


@dataclass
class Column:
    """One typed input column (see ``ColumnarPlan.pack``)."""

    kind: str
    data: np.ndarray
    scale: int = 0
    null: np.ndarray | None = None


# ----------------------------------------------------------------- integer helpers


def _pow10(k: int) -> int:
    return 10**k


def _big(x: Any) -> Any:
    if not isinstance(x, np.ndarray):
        return abs(x) >= SAFE
    if x.size == 0 or (int(x.max()) < SAFE and int(x.min()) > -SAFE):
        return False
    return np.abs(x) >= SAFE


def _mor(*masks: Any) -> Any:
    """The union of row masks, keeping False (no row) as a cheap scalar."""
    out: Any = False
    for m in masks:
        if m is False:
            continue
        out = m if out is False else out | m
    return out


def _mand(cond: Any, mask: Any) -> Any:
    return False if mask is False or cond is False else cond & mask


def _mul(a: Any, b: Any) -> tuple[Any, Any]:
    """a*b in int64, with a mask of rows whose product would leave the safe range."""
    a_arr, b_arr = isinstance(a, np.ndarray), isinstance(b, np.ndarray)
    if not a_arr and not b_arr:
        prod = int(a) * int(b)
        return prod, abs(prod) >= SAFE
    if not a_arr or not b_arr:
        arr, k = (b, int(a)) if not a_arr else (a, int(b))
        if k == 0:
            return np.zeros_like(arr, dtype=np.int64), False
        if k == 1 and arr.dtype == np.int64:
            return arr, False
        limit = 2**61 // abs(k)
        with np.errstate(over="ignore"):
            prod = np.multiply(arr, k, dtype=np.int64)
        if arr.size == 0 or (int(arr.max()) <= limit and int(arr.min()) >= -limit):
            return prod, False
        return prod, np.abs(arr) > limit
    with np.errstate(over="ignore"):
        prod = np.multiply(a, b, dtype=np.int64)
    if _magnitude(a) * _magnitude(b) < _FSAFE:  # four reductions, not three passes
        return prod, False
    est = np.abs(np.multiply(a, b, dtype=np.float64))
    bad = est >= _FSAFE
    return prod, bad if bad.any() else False


def _magnitude(x: np.ndarray) -> int:
    """The largest absolute value in x (0 if empty)."""
    return max(int(x.max()), -int(x.min())) if x.size else 0


def _rescale(n: Num, scale: int) -> tuple[Any, Any]:
    if scale == n.scale:
        return n.data, False
    return _mul(n.data, _pow10(scale - n.scale))


def _align(a: Num, b: Num) -> tuple[Any, Any, int, Any]:
    s = max(a.scale, b.scale)
    x, bx = _rescale(a, s)
    y, by = _rescale(b, s)
    return x, y, s, _mor(bx, by)


def _col(x: Any) -> bool:
    """A column (an array with rows) rather than one value for every row."""
    return isinstance(x, np.ndarray) and x.ndim > 0


def _divmod(n: Any, k: Any) -> tuple[Any, Any]:
    """n // k and n % k as a floor division and a product: 2-7x faster than ``np.divmod``."""
    q = np.floor_divide(n, k)
    if not _col(q):
        return q, n - q * k
    r = np.multiply(q, k)
    np.subtract(n, r, out=r)
    return q, r


def _divmod_sign(n: Any, k: Any) -> tuple[Any, Any, Any]:
    """|n| // k, |n| % k and the sign of n (k > 0)."""
    n = np.asarray(n)
    if n.size and int(n.min()) >= 0:
        q, r = _divmod_unsigned(n, k)
        return q, r, 1
    sign = np.sign(n)
    q, r = _divmod_unsigned(np.abs(n), k)
    return q, r, sign


def _divmod_unsigned(n: Any, k: Any) -> tuple[Any, Any]:
    """``_divmod`` for n >= 0 and k > 0, dividing two columns as unsigned integers:
    numpy's signed floor division tests signs row by row, a branch that mispredicts when
    zeros and non-zeros are mixed (3x slower)."""
    if not (_col(n) and n.dtype == np.int64 and isinstance(k, np.ndarray) and k.dtype == np.int64):
        return _divmod(n, k)
    with np.errstate(divide="ignore"):  # only a row that overflowed can have k == 0
        q = np.floor_divide(n.view(np.uint64), k.view(np.uint64)).view(np.int64)
    r = np.multiply(q, k)
    np.subtract(n, r, out=r)
    return q, r


def _round_int(n: Any, k: int, mode: str) -> Any:
    """n / k rounded to an integer by a Decimal rounding mode, exactly (k > 0). Each
    result is built in one fresh array: new memory costs more than the arithmetic."""
    n = np.asarray(n)
    if not _col(n):
        return _round_int(n.reshape(1), k, mode)[0]
    if mode == "floor":
        return np.floor_divide(n, k)
    if mode == "ceiling":  # -((-n) // k)
        out = np.negative(n)
        np.floor_divide(out, k, out=out)
        return np.negative(out, out=out)
    if mode == "half_up" and k % 2 == 0 and n.size and int(n.min()) >= 0:  # k = 10**m
        out = np.add(n, k // 2)
        return np.floor_divide(out, k, out=out)
    q, r, sign = _divmod_sign(n, k)
    return _round_up(q, np.multiply(r, 2, out=r), sign, k, mode)


def _round_up(q: Any, twice: Any, sign: Any, den: Any, mode: str) -> Any:
    """|n| = q*den + twice/2 rounded by mode, times n's sign; built in place in q."""
    if mode == "down":
        up: Any = False
    elif mode == "up":
        up = twice > 0
    elif mode == "half_up":
        up = twice >= den
    elif mode == "half_even":
        up = (twice > den) | ((twice == den) & (q % 2 == 1))
    elif mode == "ceiling":
        up = (twice > 0) & (sign > 0)
    elif mode == "floor":
        up = (twice > 0) & (sign < 0)
    else:  # pragma: no cover - the typechecker allows only the modes above
        raise Unsupported(mode)
    if up is not False:
        q += up
    if not isinstance(sign, int):
        q *= sign
    return q


def _pick(cond: Any, x: Any, y: Any) -> Any:
    """np.where(cond, x, y) for integer data, in straight-line int64 arithmetic: with a
    mask that does not follow a pattern, np.where mispredicts a branch per row and is
    2-8x slower. Exact for any int64 values, wrapping included: y + (x - y) * 1 == x."""
    x_col, y_col = np.ndim(x) > 0, np.ndim(y) > 0
    if not x_col:
        x = int(x)
    if not y_col:
        y = int(y)
    if np.ndim(cond) == 0 or not (x_col or -SAFE < x < SAFE) or not (y_col or -SAFE < y < SAFE):
        return np.where(cond, x, y)
    if not y_col and y == 0:
        return np.multiply(cond, x, dtype=np.int64)
    if not x_col and x == 0:
        return np.multiply(~cond, y, dtype=np.int64)
    if x_col or y_col:
        d = np.subtract(x, y, dtype=np.int64)
        d *= cond
    else:
        d = np.multiply(cond, x - y, dtype=np.int64)
    d += y
    return d


def _pick_bool(cond: Any, x: Any, y: Any) -> Any:
    """np.where(cond, x, y) for masks, as bitwise operations (see ``_pick``)."""
    if np.ndim(cond) == 0:
        return np.where(cond, x, y)
    if x is True or x is False or y is True or y is False:
        if x is y:
            return x
        if y is False:
            return cond if x is True else cond & x
        if y is True:
            return ~cond if x is False else ~cond | x
        return cond | y if x is True else ~cond & y
    return (cond & x) | (~cond & y)


def _where(cond: Any, a: Any, b: Any) -> Any:
    """A null or error mask: a where cond, b elsewhere (False: no row)."""
    if a is False and b is False:
        return False
    return _pick_bool(cond, a, b)


_BY_VALUE_ROWS = 4096  # a shorter column is computed directly
_BY_VALUE_SPAN = 4  # ... and so is one whose values span more than a quarter of its length


def _by_value(x: Any, f: Callable[[Any], Any]) -> Any:
    """f(x) for an elementwise function f of integer data: computed once for each value
    in x's range and gathered, when that range is much smaller than the column (the
    dates, ages or codes of a batch span a few thousand values, not millions)."""
    if not isinstance(x, np.ndarray) or x.ndim != 1 or x.size < _BY_VALUE_ROWS or not x.size:
        return f(x)
    lo, hi = int(x.min()), int(x.max())
    if (hi - lo) * _BY_VALUE_SPAN >= x.size:
        return f(x)
    table = np.broadcast_to(f(np.arange(lo, hi + 1, dtype=np.int64)), (hi - lo + 1,))
    return table[np.subtract(x, lo, dtype=np.intp)]


@dataclass
class Context:
    n: int
    values: dict[str, Val]
    vocab: dict[str, int]

    def code(self, text: str) -> int:
        code = self.vocab.get(text)
        if code is None:
            code = self.vocab[text] = len(self.vocab)
        return code


Fn = Callable[[Context], Val]


def _valued(op: Callable[..., Val]) -> Callable[..., Val]:
    """op, for operands with a value. One that is null on every row, or that only the
    scalar engine computes, has no column to work on: the computation goes there."""

    @functools.wraps(op)
    def run(*args: Any) -> Val:
        if any(isinstance(a, Val) and a.v is None for a in args):
            raise Unsupported("an operand with no value in this batch")
        return op(*args)

    return run


def _num_const(value: Decimal) -> Num:
    exp = value.as_tuple().exponent
    scale = max(0, -int(exp))
    return Num(int(value.scaleb(scale)), scale)


def _bad(*vals: Val) -> Any:
    return _mor(*(v.bad for v in vals))
