"""A fixed synthetic population per policy, evaluated under both versions by the columnar
engine: how many rows each output changes, which way, and the money totals (exact: sums
of integer fen, never floats).

The population is a pure function of the two versions' facts and thresholds and a seed
taken from the policy id: each fact is drawn from its type (enum values, booleans,
minimum/maximum), spread around every threshold of both versions' core trees (translated
to the fact as ``site.matrix.inverse`` does: an age bound becomes a birth date) and
uniformly between; the rows are split over the days around the in-force window and the
dates parameters change.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..columnar.engine import EPOCH_ORDINAL, Column, ColumnarResult, columnar_plan
from ..language.errors import PolicyError
from ..language.values import Kind, to_json
from ..policy.model import Fact, Policy
from ..runtime.program import Program
from ..site.matrix import inverse
from .report import PopulationChange, Text
from .thresholds import all_compared

PENSION_ROWS = 100_000
DEFAULT_ROWS = 5_000
# the medical rules count working days row by row (the holiday calendar): fewer rows
ROWS = {"pension-adjustment-2021": PENSION_ROWS, "medical-outpatient-cross-region-2021": 2_000}
MAX_DAYS = 6
SCALE = {Kind.MONEY: 2, Kind.INTEGER: 0, Kind.NUMBER: 2}
DEFAULT_HIGH = {Kind.MONEY: 2_000_000, Kind.INTEGER: 100, Kind.NUMBER: 5_000}  # scaled units
ERROR, NULL, VALUE = 2, 1, 0


def size(policy_id: str) -> int:
    return ROWS.get(policy_id, DEFAULT_ROWS)


def _days(old: Program, new: Program) -> list[dt.date]:
    """The days the population is evaluated on: each version's first (and last) day in
    force, the days a parameter's value changes inside the window, and just outside the
    window where the two windows differ."""
    days: set[dt.date] = set()
    one = dt.timedelta(days=1)
    windows = {(p.policy.in_force.start, p.policy.in_force.until) for p in (old, new)}
    for start, until in windows:
        days.add(start)
        if until is not None:
            days.add(until)
        if len(windows) > 1:
            days.add(start - one)
            if until is not None:
                days.add(until + one)
    for program in (old, new):
        for parameter in program.policy.parameters.values():
            for value in parameter.values:
                if program.policy.in_force.covers(value.start):
                    days.add(value.start)
    return sorted(days)[:MAX_DAYS]


def _fact_bounds(old: Program, new: Program) -> dict[str, set[Any]]:
    """fact -> every threshold of both versions, on the fact's own axis."""
    out: dict[str, set[Any]] = {}
    for program in (old, new):
        policy = program.policy
        for name, item in all_compared(program, policy.in_force.start).items():
            invert = inverse(policy, name)
            if invert is None or not item.bounds:
                continue
            into = out.setdefault(invert.fact, set())
            for bound in item.bounds:
                try:
                    into.add(invert.setter(bound))
                except (ValueError, OverflowError, TypeError):
                    continue
    return out


def _scaled(value: Any, scale: int) -> int | None:
    if isinstance(value, Decimal):
        return int(value.scaleb(scale).to_integral_value())
    return None


def _numeric(rng: np.random.Generator, fact: Fact, bounds: set[Any], n: int) -> np.ndarray:
    kind = fact.type.kind
    scale = SCALE[kind]
    low = _scaled(fact.minimum, scale)
    if low is None and fact.exclusive_minimum is not None:
        low = (_scaled(fact.exclusive_minimum, scale) or 0) + 1
    high = _scaled(fact.maximum, scale)
    ts = sorted(x for b in bounds if (x := _scaled(b, scale)) is not None)
    lo = min([*ts, 0]) if low is None else low
    top = max([*ts, DEFAULT_HIGH[kind] // 2])
    hi = top * 2 if high is None else high
    data = rng.integers(lo, max(hi, lo) + 1, size=n, dtype=np.int64)
    if ts:
        near = rng.random(n) < 0.5
        picked = np.asarray(ts, dtype=np.int64)[rng.integers(0, len(ts), size=n)]
        unit = 10**scale if kind == Kind.NUMBER else 1
        offset = rng.integers(-3, 4, size=n, dtype=np.int64) * unit
        data = np.where(near, picked + offset, data)
    if low is not None or high is not None:
        data = np.clip(data, low, high)
    return data


def _dates(rng: np.random.Generator, policy: Policy, bounds: set[Any], n: int) -> np.ndarray:
    ts = sorted(b.toordinal() - EPOCH_ORDINAL for b in bounds if isinstance(b, dt.date))
    window = policy.in_force
    start = window.start.toordinal() - EPOCH_ORDINAL
    until = (window.until or window.start).toordinal() - EPOCH_ORDINAL
    # a year before the window to two after it, widened to every threshold (a birth date
    # 80 years back): dates far from both are never read by a rule
    lo, hi = min([start - 365, *ts]) - 365, max([until + 730, *ts]) + 365
    data = rng.integers(lo, hi + 1, size=n, dtype=np.int64)
    if ts:
        near = rng.random(n) < 0.5
        picked = np.asarray(ts, dtype=np.int64)[rng.integers(0, len(ts), size=n)]
        data = np.where(near, picked + rng.integers(-3, 4, size=n, dtype=np.int64), data)
    return data


@dataclass
class Drawn:
    """One fact's synthetic values: ``data`` in the column form of its kind, ``values``
    the enum texts drawn (coded per plan), ``null`` the rows where it is absent."""

    kind: str
    data: Any
    scale: int = 0
    null: np.ndarray | None = None
    values: list[str] = field(default_factory=list)


def draw(old: Program, new: Program, n: int) -> dict[str, Drawn]:
    """The population: every fact of either version, seeded by the policy id."""
    seed = zlib.crc32(new.policy.id.encode("utf-8"))
    rng = np.random.default_rng(seed)
    bounds = _fact_bounds(old, new)
    facts = {**old.policy.facts, **new.policy.facts}
    out: dict[str, Drawn] = {}
    for name in sorted(facts):
        fact = facts[name]
        kind = fact.type.kind
        near = bounds.get(name, set())
        if kind in SCALE:
            drawn = Drawn(kind, _numeric(rng, fact, near, n), SCALE[kind])
        elif kind == Kind.DATE:
            drawn = Drawn(kind, _dates(rng, new.policy, near, n))
        elif kind == Kind.BOOLEAN:
            # a ground that defaults to false is rarely established; one with no default
            # is an even chance
            chance = 0.5 if fact.default is None else (0.95 if fact.default else 0.05)
            drawn = Drawn(kind, rng.random(n) < chance)
        elif kind == Kind.ENUM:
            values = sorted(
                set(fact.type.values or ())
                | set(getattr(old.policy.facts.get(name), "type", fact.type).values or ())
            )
            drawn = Drawn(kind, rng.integers(0, max(len(values), 1), size=n), values=values)
        else:
            drawn = Drawn(kind, np.array([None] * n, dtype=object), null=np.ones(n, dtype=bool))
        if not fact.required and fact.default is None and drawn.null is None:
            drawn.null = rng.random(n) < 0.25
        out[name] = drawn
    return out


def _columns(program: Program, drawn: dict[str, Drawn], part: slice) -> dict[str, Column]:
    plan = columnar_plan(program)
    out: dict[str, Column] = {}
    for name, fact in program.policy.facts.items():
        d = drawn.get(name)
        n = len(next(iter(drawn.values())).data[part])
        if d is None or d.kind != fact.type.kind:
            out[name] = Column(
                fact.type.kind, np.zeros(n, dtype=np.int64), 0, np.ones(n, dtype=bool)
            )
            continue
        null = None if d.null is None else d.null[part]
        data = d.data[part]
        if d.kind == Kind.ENUM:
            allowed = set(fact.type.values or ())
            codes = np.array(
                [plan.base_vocab.get(v, -1) if v in allowed else -1 for v in d.values] or [-1],
                dtype=np.int64,
            )
            data = codes[data]
            missing = data < 0
            if missing.any():
                null = missing if null is None else (null | missing)
                data = np.where(missing, 0, data)
        out[name] = Column(d.kind, data, d.scale, null)
    return out


@dataclass
class Answers:
    """One output over one part of the population: a status per row (value, null,
    error) and the values (int fen for money, JSON values otherwise)."""

    status: np.ndarray
    values: np.ndarray


def _answers(result: ColumnarResult | PolicyError, name: str, kind: str, n: int) -> Answers:
    status = np.zeros(n, dtype=np.int8)
    if isinstance(result, PolicyError):
        status[:] = ERROR
        return Answers(status, np.zeros(n, dtype=np.int64))
    val = result.outputs[name]
    if val.v is not None and val.null is not False:
        status[np.broadcast_to(np.asarray(val.null, dtype=bool), (n,))] = NULL
    values: np.ndarray | None = None
    if kind == Kind.MONEY:
        try:
            values = result.fen(name)
        except AssertionError:  # not a whole-fen column: read as JSON below
            values = None
    if values is None:
        column = result.json_column(name)
        if column is None:  # no quick form: row by row
            column = []
            for i in range(n):
                try:
                    column.append(to_json(result.row(i)[name], kind))
                except PolicyError:
                    column.append(None)
        if kind == Kind.MONEY:
            fen = [0 if v is None else int(Decimal(v).scaleb(2)) for v in column]
            values = np.asarray(fen, dtype=np.int64)
        else:
            values = np.array(column, dtype=object)
    for i, done in result.scalar.items():
        if isinstance(done, PolicyError):
            status[i] = ERROR
            continue
        x = done.outputs.get(name)
        status[i] = NULL if x is None else VALUE
        if kind == Kind.MONEY:
            values[i] = 0 if x is None else int(x.scaleb(2))
        else:  # compared as values; shown as JSON once per distinct value (_json_text)
            values[i] = x
    return Answers(status, values)


def _evaluate(
    program: Program, columns: dict[str, Column], on: dt.date, n: int
) -> ColumnarResult | PolicyError:
    try:
        return columnar_plan(program).evaluate(columns, on, to_scalar=np.zeros(n, dtype=bool))
    except PolicyError as exc:  # not in force on that day: every row refused alike
        return exc


@dataclass
class Tally:
    changed: int = 0
    up: int = 0
    down: int = 0
    total_before: int = 0
    total_after: int = 0
    deltas: Counter = field(default_factory=Counter)
    counts_before: Counter = field(default_factory=Counter)
    counts_after: Counter = field(default_factory=Counter)
    moves: Counter = field(default_factory=Counter)  # (before, after) -> rows, not money


def population(old: Program, new: Program) -> tuple[int, list[PopulationChange]]:
    """Rows evaluated and, per output of both versions, what changed."""
    outputs = [o for o in new.policy.outputs if o in old.policy.outputs]
    if not outputs or not new.policy.facts:
        return 0, []
    n = size(new.policy.id)
    drawn = draw(old, new, n)
    days = _days(old, new)
    tallies = {o: Tally() for o in outputs}
    cuts = np.linspace(0, n, len(days) + 1).astype(int)
    for day, start, stop in zip(days, cuts[:-1], cuts[1:], strict=True):
        part = slice(int(start), int(stop))
        m = int(stop - start)
        before = _evaluate(old, _columns(old, drawn, part), day, m)
        after = _evaluate(new, _columns(new, drawn, part), day, m)
        for name in outputs:
            kind = new.policy.kinds[name]
            if old.policy.kinds.get(name) != kind:
                continue
            a, b = _answers(before, name, kind, m), _answers(after, name, kind, m)
            _tally(tallies[name], a, b, kind)
    changes = [_change(new.policy, o, tallies[o], n) for o in outputs]
    return n, changes


def _tally(t: Tally, a: Answers, b: Answers, kind: str) -> None:
    both = (a.status == VALUE) & (b.status == VALUE)
    differ = (a.status != b.status) | (both & (a.values != b.values))
    t.changed += int(differ.sum())
    if kind == Kind.MONEY:
        av, bv = a.values.astype(np.int64), b.values.astype(np.int64)
        t.up += int((both & (bv > av)).sum())
        t.down += int((both & (bv < av)).sum())
        t.total_before += sum(av[a.status == VALUE].tolist())
        t.total_after += sum(bv[b.status == VALUE].tolist())
        delta = (bv - av)[both & differ]
        uniq, sizes = np.unique(delta, return_counts=True)
        for d, c in zip(uniq.tolist(), sizes.tolist(), strict=True):
            t.deltas[int(d)] += int(c)
    else:
        shown = []
        for status, values, counts in (
            (a.status, a.values, t.counts_before),
            (b.status, b.values, t.counts_after),
        ):
            keys = [
                ERROR_KEY if s == ERROR else None if s == NULL else _key(v)
                for s, v in zip(status.tolist(), values.tolist(), strict=True)
            ]
            for key, k in Counter(keys).items():
                counts[_json_text(key)] += k
            shown.append(keys)
        for i in np.flatnonzero(differ).tolist():
            t.moves[(_json_text(shown[0][i]), _json_text(shown[1][i]))] += 1


ERROR_KEY = ("error",)


def _key(value: Any) -> Any:
    """A value as one JSON form, whichever path gave it (a column's JSON or a scalar
    row's value): a date and its ISO text, a Decimal and its number, are one key."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    return to_json(value)


def _json_text(value: Any) -> str:
    if value is ERROR_KEY:
        return "error"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def yuan(fen: int, sign: bool = False) -> str:
    """Integer fen as yuan with thousands separators: 112310000 -> 1,123,100.00."""
    magnitude = abs(fen)
    text = f"{magnitude // 100:,}.{magnitude % 100:02d}"
    if fen < 0:
        return f"-{text}"
    return f"+{text}" if sign else text


def _per(unit: str | None) -> tuple[str, str]:
    if unit and unit.endswith("/月"):
        return "每月", " per month"
    return "", ""


def _change(policy: Policy, name: str, t: Tally, n: int) -> PopulationChange:
    kind = policy.kinds[name]
    head_zh = f"{n:,} 行中 {t.changed:,} 行：{name}"
    head_en = f"{t.changed:,} of {n:,}: {name}"
    if kind != Kind.MONEY:
        before = "; ".join(f"{k} {v:,}" for k, v in sorted(t.counts_before.items()))
        after = "; ".join(f"{k} {v:,}" for k, v in sorted(t.counts_after.items()))
        moves = "; ".join(f"{b} → {a} {k:,}" for (b, a), k in t.moves.most_common())
        summary = Text(f"{head_zh} {moves}".rstrip(), f"{head_en} {moves}".rstrip())
        return PopulationChange(
            name, n, t.changed, total_before=before, total_after=after, summary=summary
        )
    delta = t.total_after - t.total_before
    zh_per, en_per = _per(policy.outputs[name].unit)
    if len(t.deltas) == 1 and sum(t.deltas.values()) == t.changed:
        each = next(iter(t.deltas))
        move_zh = move_en = f"{yuan(each, sign=True)} 元"
    else:
        move_zh = f"增加 {t.up:,} 行，减少 {t.down:,} 行"
        move_en = f"up {t.up:,}, down {t.down:,}"
    summary = Text(
        f"{head_zh} {move_zh}；合计{zh_per} {yuan(delta, sign=True)} 元",
        f"{head_en} {move_en}; total {yuan(delta, sign=True)} 元{en_per}",
    )
    return PopulationChange(
        name,
        n,
        t.changed,
        up=t.up,
        down=t.down,
        total_before=yuan(t.total_before),
        total_after=yuan(t.total_after),
        delta=yuan(delta, sign=True),
        summary=summary,
    )
