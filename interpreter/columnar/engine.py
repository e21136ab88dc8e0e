"""Columnar evaluation: the same checked rules, compiled to numpy over whole columns.

The scalar engine (``compiler.py``) turns each rule into closures over one case; this
module turns the same expression trees and decision tables into closures over columns of
many cases, with the same meaning:

- money is an ``int64`` count of fen; every other number is an exact fixed-point integer
  column with a decimal scale (``Num``); a quotient is kept as an exact fraction
  (``Rat``) until it is rounded. Never a float. Rounding (half_up, half_even, down, up,
  ceiling, floor) is done in integer arithmetic.
- booleans are ``bool`` arrays, dates are ``int64`` days since 1970-01-01, enum and text
  values are integer codes into one vocabulary, a missing optional value is a null mask.
- threshold words are read with ``compiler.operator_of`` and the document's convention,
  exactly as the scalar compiler reads them.
- ``if``/``and``/``or`` evaluate both sides over all rows and select with masks; an error
  on a branch a row does not take is not that row's error.

For speed (a batch should cost about what hand-written numpy of the same rule costs):
choices are made by integer arithmetic rather than ``np.where``; a function of one date
or code column (an age, a table over it) is computed once per value in the column's range
and gathered; a table of constant results is a lookup; results are built in place in
fresh arrays; and an intermediate column is dropped after its last reader, since fresh
memory costs more than arithmetic on it.

Every row the vectorised code cannot answer exactly as the scalar engine would (a read
of an absent optional fact, no table row, a division by zero, a fraction of a fen in a
money value, a value beyond the int64-safe range, a quotient rounded at an exact tie whose
28-digit Decimal in the scalar engine may not be exact, a function with no vectorised form)
is marked "to the scalar engine" and evaluated there, row by row: its outputs, or its
error message, are then exactly the scalar engine's. Functions evaluated per row by the
scalar engine: ``add_months``, ``add_years``, ``add_working_days``,
``working_days_between``, ``is_working_day`` (see ``SCALAR_ONLY``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..language.analysis import operator_of
from ..language.errors import EvaluationError, PolicyError
from ..language.expressions import Binary, Call, If, ListLit, Literal, Name, Node, Unary
from ..language.functions import ROUNDING
from ..language.tables import Cell
from ..policy.model import Computation, Policy
from ..runtime.engine import Result, evaluate_parsed, to_json
from ..runtime.program import MAX_GENERATED_PLANS, Program

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
SAFE = 2**62  # every valid integer in a column stays below this in magnitude
_FSAFE = float(2**61)  # products estimated in float64 above this are sent to the scalar engine
MAX_SCALE = 12  # a number with more decimals than this goes to the scalar engine
SCALAR_ONLY = (
    "add_months",
    "add_years",
    "add_working_days",
    "working_days_between",
    "is_working_day",
)


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


# ---------------------------------------------------------------------- the plan


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


@dataclass
class ColumnarResult:
    """Outputs of a batch: columns for the rows done in numpy, scalar results for the rest."""

    n: int
    outputs: dict[str, Val]
    kinds: dict[str, str]
    vocab: list[str]
    scalar: dict[int, Result | PolicyError] = field(default_factory=dict)
    # computations met with a kind the columns do not take, in this evaluation only
    unsupported: dict[str, str] = field(default_factory=dict)

    @property
    def scalar_rows(self) -> list[int]:
        return sorted(self.scalar)

    def row(self, i: int) -> dict[str, Any]:
        """Row i's outputs as the scalar engine gives them (Decimal, date, str, bool, None);
        raises the scalar engine's error for a row it rejected."""
        done = self.scalar.get(i)
        if isinstance(done, PolicyError):
            raise done
        if done is not None:
            return dict(done.outputs)
        return {name: self._value(val, i, self.kinds[name]) for name, val in self.outputs.items()}

    def _value(self, val: Val, i: int, kind: str) -> Any:
        if val.v is None or (val.null is not False and _at(val.null, i)):
            return None
        v = val.v
        if isinstance(v, Num):
            x = int(_at(v.data, i))
            return Decimal(x).scaleb(-v.scale) if v.scale else Decimal(x)
        if isinstance(v, Rat):
            return Decimal(int(_at(v.num, i))) / Decimal(int(_at(v.den, i)) * 10**v.scale)
        if isinstance(v, Bool):
            return bool(_at(v.data, i))
        if isinstance(v, Date):
            return dt.date.fromordinal(int(_at(v.data, i)) + EPOCH_ORDINAL)
        return self.vocab[int(_at(v.data, i))]

    def json_column(self, name: str) -> list[Any] | None:
        """Output ``name`` of every row as ``to_json(self.row(i)[name], kind)`` gives it,
        a column at a time: formatted once per distinct value, money straight from its
        fen. What it holds at a row of ``scalar`` is unspecified (see ``row``). None when
        the value has no quick form here (a quotient, a date out of range, ...): the
        caller then goes row by row, as ``row`` and ``to_json`` do."""
        val, kind, n = self.outputs[name], self.kinds[name], self.n
        live = np.ones(n, dtype=bool)
        if self.scalar:
            live[np.fromiter(self.scalar, dtype=np.int64, count=len(self.scalar))] = False
        v = val.v
        if v is not None and val.null is not False:
            live &= ~np.broadcast_to(np.asarray(val.null, dtype=bool), (n,))
        out = np.full(n, None, dtype=object)
        if v is None or not live.any():
            return out.tolist()
        if isinstance(v, Rat) or not isinstance(v, Num | Bool | Date | Cat):
            return None
        data = v.data
        if not isinstance(data, np.ndarray) or data.ndim == 0:  # one value for every row
            try:
                one = to_json(self._value(Val(v), 0, kind), kind)
            except (ArithmeticError, ValueError, IndexError, OverflowError):
                return None
            if not isinstance(one, str | int | None):  # a bool is an int
                return None
            out[live] = one
            return out.tolist()
        data = np.broadcast_to(data, (n,))[live]
        if isinstance(v, Bool):
            out[live] = data.astype(bool).tolist()
            return out.tolist()
        if data.dtype.kind not in "iu":
            return None
        if isinstance(v, Date):
            low, high = 1 - EPOCH_ORDINAL, dt.date.max.toordinal() - EPOCH_ORDINAL
            if data.min() < low or data.max() > high:
                return None
        if isinstance(v, Cat) and (data.min() < -len(self.vocab) or data.max() >= len(self.vocab)):
            return None
        uniques, inverse = np.unique(data, return_inverse=True)
        keys = uniques.tolist()
        if isinstance(v, Num):
            if kind == "money" and v.scale == 2:
                texts: list[Any] = fen_texts(uniques)
            elif kind != "money" and v.scale == 0:
                texts = keys  # to_json(Decimal(x)) is int x
            else:
                try:
                    texts = [
                        to_json(Decimal(x).scaleb(-v.scale) if v.scale else Decimal(x), kind)
                        for x in keys
                    ]
                except ArithmeticError:
                    return None
        elif isinstance(v, Date):
            texts = [dt.date.fromordinal(x + EPOCH_ORDINAL).isoformat() for x in keys]
        else:
            texts = [self.vocab[x] for x in keys]
        out[live] = np.fromiter(texts, dtype=object, count=len(texts))[inverse.reshape(-1)]
        return out.tolist()

    def fen(self, name: str) -> np.ndarray:
        """A money output as int64 fen for every row (rows done by the scalar engine
        filled in; a row with an error or a null gives 0: see ``null_mask``/``scalar``)."""
        val = self.outputs[name]
        assert isinstance(val.v, Num) and val.v.scale == 2
        out = np.broadcast_to(np.asarray(val.v.data, dtype=np.int64), (self.n,)).copy()
        if val.null is not False:
            out[np.broadcast_to(np.asarray(val.null, dtype=bool), (self.n,))] = 0
        for i, done in self.scalar.items():
            x = None if isinstance(done, PolicyError) else done.outputs.get(name)
            out[i] = 0 if x is None else int(x.scaleb(2))
        return out


def fen_text(x: int) -> str:
    """A whole number of fen as money text: ``to_json(Decimal(x).scaleb(-2), "money")``."""
    whole, cents = divmod(-x if x < 0 else x, 100)
    return f"-{whole}.{cents:02d}" if x < 0 else f"{whole}.{cents:02d}"


_CENTS = np.array([f"{c:02d}" for c in range(100)])


def fen_texts(fen: np.ndarray) -> list[str]:
    """``fen_text`` of each of an int64 array, with numpy's string functions."""
    magnitude = np.abs(fen)
    if fen.size and fen.min() < -(2**63) + 1:  # abs overflows: text by text
        return [fen_text(x) for x in fen.tolist()]
    text = np.strings.add(
        np.strings.add((magnitude // 100).astype(str), "."), _CENTS[magnitude % 100]
    )
    negative = fen < 0
    if negative.any():
        text = np.where(negative, np.strings.add("-", text), text)
    return text.tolist()


def _last_reads(policy: Policy, order: Sequence[str], keep: Sequence[str]) -> list[tuple[str, ...]]:
    """For each step of ``order``, the computed values that no later step reads and that
    are not outputs: dropped there, a batch holds a few columns at a time rather than
    every intermediate one (fresh memory costs more than the arithmetic on it)."""
    last: dict[str, int] = {}
    for i, name in enumerate(order):
        for dep in policy.computations[name].deps:
            last[dep] = i
    out: list[list[str]] = [[] for _ in order]
    for name, i in last.items():
        if name in policy.computations and name not in keep:
            out[i].append(name)
    return [tuple(names) for names in out]


def _at(data: Any, i: int) -> Any:
    return data[i] if isinstance(data, np.ndarray) and data.ndim else data


class ColumnarPlan:
    """A policy's rules compiled once for columns; ``evaluate`` runs them on a batch and
    never changes the plan (several threads may share one: see ``columnar_plan``)."""

    def __init__(self, program: Program, outputs: Sequence[str] | None = None) -> None:
        self.program = program
        self.policy = policy = program.policy
        self.outputs = tuple(outputs or policy.outputs)
        self.kinds = policy.kinds
        self.types = policy.types
        self.nullable = policy.nullable
        self.order = list(policy.dependency_order(self.outputs))
        self.compiled: dict[str, Fn] = {}
        self.unsupported: dict[str, str] = {}
        for name in self.order:
            comp = policy.computations[name]
            try:
                self.compiled[name] = self._computation(comp)
            except Unsupported as exc:
                self.unsupported[name] = str(exc)
        self.release = _last_reads(policy, self.order, self.outputs)
        self.base_vocab: dict[str, int] = {}
        for t in self.types.values():
            for value in sorted(t.values or ()):
                self.base_vocab.setdefault(value, len(self.base_vocab))
        self.base_names = list(self.base_vocab)

    # ------------------------------------------------------------------ packing

    def pack(self, rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Column], np.ndarray]:
        """Typed columns from facts already parsed by ``facts.parse_facts`` (Decimal,
        date, bool, str, None), and a mask of rows that must go to the scalar engine
        (a number with too many decimals or beyond the int64-safe range)."""
        n = len(rows)
        columns: dict[str, Column] = {}
        to_scalar = np.zeros(n, dtype=bool)
        for name, fact in self.policy.facts.items():
            kind = fact.type.kind
            raw = [row.get(name) for row in rows]
            null = np.fromiter((v is None for v in raw), dtype=bool, count=n)
            has_null = bool(null.any())
            if kind in ("money", "number", "integer"):
                if kind == "money":
                    scale = 2
                elif kind == "integer":
                    scale = 0
                else:
                    exps = [-v.as_tuple().exponent for v in raw if v is not None]
                    scale = max(0, min(MAX_SCALE, max(exps, default=0)))
                data = np.zeros(n, dtype=np.int64)
                for i, v in enumerate(raw):
                    if v is None:
                        continue
                    x = v.scaleb(scale)
                    if x != x.to_integral_value() or abs(x) >= SAFE:
                        to_scalar[i] = True
                        continue
                    data[i] = int(x)
                columns[name] = Column(kind, data, scale, null if has_null else None)
            elif kind == "boolean":
                data = np.fromiter((bool(v) for v in raw), dtype=bool, count=n)
                columns[name] = Column(kind, data, 0, null if has_null else None)
            elif kind == "date":
                data = np.fromiter(
                    (v.toordinal() - EPOCH_ORDINAL if v is not None else 0 for v in raw),
                    dtype=np.int64,
                    count=n,
                )
                columns[name] = Column(kind, data, 0, null if has_null else None)
            elif kind == "enum":
                vocab = self.base_vocab
                data = np.fromiter(
                    (-1 if v is None else vocab[v] for v in raw), dtype=np.int64, count=n
                )
                columns[name] = Column(kind, data, 0, null if has_null else None)
            else:
                columns[name] = Column(kind, np.array(raw, dtype=object), 0, None)
        return columns, to_scalar

    # --------------------------------------------------------------- evaluation

    def evaluate(
        self,
        columns: Mapping[str, Column],
        on: dt.date,
        *,
        to_scalar: np.ndarray | None = None,
        row_facts: Callable[[int], dict[str, Any]] | None = None,
    ) -> ColumnarResult:
        """Evaluate every row. ``row_facts(i)`` gives row i's parsed facts for the rows
        sent to the scalar engine (default: rebuilt from the columns)."""
        policy, program = self.policy, self.program
        policy.check_in_force(on)
        if columns:
            n = len(next(iter(columns.values())).data)
        else:  # a policy with no facts (obligations only): the mask still counts the rows
            n = 0 if to_scalar is None else len(to_scalar)
        ctx = Context(n, {}, dict(self.base_vocab))
        for name in policy.facts:
            ctx.values[name] = self._input(ctx, columns[name])
        params = program.parameter_values_on(on)
        for name, value in params.items():
            ctx.values[name] = self._constant(ctx, value, self.types[name].kind)
        unsupported: dict[str, str] = {}
        for name, done in zip(self.order, self.release, strict=True):
            fn = self.compiled.get(name)
            try:
                ctx.values[name] = Val(None, False, True) if fn is None else fn(ctx)
            except Unsupported as exc:  # a kind met only at run time: every row to scalar
                unsupported[name] = str(exc)
                ctx.values[name] = Val(None, False, True)
            for old in done:
                del ctx.values[old]
        outputs = {name: ctx.values[name] for name in self.outputs}
        bad = np.zeros(n, dtype=bool) if to_scalar is None else to_scalar.copy()
        for val in outputs.values():
            bad |= np.broadcast_to(np.asarray(val.bad, dtype=bool), (n,))
        vocab = [""] * len(ctx.vocab)
        for text, code in ctx.vocab.items():
            vocab[code] = text
        kinds = {o: self.kinds[o] for o in self.outputs}
        result = ColumnarResult(n, outputs, kinds, vocab, unsupported=unsupported)
        get = row_facts or (lambda i: self.unpack(columns, i))
        for i in np.flatnonzero(bad).tolist():
            try:
                result.scalar[i] = evaluate_parsed(
                    program, get(i), on, outputs=list(self.outputs), trace=False
                )
            except PolicyError as exc:
                result.scalar[i] = exc
            except ArithmeticError as exc:  # Decimal beyond 28 digits: bad input, not a bug
                result.scalar[i] = too_large(exc)
        return result

    def unpack(self, columns: Mapping[str, Column], i: int) -> dict[str, Any]:
        """Row i's facts as Python values (the inverse of ``pack``)."""
        out: dict[str, Any] = {}
        for name, col in columns.items():
            if col.null is not None and col.null[i]:
                out[name] = None
                continue
            x = col.data[i]
            if col.kind in ("money", "number", "integer"):
                out[name] = Decimal(int(x)).scaleb(-col.scale) if col.scale else Decimal(int(x))
            elif col.kind == "boolean":
                out[name] = bool(x)
            elif col.kind == "date":
                out[name] = dt.date.fromordinal(int(x) + EPOCH_ORDINAL)
            elif col.kind == "enum":
                out[name] = self.base_names[int(x)]
            else:
                out[name] = x
        return out

    def _input(self, ctx: Context, col: Column) -> Val:
        """A column as a value; integer data as int64 (no copy if it is already), which
        the integer kernels assume."""
        null = col.null if col.null is not None else False
        if col.kind in ("money", "number", "integer"):
            return Val(Num(np.asarray(col.data, dtype=np.int64), col.scale), null)
        if col.kind == "boolean":
            return Val(Bool(np.asarray(col.data, dtype=bool)), null)
        if col.kind == "date":
            return Val(Date(np.asarray(col.data, dtype=np.int64)), null)
        data = col.data
        if data.dtype.kind in "iu":  # already codes into the plan's base vocabulary
            return Val(Cat(np.asarray(data, dtype=np.int64)), null)
        nulls = np.array([v is None for v in data], dtype=bool)
        filled = np.where(nulls, "", data).astype(str)
        uniques, inverse = np.unique(filled, return_inverse=True)
        codes = np.array([ctx.code(str(u)) for u in uniques], dtype=np.int64)
        return Val(Cat(codes[inverse]), nulls if nulls.any() else null)

    def _constant(self, ctx: Context, value: Any, kind: str) -> Val:
        if value is None:
            return Val(None, True)
        if isinstance(value, bool):
            return Val(Bool(value))
        if isinstance(value, Decimal):
            return Val(_num_const(value))
        if isinstance(value, dt.date):
            return Val(Date(value.toordinal() - EPOCH_ORDINAL))
        if isinstance(value, str):
            return Val(Cat(ctx.code(value)))
        raise Unsupported(f"constant {value!r}")

    # -------------------------------------------------------------- compilation

    def _computation(self, comp: Computation) -> Fn:
        if comp.expr is not None:
            return self._money(comp.expr) if comp.type.kind == "money" else self._build(comp.expr)
        if comp.table is not None:
            return self._table(comp)
        raise Unsupported(comp.name)  # pragma: no cover

    def _money(self, node: Node) -> Fn:
        """A money value (fen). The conversion is made in each branch of an if, where a
        constant branch converts once instead of the whole column after the choice."""
        if isinstance(node, If):
            cond, then, other = (
                self._build(node.cond),
                self._money(node.then),
                self._money(node.otherwise),
            )
            return lambda ctx: _if(cond(ctx), then(ctx), other(ctx))
        inner = self._build(node)
        return lambda ctx: _to_money(inner(ctx))

    def _build(self, node: Node) -> Fn:
        if isinstance(node, Literal):
            value = node.value
            if value is None:
                return lambda ctx: Val(None, True)
            if isinstance(value, bool):
                return lambda ctx: Val(Bool(value))
            if isinstance(value, Decimal):
                const = _num_const(value)
                return lambda ctx: Val(const)
            text = str(value)
            return lambda ctx: Val(Cat(ctx.code(text)))
        if isinstance(node, Name):
            return self._name(node.name)
        if isinstance(node, Unary):
            inner = self._build(node.operand)
            if node.op == "not":
                return lambda ctx: _not(inner(ctx))
            return lambda ctx: _neg(inner(ctx))
        if isinstance(node, If):
            cond, then, other = map(self._build, (node.cond, node.then, node.otherwise))
            return lambda ctx: _if(cond(ctx), then(ctx), other(ctx))
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, ListLit):
            raise Unsupported("a list outside 'in'")
        return self._binary(node)

    def _name(self, name: str) -> Fn:
        nullable = name in self.nullable

        def read(ctx: Context) -> Val:
            val = ctx.values[name]
            return Val(val.v, False, val.bad | val.null) if nullable else val

        return read

    def _call(self, node: Call) -> Fn:
        func = node.func
        if func in SCALAR_ONLY:
            raise Unsupported(f"{func}() has no vectorised form")
        if func == "given":
            (arg,) = node.args
            name = arg.name if isinstance(arg, Name) else ""

            def given(ctx: Context) -> Val:
                val = ctx.values[name]
                if val.v is None:
                    return Val(Bool(np.zeros((), dtype=bool)), False, val.bad)
                return Val(Bool(~np.asarray(val.null, dtype=bool)), False, val.bad)

            return given
        if func == "date":
            (arg,) = node.args
            day = dt.date.fromisoformat(str(arg.value))  # type: ignore[union-attr]
            const = Date(day.toordinal() - EPOCH_ORDINAL)
            return lambda ctx: Val(const)
        if func == "round":
            places = int(node.args[1].value) if len(node.args) > 1 else 2  # type: ignore[union-attr,arg-type]
            mode = str(node.args[2].value) if len(node.args) > 2 else "half_up"  # type: ignore[union-attr]
            if mode not in ROUNDING:  # pragma: no cover
                raise Unsupported(mode)
            inner = self._build(node.args[0])
            return lambda ctx: _round(inner(ctx), places, mode)
        args = [self._build(a) for a in node.args]
        if func in ("ceil", "floor"):
            (a,) = args
            mode = "ceiling" if func == "ceil" else "floor"
            return lambda ctx: _round(a(ctx), 0, mode)
        if func in ("min", "max"):
            pick = np.minimum if func == "min" else np.maximum
            return lambda ctx: _minmax([f(ctx) for f in args], pick)
        if func == "abs":
            (a,) = args
            return lambda ctx: _abs(a(ctx))
        if func in ("age_on", "years_between", "months_between", "days_between"):
            a, b = args
            return lambda ctx: _dates2(func, a(ctx), b(ctx))
        if func in ("year", "month", "day"):
            (a,) = args
            return lambda ctx: _date_part(func, a(ctx))
        if func == "add_days":
            a, b = args
            return lambda ctx: _add_days(a(ctx), b(ctx))
        raise Unsupported(f"{func}() has no vectorised form")

    def _binary(self, node: Binary) -> Fn:
        op = operator_of(node, self.policy.convention)
        left = self._build(node.left)
        if op in ("in", "not in"):
            if not isinstance(node.right, ListLit) or not all(
                isinstance(i, Literal) for i in node.right.items
            ):
                raise Unsupported("'in' needs a list of values written in the rule")
            items = [i.value for i in node.right.items]  # type: ignore[union-attr]
            negate = op == "not in"
            return lambda ctx: _member(ctx, left(ctx), items, negate)
        right = self._build(node.right)
        if op == "and":
            return lambda ctx: _and(left(ctx), right(ctx))
        if op == "or":
            return lambda ctx: _or(left(ctx), right(ctx))
        if op in ("+", "-"):
            return lambda ctx: _addsub(left(ctx), right(ctx), op)
        if op == "*":
            return lambda ctx: _times(left(ctx), right(ctx))
        if op == "/":
            return lambda ctx: _divide(left(ctx), right(ctx))
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return lambda ctx: _compare(left(ctx), right(ctx), op)
        raise Unsupported(f"operator {op}")  # pragma: no cover

    def _table(self, comp: Computation) -> Fn:
        table = comp.table
        assert table is not None
        columns = table.columns
        build = self._money if comp.type.kind == "money" else self._build
        thens = [build(row.then) for row in table.rows]
        default = build(table.default) if table.default is not None else None
        cells = [
            [(c, row.cells[c]) for c in columns if not row.cells[c].is_any] for row in table.rows
        ]
        tested = sorted({c for row in cells for c, _cell in row})

        def run(ctx: Context) -> Val:
            inputs = {c: ctx.values[c] for c in columns}
            bad = _mor(*(_mor(val.bad, val.null) for val in inputs.values()))
            vals = [then(ctx) for then in thens]
            rest = default(ctx) if default is not None else None
            consts = _constants([*vals, rest] if rest is not None else vals)
            if consts is not None:
                out, unmatched = _lookup(ctx, cells, tested, inputs, consts, rest is None)
                return Val(out, False, _mor(bad, unmatched))
            return _pick_rows(ctx, cells, inputs, vals, rest, bad)

        return run


def _pick_rows(
    ctx: Context,
    cells: list[list[tuple[str, Cell]]],
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


def _row_matches(
    ctx: Context, tests: list[tuple[str, Cell]], inputs: dict[str, Val], m: int
) -> Any:
    """Where one table row's cells all match (an m-row mask)."""
    match: Any = None
    for column, cell in tests:
        hit = _cell_matches(ctx, cell, inputs[column])
        match = hit if match is None else match & hit
    return np.ones(m, dtype=bool) if match is None else np.broadcast_to(match, (m,))


def _constants(vals: list[Val]) -> tuple[type, np.ndarray, int] | None:
    """The results of a decision table as one array, when every result is a constant
    of one kind (the usual table: amounts, codes, flags): then a row's result is a lookup."""
    kinds = {type(val.v) for val in vals}
    if not vals or len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind not in (Num, Cat, Date, Bool) or any(
        val.null is not False or val.bad is not False or np.ndim(val.v.data) != 0  # type: ignore[union-attr]
        for val in vals
    ):
        return None
    if kind is Bool:
        return kind, np.array([bool(val.v.data) for val in vals]), 0  # type: ignore[union-attr]
    scale = max((val.v.scale for val in vals if isinstance(val.v, Num)), default=0)
    data = [int(val.v.data) * _pow10(scale - getattr(val.v, "scale", 0)) for val in vals]  # type: ignore[union-attr]
    if any(abs(x) >= SAFE for x in data):
        return None
    return kind, np.array(data, dtype=np.int64), scale


def _lookup(
    ctx: Context,
    cells: list[list[tuple[str, Cell]]],
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


# ------------------------------------------------------------------ operations


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
    scale = max(0, -int(exp))  # type: ignore[arg-type]
    return Num(int(value.scaleb(scale)), scale)


def _bad(*vals: Val) -> Any:
    return _mor(*(v.bad for v in vals))


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
        return Val(type(x)(pick(cond, x.data, y.data)), null)  # type: ignore[call-arg,union-attr]
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


@_valued
def _and(a: Val, b: Val) -> Val:
    x = np.asarray(a.v.data, dtype=bool)  # type: ignore[union-attr]
    y = np.asarray(b.v.data, dtype=bool)  # type: ignore[union-attr]
    return Val(Bool(x & y), False, _mor(a.bad, _mand(x, b.bad)))


@_valued
def _or(a: Val, b: Val) -> Val:
    x = np.asarray(a.v.data, dtype=bool)  # type: ignore[union-attr]
    y = np.asarray(b.v.data, dtype=bool)  # type: ignore[union-attr]
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
def _dates2(func: str, a: Val, b: Val) -> Val:
    x, y = a.v, b.v
    assert isinstance(x, Date) and isinstance(y, Date)
    bad = _bad(a, b)
    if func == "days_between":
        return Val(Num(np.subtract(y.data, x.data, dtype=np.int64)), False, bad)
    key, unit = (_month_key, 100) if func == "months_between" else (_year_key, 10000)
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
def _date_part(func: str, a: Val) -> Val:
    assert isinstance(a.v, Date)
    part = ("year", "month", "day").index(func)
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


def _cell_matches(ctx: Context, cell: Cell, val: Val) -> Any:
    v = val.v
    if cell.values is not None:
        if isinstance(v, Cat):
            return _isin(v.data, [ctx.code(str(x)) for x in cell.values])
        if isinstance(v, Bool):
            hit = np.zeros(np.shape(v.data), dtype=bool)
            for x in cell.values:
                hit = hit | (np.asarray(v.data) == bool(x))
            return hit
        if isinstance(v, Date):
            days = [x.toordinal() - EPOCH_ORDINAL for x in cell.values]
            return _isin(v.data, days)
        if isinstance(v, Num):
            hit = np.zeros(np.shape(v.data), dtype=bool)
            for x in cell.values:
                cmp = _compare(val, Val(_num_const(x)), "==")
                hit = hit | np.asarray(cmp.v.data)  # type: ignore[union-attr]
            return hit
        raise Unsupported("table cell")
    iv = cell.interval
    assert iv is not None
    match: Any = True
    for bound, closed, side in ((iv.lo, iv.lo_closed, "lo"), (iv.hi, iv.hi_closed, "hi")):
        if bound is None:
            continue
        if isinstance(bound, dt.date):
            other = Val(Date(bound.toordinal() - EPOCH_ORDINAL))
        else:
            other = Val(_num_const(bound))
        op = (">=" if closed else ">") if side == "lo" else ("<=" if closed else "<")
        cmp = _compare(Val(val.v), other, op)
        match = match & np.asarray(cmp.v.data)  # type: ignore[union-attr]
    return match


def too_large(exc: ArithmeticError) -> EvaluationError:
    """The scalar engine's Decimal arithmetic (28 significant digits) cannot hold a value."""
    return EvaluationError(
        f"a value is too large to compute exactly ({type(exc).__name__}); check the facts' magnitudes"
    )


def columnar_plan(program: Program, outputs: Sequence[str] | None = None) -> ColumnarPlan:
    """The program's columnar plan for these outputs (default: every declared output),
    built on first use and kept in the program (at most ``MAX_GENERATED_PLANS`` of them)."""
    key = tuple(outputs or program.policy.outputs)
    plan = program.columnar.get(key)
    if plan is None:
        plan = ColumnarPlan(program, key)
        if len(program.columnar) < MAX_GENERATED_PLANS:
            plan = program.columnar.setdefault(key, plan)
    return plan


def evaluate_rows(
    program: Program,
    facts: Sequence[dict[str, Any]],
    on: dt.date,
    *,
    plan: ColumnarPlan | None = None,
) -> ColumnarResult:
    """Evaluate parsed facts (``parse_facts`` dicts) with the columnar engine."""
    plan = plan or columnar_plan(program)
    columns, to_scalar = plan.pack(facts)
    return plan.evaluate(columns, on, to_scalar=to_scalar, row_facts=lambda i: dict(facts[i]))


__all__ = [
    "SCALAR_ONLY",
    "Column",
    "ColumnarPlan",
    "ColumnarResult",
    "EvaluationError",
    "columnar_plan",
    "evaluate_rows",
]
