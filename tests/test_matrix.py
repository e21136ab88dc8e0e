"""Test matrices: boundary cases derived from the text's thresholds, and the snapshot check.

The snapshots under tests/matrices/ are regression records derived by the engine and
reviewed by people; the hand-written YAML cases remain the source of truth. A change in
behaviour makes ``test_snapshot_is_current`` fail until someone reviews the diff and runs
``policy matrix ID --update``.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from interpreter import Repository
from interpreter.runtime.case_coverage import case_coverage, report_lines
from interpreter.site.matrix import build_matrix, points, snapshot_path

from .conftest import PENSION, POLICIES, REPO


@pytest.fixture(scope="module")
def pension_matrix(repo: Repository):
    return build_matrix(repo.program(PENSION))


def probes(matrix, boundary_part: str) -> list:
    return [r for r in matrix.rows if r.kind == "boundary" and boundary_part in r.boundary]


@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_snapshot_is_current(repo: Repository, policy_id: str) -> None:
    path = snapshot_path(REPO, policy_id)
    assert path.is_file(), f"no snapshot; run: policy matrix {policy_id} --update"
    fresh = build_matrix(repo.program(policy_id)).csv_bytes()
    assert fresh == path.read_bytes(), (
        f"{path.relative_to(REPO)} differs from the engine's outputs: review the change, "
        f"then run: policy matrix {policy_id} --update"
    )


def test_age_table_boundaries_below_at_above(pension_matrix) -> None:
    # 三、（三）1.: 年满70周岁不满80周岁 30元; 年满80…不满90 50元; 年满90…不满100 100元; 年满100 300元
    rows = probes(pension_matrix, "age_band_amount")
    ages = [int(r.value.split("=")[1]) for r in rows]
    assert ages == [69, 70, 71, 79, 80, 81, 89, 90, 91, 99, 100, 101]
    supplements = [r.outputs["age_increase"] for r in rows]
    expected = {69: "0.00", 70: "30.00", 71: "30.00", 79: "30.00", 80: "50.00", 81: "50.00"}
    expected |= {89: "50.00", 90: "100.00", 91: "100.00", 99: "100.00", 100: "300.00"}
    expected |= {101: "300.00"}
    assert dict(zip(ages, supplements, strict=True)) == expected
    # the age is reached on the birthday itself: 70 on 2020-12-31 means born 1950-12-31
    seventy = next(r for r in rows if r.value == "age_at_cutoff=70")
    assert seventy.facts["birth_date"] == "1950-12-31"
    assert [r.point for r in rows[:3]] == ["below", "at", "above"]


def test_comparison_boundary_follows_the_word(pension_matrix) -> None:
    # 缴费年限超过15年的，每超过1年再增加1元; 增加额少于15元的，按15元发放 (超过 excludes 15)
    rows = probes(pension_matrix, "counted_years 超过 threshold_years")
    assert [r.value for r in rows] == ["counted_years=14", "counted_years=15", "counted_years=16"]
    assert [r.outputs["seniority_increase"] for r in rows] == ["15.00", "15.00", "17.00"]


def test_date_boundary_day_before_of_after(pension_matrix) -> None:
    # 2020年12月31日前（含当日）已按月领取基本养老金
    rows = probes(pension_matrix, "pension_start_date <= scope_cutoff_date")
    days = [r.facts["pension_start_date"] for r in rows]
    assert days == ["2020-12-30", "2020-12-31", "2021-01-01"]
    assert [r.outputs["eligible"] for r in rows] == ["true", "true", "false"]


def test_boundary_against_a_computed_value(pension_matrix) -> None:
    # 军转干部调整后未达到所在市企业退休人员月人均基本养老金水平的，按该水平计发
    rows = probes(pension_matrix, "city_average_enterprise_pension 未达到 regular_adjusted_pension")
    assert [r.outputs["new_monthly_pension"] for r in rows] == ["3124.00", "3124.00", "3124.01"]
    assert all(r.facts["military_transfer_cadre"] is True for r in rows)


def test_in_force_window(pension_matrix) -> None:
    rows = [r for r in pension_matrix.rows if r.kind == "in-force"]
    assert [r.on.isoformat() for r in rows] == ["2020-12-31", "2021-01-01", "2021-01-02"]
    assert rows[0].outputs["eligible"].startswith("error: policy 'pension-adjustment-2021' is not")
    assert rows[1].outputs["eligible"] == "true"


def test_every_hand_written_case_is_in_the_matrix(repo: Repository, pension_matrix) -> None:
    hand = [r for r in pension_matrix.rows if r.kind == "hand-written"]
    assert [r.case for r in hand] == [c.name for c in repo.policy(PENSION).cases]


def test_points_follow_the_unit() -> None:
    assert [v for _, v in points(Decimal(5000), "money")] == [
        Decimal("4999.99"),
        Decimal(5000),
        Decimal("5000.01"),
    ]
    assert [v for _, v in points(Decimal(15), "integer")] == [14, 15, 16]


def test_csv_is_utf8_with_bom_and_parses(pension_matrix) -> None:
    data = pension_matrix.csv_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:8] == ["kind", "clause", "case", "boundary", "point", "value", "on", "facts"]
    assert "new_monthly_pension" in rows[0]
    assert len(rows) == len(pension_matrix.rows) + 1
    assert any("年满70" in row[3] for row in rows[1:])


def test_hand_written_cases_cover_every_row_of_the_age_table(repo: Repository) -> None:
    report = case_coverage(repo.program(PENSION))
    age = report.clauses["age"]
    rows = {index: cases for (name, index), cases in age.rows.items() if name == "age_band_amount"}
    assert sorted(rows, key=lambda i: -1 if i is None else i) == [None, 0, 1, 2, 3]
    assert all(rows.values()), rows
    assert "born 1950-12-31 - turns 70 on the cutoff day itself - 30" in rows[0]
    assert "born 1951-01-01 - 69 on the cutoff - no supplement" in rows[None]


def test_branches_are_reported_with_the_cases_taking_them(repo: Repository) -> None:
    report = case_coverage(repo.program(PENSION))
    seniority = report.clauses["seniority"]
    taken = {(b.computation, b.index, b.taken): cases for b, cases in seniority.branches.items()}
    # 超过15年 then/else; 少于15元 then/else; out of scope (if#1 then)
    assert taken[("years_beyond_threshold", 1, True)]
    assert taken[("years_beyond_threshold", 1, False)]
    assert taken[("seniority_increase", 2, True)]  # 增加额少于15元的，按15元发放
    totals = report.totals()
    assert totals[0] == totals[1] and totals[2] == totals[3], report_lines(report)


def test_an_uncovered_row_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / PENSION, root / PENSION)
    for case_file in (root / PENSION / "tests").glob("*.yaml"):
        if case_file.name != "flat.yaml":  # the flat cases check flat_increase only
            case_file.unlink()
    report = case_coverage(Repository(root).program(PENSION))
    rows = [f"age_band_amount row {n}" for n in ("1", "2", "3", "4", "default")]
    assert report.clauses["age"].missing() == [
        *rows,
        "age_increase if#1 then",
        "age_increase if#1 else",
    ]
    assert report.clauses["flat"].missing() == []  # if eligible then 45 else 0: both arms
    lines = report_lines(report)
    assert "  age: rows 0/5, branches 0/2" in lines
    assert "  flat: rows 0/0, branches 2/2" in lines


def test_matrix_command_checks_and_updates(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / PENSION, root / PENSION)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "interpreter.cli", "--root", str(root), "matrix", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )

    assert run(PENSION).returncode == 1  # no snapshot yet
    assert run(PENSION, "--update").returncode == 0
    assert run(PENSION).returncode == 0
    snapshot = tmp_path / "tests" / "matrices" / f"{PENSION}.csv"
    assert snapshot.read_bytes() == (REPO / "tests" / "matrices" / f"{PENSION}.csv").read_bytes()
    flat = root / PENSION / "clauses" / "flat.yaml"
    flat.write_text(flat.read_text(encoding="utf-8").replace("value: 45", "value: 46"), "utf-8")
    changed = run(PENSION)
    assert changed.returncode == 1 and "differs" in changed.stdout
    unknown = run("pension-adjustmnt-2021")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
