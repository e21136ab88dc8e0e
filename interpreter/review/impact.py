"""Whose answers change: the part of the report that evaluates both versions.

``impact(old, new, report)`` fills the report's behaviour sections from the two compiled
versions of one policy:

- ``cases``: every hand-written case (of either version) run under both, outputs compared
  as the trace's JSON shows them (or the error message);
- the test matrix rows (``site.matrix.build_matrix`` of each version) whose facts and date
  exist in both, hand-written rows left to the cases;
- ``population``: a fixed synthetic population run by the columnar engine (``population``);
- ``regions``: the exact input ranges whose answer changes (``regions``);
- ``examples``: for up to three changed cases, the steps of the two traces that differ,
  each cited by clause and article.

A policy added, removed or not validating on one side has no behaviour section.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import msgspec

from ..language.errors import PolicyError
from ..language.values import as_written, to_json
from ..policy.model import Case
from ..runtime.engine import Result, TraceStep, evaluate_policy
from ..runtime.program import Program
from ..site.matrix import MatrixRow, build_matrix
from .population import population
from .regions import Baseline, regions
from .report import CaseChange, Example, OutputChange, PolicyReport, Step
from .thresholds import changed_definitions

MAX_EXAMPLES = 3  # worked examples per policy


def _text(value: Any) -> str:
    """A JSON value of the trace as text: "50.00", "true", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class Run:
    """One case under one version: each output's text or its error, and the trace."""

    outputs: dict[str, str | None]
    errors: dict[str, str]
    result: Result | None = None


def run_case(program: Program, facts: dict[str, Any], on: dt.date) -> Run:
    """Every output of the case with the full trace; when the case fails as a whole, each
    output alone, so one failing rule does not hide the others' answers."""
    try:
        result = evaluate_policy(program, facts, on)
        shown = result.as_dict()["outputs"]
        return Run({n: _text(v) for n, v in shown.items()}, {}, result)
    except PolicyError:
        pass
    outputs: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name in program.output_names:
        try:
            one = evaluate_policy(program, facts, on, outputs=[name], trace=False)
            outputs[name] = _text(to_json(one.outputs[name], program.kinds.get(name)))
        except PolicyError as exc:
            outputs[name] = None
            errors[name] = str(exc)
    return Run(outputs, errors)


def _output_changes(before: Run, after: Run, names: list[str]) -> list[OutputChange]:
    out = []
    for name in names:
        b, a = before.outputs.get(name), after.outputs.get(name)
        eb, ea = before.errors.get(name), after.errors.get(name)
        if (b, eb) != (a, ea):
            out.append(OutputChange(name, b, a, eb, ea))
    return out


def _key(on: dt.date, facts: dict[str, Any]) -> str:
    return f"{on.isoformat()} {json.dumps(facts, ensure_ascii=False, sort_keys=True, default=str)}"


def _cases(old: Program, new: Program) -> list[tuple[Case, dt.date, dict[str, Any]]]:
    """The hand-written cases of the new version, then those only the old one has."""
    out: dict[tuple[str, str], tuple[Case, dt.date, dict[str, Any]]] = {}
    for program in (new, old):
        for case in program.policy.cases:
            on = case.on or program.policy.in_force.start
            facts = {k: as_written(v) for k, v in case.facts.items()}
            out.setdefault((case.name, _key(on, facts)), (case, on, facts))
    return list(out.values())


# -- worked examples ---------------------------------------------------------------------
def step(s: TraceStep) -> Step:
    """A trace step as the report cites it."""
    value = _text(to_json(s.value, s.kind))
    inputs = {k: _text(to_json(v, s.kinds.get(k))) for k, v in s.inputs.items()}
    return Step(s.clause, s.citation.article, s.citation.label, s.name, value, inputs)


def example(name: str, on: dt.date, facts: dict[str, Any], before: Run, after: Run) -> Example:
    """The two traces, only the steps that differ (a step is the same when its name, value,
    inputs and citation are)."""
    old = [step(s) for s in (before.result.steps if before.result else [])]
    new = [step(s) for s in (after.result.steps if after.result else [])]
    return Example(
        name,
        on.isoformat(),
        facts,
        [s for s in old if s not in new],
        [s for s in new if s not in old],
    )


# -- the matrices --------------------------------------------------------------------------
def _matrix_change(
    row: MatrixRow, before: dict[str, str], after: dict[str, str]
) -> CaseChange | None:
    changes = []
    for name in sorted(set(before) & set(after), key=list(after).index):
        b, a = before[name], after[name]
        if b == a:
            continue
        eb = b[len("error: ") :] if b.startswith("error: ") else None
        ea = a[len("error: ") :] if a.startswith("error: ") else None
        changes.append(OutputChange(name, None if eb else b, None if ea else a, eb, ea))
    if not changes:
        return None
    label = f"{row.kind}: {row.boundary} · {row.point} · {row.value} ({row.case})".strip()
    return CaseChange("matrix", label, row.on.isoformat(), row.facts, changes)


def _matrices(old: Program, new: Program) -> tuple[int, list[CaseChange]]:
    """Boundary and in-force rows whose facts and date both versions' matrices hold."""
    before = {_key(r.on, r.facts): r for r in build_matrix(old).rows if r.kind != "hand-written"}
    compared, changes = 0, []
    seen: set[str] = set()
    for row in build_matrix(new).rows:
        key = _key(row.on, row.facts)
        if row.kind == "hand-written" or key in seen or key not in before:
            continue
        seen.add(key)
        compared += 1
        change = _matrix_change(row, before[key].outputs, row.outputs)
        if change is not None:
            changes.append(change)
    return compared, changes


# -- the whole ----------------------------------------------------------------------------
def impact(old: Program | None, new: Program | None, report: PolicyReport) -> PolicyReport:
    """The report with its behaviour sections filled: regions, cases, cases_compared,
    matrix_rows_compared, population, population_rows and examples."""
    if old is None or new is None or report.problems_before or report.problems_after:
        return report
    if not new.policy.outputs or not old.policy.outputs:  # obligations only: nothing runs
        return report
    names = [o for o in new.policy.outputs if o in old.policy.outputs]
    case_changes: list[CaseChange] = []
    examples: list[Example] = []
    baselines: list[Baseline] = []
    cases = _cases(old, new)
    for case, on, facts in cases:
        before, after = run_case(old, facts, on), run_case(new, facts, on)
        reached = {s.name for r in (before.result, after.result) if r is not None for s in r.steps}
        if not case.expect_error:
            baselines.append(Baseline(case.name, on, facts, case.clause, frozenset(reached)))
        changes = _output_changes(before, after, names)
        if not changes:
            continue
        case_changes.append(CaseChange("case", case.name, on.isoformat(), facts, changes))
        if len(examples) < MAX_EXAMPLES and before.result and after.result:
            examples.append(example(case.name, on, facts, before, after))
    matrix_rows, matrix_changes = _matrices(old, new)
    rows, population_changes = population(old, new)
    found = regions(old, new, baselines) if changed_definitions(old, new) else []
    return msgspec.structs.replace(
        report,
        regions=found,
        cases=case_changes + matrix_changes,
        cases_compared=len(cases),
        matrix_rows_compared=matrix_rows,
        population=population_changes,
        population_rows=rows,
        examples=examples,
    )
