"""The columnar plan: a policy's core definitions compiled once for columns
(``ColumnarPlan``), typed input columns packed from parsed facts, a batch evaluated, and
its outputs read back (``ColumnarResult``) as the scalar engine would give them.

Every row the columns cannot answer exactly as the scalar engine would (see ``values``
and ``operations``: a read of an absent optional fact, no table row, a division by zero,
a fraction of a fen in a money value, a value beyond the int64-safe range, a function
whose column form is ``PER_ROW``) is evaluated by the scalar engine, row by row: its
outputs, or its error message, are then exactly the scalar engine's. An intermediate
column is dropped after its last reader, since fresh memory costs more than arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..language import core
from ..language.errors import EvaluationError, PolicyError, TooLargeError
from ..language.values import NUMERIC, Kind, fen_text, to_json
from ..runtime.engine import Result, evaluate_parsed
from ..runtime.program import MAX_GENERATED_PLANS, Program
from .compiler import Fn, compile_definition
from .values import (
    EPOCH_ORDINAL,
    MAX_SCALE,
    SAFE,
    Bool,
    Cat,
    Column,
    Context,
    Date,
    Num,
    Rat,
    Unsupported,
    Val,
    _num_const,
)


@dataclass
class ColumnarResult:
    """Outputs of a batch: columns for the rows done in numpy, scalar results for the rest."""

    n: int
    outputs: dict[str, Val]
    kinds: dict[str, Kind]
    vocab: list[str]
    scalar: dict[int, Result | PolicyError] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)  # met in this batch only

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
            if kind == Kind.MONEY and v.scale == 2:
                texts: list[Any] = fen_texts(uniques)
            elif kind != Kind.MONEY and v.scale == 0:
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


_CENTS = np.array([f"{c:02d}" for c in range(100)])


def fen_texts(fen: np.ndarray) -> list[str]:
    """``fen_text`` (``values.money_text`` of x fen) of each of an int64 array, with
    numpy's string functions."""
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


def _last_reads(
    definitions: Mapping[str, core.Definition], order: Sequence[str], keep: Sequence[str]
) -> list[tuple[str, ...]]:
    """For each step of ``order``, the computed values that no later step reads and that
    are not outputs: dropped there, a batch holds a few columns at a time rather than
    every intermediate one (fresh memory costs more than the arithmetic on it)."""
    last: dict[str, int] = {}
    for i, name in enumerate(order):
        for dep in core.reads(definitions[name].body):
            last[dep] = i
    out: list[list[str]] = [[] for _ in order]
    for name, i in last.items():
        if name in definitions and name not in keep:
            out[i].append(name)
    return [tuple(names) for names in out]


def _at(data: Any, i: int) -> Any:
    return data[i] if isinstance(data, np.ndarray) and data.ndim else data


class ColumnarPlan:
    """A policy's core definitions compiled once for columns; ``evaluate`` runs them on a
    batch. A plan is not changed by ``evaluate``: threads may share it."""

    def __init__(self, program: Program, outputs: Sequence[str] | None = None) -> None:
        self.program = program
        self.policy = policy = program.policy
        self.outputs = tuple(outputs or policy.outputs)
        self.kinds = policy.kinds
        self.types = policy.types
        self.order = list(policy.dependency_order(self.outputs))
        definitions = program.definitions
        self.compiled: dict[str, Fn] = {}
        self.unsupported: dict[str, str] = {}  # found when compiling; read-only afterwards
        for name in self.order:
            try:
                self.compiled[name] = compile_definition(definitions[name])
            except Unsupported as exc:
                self.unsupported[name] = str(exc)
        self.release = _last_reads(definitions, self.order, self.outputs)
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
            if kind in NUMERIC:
                if kind == Kind.MONEY:
                    scale = 2
                elif kind == Kind.INTEGER:
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
            elif kind == Kind.BOOLEAN:
                data = np.fromiter((bool(v) for v in raw), dtype=bool, count=n)
                columns[name] = Column(kind, data, 0, null if has_null else None)
            elif kind == Kind.DATE:
                data = np.fromiter(
                    (v.toordinal() - EPOCH_ORDINAL if v is not None else 0 for v in raw),
                    dtype=np.int64,
                    count=n,
                )
                columns[name] = Column(kind, data, 0, null if has_null else None)
            elif kind == Kind.ENUM:
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
        unsupported: dict[str, str] = {}  # this batch's only: the plan is shared
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
                result.scalar[i] = TooLargeError(exc)
        return result

    def unpack(self, columns: Mapping[str, Column], i: int) -> dict[str, Any]:
        """Row i's facts as Python values (the inverse of ``pack``)."""
        out: dict[str, Any] = {}
        for name, col in columns.items():
            if col.null is not None and col.null[i]:
                out[name] = None
                continue
            x = col.data[i]
            if col.kind in NUMERIC:
                out[name] = Decimal(int(x)).scaleb(-col.scale) if col.scale else Decimal(int(x))
            elif col.kind == Kind.BOOLEAN:
                out[name] = bool(x)
            elif col.kind == Kind.DATE:
                out[name] = dt.date.fromordinal(int(x) + EPOCH_ORDINAL)
            elif col.kind == Kind.ENUM:
                out[name] = self.base_names[int(x)]
            else:
                out[name] = x
        return out

    def _input(self, ctx: Context, col: Column) -> Val:
        """A column as a value; integer data as int64 (no copy if it is already), which
        the integer kernels assume."""
        null = col.null if col.null is not None else False
        if col.kind in NUMERIC:
            return Val(Num(np.asarray(col.data, dtype=np.int64), col.scale), null)
        if col.kind == Kind.BOOLEAN:
            return Val(Bool(np.asarray(col.data, dtype=bool)), null)
        if col.kind == Kind.DATE:
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
    "Column",
    "ColumnarPlan",
    "ColumnarResult",
    "EvaluationError",
    "columnar_plan",
    "evaluate_rows",
    "fen_text",
    "fen_texts",
]
