"""The operations of the core language over column values: arithmetic, comparison,
choice, rounding and the conversion of a money result to whole fen.

Each works on every row at once; a row it cannot answer exactly as the scalar engine
would (a division by zero, a fraction of a fen, a value beyond the int64-safe range, a
quotient rounded at an exact tie whose 28-digit Decimal may not be exact) is marked
``bad`` and goes to the scalar engine. An error on a branch a row does not take is not
that row's error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import numpy as np

from .values import (
    MAX_SCALE,
    Bool,
    Cat,
    Context,
    Date,
    Num,
    Rat,
    Unsupported,
    Val,
    Vec,
    _align,
    _bad,
    _big,
    _col,
    _divmod,
    _divmod_sign,
    _mand,
    _mor,
    _mul,
    _num_const,
    _pick,
    _pick_bool,
    _pow10,
    _rescale,
    _round_int,
    _round_up,
    _valued,
    _where,
)


def _to_money(val: Val) -> Val:
    """A money value: fen (scale 2); a fraction of a fen is the scalar engine's error."""
    v = val.v
    if v is None:
        return val
    if isinstance(v, Num):
        if v.scale == 2:
            return val
        if v.scale < 2:
            data, over = _rescale(v, 2)
            return Val(Num(data, 2), val.null, val.bad | over)
        k = _pow10(v.scale - 2)
        frac = np.asarray(v.data) % k != 0
        return Val(
            Num(np.asarray(v.data) // k, 2), val.null, val.bad | (frac & ~np.asarray(val.null))
        )
    if isinstance(v, Rat):
        num, den, over = _scaled(v, 2)
        fen, rest = _divmod(num, den)
        frac = np.broadcast_to(rest != 0, np.shape(fen)).copy()
        idx = np.flatnonzero(~frac)
        if idx.size:
            frac[idx] = ~_rat_exact(v, idx)
        return Val(Num(fen, 2), val.null, val.bad | over | (frac & ~np.asarray(val.null)))
    raise Unsupported("money from a non-number")


@_valued
def _not(a: Val) -> Val:
    assert isinstance(a.v, Bool)
    return Val(Bool(~np.asarray(a.v.data, dtype=bool)), False, a.bad)


@_valued
def _neg(a: Val) -> Val:
    v = a.v
    if isinstance(v, Num):
        return Val(Num(-np.asarray(v.data), v.scale), a.null, a.bad)
    if isinstance(v, Rat):
        return Val(Rat(-np.asarray(v.num), v.den, v.origin, v.factors, v.scale), a.null, a.bad)
    raise Unsupported("negation")


def _select(cond: Any, a: Val, b: Val) -> Val:
    """Where cond, a; elsewhere b (values, nulls; bads are handled by the caller)."""
    if a.v is None and b.v is None:
        return Val(None, True)
    if a.v is None:
        return Val(b.v, cond | b.null if b.null is not False else cond)
    if b.v is None:
        return Val(a.v, _pick_bool(cond, a.null, True) if a.null is not False else ~cond)
    null = _where(cond, a.null, b.null)
    x, y = a.v, b.v
    if isinstance(x, Num) and isinstance(y, Num):
        xd, yd, s, over = _align(x, y)
        return Val(Num(_pick(cond, xd, yd), s), null, over)
    if isinstance(x, Rat) or isinstance(y, Rat):
        (rx, over_x), (ry, over_y) = _settled(_as_rat(x)), _settled(_as_rat(y))
        w = _pick
        k = max(len(rx.factors), len(ry.factors))
        fx = (*rx.factors, *([1] * (k - len(rx.factors))))
        fy = (*ry.factors, *([1] * (k - len(ry.factors))))
        rat = Rat(
            w(cond, rx.num, ry.num),
            w(cond, rx.den, ry.den),
            (w(cond, rx.origin[0], ry.origin[0]), w(cond, rx.origin[1], ry.origin[1])),
            tuple(w(cond, a, b) for a, b in zip(fx, fy, strict=True)),
        )
        return Val(rat, null, _mor(over_x, over_y))
    if type(x) is type(y):
        if (
            isinstance(x, Cat | Date | Bool)
            and not isinstance(x.data, np.ndarray)
            and not isinstance(y.data, np.ndarray)
            and x.data == y.data
        ):
            return Val(x, null)
        pick = _pick_bool if isinstance(x, Bool) else _pick
        return Val(type(x)(pick(cond, x.data, y.data)), null)
    raise Unsupported("if/then/else of two kinds")


def _settled(v: Rat) -> tuple[Rat, Any]:
    """The same quotient with its scale in den (two quotients chosen row by row need one)."""
    if not v.scale:
        return v, False
    den, over = _mul(v.den, _pow10(v.scale))
    return Rat(v.num, den, v.origin, v.factors), over


def _scaled(v: Rat, places: int) -> tuple[Any, Any, Any]:
    """Numerator and denominator of v * 10**places, and the rows they overflow."""
    shift = places - v.scale
    if shift >= 0:
        num, over = _mul(v.num, _pow10(shift))
        return num, np.asarray(v.den), over
    den, over = _mul(v.den, _pow10(-shift))
    return v.num, np.asarray(den), over


def _as_rat(v: Vec) -> Rat:
    if isinstance(v, Rat):
        return v
    assert isinstance(v, Num)
    return Rat(v.data, _pow10(v.scale), (v.data, _pow10(v.scale)))


def _take(x: Any, idx: np.ndarray) -> Any:
    return x[idx] if isinstance(x, np.ndarray) and x.ndim else np.full(idx.size, x, dtype=np.int64)


def _rat_exact(v: Rat, idx: np.ndarray) -> np.ndarray:
    """For rows idx: is the scalar engine's Decimal for this value exact? (The quotient
    terminates within 26 digits, and each product since stays within 26 digits.)"""
    exact, digits = _terminating(_take(v.origin[0], idx), _take(v.origin[1], idx))
    for f in v.factors:
        digits = digits + _digits(_take(f, idx))
    return exact & (digits <= 26)


def _if(c: Val, a: Val, b: Val) -> Val:
    assert isinstance(c.v, Bool)
    cond = np.asarray(c.v.data, dtype=bool)
    out = _select(cond, a, b)
    bad = _mor(
        c.bad, _mand(cond, a.bad), _mand(~cond, b.bad) if b.bad is not False else False, out.bad
    )
    return Val(out.v, out.null, bad)


# and/or: the type checker admits boolean operands only, and ``_valued`` has refused an
# operand with no value, so both are Bool (a cast, not a check, in these kernels).
@_valued
def _and(a: Val, b: Val) -> Val:
    x = np.asarray(cast(Bool, a.v).data, dtype=bool)
    y = np.asarray(cast(Bool, b.v).data, dtype=bool)
    return Val(Bool(x & y), False, _mor(a.bad, _mand(x, b.bad)))


@_valued
def _or(a: Val, b: Val) -> Val:
    x = np.asarray(cast(Bool, a.v).data, dtype=bool)
    y = np.asarray(cast(Bool, b.v).data, dtype=bool)
    return Val(Bool(x | y), False, _mor(a.bad, _mand(~x, b.bad) if b.bad is not False else False))


@_valued
def _addsub(a: Val, b: Val, op: str) -> Val:
    x, y = a.v, b.v
    if not (isinstance(x, Num) and isinstance(y, Num)):
        raise Unsupported(f"{op} of {type(x).__name__} and {type(y).__name__}")
    xd, yd, s, over = _align(x, y)
    data = np.add(xd, yd, dtype=np.int64) if op == "+" else np.subtract(xd, yd, dtype=np.int64)
    big = _big(data)
    return Val(Num(data, s), False, _mor(_bad(a, b), over, big if np.any(big) else False))


@_valued
def _times(a: Val, b: Val) -> Val:
    x, y = a.v, b.v
    if isinstance(x, Num) and isinstance(y, Num):
        data, over = _mul(x.data, y.data)
        scale = x.scale + y.scale
        if scale > MAX_SCALE + 2:
            raise Unsupported("too many decimals")
        return Val(Num(data, scale), False, _mor(_bad(a, b), over))
    if isinstance(x, Num) and isinstance(y, Rat):
        x, y = y, x
    if isinstance(x, Rat) and isinstance(y, Num):
        num, over = _mul(x.num, y.data)
        rat = Rat(num, x.den, x.origin, (*x.factors, y.data), x.scale + y.scale)
        return Val(rat, False, _mor(_bad(a, b), over))
    raise Unsupported("product of two fractions")


@_valued
def _divide(a: Val, b: Val) -> Val:
    x, y = a.v, b.v
    if not (isinstance(x, Num) and isinstance(y, Num)):
        raise Unsupported("division of a fraction")
    common = min(x.scale, y.scale)  # a power of ten in both cancels
    num, over1 = _mul(x.data, _pow10(y.scale - common))
    den, over2 = _mul(y.data, _pow10(x.scale - common))
    den = np.asarray(den)
    low = int(den.min()) if den.size else 1
    zero: Any = False
    if low <= 0:  # a zero divisor is that row's error; den > 0 from here on
        zero = den == 0
        if low < 0:
            sign = np.sign(den)
            sign += zero
            num = np.multiply(num, sign, dtype=np.int64)
            den = np.abs(den)
        den = np.add(den, zero, dtype=np.int64)
    return Val(Rat(num, den, (num, den)), False, _mor(_bad(a, b), over1, over2, zero))


def _digits(x: Any) -> Any:
    """Significant digits of integers (as float; 1 for 0)."""
    return np.floor(np.log10(np.maximum(np.abs(np.asarray(x, dtype=np.float64)), 1.0))) + 1


def _terminating(num: Any, den: Any) -> tuple[Any, Any]:
    """Where num/den is a terminating decimal of at most 26 significant digits, and how
    many digits its coefficient has: there the scalar engine's quotient is exact."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    g = np.gcd(num, den)
    g = np.where(g == 0, 1, g)
    d = den // g
    n = np.abs(num // g)
    twos = np.zeros(d.shape, dtype=np.int64)
    fives = np.zeros(d.shape, dtype=np.int64)
    for p, count in ((2, twos), (5, fives)):
        todo = np.flatnonzero(d % p == 0)
        while todo.size:
            d[todo] //= p
            count[todo] += 1
            todo = todo[d[todo] % p == 0]
    m = np.maximum(twos, fives)
    digits = _digits(n) + m  # the coefficient n * 10**m / den has at most this many
    return (d == 1) & (digits <= 26), digits


@_valued
def _round(a: Val, places: int, mode: str) -> Val:
    v = a.v
    if isinstance(v, Num):
        if v.scale <= places:
            return a
        data = _round_int(np.asarray(v.data), _pow10(v.scale - places), mode)
        return Val(Num(data, places), a.null, a.bad)
    if isinstance(v, Rat):
        # num/den * 10**places, rounded: exact in integers. The scalar engine rounds the
        # quotient to 28 digits first. An int64 quotient that is not exactly a tie (or a
        # whole number, for the directed modes) is at least 1/(2 den) from one, far more
        # than that error: only the exact ties need its Decimal checked (``_rat_exact``).
        n, den, over = _scaled(v, places)
        q, r, sign = _divmod_sign(n, den)
        twice = np.multiply(r, 2, out=r) if _col(r) else 2 * r
        near = np.broadcast_to(twice == den if mode.startswith("half") else twice == 0, np.shape(q))
        idx = np.flatnonzero(near)
        inexact: Any = False
        if idx.size:
            inexact = np.zeros(np.shape(q), dtype=bool)
            inexact[idx] = ~_rat_exact(v, idx)
            inexact = inexact if inexact.any() else False
        data = _round_up(q, twice, sign, den, mode)
        return Val(Num(data, places), a.null, _mor(a.bad, over, inexact))
    raise Unsupported("rounding a non-number")


@_valued
def _compare(a: Val, b: Val, op: str) -> Val:
    x, y = a.v, b.v
    bad = _bad(a, b)
    if isinstance(x, Num) and isinstance(y, Num):
        xd, yd, _s, over = _align(x, y)
        bad = bad | over
    elif (
        (isinstance(x, Date) and isinstance(y, Date))
        or (isinstance(x, Bool) and isinstance(y, Bool))
        or (isinstance(x, Cat) and isinstance(y, Cat) and op in ("==", "!="))
    ):
        xd, yd = x.data, y.data
    else:
        raise Unsupported(f"comparison of {type(x).__name__} and {type(y).__name__}")
    fn = {
        "==": np.equal,
        "!=": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }[op]
    return Val(Bool(fn(xd, yd)), False, bad)


@_valued
def _member(ctx: Context, a: Val, items: list[Any], negate: bool) -> Val:
    v = a.v
    if isinstance(v, Cat):
        codes = [ctx.code(str(i)) for i in items if isinstance(i, str)]
        hit = _isin(v.data, codes)
    elif isinstance(v, Num):
        hit = np.zeros(np.shape(v.data), dtype=bool)
        for item in items:
            if isinstance(item, Decimal):
                c = _num_const(item)
                xd, yd, _s, over = _align(v, c)
                hit = hit | (np.equal(xd, yd) & ~over)
    else:
        raise Unsupported("'in' on this kind")
    return Val(Bool(~hit if negate else hit), False, a.bad)


def _isin(data: Any, items: list[int]) -> Any:
    if len(items) > 8:
        return np.isin(data, items)
    hit: Any = np.zeros(np.shape(data), dtype=bool)
    for item in items:
        hit = hit | (data == item)
    return hit
