"""The policy model: frozen structs (``msgspec``, cheap to define at start-up) built from the
YAML files.

Everything a later stage needs (evaluation, the docs site, diffs, columnar compilation)
reads these objects, never the YAML. Nothing here is compiled or cached per date: that is
``runtime.program.Program``'s job, built once per policy from this model.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from ..language.conventions import Convention
from ..language.errors import Location, NotInForceError
from ..language.expressions import Node
from ..language.tables import Cell
from ..language.values import Kind, Type, number_json
from .sources import SourceText


class Text(Struct, frozen=True):
    zh: str
    en: str


class Citation(Struct, frozen=True):
    document: str
    article: str
    quote: str
    label: str = ""  # the article as printed, e.g. "三、（二）2."
    location: Location | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            "document": self.document,
            "article": self.article,
            "label": self.label,
            "quote": self.quote,
        }


class Interpretation(Struct, frozen=True):
    id: str
    topic: Text
    note: Text


class Fact(Struct, frozen=True):
    name: str
    type: Type
    description: Text
    required: bool = True
    default: Any = None
    minimum: Any = None
    exclusive_minimum: Any = None
    maximum: Any = None
    unit: str | None = None


class Output(Struct, frozen=True):
    name: str
    type: Type
    description: Text
    unit: str | None = None


class ParameterValue(Struct, frozen=True):
    start: dt.date
    value: Any
    citation: Citation


class Parameter(Struct, frozen=True):
    name: str
    type: Type
    description: Text
    values: tuple[ParameterValue, ...]  # sorted by start date
    clause: str
    unit: str | None = None

    def at(self, on: dt.date) -> ParameterValue | None:
        """The value in effect on a date (the latest one starting on or before it)."""
        current = None
        for value in self.values:
            if value.start <= on:
                current = value
        return current


class Row(Struct, frozen=True):
    cells: dict[str, Cell]
    then: Node
    text: str | None
    location: Location


class Table(Struct, frozen=True):
    hit_policy: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    default: Node | None
    gaps: tuple[str, ...]


class Computation(Struct, frozen=True):
    name: str
    type: Type
    description: Text
    clause: str
    citation: Citation
    source: str  # the expression as written ("" for a table)
    expr: Node | None
    table: Table | None
    location: Location
    deps: tuple[str, ...] = ()


class Clause(Struct, frozen=True):
    id: str
    title: Text
    kind: str
    citation: Citation
    parameters: tuple[str, ...]
    computations: tuple[str, ...]
    interpretations: tuple[Interpretation, ...]
    file: str


class Deadline(Struct, frozen=True):
    """A date a duty is due by (inclusive), with the text's own words for it."""

    date: dt.date
    wording: str  # as printed, e.g. 年度内, 8月底前
    citation: Citation  # where the wording stands (the item's own citation by default)
    note: Interpretation | None = None  # how the wording became a date, unless it is one


class Target(Struct, frozen=True):
    """A numeric target: the value as printed, its unit and bound word in the quote's words."""

    metric: Text
    value: Decimal
    unit: str | None = None
    bound: str | None = None  # a threshold word of the document's convention, e.g. 以上
    by: Deadline | None = None

    def as_written(self) -> str:
        """The value, its unit and the bound word in the document's order: 50个以上, 超过3万家."""
        value = self.value
        whole = value == value.to_integral_value()
        amount = f"{format(value.normalize(), 'f') if whole else value}{self.unit or ''}"
        if self.bound is None:
            return amount
        return (
            f"{amount}{self.bound}" if self.bound in WORDS_AFTER_NUMBER else f"{self.bound}{amount}"
        )


# Bound words written after the number (50亩以上); the others go before it (超过50亩).
WORDS_AFTER_NUMBER = ("以上", "以下", "以内", "以外", "届满")


class Obligation(Struct, frozen=True):
    """One duty of the text: who must do what, by when, toward which target. Data only:
    it decides no individual case and is never evaluated."""

    id: str
    group: str  # the id of the obligations file it is written in
    citation: Citation
    duty: Text
    responsible: tuple[str, ...]
    responsible_note: Interpretation | None
    deadline: Deadline | None
    target: Target | None
    category: str | None
    interpretations: tuple[Interpretation, ...]
    location: Location

    def notes(self) -> tuple[Interpretation, ...]:
        """The item's own interpretation notes, then the file's notes it refers to."""
        found = {n.id: n for n in self.interpretations}
        refs = [self.responsible_note, self.deadline.note if self.deadline else None]
        if self.target is not None and self.target.by is not None:
            refs.append(self.target.by.note)
        for note in refs:
            if note is not None:
                found.setdefault(note.id, note)
        return tuple(found.values())

    def due(self) -> dt.date | None:
        """The date the item is due by: its deadline, else its target's date."""
        if self.deadline is not None:
            return self.deadline.date
        if self.target is not None and self.target.by is not None:
            return self.target.by.date
        return None

    def as_dict(self) -> dict[str, Any]:
        def deadline(d: Deadline | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {
                "date": d.date.isoformat(),
                "wording": d.wording,
                "article": d.citation.article,
                "note": d.note.id if d.note else None,
            }

        target = None
        if self.target is not None:
            t = self.target
            value = t.value
            target = {
                "metric": {"zh": t.metric.zh, "en": t.metric.en},
                "value": number_json(value),
                "unit": t.unit,
                "bound": t.bound,
                "by": deadline(t.by),
            }
        return {
            "id": self.id,
            "group": self.group,
            "duty": {"zh": self.duty.zh, "en": self.duty.en},
            "responsible": list(self.responsible),
            "responsible_note": self.responsible_note.id if self.responsible_note else None,
            "deadline": deadline(self.deadline),
            "target": target,
            "category": self.category,
            "citation": self.citation.as_dict(),
            "interpretations": [
                {
                    "id": i.id,
                    "topic": {"zh": i.topic.zh, "en": i.topic.en},
                    "note": {"zh": i.note.zh, "en": i.note.en},
                }
                for i in self.notes()
            ],
        }


class ObligationGroup(Struct, frozen=True):
    """An obligations file (``kind: obligations``): a titled list of duties."""

    id: str
    title: Text
    items: tuple[str, ...]  # obligation ids, in the order written
    interpretations: tuple[Interpretation, ...]
    file: str


class Case(Struct, frozen=True):
    name: str
    on: dt.date | None
    facts: dict[str, Any]
    expect: dict[str, Any]
    expect_error: str | None
    clause: str | None
    location: Location


class InForce(Struct, frozen=True):
    start: dt.date
    until: dt.date | None
    citation: Citation

    def covers(self, on: dt.date) -> bool:
        return self.start <= on and (self.until is None or on <= self.until)

    def describe(self) -> str:
        return (
            f"{self.start.isoformat()} .. {self.until.isoformat() if self.until else 'open-ended'}"
        )


class DocumentInfo(Struct, frozen=True):
    number: str
    title: str
    issuers: tuple[str, ...]
    signed: dt.date
    published: dt.date


class Policy(Struct, frozen=True, dict=True):
    id: str
    root: Path
    title: Text
    document: DocumentInfo
    in_force: InForce
    convention: Convention
    convention_citation: Citation | None
    facts: dict[str, Fact]
    outputs: dict[str, Output]
    parameters: dict[str, Parameter]
    computations: dict[str, Computation]
    clauses: dict[str, Clause]
    cases: list[Case]
    sources: dict[str, SourceText]
    interpretations: tuple[Interpretation, ...]
    content_hash: str
    summary: Text | None = None
    not_computable: list = field(default_factory=list)  # coverage.NotComputable entries
    obligations: dict[str, Obligation] = field(default_factory=dict)
    obligation_groups: dict[str, ObligationGroup] = field(default_factory=dict)

    def dependency_order(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """The computations ``wanted`` depends on, dependencies first."""
        found: list[str] = []
        seen: set[str] = set()
        for root in wanted:  # depth first, with an explicit stack: chains may be long
            if root in seen or root not in self.computations:
                continue
            seen.add(root)
            trail, stack = [root], [iter(self.computations[root].deps)]
            while stack:
                dep = next(stack[-1], None)
                if dep is None:
                    stack.pop()
                    found.append(trail.pop())
                elif dep not in seen and dep in self.computations:
                    seen.add(dep)
                    trail.append(dep)
                    stack.append(iter(self.computations[dep].deps))
        return tuple(found)

    @cached_property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.outputs)

    @cached_property
    def types(self) -> dict[str, Type]:
        """The type of every fact, parameter and computed value, by name."""
        out = {n: f.type for n, f in self.facts.items()}
        out.update({n: p.type for n, p in self.parameters.items()})
        out.update({n: c.type for n, c in self.computations.items()})
        return out

    @cached_property
    def nullable(self) -> frozenset[str]:
        """The names whose value may be absent (null)."""
        return frozenset(n for n, t in self.types.items() if t.nullable)

    @cached_property
    def kinds(self) -> dict[str, Kind]:
        """The type kind of every fact, parameter and computed value, by name."""
        return {n: t.kind for n, t in self.types.items()}

    def check_in_force(self, on: dt.date) -> None:
        if not self.in_force.covers(on):
            raise NotInForceError(
                f"policy {self.id!r} is not in force on {on.isoformat()}; "
                f"in force {self.in_force.describe()}"
            )

    def parameters_on(self, on: dt.date) -> dict[str, ParameterValue]:
        """Every parameter's value in effect on a date (``Program`` keeps them per date)."""
        out = {}
        for name, parameter in self.parameters.items():
            value = parameter.at(on)
            if value is not None:
                out[name] = value
        return out
