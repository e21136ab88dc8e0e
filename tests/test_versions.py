"""The versions that pin a decision: the engine's (the package version, checked against a
digest of the outputs of every hand-written case) and the holiday calendar's."""

from __future__ import annotations

from importlib import metadata

from interpreter import ENGINE_VERSION, evaluate
from interpreter.policy.resources import PROJECT, _project_field
from interpreter.runtime.versions import CALENDAR_VERSION

from . import engine_digest
from .conftest import PENSION, POLICIES, REPO, WORKED_EXAMPLE


def test_outputs_change_only_with_the_version() -> None:
    problem = engine_digest.problem(engine_digest.answers())
    assert problem is None, problem


def test_a_changed_answer_is_caught_and_a_new_case_is_not_a_change() -> None:
    current = engine_digest.answers()
    record = engine_digest.recorded()
    assert len(current) == len(record["answers"])
    key = next(iter(current))
    assert engine_digest.changed({**current, key: "0" * 24}, record) == [key]
    assert engine_digest.changed({**current, "new-input": "0" * 24}, record) == []


def test_engine_version_is_the_package_version() -> None:
    assert _project_field(REPO, "version") == ENGINE_VERSION
    assert _project_field(REPO, "name") == PROJECT


def test_calendar_version_is_the_distributions() -> None:
    assert metadata.version("chinese-calendar") == CALENDAR_VERSION


def test_result_records_both_versions() -> None:
    out = evaluate(PENSION, WORKED_EXAMPLE, on="2021-01-01", root=POLICIES).as_dict()
    assert out["engine_version"] == ENGINE_VERSION
    assert out["calendar_version"] == CALENDAR_VERSION
    assert list(out)[-2:] == ["engine_version", "calendar_version"]
