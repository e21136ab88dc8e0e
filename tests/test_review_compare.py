"""`policy diff`'s comparison: two git revisions of the policy files, compared in the
document's words (review/compare.py), on real temporary git repositories."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from interpreter.review.compare import compare_policy, compare_versions
from interpreter.review.report import KINDS, Change, PolicyReport
from interpreter.review.revisions import version
from interpreter.review.texts import char_diff

from .conftest import PENSION, POLICIES, commit_edit, git_policy_repo

RULEMAKING = "rulemaking-plan-2021"
MEDICAL = "medical-outpatient-cross-region-2021"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def edit_all(root: Path, policy_id: str, rel: str, old: str, new: str) -> None:
    """Replace every ``old`` in one policy file (left uncommitted)."""
    path = root / "policies" / policy_id / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def diff(root: Path) -> dict[str, PolicyReport]:
    with version(root, "base") as base, version(root, "HEAD") as head:
        return {r.id: r for r in compare_versions(base, head)}


def of_kind(report: PolicyReport, kind: str) -> list[Change]:
    assert kind in KINDS
    return [c for c in report.changes if c.kind == kind]


def test_parameter_value_with_its_quote_and_source(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    edit_all(root, PENSION, "source.md", "定额增加 45 元", "定额增加 50 元")
    edit_all(root, PENSION, "clauses/flat.yaml", "定额增加 45 元", "定额增加 50 元")
    edit_all(root, PENSION, "clauses/flat.yaml", "value: 45", "value: 50")
    commit(root, "flat amount 50")
    report = diff(root)[PENSION]
    assert report.status == "changed" and not report.problems_after
    (param,) = of_kind(report, "parameter")
    assert param.subject == "flat_amount" and param.clause == "flat"
    assert param.before is not None and param.after is not None
    assert "45元/月" in param.before.zh and "50元/月" in param.after.zh
    assert "2021-01-01" in param.after.zh and "yuan/month" in param.after.en
    assert "45元/月 → 50元/月" in param.summary.zh
    assert param.article == "s3-1" and param.label and param.label in param.summary.zh
    assert param.quote == "每人每月定额增加 50 元"
    assert param.location and param.location.startswith(f"policies/{PENSION}/clauses/flat.yaml:")
    (source,) = of_kind(report, "source")
    assert source.subject == "source.md#s3-1" and source.article == "s3-1"
    assert "[-45-]{+50+}" in source.summary.zh
    assert source.before and "45" in source.before.zh and source.after and "50" in source.after.zh
    quotes = of_kind(report, "quote")
    assert quotes and all(c.clause == "flat" for c in quotes)
    assert any(c.after and "50" in c.after.zh for c in quotes)
    # the rule reading the parameter did not change: nothing reported for it
    assert not of_kind(report, "rule")
    assert not report.breaking


def test_table_row_bound_word(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    commit_edit(
        root,
        PENSION,
        "clauses/age.yaml",
        "{age_at_cutoff: {年满: 80, 不满: 90}}",
        "{age_at_cutoff: {超过: 80, 不满: 90}}",
        "80 excluded",
    )
    report = diff(root)[PENSION]
    assert not report.problems_after
    (row,) = of_kind(report, "table-row")
    assert row.subject == "age_band_amount" and row.meaning
    assert row.before and "年满80不满90" in row.before.zh and "50" in row.before.zh
    assert row.after and "超过80不满90" in row.after.zh
    assert "年满80周岁不满90周岁的，每人每月加发50元" in row.after.zh  # the row's text
    assert row.article == "s3-3-1" and row.clause == "age"
    assert row.location and "clauses/age.yaml:" in row.location
    assert [c.kind for c in report.changes] == ["table-row"]


def test_quote_no_longer_matching_is_a_validation_problem(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    commit_edit(root, PENSION, "source.md", "定额增加 45 元", "定额增加 50 元", "source only")
    report = diff(root)[PENSION]
    assert report.status == "changed"
    assert not report.problems_before
    assert report.problems_after and any("quote" in p for p in report.problems_after)
    assert all("\n" not in p for p in report.problems_after)
    assert any("flat.yaml" in p for p in report.problems_after)
    (source,) = of_kind(report, "source")  # still compared as far as it reads
    assert "[-45-]{+50+}" in source.summary.zh


def test_fact_retyped_is_breaking_and_new_optional_fact_is_not(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    edit_all(
        root,
        PENSION,
        "policy.yaml",
        "  birth_date:\n    type: date\n",
        "  birth_date:\n    type: date\n    required: true\n",
    )
    edit_all(
        root,
        PENSION,
        "policy.yaml",
        "  pension_base_year:\n    type: integer",
        "  pension_base_year:\n    type: number",
    )
    edit_all(
        root,
        PENSION,
        "policy.yaml",
        "\noutputs:\n",
        "  hukou_city:\n    type: text\n    required: false\n    description:\n"
        "      zh: 户籍所在市\n      en: City of household registration\n\noutputs:\n",
    )
    commit(root, "contract")
    report = diff(root)[PENSION]
    assert not report.problems_after, report.problems_after
    contract = {c.subject: c for c in of_kind(report, "contract")}
    assert set(contract) == {"pension_base_year", "hukou_city"}
    retyped = contract["pension_base_year"]
    assert retyped.breaking and "retyped" in retyped.summary.en
    assert retyped.before and "integer" in retyped.before.zh
    assert retyped.after and "number" in retyped.after.zh
    added = contract["hukou_city"]
    assert not added.breaking and "optional" in added.summary.en and added.before is None
    assert added.after and "户籍所在市" in added.after.zh
    assert report.breaking


def test_new_required_fact_and_removed_output_are_breaking(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    old = compare_policy(None, None)  # neither side: nothing to say
    assert old.changes == []
    edit_all(
        root,
        PENSION,
        "policy.yaml",
        "\noutputs:\n",
        "  hukou_city:\n    type: text\n    description:\n"
        "      zh: 户籍所在市\n      en: City of household registration\n\noutputs:\n",
    )
    commit(root, "required fact")
    with version(root, "base") as base, version(root, "HEAD") as head:
        before = base.repository.policy(PENSION)
        after = head.repository.policy(PENSION)
    report = compare_policy(before, after)
    (fact,) = of_kind(report, "contract")
    assert fact.subject == "hukou_city" and fact.breaking and "required" in fact.summary.en
    # the same comparison the other way round: a removed required fact is breaking too
    back = compare_policy(after, before)
    (gone,) = of_kind(back, "contract")
    assert gone.breaking and "removed" in gone.summary.en and gone.after is None


def test_clause_renamed_is_a_rename(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    folder = root / "policies" / PENSION
    git(
        root,
        "mv",
        "policies/" + PENSION + "/clauses/flat.yaml",
        f"policies/{PENSION}/clauses/flat-increase.yaml",
    )
    edit_all(root, PENSION, "clauses/flat-increase.yaml", "id: flat\n", "id: flat-increase\n")
    edit_all(root, PENSION, "tests/flat.yaml", "clause: flat\n", "clause: flat-increase\n")
    assert (folder / "clauses/flat-increase.yaml").is_file()
    commit(root, "rename clause")
    report = diff(root)[PENSION]
    assert not report.problems_after, report.problems_after
    kinds = {c.kind for c in report.changes}
    assert "clause-added" not in kinds and "clause-removed" not in kinds
    (rename,) = of_kind(report, "clause-renamed")
    assert rename.subject == "flat → flat-increase" and not rename.meaning
    assert rename.article == "s3-1" and "no change in meaning" in rename.summary.en
    assert not [c for c in report.changes if c.meaning and c.kind != "case"]


def test_intermediate_renamed_everywhere_is_no_change_in_meaning(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    edit_all(
        root, PENSION, "clauses/funding-split.yaml", "personal_account_share", "share_at_retirement"
    )
    commit(root, "rename an intermediate")
    report = diff(root)[PENSION]
    assert not report.problems_after, report.problems_after
    assert report.changes, "the rename is reported"
    assert all(not c.meaning for c in report.changes)
    (rule,) = of_kind(report, "rule")
    assert rule.subject == "personal_account_share → share_at_retirement"
    assert rule.before and rule.after and rule.before.zh == rule.after.zh
    assert "个人账户养老金" in rule.after.zh  # readable, in the document's words
    assert "given(" not in rule.after.zh


def test_rule_change_before_and_after_in_readable_form(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    commit_edit(
        root,
        PENSION,
        "clauses/flat.yaml",
        "expr: if eligible then flat_amount else 0",
        "expr: if eligible then flat_amount + 5 else 0",
        "plus five",
    )
    report = diff(root)[PENSION]
    (rule,) = of_kind(report, "rule")
    assert rule.meaning and rule.subject == "flat_increase" and rule.clause == "flat"
    assert rule.before and "属于本次调整范围时为" in rule.before.zh
    assert rule.after and "+ 5" in rule.after.zh and "otherwise" in rule.after.en
    assert "flat_amount" not in rule.after.zh  # labels, never raw names
    assert rule.quote and "45" in rule.quote


def test_reformatting_a_yaml_file_reports_nothing(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    edit_all(
        root,
        PENSION,
        "clauses/flat.yaml",
        "    expr: if eligible then flat_amount else 0",
        "    expr: >-\n      if eligible\n      then flat_amount\n      else 0",
    )
    edit_all(
        root,
        PENSION,
        "clauses/flat.yaml",
        "  flat_amount:\n    type: money\n    unit: 元/月\n",
        "  flat_amount:\n    unit: 元/月\n    type: money\n",
    )
    commit(root, "reformat")
    report = diff(root)[PENSION]
    assert report.status == "unchanged" and report.changes == []


def test_deadline_date(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path, (RULEMAKING,))
    commit_edit(
        root,
        RULEMAKING,
        "clauses/notice-duties.yaml",
        "      date: 2021-08-31\n      wording: 8月底前",
        "      date: 2021-08-30\n      wording: 8月底前",
        "the day before",
    )
    report = diff(root)[RULEMAKING]
    assert not report.problems_after, report.problems_after
    (deadline,) = of_kind(report, "deadline")
    assert deadline.subject == "submit-drafts-by-august"
    assert deadline.before and deadline.before.zh == "8月底前（2021-08-31）"
    assert deadline.after and "2021-08-30" in deadline.after.zh
    assert deadline.article == "notice-s3" and deadline.quote and "8月底前" in deadline.quote


def test_working_day_period_gives_its_date(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path, (MEDICAL,))
    for rel in ("source.md", "clauses/institution-change-report.yaml"):
        edit_all(root, MEDICAL, rel, "应当在10个工作日内通过", "应当在15个工作日内通过")
    edit_all(root, MEDICAL, "clauses/institution-change-report.yaml", "value: 10\n", "value: 15\n")
    commit(root, "15 working days")
    report = diff(root)[MEDICAL]
    assert not report.problems_after, report.problems_after
    (param,) = of_kind(report, "parameter")
    assert param.before and "10工作日" in param.before.zh
    # counted from 2021-07-01 on the official calendar
    assert param.before.zh.endswith("2021-07-15") and param.after
    assert param.after.zh.endswith("2021-07-22")
    assert of_kind(report, "source")


def test_note_reworded_and_erratum_added(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path, (PENSION, RULEMAKING))
    edit_all(
        root,
        PENSION,
        "clauses/age.yaml",
        "文本只列出四个年龄段；不满70周岁者无高龄倾斜",
        "文本只列出四个年龄段；未满70周岁者不加发",
    )
    path = root / "policies" / RULEMAKING / "errata.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '  - anchor: notice-s3\n    printed: "抓紧起草"\n    probably_meant: "加紧起草"\n'
        '    why: "An example erratum for the test."\n',
        encoding="utf-8",
    )
    commit(root, "notes and errata")
    reports = diff(root)
    (note,) = of_kind(reports[PENSION], "note")
    assert note.subject == "age/under-seventy" and note.clause == "age"
    assert note.before and "不满70周岁者无高龄倾斜" in note.before.zh
    assert note.after and "未满70周岁者不加发" in note.after.zh
    assert note.article == "s3-3-1"
    (erratum,) = of_kind(reports[RULEMAKING], "erratum")
    assert erratum.before is None and erratum.after and "抓紧起草" in erratum.after.zh
    assert erratum.article == "notice-s3" and "erratum added" in erratum.summary.en


def test_policy_added_and_removed(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    shutil.copytree(POLICIES / RULEMAKING, root / "policies" / RULEMAKING)
    git(root, "rm", "-r", "-q", f"policies/{PENSION}")
    commit(root, "swap")
    reports = diff(root)
    assert reports[RULEMAKING].status == "added"
    assert [c.kind for c in reports[RULEMAKING].changes] == ["policy-added"]
    assert "粤办函〔2021〕209号" in reports[RULEMAKING].changes[0].summary.zh
    assert reports[PENSION].status == "removed"
    assert [c.kind for c in reports[PENSION].changes] == ["policy-removed"]
    assert reports[PENSION].title.zh == "2021年调整退休人员基本养老金"


def test_coverage_lost_is_called_out(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    git(root, "rm", "-q", f"policies/{PENSION}/clauses/funding-source.yaml")
    git(root, "rm", "-q", f"policies/{PENSION}/tests/funding-source.yaml")
    edit_all(
        root,
        PENSION,
        "policy.yaml",
        "  funding_source:\n    type: enum\n    values: [enterprise_pension_fund, public_institution_pension_fund, original_channel]\n    description:\n      zh: 调整所需资金的列支渠道\n      en: Where the money for the increase comes from\n",
        "",
    )
    edit_all(
        root, PENSION, "tests/total.yaml", "      funding_source: enterprise_pension_fund\n", ""
    )
    edit_all(root, PENSION, "tests/total.yaml", "      funding_source: original_channel\n", "")
    commit(root, "drop funding source")
    report = diff(root)[PENSION]
    assert not report.problems_after, report.problems_after
    (removed,) = of_kind(report, "clause-removed")
    assert removed.subject == "funding-source"
    (output,) = of_kind(report, "contract")
    assert output.breaking and "removed" in output.summary.en
    coverage = of_kind(report, "coverage")
    assert any("lost its encoding" in c.summary.en and c.article == "s4" for c in coverage)
    assert of_kind(report, "case")


def test_char_diff_is_compact() -> None:
    before = "基本养老金每人每月定额增加 45 元。对上述高龄人员再倾斜增加的基本养老金"
    after = "基本养老金每人每月定额增加 50 元。对上述高龄人员再倾斜增加的基本养老金"
    assert char_diff(before, after) == "…人每月定额增加 [-45-]{+50+} 元。对上述高龄…"
    assert char_diff("加发145元", "加发150元") == "加发[-145-]{+150+}元"
    assert char_diff("不满90周岁", "以下90周岁") == "[-不满-]{+以下+}90周岁"


def test_all_policies_compared_quickly(tmp_path: Path) -> None:
    ids = tuple(sorted(p.name for p in POLICIES.iterdir() if (p / "policy.yaml").is_file()))
    root = git_policy_repo(tmp_path, ids)
    commit_edit(root, PENSION, "clauses/age.yaml", "then: 50\n", "then: 60\n", "60")
    started = time.perf_counter()
    reports = diff(root)
    assert time.perf_counter() - started < 10
    assert len(reports) == len(ids)
    changed = {r.id for r in reports.values() if r.status != "unchanged"}
    assert changed == {PENSION}
    (row,) = of_kind(reports[PENSION], "table-row")
    assert row.before and "50" in row.before.zh and row.after and "60" in row.after.zh
