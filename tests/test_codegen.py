"""The generated function for untraced evaluation gives exactly what the traced, lazy
closures give, falls back to them on every failure, and executes no text from a policy."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tokenize
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter import Repository
from interpreter.language.errors import EvaluationError, PolicyError
from interpreter.runtime.codegen import NotGenerated, variable
from interpreter.runtime.engine import evaluate_parsed
from interpreter.runtime.facts import parse_facts
from interpreter.runtime.program import MAX_GENERATED_PLANS

from .conftest import POLICIES

POLICY_IDS = Repository(POLICIES).ids()


def _lazy(program, values: dict, on: dt.date) -> dict | EvaluationError:
    try:
        return evaluate_parsed(program, dict(values), on, trace=True).outputs
    except EvaluationError as exc:
        return exc


def _generated(program, values: dict, on: dt.date) -> dict | None:
    plan = program.generated_plan(program.output_names)
    assert plan is not None, "every encoded policy compiles to a generated function"
    return plan.run(values, program.parameter_values_on(on))


def _usable_cases(policy) -> list[tuple[dict, dt.date]]:
    """Each hand-written case's facts, parsed, with its date (cases refused before any rule
    runs, e.g. for a bad fact or a date out of force, are left out)."""
    out = []
    for case in policy.cases:
        on = case.on or policy.in_force.start
        if not policy.in_force.covers(on):
            continue
        try:
            out.append((parse_facts(policy, case.facts), on))
        except PolicyError:
            continue
    return out


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_hand_written_case_agrees_with_the_lazy_path(repo, policy_id):
    program = repo.program(policy_id)
    policy = program.policy
    if not policy.outputs:
        pytest.skip("obligations and targets only: no outputs, no cases")
    cases = _usable_cases(policy)
    generated_answers = 0
    for values, on in cases:
        lazy, fast = _lazy(program, values, on), _generated(program, values, on)
        if isinstance(lazy, EvaluationError):
            assert fast is None, (values, lazy, fast)
        elif fast is not None:
            assert fast == lazy, values
            assert list(fast) == list(lazy), "outputs come in the declared order"
            generated_answers += 1
    # Falling back is for failures; a working case is answered by the generated function.
    successes = sum(not isinstance(_lazy(program, v, on), EvaluationError) for v, on in cases)
    assert successes > 0
    assert generated_answers / successes >= 0.8, (generated_answers, successes)


def _mixed_facts(policy) -> st.SearchStrategy[tuple[dict[str, Any], dt.date]]:
    """Facts mixed from different hand-written cases: combinations nobody wrote down,
    many of them failing, which is what exercises the fallback."""
    cases = _usable_cases(policy)
    pools: dict[str, list] = {
        name: [] if fact.required else [None] for name, fact in policy.facts.items()
    }
    for values, _on in cases:
        for name, value in values.items():
            if name in pools and value not in pools[name]:
                pools[name].append(value)
    dates = sorted({on for _v, on in cases})
    return st.tuples(
        st.fixed_dictionaries({n: st.sampled_from(pool) for n, pool in pools.items()}),
        st.sampled_from(dates),
    )


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_random_mixtures_agree_with_the_lazy_path(repo, policy_id):
    program = repo.program(policy_id)
    policy = program.policy
    if not policy.outputs:
        pytest.skip("obligations and targets only: no outputs, no cases")

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_mixed_facts(policy))
    def check(drawn):
        values, on = drawn
        lazy, fast = _lazy(program, values, on), _generated(program, values, on)
        if isinstance(lazy, EvaluationError):
            assert fast is None
        elif fast is not None:
            assert fast == lazy

    check()


def test_an_error_from_the_generated_path_still_names_its_clause(repo):
    """The generated function only says "failed"; the lazy rerun places the error."""
    program = repo.program("medical-outpatient-cross-region-2021")
    values = parse_facts(program.policy, {"assist_request_received_date": "2026-12-29"})
    on = dt.date(2021, 8, 1)
    assert _generated(program, values, on) is None
    with pytest.raises(EvaluationError, match=r"clause sporadic-reimbursement \(第十七条\)"):
        evaluate_parsed(program, values, on, trace=False)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_no_value_from_a_policy_is_written_into_the_source(repo, policy_id):
    """Numbers and texts are bound as constants; the only strings in the source are the
    names of facts, parameters and outputs, which the schema restricts to [a-z0-9_]."""
    program = repo.program(policy_id)
    policy = program.policy
    source = program.generated_plan(policy.output_names).source
    known = {*policy.facts, *policy.parameters, *policy.computations}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        assert token.type != tokenize.NUMBER, token
        if token.type == tokenize.STRING:
            assert token.string[1:-1] in known, token
        if token.type == tokenize.NAME and token.string.startswith("v_"):
            assert token.string[2:] in known, token


@pytest.mark.parametrize("name", ["x; import os", "Name", "a.b", "", "1x"])
def test_a_name_outside_the_schema_pattern_is_not_generated(name):
    with pytest.raises(NotGenerated):
        variable(name)


def test_asking_for_a_fact_as_output_returns_it(repo):
    program = repo.program("pension-adjustment-2021")
    values, on = _usable_cases(program.policy)[0]
    plan = program.generated_plan(("monthly_pension", "eligible"))
    out = plan.run(values, program.parameter_values_on(on))
    assert out == {
        "monthly_pension": values["monthly_pension"],
        "eligible": _lazy(program, values, on)["eligible"],
    }


def test_plans_per_policy_are_bounded_and_the_rest_still_answer(tmp_path):
    """A caller asking for ever new output subsets must not grow memory without end."""
    shutil.copytree(POLICIES / "pension-adjustment-2021", tmp_path / "pension-adjustment-2021")
    program = Repository(tmp_path).program("pension-adjustment-2021")
    policy = program.policy
    values, on = _usable_cases(policy)[0]
    names = [*policy.facts, *policy.output_names]
    subsets = [(a, b) for a in names for b in names if a != b][: MAX_GENERATED_PLANS + 5]
    for subset in subsets:
        result = evaluate_parsed(program, dict(values), on, outputs=list(subset), trace=False)
        lazy = evaluate_parsed(program, dict(values), on, outputs=list(subset), trace=True)
        assert result.outputs == lazy.outputs
    assert len(program._generated) == MAX_GENERATED_PLANS
    assert program.generated_plan(subsets[-1]) is None
