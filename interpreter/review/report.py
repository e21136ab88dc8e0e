"""What a rule change means, as data: the report `policy diff` prints for a legal reviewer.

A report compares two versions of the policy files (two git revisions, or one and the
working tree). It is built in two parts that read the same model:

- ``compare`` says what changed in the text of the rules, in the document's words: the
  document, the contract other teams code against, parameters, rules and tables (before
  and after in readable form), the input regions whose answer changes, deadlines and
  targets, citations, quotes, notes, errata, the source text and its coverage;
- ``impact`` says whose answers change: the hand-written cases, the test matrices and a
  fixed synthetic population, with worked examples whose traces cite their articles.

Renderers (Markdown for the pull request, JSON for tools, one line for stderr) read only
this module's classes. Everything is a frozen struct: ``msgspec.to_builtins(report)``
gives the JSON document, whose schema is ``schema/diff.v1.schema.json``.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

FORMAT = "diff.v1"

# What a change is about (Change.kind). One word each, stable: tools key on them.
KINDS = (
    "policy-added",
    "policy-removed",
    "document",  # number, title, issuers, signed/published dates, summary
    "in-force",  # the in-force window
    "convention",  # the boundary convention (以上/以下/不满/超过)
    "contract",  # a fact or output added, removed, retyped, made required, new default
    "parameter",  # a value, its date, unit or citation
    "rule",  # an expression's meaning
    "table-row",  # a decision table's row added, removed or changed
    "clause-added",
    "clause-removed",
    "clause-renamed",
    "citation",  # the article a clause or value cites
    "quote",  # the verbatim quote of a citation
    "note",  # an interpretation note
    "erratum",
    "source",  # the gazette text of one article
    "coverage",  # an article encoded / declared not computable / unaccounted
    "obligation",  # a duty added, removed or reworded; its responsible bodies
    "deadline",
    "target",
    "case",  # a hand-written case added, removed or changed (the cases are the text's examples)
)


class Text(Struct, frozen=True):
    """Something said twice: Chinese first (the document's language), English beside it."""

    zh: str
    en: str


class Change(Struct, frozen=True):
    """One change, in the document's words. ``before``/``after`` are readable forms (a
    rule as the site shows it, a value with its unit and date), never raw syntax."""

    kind: str  # one of KINDS
    subject: str  # what changed: a fact, parameter, computation, clause id, anchor, item id
    summary: Text  # one line: 第三条 parameter flat_amount: 45 → 50 元/月 (from 2021-01-01)
    clause: str | None = None
    article: str | None = None  # the anchor in source.md
    label: str | None = None  # the article as printed, e.g. 三、（三）1.
    quote: str | None = None  # the verbatim quote of the article (the new side's, else the old)
    before: Text | None = None
    after: Text | None = None
    breaking: bool = False  # contract changes: a caller's request or reading may now fail
    meaning: bool = True  # False: reworded, reordered, renamed, reformatted; same answers
    location: str | None = None  # file:line:column on the side that has it (new, else old)


class Region(Struct, frozen=True):
    """Inputs whose answer changes: ``where`` in the document's bound words (年满80周岁不满
    90周岁), the output, and its value before and after there."""

    output: str
    where: Text
    before: str
    after: str
    clause: str | None = None
    article: str | None = None
    case: str | None = None  # the hand-written case whose other inputs are held


class OutputChange(Struct, frozen=True):
    name: str
    before: str | None  # as the trace's JSON shows it ("50.00"); None: absent or an error
    after: str | None
    error_before: str | None = None
    error_after: str | None = None


class CaseChange(Struct, frozen=True):
    """A hand-written case or a test-matrix row whose outputs changed."""

    source: str  # "case" (tests/*.yaml) or "matrix" (tests/matrices/*.csv)
    name: str
    on: str  # ISO date
    facts: dict[str, Any]
    outputs: list[OutputChange]


class PopulationChange(Struct, frozen=True):
    """One output over the synthetic population: how many rows changed, which way, and the
    totals (money: yuan with two decimals as text; other kinds: counts of each value)."""

    output: str
    rows: int  # rows in the population
    changed: int
    up: int = 0
    down: int = 0
    total_before: str | None = None
    total_after: str | None = None
    delta: str | None = None
    summary: Text | None = None  # 112,310 of 1,000,000: new_monthly_pension +10.00 元 …


class Step(Struct, frozen=True):
    """One step of a trace, cited: clause, article, the value, and what it read."""

    clause: str
    article: str
    label: str
    name: str
    value: str
    inputs: dict[str, str] = field(default_factory=dict)


class Example(Struct, frozen=True):
    """A worked example: one case under both versions, only the steps that differ."""

    case: str
    on: str
    facts: dict[str, Any]
    before: list[Step]
    after: list[Step]


class PolicyReport(Struct, frozen=True):
    id: str
    title: Text
    status: str  # "added", "removed", "changed", "unchanged"
    problems_before: list[str] = field(default_factory=list)  # validation errors, one a line
    problems_after: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    cases: list[CaseChange] = field(default_factory=list)
    cases_compared: int = 0
    matrix_rows_compared: int = 0
    population: list[PopulationChange] = field(default_factory=list)
    population_rows: int = 0
    examples: list[Example] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    @property
    def behaviour_changed(self) -> bool:
        """Some answer differs: a case, a matrix row or a population row."""
        return bool(self.cases) or any(p.changed for p in self.population)


class DiffReport(Struct, frozen=True):
    base: str  # the revision as given, and its commit
    head: str  # "working tree" or a revision
    base_commit: str | None
    head_commit: str | None
    policies: list[PolicyReport]
    format: str = FORMAT
    engine_version: str = ""
    seconds: float = 0.0

    @property
    def behaviour_changed(self) -> bool:
        return any(p.behaviour_changed for p in self.policies)

    @property
    def breaking(self) -> bool:
        return any(p.breaking for p in self.policies)


def json_schema() -> dict[str, object]:
    """The JSON Schema of the ``diff.v1`` document (``schema/diff.v1.schema.json``): the
    report's structs as msgspec describes them (docstrings become descriptions), plus the
    two verdicts tools key on."""
    import msgspec

    schema: dict[str, object] = msgspec.json.schema(DiffReport)
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    top = defs["DiffReport"]
    top["properties"]["behaviour_changed"] = {
        "type": "boolean",
        "description": "some hand-written case, matrix row or population row answers differently",
    }
    top["properties"]["breaking"] = {
        "type": "boolean",
        "description": "a contract change may break a caller's request or reading",
    }
    top["required"] = [*top["required"], "behaviour_changed", "breaking"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "diff.v1.schema.json",
        "title": "policy diff report (diff.v1)",
        **schema,
    }
