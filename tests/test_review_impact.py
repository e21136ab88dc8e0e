"""Whose answers change: ``review.impact`` on real git repositories with real edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.language.values import Kind
from interpreter.review.impact import impact
from interpreter.review.population import PENSION_ROWS, yuan
from interpreter.review.regions import pieces
from interpreter.review.report import PolicyReport, Text
from interpreter.review.revisions import version

from .conftest import PENSION, commit_edit, git_policy_repo

TRANSPORT = "transport-penalty-discretion-2021"


def _report(root: Path, policy_id: str) -> PolicyReport:
    empty = PolicyReport(policy_id, Text("", ""), "changed")
    with version(root, "base") as old, version(root, "HEAD") as new:
        return impact(old.repository.program(policy_id), new.repository.program(policy_id), empty)


@pytest.fixture(scope="module")
def pension_60(tmp_path_factory: pytest.TempPathFactory) -> PolicyReport:
    """The old-age supplement for 80 to 89 raised from 50 to 60. The row's text must occur
    in the cited article, so the gazette text, the clause's quote and the row's text are
    changed with the number, consistently."""
    root = git_policy_repo(tmp_path_factory.mktemp("pension"))
    sentence = "年满80周岁不满90周岁的，每人每月加发{}元"
    old, new = sentence.format(50), sentence.format(60)
    commit_edit(root, PENSION, "source.md", old, new, "gazette: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", old, new, "quote: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", old, new, "row text: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", "then: 50\n", "then: 60\n", "row: 60")
    return _report(root, PENSION)


def test_region_is_the_age_band_in_the_documents_words(pension_60: PolicyReport) -> None:
    by_output = {r.output: r for r in pension_60.regions}
    for name in ("age_increase", "new_monthly_pension", "age_band_amount"):
        assert name in by_output, name
    band = by_output["age_increase"]
    assert "年满80周岁不满90周岁" in band.where.zh
    assert band.where.en == "80 ≤ age_at_cutoff < 90"
    assert (band.before, band.after) == ("50元/月", "60元/月")
    assert (band.clause, band.article) == ("age", "s3-3-1")
    pension = by_output["new_monthly_pension"]
    assert "年满80周岁不满90周岁" in pension.where.zh
    before, after = (int(x.removesuffix("元/月")) for x in (pension.before, pension.after))
    assert after - before == 10
    # nothing outside the band changes
    assert all("年满80周岁不满90周岁" in r.where.zh for r in pension_60.regions)


def test_the_cases_aged_80_to_89_are_listed(pension_60: PolicyReport) -> None:
    hand = [c for c in pension_60.cases if c.source == "case"]
    assert {c.facts["birth_date"] for c in hand} == {"1940-12-31", "1931-01-01"}
    for case in hand:
        change = {o.name: o for o in case.outputs}["age_increase"]
        assert (change.before, change.after) == ("50.00", "60.00")
    assert pension_60.cases_compared >= 60
    matrix = [c for c in pension_60.cases if c.source == "matrix"]
    assert matrix and pension_60.matrix_rows_compared > len(matrix)
    ages = {c.name.split("age_at_cutoff=")[1].split(" ")[0] for c in matrix}
    assert ages <= {str(a) for a in range(80, 90)}


def test_population_counts_the_rows_and_sums_fen_exactly(pension_60: PolicyReport) -> None:
    assert pension_60.population_rows == PENSION_ROWS
    by_output = {p.output: p for p in pension_60.population}
    age = by_output["age_increase"]
    assert age.changed > 1000 and age.up == age.changed and age.down == 0
    assert age.delta == yuan(1000 * age.changed, sign=True)  # +10.00 a row, in fen
    assert age.summary is not None and "+10.00 元" in age.summary.en
    assert f"{age.changed:,} of {PENSION_ROWS:,}" in age.summary.en
    assert by_output["flat_increase"].changed == 0
    assert by_output["eligible"].changed == 0
    assert by_output["new_monthly_pension"].changed > 0
    assert pension_60.behaviour_changed


def test_examples_show_only_the_steps_that_differ(pension_60: PolicyReport) -> None:
    assert 1 <= len(pension_60.examples) <= 3
    ex = pension_60.examples[0]
    before = {s.name: s for s in ex.before}
    after = {s.name: s for s in ex.after}
    assert before["age_band_amount"].value == "50.00"
    assert after["age_band_amount"].value == "60.00"
    assert after["age_band_amount"].article == "s3-3-1"
    assert after["age_band_amount"].label
    assert "eligible" not in before and "flat_increase" not in after  # unchanged steps


def test_a_bound_word_change_is_a_region_at_exactly_that_point(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path, (TRANSPORT,))
    commit_edit(
        root,
        TRANSPORT,
        "clauses/collective-discussion.yaml",
        "then proposed_fine 以上 individual_fine_threshold",
        "then proposed_fine 超过 individual_fine_threshold",
        "5000元以上 read as 超过",
    )
    report = _report(root, TRANSPORT)
    by_output = {r.output: r for r in report.regions}
    region = by_output["collective_discussion_required"]
    assert region.where.en == "proposed_fine = 5000"
    assert "= 5000元" in region.where.zh
    assert (region.before, region.after) == ("是", "否")
    assert all(r.where.en == "proposed_fine = 5000" for r in report.regions)
    names = {c.name for c in report.cases if c.source == "case"}
    assert any("5000" in n for n in names)
    change = {p.output: p for p in report.population}["collective_discussion_required"]
    assert change.changed > 0 and change.summary is not None
    assert "true → false" in change.summary.en


def test_a_reformat_changes_no_answer(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path, (TRANSPORT,))
    commit_edit(
        root,
        TRANSPORT,
        "clauses/collective-discussion.yaml",
        "then proposed_fine 以上 individual_fine_threshold",
        "then   proposed_fine  以上  individual_fine_threshold",
        "spacing only",
    )
    report = _report(root, TRANSPORT)
    assert report.regions == [] and report.cases == [] and report.examples == []
    assert report.cases_compared > 0 and report.population_rows > 0
    assert all(p.changed == 0 for p in report.population)
    assert not report.behaviour_changed


def test_no_impact_section_for_a_policy_on_one_side_only() -> None:
    report = PolicyReport(PENSION, Text("", ""), "added")
    assert impact(None, None, report) is report


def test_pieces_cut_the_axis_at_every_bound() -> None:
    from decimal import Decimal

    cut = pieces([Decimal(80), Decimal(70), Decimal(71)], Kind.INTEGER)
    shown = [(p.lo, p.lo_closed, p.hi, p.hi_closed) for p in cut]
    assert shown == [
        (None, False, 70, False),
        (70, True, 70, True),
        (71, True, 71, True),  # no integer strictly between 70 and 71
        (71, False, 80, False),
        (80, True, 80, True),
        (80, False, None, False),
    ]
    assert [p.at for p in cut] == [69, 70, 71, 72, 80, 81]
