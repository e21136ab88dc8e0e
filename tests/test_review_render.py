"""The rule-change report as a reviewer and a tool read it: Markdown, JSON (diff.v1), one line."""

from __future__ import annotations

import json

import jsonschema

from interpreter.review.render import MARKER, as_json, markdown, summary_line
from interpreter.review.report import (
    CaseChange,
    Change,
    DiffReport,
    OutputChange,
    PolicyReport,
    PopulationChange,
    Region,
    Text,
    json_schema,
)

from .conftest import REPO

QUOTE = "对符合本次基本养老金调整范围的高龄退休人员，再按以下办法进行倾斜调整"


def _report(*, breaking: bool = False) -> DiffReport:
    changes = [
        Change(
            "table-row",
            "age_band_amount",
            Text("年满80周岁不满90周岁：50 → 60", "aged 80 to under 90: 50 → 60"),
            clause="age",
            article="s3-3-1",
            label="三、（三）1.",
            quote=QUOTE,
            before=Text("每人每月增加50元", "50 yuan a month"),
            after=Text("每人每月增加60元", "60 yuan a month"),
            location="policies/pension-adjustment-2021/clauses/age.yaml:43:17",
        )
    ]
    if breaking:
        changes.append(
            Change(
                "contract",
                "birth_date",
                Text("事实 birth_date 改为文本", "fact birth_date retyped date → text"),
                breaking=True,
            )
        )
    pension = PolicyReport(
        "pension-adjustment-2021",
        Text("2021年调整退休人员基本养老金", "2021 pension adjustment"),
        "changed",
        changes=changes,
        regions=[
            Region(
                "age_increase",
                Text("年满80周岁不满90周岁", "aged 80 to under 90"),
                "50.00",
                "60.00",
            )
        ],
        cases=[
            CaseChange(
                "case",
                "aged 85",
                "2021-01-01",
                {"birth_date": "1935-06-01"},
                [OutputChange("new_monthly_pension", "3141.00", "3151.00")],
            )
        ],
        cases_compared=65,
        population=[
            PopulationChange(
                "new_monthly_pension",
                100_000,
                11_231,
                up=11_231,
                total_before="312,000,000.00",
                total_after="312,112,310.00",
                delta="+112,310.00",
            )
        ],
        population_rows=100_000,
    )
    other = PolicyReport("rulemaking-plan-2021", Text("规章计划", "rule-making plan"), "unchanged")
    return DiffReport("main", "working tree", "a" * 40, None, [pension, other], seconds=1.5)


def test_markdown_fits_the_reviewer() -> None:
    text = markdown(_report())
    assert text.startswith(MARKER)
    assert "答案有变化 · answers change" in text
    assert "三、（三）1." in text and QUOTE in text  # the article and its quote
    assert "年满80周岁不满90周岁" in text  # the changed region in the document's words
    assert "11,231" in text and "+112,310.00" in text  # the population impact
    assert "Breaking for callers" not in text
    assert "未变更 · Unchanged: `rulemaking-plan-2021`" in text
    assert len(text.splitlines()) < 60  # one screen for a one-number change


def test_a_contract_change_is_boxed_as_breaking() -> None:
    text = markdown(_report(breaking=True))
    assert "> [!WARNING]" in text
    assert "birth_date" in text.split("> [!WARNING]")[1].split("<details")[0]


def test_json_is_the_documented_diff_v1() -> None:
    schema = json.loads((REPO / "schema" / "diff.v1.schema.json").read_text(encoding="utf-8"))
    assert schema == json_schema()  # the committed schema is the report's own
    data = as_json(_report(breaking=True))
    jsonschema.validate(data, schema)
    assert data["format"] == "diff.v1"
    assert (data["behaviour_changed"], data["breaking"]) == (True, True)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_one_line_for_stderr() -> None:
    line = summary_line(_report(breaking=True))
    assert "\n" not in line
    assert "1 of 2 policies changed" in line and "BREAKING" in line
