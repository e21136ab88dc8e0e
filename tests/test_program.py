"""The model is frozen data; the Program built from it holds everything compiled and kept,
with bounds, and may be shared by threads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest

from interpreter import Repository
from interpreter.runtime.engine import evaluate_parsed
from interpreter.runtime.facts import parse_facts
from interpreter.runtime.program import MAX_DATES, Program

from .conftest import PENSION, POLICIES


def _facts(program: Program) -> dict:
    case = next(c for c in program.policy.cases if not c.expect_error)
    return parse_facts(program.policy, case.facts)


def test_the_policy_and_its_computations_are_frozen(repo: Repository) -> None:
    policy = repo.policy(PENSION)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.id = "other"  # type: ignore[misc]
    comp = next(iter(policy.computations.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        comp.name = "other"  # type: ignore[misc]
    assert not hasattr(comp, "fn")


def test_the_repository_builds_one_program_per_policy(repo: Repository) -> None:
    program = repo.program(PENSION)
    assert repo.program(PENSION) is program
    assert program.policy is repo.policy(PENSION)


def test_per_date_caches_stay_bounded() -> None:
    program = Repository(POLICIES).program(PENSION)
    facts = _facts(program)
    start = program.policy.in_force.start
    days = [start + dt.timedelta(days=i) for i in range(2000)]
    days = [d for d in days if program.policy.in_force.covers(d)]
    assert len(days) > MAX_DATES
    for day in days:
        evaluate_parsed(program, dict(facts), day, trace=True)
        evaluate_parsed(program, dict(facts), day, trace=False)
    for cache in (program._parameters, program._values, program._layouts):
        assert len(cache) == MAX_DATES
    assert days[-1] in program._values  # the newest dates are the ones kept


def test_two_threads_on_one_program_agree_with_sequential_runs() -> None:
    """Different dates (and traced and untraced) at once: same results as one by one."""
    program = Repository(POLICIES).program(PENSION)
    facts = _facts(program)
    start = program.policy.in_force.start
    days = [start + dt.timedelta(days=i * 7) for i in range(60)]
    days = [d for d in days if program.policy.in_force.covers(d)]

    def run(each_days: list[dt.date], out: list) -> None:
        for day in each_days:
            for trace in (True, False):
                out.append(evaluate_parsed(program, dict(facts), day, trace=trace).as_dict())

    sequential = Repository(POLICIES).program(PENSION)
    expected: dict[int, list] = {}
    for k, part in enumerate((days, days[::-1])):
        out: list = []
        for day in part:
            for trace in (True, False):
                out.append(evaluate_parsed(sequential, dict(facts), day, trace=trace).as_dict())
        expected[k] = out
    results: dict[int, list] = {0: [], 1: []}
    threads = [
        threading.Thread(target=run, args=(part, results[k]))
        for k, part in enumerate((days, days[::-1]))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


def test_columnar_evaluation_leaves_the_plan_unchanged(repo: Repository) -> None:
    np = pytest.importorskip("numpy")
    from interpreter.columnar.engine import columnar_plan, evaluate_rows

    program = repo.program(PENSION)
    plan = columnar_plan(program)
    assert columnar_plan(program) is plan  # built once, kept in the program
    before = (dict(plan.unsupported), dict(plan.compiled), dict(plan.base_vocab))
    rows = [_facts(program)] * 3
    result = evaluate_rows(program, rows, program.policy.in_force.start)
    assert result.n == 3 and isinstance(result.unsupported, dict)
    assert (dict(plan.unsupported), dict(plan.compiled), dict(plan.base_vocab)) == before
    assert np is not None
