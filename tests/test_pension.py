"""The pension policy through the public Python API: values derived from 粤人社规〔2021〕13号."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from interpreter import FactError, NotInForceError, UnknownPolicyError, evaluate, load
from interpreter.runtime.cases import run_case
from interpreter.runtime.program import Program

from .conftest import PENSION


def test_worked_example_outputs_and_types(base_facts: dict) -> None:
    facts = {**base_facts, "contribution_years": "20.3", "birth_date": "1950-12-31"}
    result = evaluate(PENSION, facts, on="2021-01-01")
    out = result.outputs
    # 45 flat + 3000 x 1.8% + (21 + 6) + 30 (70 on 2020-12-31)
    assert out["flat_increase"] == Decimal("45")
    assert out["proportional_increase"] == Decimal("54.00")
    assert out["seniority_increase"] == Decimal("27")
    assert out["age_increase"] == Decimal("30")
    assert out["new_monthly_pension"] == Decimal("3156.00")
    assert all(not isinstance(v, float) for v in out.values())
    as_json = result.as_dict()["outputs"]
    assert as_json["new_monthly_pension"] == "3156.00"
    assert as_json["flat_increase"] == "45.00"
    assert as_json["from_personal_account"] is None


def test_trace_cites_every_step(base_facts: dict) -> None:
    result = evaluate(PENSION, base_facts, on="2021-01-01")
    policy = load(PENSION)
    source = policy.sources["粤人社规〔2021〕13号"]
    assert {s.name for s in result.steps} >= set(policy.outputs)
    for step in result.steps:
        assert step.citation.article in source.anchors
        assert source.locate(step.citation.quote, step.citation.article)
    flat = next(s for s in result.steps if s.name == "flat_increase")
    assert flat.parameters["flat_amount"] == {
        "value": "45.00",
        "from": "2021-01-01",
        "article": "s3-1",
    }
    age = next(s for s in result.steps if s.name == "age_band_amount").as_dict()
    assert age["row"] is None  # aged 65: no band, the default


def test_a_caller_cannot_change_the_parameters_another_case_reads(base_facts: dict) -> None:
    """The parameters read on a date are prepared once and shared by every case's trace."""
    first = next(s for s in evaluate(PENSION, base_facts, on="2021-01-01").steps if s.parameters)
    name = next(iter(first.parameters))
    with pytest.raises(TypeError):
        first.parameters[name]["value"] = "0.00"  # type: ignore[index]
    with pytest.raises(TypeError):
        first.parameters[name] = {}  # type: ignore[index]
    shown = first.as_dict()["parameters"]
    shown[name]["value"] = "0.00"  # the JSON form is the caller's own copy
    again = next(s for s in evaluate(PENSION, base_facts, on="2021-01-01").steps if s.parameters)
    assert again.as_dict()["parameters"][name]["value"] != "0.00"


def test_table_row_in_trace(base_facts: dict) -> None:
    result = evaluate(PENSION, {**base_facts, "birth_date": "1940-12-31"}, on="2021-01-01")
    step = next(s for s in result.steps if s.name == "age_band_amount")
    assert step.row == 1  # 年满80周岁不满90周岁


def test_money_input_must_be_whole_fen(base_facts: dict) -> None:
    with pytest.raises(FactError, match=r"monthly_pension.*two decimals"):
        evaluate(PENSION, {**base_facts, "monthly_pension": "3000.005"}, on="2021-01-01")


def test_float_input_is_read_exactly(base_facts: dict) -> None:
    result = evaluate(PENSION, {**base_facts, "monthly_pension": 3333.33}, on="2021-01-01")
    assert result.outputs["proportional_increase"] == Decimal("60.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"monthly_pensoin": "1"}, "did you mean 'monthly_pension'"),
        ({"scheme": "enterprize"}, "did you mean 'enterprise'"),
        ({"birth_date": "1955-13-01"}, "birth_date"),
        ({"birth_date": "15/06/1955"}, "YYYY-MM-DD"),
        ({"pension_base_year": "2009.5"}, "whole number"),
        ({"contribution_years": True}, "must be a number"),
        ({"monthly_pension": "-1.00"}, "at least 0"),
        ({"military_transfer_cadre": "yes"}, "true or false"),
        ({"monthly_pension": 1.5e308}, "too large"),
        ({"contribution_years": 1e-30}, "decimal places"),
        ({"monthly_pension": "1" + "0" * 20}, "too large"),
        ({"contribution_years": "0." + "0" * 20 + "1"}, "decimal places"),
        ({"monthly_pension": "3E+3"}, "must be a number"),
        ({"monthly_pension": "3000.000"}, "at most two decimals"),
        ({"pension_base_year": "2009.00"}, "whole number"),
    ],
)
def test_bad_facts_name_the_fact(base_facts: dict, change: dict, message: str) -> None:
    with pytest.raises(FactError, match=message):
        evaluate(PENSION, {**base_facts, **change}, on="2021-01-01")


def test_missing_required_fact(base_facts: dict) -> None:
    del base_facts["birth_date"]
    with pytest.raises(FactError, match="'birth_date': is required"):
        evaluate(PENSION, base_facts, on="2021-01-01")


def test_not_in_force_names_the_window(base_facts: dict) -> None:
    with pytest.raises(NotInForceError, match=r"in force 2021-01-01 \.\. open-ended"):
        evaluate(PENSION, base_facts, on=dt.date(2020, 12, 31))


def test_unknown_policy_suggests(base_facts: dict) -> None:
    with pytest.raises(UnknownPolicyError, match="did you mean 'pension-adjustment-2021'"):
        evaluate("pension-adjustment-2012", base_facts, on="2021-01-01")


def test_a_wrong_expectation_fails() -> None:
    """The YAML runner must be able to fail: change one expected value and it does."""
    policy = load(PENSION)
    case = next(c for c in policy.cases if c.name.startswith("exactly 15 years"))
    wrong = type(case)(
        case.name,
        case.on,
        case.facts,
        {"seniority_increase": "16.00"},
        None,
        case.clause,
        case.location,
    )
    result = run_case(Program(policy), wrong)
    assert not result.passed
    assert "expected '16.00', got '15.00'" in result.problems[0]


@pytest.mark.parametrize("written", ["2020", 2020, 2020.0, Decimal("2020.00"), Decimal("2.02E+3")])
def test_an_integer_fact_is_the_same_integer_however_written(base_facts: dict, written) -> None:
    """The number 2020.00 for a year (a JSON number is read as a Decimal) is accepted as
    2020, and shown and counted as 2020 (a batch's integer column would otherwise receive
    "2020.00"). The text "2020.00" is no integer's spelling (tests/test_fact_spellings.py)."""
    facts = {
        **base_facts,
        "pension_start_date": "2021-01-01",  # after the cut-off: the base year is read
        "retirement_approved_date": "2020-12-15",
        "pension_base_year": written,
    }
    result = evaluate(PENSION, facts, on="2021-01-01")
    step = next(s for s in result.steps if "pension_base_year" in s.inputs)
    assert step.as_dict()["inputs"]["pension_base_year"] == 2020
    assert str(step.inputs["pension_base_year"]) == "2020"
    assert result.outputs["eligible"] is True  # 2020年12月 retirement on the 2020 base
