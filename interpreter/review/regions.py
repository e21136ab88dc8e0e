"""The changed region: the exact input ranges whose answer changes, in the document's
bound words.

The rule language is intervals, comparisons and booleans, so no solver is needed: for
each computed value whose rule differs, every quantity it compares (a fact, or a value
computed from one fact, as ``site.matrix.inverse`` finds it) has its axis cut at every
threshold of both versions into points and the open intervals between them. Both
versions are evaluated at one representative of each piece, the other inputs held at a
hand-written case that reaches the rule; adjacent pieces with the same before → after
are merged and written in the document's words (年满80周岁不满90周岁, 5000元以上) or, where
no word of the document fits, as ``80 ≤ x < 90``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..language.conventions import Bound, Convention
from ..language.errors import PolicyError
from ..language.values import FEN, Kind, as_written
from ..policy.model import WORDS_AFTER_NUMBER, Policy
from ..runtime.engine import evaluate_policy
from ..runtime.program import Program
from ..site.humanize import enum_meanings, plain_number, short_label, show_value
from ..site.matrix import Inverse, inverse
from .report import Region, Text
from .thresholds import Compared, changed_definitions, compared

MAX_BASELINES = 3  # hand-written cases tried per rule and quantity
MAX_PIECES = 200  # thresholds are few; a bound beyond this is left out, never guessed

# The words tried for each kind of bound, best first; the document's own usage comes first.
PREFERRED: dict[tuple[str, bool], tuple[str, ...]] = {
    ("min", True): ("以上", "不少于", "不低于", "已满"),
    ("min", False): ("超过", "高于", "多于"),
    ("max", True): ("以下", "不超过", "以内"),
    ("max", False): ("不满", "低于", "少于", "未满"),
}
SYMBOLS = {("min", True): "≥", ("min", False): ">", ("max", True): "≤", ("max", False): "<"}


@dataclass(frozen=True)
class Baseline:
    """A hand-written case as a place to hold the other inputs: its facts as written, its
    date, its clause and the computed values its evaluation reached (either version)."""

    name: str
    on: dt.date
    facts: dict[str, Any]
    clause: str | None
    reached: frozenset[str]


@dataclass(frozen=True)
class Piece:
    lo: Any
    lo_closed: bool
    hi: Any
    hi_closed: bool
    at: Any  # the representative value


def _step(kind: str) -> Any:
    if kind == Kind.DATE:
        return dt.timedelta(days=1)
    return Decimal(1) if kind == Kind.INTEGER else FEN


def pieces(bounds: Sequence[Any], kind: str) -> list[Piece]:
    """The axis cut at ``bounds``: below the first, each bound, between, above the last.
    An open interval with no value of the kind inside (80 < age < 81) is left out."""
    ts = sorted(set(bounds))
    if not ts:
        return []
    step = _step(kind)
    out = [Piece(None, False, ts[0], False, ts[0] - step)]
    for i, t in enumerate(ts):
        out.append(Piece(t, True, t, True, t))
        if i + 1 < len(ts):
            nxt = ts[i + 1]
            at = t + step
            if at >= nxt:
                if kind in (Kind.INTEGER, Kind.DATE, Kind.MONEY):
                    continue
                at = (t + nxt) / 2
            out.append(Piece(t, False, nxt, False, at))
    out.append(Piece(ts[-1], False, None, False, ts[-1] + step))
    return out


def shown(program: Program, name: str, value: Any) -> str:
    """A value as the reviewer reads it: 50元/月, 是, 2021-03-01."""
    policy = program.policy
    unit = policy.outputs[name].unit if name in policy.outputs else None
    return show_value(value, policy.kinds.get(name), unit)


def answers(program: Program, facts: dict[str, Any], on: dt.date, names: list[str]) -> list[str]:
    """Each name's value shown, or ``error: …`` (one evaluation, or one per name when the
    whole case fails)."""
    try:
        result = evaluate_policy(program, facts, on, outputs=names, trace=False)
        return [shown(program, n, result.outputs[n]) for n in names]
    except PolicyError:
        pass
    out = []
    for name in names:
        try:
            result = evaluate_policy(program, facts, on, outputs=[name], trace=False)
            out.append(shown(program, name, result.outputs[name]))
        except PolicyError as exc:
            out.append(f"error: {exc}")
    return out


# -- the words ---------------------------------------------------------------------------
def _unit(policy: Policy, name: str) -> str:
    comp = policy.computations.get(name)
    if comp is not None and "age_on(" in comp.source:
        return "周岁"
    fact = policy.facts.get(name)
    unit = fact.unit if fact is not None else None
    if policy.kinds.get(name) == Kind.MONEY:
        return "元" if not unit or unit.startswith("元") else unit
    return unit or ""


def _number(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain_number(value)
    return str(value)


def _word(convention: Convention, side: str, closed: bool, used: list[str], kind: str) -> str:
    want = Bound(side, closed)
    candidates = list(used)
    if kind != Kind.DATE:
        candidates += PREFERRED[(side, closed)]
    for word in candidates:
        if convention.bound(word) == want:
            return word
    return ""


def _bound_text(word: str, value: Any, unit: str) -> str:
    number = f"{_number(value)}{unit}"
    return f"{number}{word}" if word in WORDS_AFTER_NUMBER else f"{word}{number}"


def where(policy: Policy, item: Compared, piece: Piece) -> Text:
    """A merged range of one quantity in the document's words (zh) and symbols (en)."""
    name, kind = item.name, policy.kinds.get(item.name, "")
    label = _label(policy, name)
    unit = _unit(policy, name)
    if piece.lo is not None and piece.lo == piece.hi:
        return Text(f"{label} = {_number(piece.lo)}{unit}", f"{name} = {_number(piece.lo)}")
    parts: list[str] = []
    for side, value, closed in (
        ("min", piece.lo, piece.lo_closed),
        ("max", piece.hi, piece.hi_closed),
    ):
        if value is None:
            continue
        word = _word(policy.convention, side, closed, item.words, kind)
        parts.append(
            _bound_text(word, value, unit)
            if word
            else f"{SYMBOLS[(side, closed)]} {_number(value)}{unit}"
        )
    en = name
    if piece.lo is not None:
        en = f"{_number(piece.lo)} {'≤' if piece.lo_closed else '<'} {en}"
    if piece.hi is not None:
        en = f"{en} {'≤' if piece.hi_closed else '<'} {_number(piece.hi)}"
    if all(parts) and not any(p[0] in "≥>≤<" for p in parts):
        return Text(f"{label}：{''.join(parts)}", en)
    zh = " 且 ".join(f"{label} {p}" if p[0] in "≥>≤<" else f"{label}{p}" for p in parts)
    return Text(zh, en)


def _label(policy: Policy, name: str) -> str:
    for group in (policy.facts, policy.computations):
        if name in group:
            return short_label(group[name].description.zh)
    return name


def _value_where(policy: Policy, name: str, values: list[Any]) -> Text:
    meanings = enum_meanings(policy)
    zh = "、".join(
        f"{v}（{meanings[v]}）" if isinstance(v, str) and v in meanings else show_value(v)
        for v in values
    )
    en = ", ".join(show_value(v, lang="en") for v in values)
    return Text(f"{_label(policy, name)}为{zh}", f"{name} is {en}")


# -- the regions ---------------------------------------------------------------------------
def _affected(new: Program, old: Program, name: str) -> list[str]:
    """The changed value itself, then every output (in both versions) that depends on it."""
    out = [name]
    for output in new.policy.outputs:
        if output == name or output not in old.policy.outputs:
            continue
        if name in new.policy.dependency_order((output,)):
            out.append(output)
    return out


def _baselines(name: str, clause: str, fact: str | None, cases: list[Baseline]) -> list[Baseline]:
    reaching = [c for c in cases if name in c.reached]
    reaching.sort(key=lambda c: (c.clause != clause, fact is not None and fact not in c.facts))
    return reaching[:MAX_BASELINES]


def regions(old: Program, new: Program, cases: list[Baseline]) -> list[Region]:
    """Every input range whose answer changes, per changed rule and affected output."""
    found: dict[tuple[str, str, str, str], Region] = {}
    policy = new.policy
    for name in changed_definitions(old, new):
        comp = policy.computations[name]
        names = _affected(new, old, name)
        clause, article = comp.clause, comp.citation.article
        on = policy.in_force.start
        items = _quantities(old, new, name, on)
        if not items:  # no threshold in play: the change holds wherever the rule is reached
            for base in _baselines(name, clause, None, cases)[:1]:
                before = answers(old, base.facts, base.on, names)
                after = answers(new, base.facts, base.on, names)
                for n, b, a in zip(names, before, after, strict=True):
                    if b != a:
                        text = Text("适用本条的情形", "wherever the rule applies")
                        region = Region(n, text, b, a, clause, article, case=base.name)
                        found.setdefault((n, text.zh, b, a), region)
            continue
        for item, invert in items:
            for region in _slice(old, new, item, invert, names, clause, article, cases):
                found.setdefault(
                    (region.output, region.where.zh, region.before, region.after), region
                )
    return list(found.values())


def _quantities(
    old: Program, new: Program, name: str, on: dt.date
) -> list[tuple[Compared, Inverse]]:
    merged: dict[str, Compared] = {}
    for program in (old, new):
        definition = program.definitions[name]
        for q, item in compared(program, definition.body, on).items():
            into = merged.setdefault(q, Compared(q))
            into.bounds |= item.bounds
            into.values |= item.values
            into.words += [w for w in item.words if w not in into.words]
    out = []
    for q, item in merged.items():
        a, b = inverse(old.policy, q), inverse(new.policy, q)
        if a is None or b is None or a.fact != b.fact:
            continue
        out.append((item, b))
    return out


def _slice(
    old: Program,
    new: Program,
    item: Compared,
    invert: Inverse,
    names: list[str],
    clause: str,
    article: str,
    cases: list[Baseline],
) -> list[Region]:
    policy = new.policy
    kind = policy.kinds.get(item.name, "")
    if item.values:
        values = sorted(item.values, key=str)
        if kind == Kind.BOOLEAN:
            values = [False, True]
        axis: list[tuple[Any, Any]] = [(v, v) for v in values]
    else:
        axis = [(p, p.at) for p in pieces(list(item.bounds), kind)[:MAX_PIECES]]
    for base in _baselines(names[0], clause, invert.fact, cases):
        rows = []
        for piece, value in axis:
            try:
                facts = {**base.facts, invert.fact: as_written(invert.setter(value))}
            except (ValueError, OverflowError):
                continue
            before = answers(old, facts, base.on, names)
            after = answers(new, facts, base.on, names)
            rows.append((piece, before, after))
        if not any(b != a for _, b, a in rows):
            continue
        out = []
        for i, n in enumerate(names):
            groups: list[tuple[list[Any], str, str]] = []
            for piece, before, after in rows:
                if (
                    groups
                    and (groups[-1][1], groups[-1][2]) == (before[i], after[i])
                    and not item.values
                ):
                    groups[-1][0].append(piece)
                elif item.values and any((g[1], g[2]) == (before[i], after[i]) for g in groups):
                    next(g for g in groups if (g[1], g[2]) == (before[i], after[i]))[0].append(
                        piece
                    )
                else:
                    groups.append(([piece], before[i], after[i]))
            for members, b, a in groups:
                if b == a:
                    continue
                if item.values:
                    text = _value_where(policy, item.name, members)
                else:
                    first, last = members[0], members[-1]
                    span = Piece(first.lo, first.lo_closed, last.hi, last.hi_closed, first.at)
                    text = where(policy, item, span)
                out.append(Region(n, text, b, a, clause, article, case=base.name))
        return out
    return []
