"""Every hand-written YAML case of every encoded policy runs as a pytest test."""

from __future__ import annotations

import pytest

from interpreter import Repository
from interpreter.runtime.cases import run_case

from .conftest import POLICIES

_REPO = Repository(POLICIES)
_CASES = [
    pytest.param(policy_id, i, id=f"{policy_id}:{case.name}")
    for policy_id in _REPO.ids()
    for i, case in enumerate(_REPO.policy(policy_id).cases)
]


@pytest.mark.parametrize(("policy_id", "index"), _CASES)
def test_yaml_case(policy_id: str, index: int) -> None:
    program = _REPO.program(policy_id)
    result = run_case(program, program.policy.cases[index])
    assert result.passed, "; ".join(result.problems)


def test_every_clause_has_cases() -> None:
    for policy_id in _REPO.ids():
        policy = _REPO.policy(policy_id)
        tested = {case.clause for case in policy.cases}
        untested = set(policy.clauses) - tested
        assert not untested, f"{policy_id}: clauses without YAML cases: {sorted(untested)}"
