"""Run a policy's YAML test cases (written by hand from the text) through the engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..language.errors import PolicyError
from ..language.values import to_json
from ..policy.model import Case
from .engine import evaluate_policy
from .program import Program


@dataclass(frozen=True)
class CaseResult:
    policy: str
    case: Case
    passed: bool
    problems: tuple[str, ...] = ()
    rows_hit: tuple[tuple[str, int | None], ...] = ()
    computed: tuple[str, ...] = ()


def run_cases(program: Program) -> list[CaseResult]:
    return [run_case(program, case) for case in program.policy.cases]


def run_case(program: Program, case: Case) -> CaseResult:
    policy = program.policy
    on = case.on or policy.in_force.start
    wanted = [n for n in case.expect if n in policy.computations] or None
    try:
        result = evaluate_policy(program, case.facts, on, outputs=wanted)
    except PolicyError as exc:
        if case.expect_error and case.expect_error in str(exc):
            return CaseResult(policy.id, case, True)
        expected = f"error containing {case.expect_error!r}" if case.expect_error else "no error"
        return CaseResult(policy.id, case, False, (f"expected {expected}, got error: {exc}",))
    if case.expect_error:
        return CaseResult(
            policy.id,
            case,
            False,
            (f"expected an error containing {case.expect_error!r}, got none",),
        )
    problems = []
    values = {s.name: s.value for s in result.steps}
    for name, expected in case.expect.items():
        actual = values.get(name, result.outputs.get(name))
        if not same(expected, actual):
            kind = policy.computations[name].type.kind
            problems.append(f"{name}: expected {expected!r}, got {to_json(actual, kind)!r}")
    rows = tuple((s.name, s.row) for s in result.steps if s.is_table)
    return CaseResult(
        policy.id, case, not problems, tuple(problems), rows, tuple(s.name for s in result.steps)
    )


def same(expected: Any, actual: Any) -> bool:
    """Compare a value written in YAML with a computed one, by the computed value's kind."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, Decimal):
        try:
            return Decimal(str(expected)) == actual
        except InvalidOperation:
            return False
    if isinstance(actual, dt.date):
        return str(expected) == actual.isoformat()
    return expected == actual
