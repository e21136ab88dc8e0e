"""Obligations and targets (``kind: obligations``): checked data, never computed.

The rule-making plan (粤办函〔2021〕209号) is the worked example: who must draft which
rule, by when, each traced to its quote.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from interpreter import PolicyError, Repository, evaluate, obligations
from interpreter.policy.article_coverage import citations_of, source_coverage
from interpreter.policy.loader import load_yaml
from interpreter.policy.schema import validator
from interpreter.policy.sources import normalize_quote
from interpreter.site.render import render_site

from .conftest import (
    POLICIES,
    REPO,
    edit_policy_file,
    line_in_policy_file,
    policy_cli,
    validation_errors,
)

PLAN = "rulemaking-plan-2021"
SOURCE = POLICIES / PLAN / "source.md"
DAY = dt.date(2022, 1, 1)
# A row of the plan's tables: <a id="s1-4"></a>| 4. 广东省……办法（修改） | 省司法厅 |
TABLE_ROW = re.compile(r'^<a id="(s[12]-\d+)"></a>\|\s*\d+\.\s*(.+?)\s*\|\s*(.+?)\s*\|\s*$')


def source_rows() -> dict[str, tuple[str, str]]:
    """anchor -> (project, drafting department), read from the gazette text itself."""
    rows = {}
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        match = TABLE_ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def heading_count(anchor: str) -> int:
    """The number printed in a heading such as 一、年度内完成项目（12项）."""
    line = next(x for x in SOURCE.read_text("utf-8").splitlines() if f'id="{anchor}"' in x)
    return int(re.search(r"（(\d+)项）", line).group(1))


# -- the encoded plan ------------------------------------------------------------------------
def test_plan_loads_as_obligations_only(repo: Repository) -> None:
    policy = repo.policy(PLAN)
    assert not policy.facts and not policy.outputs and not policy.computations
    assert not policy.clauses
    assert set(policy.obligation_groups) == {
        "annual-projects",
        "preparatory-projects",
        "revise-or-repeal",
        "notice-duties",
    }
    assert len(policy.obligations) == 29


def test_every_table_row_is_one_item_with_its_department(repo: Repository) -> None:
    policy = repo.policy(PLAN)
    rows = source_rows()
    assert len([a for a in rows if a.startswith("s1-")]) == heading_count("s1")
    assert len([a for a in rows if a.startswith("s2-")]) == heading_count("s2")
    by_article = {}
    for item in policy.obligations.values():
        if item.citation.article in rows:
            by_article.setdefault(item.citation.article, []).append(item)
    assert set(by_article) == set(rows)
    for anchor, (_project, department) in rows.items():
        (item,) = by_article[anchor]
        assert item.responsible == (department,)
        if anchor.startswith("s1-"):
            assert item.deadline is not None and item.deadline.date == dt.date(2021, 12, 31)
            assert item.deadline.wording == "年度内"
        else:
            assert item.deadline is None  # 预备项目: the text sets no date


def test_each_department_is_responsible_for_exactly_its_rows(repo: Repository) -> None:
    """Departments named in the plan's tables carry exactly the projects printed against
    them; 省司法厅 additionally carries the coordinating duty of 通知二、 and nothing else
    (in 通知三、 and the last paragraph it is consulted or reported to, not responsible)."""
    policy = repo.policy(PLAN)
    rows = source_rows()
    departments = {d for _p, d in rows.values()}
    for department in departments:
        printed = {a for a, (_p, d) in rows.items() if d == department}
        encoded = {
            i.citation.article
            for i in policy.obligations.values()
            if department in i.responsible and i.citation.article.startswith("s")
        }
        assert encoded == printed, department
    justice = obligations(PLAN, responsible="省司法厅")
    justice_rows = {a for a, (_p, d) in rows.items() if d == "省司法厅"}
    assert len(justice_rows) == 2
    assert [i.citation.article for i in justice] == ["notice-s2", *sorted(justice_rows)]
    text = SOURCE.read_text("utf-8")
    notice_s2 = text.split('<a id="notice-s2"></a>')[1].split("<a id=")[0]
    assert "省司法厅要" in notice_s2


def test_the_target_counts_the_listed_projects(repo: Repository) -> None:
    policy = repo.policy(PLAN)
    target = policy.obligations["annual-target"].target
    assert target is not None
    assert target.value == heading_count("s1") == 12
    assert target.unit == "项" and target.bound is None
    assert target.by is not None and target.by.date == dt.date(2021, 12, 31)
    annual = [i for i in policy.obligations.values() if i.citation.article.startswith("s1-")]
    assert len(annual) == target.value
    assert target.as_written() == "12项"


def test_august_deadline_and_its_note(repo: Repository) -> None:
    item = repo.policy(PLAN).obligations["submit-drafts-by-august"]
    assert item.deadline is not None
    assert item.deadline.date == dt.date(2021, 8, 31)
    assert item.deadline.wording == "8月底前"
    assert item.deadline.note is not None and item.deadline.note.id == "end-of-august"
    assert item.responsible == ("起草单位",)


def test_plan_coverage_has_nothing_unaccounted(repo: Repository) -> None:
    policy = repo.policy(PLAN)
    (report,) = source_coverage(policy.sources, citations_of(policy), policy.not_computable)
    assert report.unaccounted == []
    # articles cited only by obligations count as encoded
    assert report.status["s1-4"] == "encoded"
    assert report.cited_by["s1-4"] == ["obligation:annual-penalty-hearings"]
    assert report.status["notice-s3"] == "encoded"
    assert report.status["s2"] == "container"
    assert report.status["notice-p2"] == "not_computable"
    proc = policy_cli("coverage", PLAN)
    assert proc.returncode == 0, proc.stdout
    assert "0 unaccounted" in proc.stdout


def test_obligation_files_validate_against_the_clause_schema_too() -> None:
    """Editors see clause.schema.json in the modeline; it dispatches on kind."""
    for path in sorted((POLICIES / PLAN / "clauses").glob("*.yaml")):
        doc = load_yaml(path, path.name)
        assert list(validator("clause").iter_errors(doc.data)) == []
        assert list(validator("obligations").iter_errors(doc.data)) == []
    schema = json.loads((REPO / "schema" / "obligations.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)


# -- errors, each at file:line:column -------------------------------------------------------
@pytest.fixture
def plan(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / PLAN, root / PLAN)
    return root


def _errors(root: Path) -> list[str]:
    return validation_errors(root, PLAN)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    edit_policy_file(root, PLAN, rel, old, new)


def _line_of(root: Path, rel: str, needle: str) -> int:
    return line_in_policy_file(root, PLAN, rel, needle)


ANNUAL = "clauses/annual-projects.yaml"
NOTICE = "clauses/notice-duties.yaml"


def test_quote_not_in_the_anchor(plan: Path) -> None:
    _edit(plan, ANNUAL, "      article: s1-1\n", "      article: s1-2\n")
    (error,) = _errors(plan)
    line = _line_of(plan, ANNUAL, '广东省科学技术奖励办法（修改） | 省科技厅"')
    assert error.startswith(f"policies/{PLAN}/{ANNUAL}:{line}:14: ")
    assert "quote does not occur verbatim in s1-2" in error
    assert "it occurs elsewhere in the text" in error


def test_department_not_in_the_quote(plan: Path) -> None:
    _edit(plan, ANNUAL, "    responsible: [省科技厅]", "    responsible: [省教育厅]")
    (error,) = _errors(plan)
    line = _line_of(plan, ANNUAL, "[省教育厅]")
    assert error.startswith(f"policies/{PLAN}/{ANNUAL}:{line}:19: ")
    assert "responsible '省教育厅' does not occur in the quote of s1-1" in error
    assert "items[1].responsible[0]" in error


def test_department_of_another_row_is_refused(plan: Path) -> None:
    # 省司法厅 is named in the text, but not in 一、1.'s row
    _edit(plan, ANNUAL, "    responsible: [省科技厅]", "    responsible: [省科技厅, 省司法厅]")
    (error,) = _errors(plan)
    assert "responsible '省司法厅' does not occur in the quote of s1-1" in error


def test_non_date_deadline_needs_a_note(plan: Path) -> None:
    _edit(
        plan,
        NOTICE,
        "      wording: 8月底前\n      note: end-of-august\n",
        "      wording: 8月底前\n",
    )
    (error,) = _errors(plan)
    line = _line_of(plan, NOTICE, "      date: 2021-08-31")
    assert error.startswith(f"policies/{PLAN}/{NOTICE}:{line}:7: ")
    assert "deadline wording '8月底前' is not a calendar date" in error


def test_deadline_note_must_exist(plan: Path) -> None:
    _edit(plan, NOTICE, "      note: end-of-august", "      note: end-of-agust")
    (error,) = _errors(plan)
    assert "no interpretation 'end-of-agust'" in error
    assert "(did you mean 'end-of-august'?)" in error
    assert f"{NOTICE}:{_line_of(plan, NOTICE, 'end-of-agust')}:13:" in error


def test_deadline_wording_must_be_in_the_quote(plan: Path) -> None:
    _edit(plan, NOTICE, "      wording: 8月底前", "      wording: 9月底前")
    (error,) = _errors(plan)
    assert "deadline wording '9月底前' does not occur in the quote of notice-s3" in error
    assert f"{NOTICE}:{_line_of(plan, NOTICE, '9月底前')}:16:" in error


def test_a_printed_calendar_date_needs_no_note_but_must_match(plan: Path) -> None:
    # the last line of the notice prints 2021年6月20日: a calendar date, no note needed
    block = (
        "  - id: signed-duty\n"
        "    citation:\n"
        "      document: 粤办函〔2021〕209号\n"
        "      article: notice-closing\n"
        "      quote: 2021年6月20日\n"
        "    duty: {zh: 测试, en: test}\n"
        "    responsible: []\n"
        "    responsible_note: drafting-units\n"
        "    deadline:\n"
        "      date: 2021-06-21\n"
        "      wording: 2021年6月20日\n"
    )
    _edit(plan, NOTICE, "items:\n", "items:\n" + block)
    errors = _errors(plan)
    (error,) = [e for e in errors if "deadline" in e]
    assert (
        "items[0].deadline.date: deadline 2021-06-21 differs from the date the text prints" in error
    )
    assert f"{NOTICE}:{_line_of(plan, NOTICE, 'date: 2021-06-21')}:13:" in error
    # and an article both encoded and declared not computable is refused
    assert any("notice-closing is declared not computable but cited by" in e for e in errors)


def test_unknown_key_is_rejected_with_a_suggestion(plan: Path) -> None:
    _edit(plan, NOTICE, "    category: coordination", "    categry: coordination")
    (error,) = _errors(plan)
    assert "unknown key 'categry' (did you mean 'category'?)" in error
    assert f"{NOTICE}:{_line_of(plan, NOTICE, 'categry')}:5:" in error


def test_duplicate_item_id(plan: Path) -> None:
    _edit(plan, NOTICE, "  - id: prepare-preparatory-projects", "  - id: submit-drafts-by-august")
    errors = _errors(plan)
    (error,) = [e for e in errors if "used twice" in e]
    line = [
        i
        for i, x in enumerate((plan / PLAN / NOTICE).read_text("utf-8").splitlines(), 1)
        if "- id: submit-drafts-by-august" in x
    ][1]
    assert error.startswith(f"policies/{PLAN}/{NOTICE}:{line}:")
    assert "obligation id 'submit-drafts-by-august' is used twice" in error


def test_empty_responsible_needs_a_note(plan: Path) -> None:
    _edit(
        plan, "clauses/revise-or-repeal.yaml", "    responsible_note: no-department-no-date\n", ""
    )
    (error,) = _errors(plan)
    assert "no one is responsible" in error
    assert "revise-or-repeal.yaml:" in error


def test_target_value_and_bound_come_from_the_quote(plan: Path) -> None:
    _edit(plan, ANNUAL, "      value: 12\n      unit: 项\n", "      value: 13\n      bound: 以上\n")
    errors = _errors(plan)
    assert any("target value 13 does not occur in the quote of s1" in e for e in errors), errors
    assert any("target bound '以上' does not occur in the quote" in e for e in errors), errors


# -- every tool copes with a policy that has obligations only -------------------------------
def test_api_filters(repo: Repository) -> None:
    assert [i.id for i in obligations(PLAN, due_by="2021-08-31")] == ["submit-drafts-by-august"]
    assert len(obligations(PLAN, due_by=dt.date(2021, 12, 31))) == 12 + 1 + 1
    assert obligations(PLAN, responsible="省交通运输厅", due_by="2021-12-31")[
        0
    ].citation.article == ("s1-8")
    assert len(obligations(PLAN, responsible="省交通运输厅")) == 2  # 一、8. and 二、2.
    with pytest.raises(PolicyError, match=r"did you mean '省司法厅'"):
        obligations(PLAN, responsible="司法厅")
    with pytest.raises(PolicyError, match="not a date"):
        obligations(PLAN, due_by="2021-02-30")
    assert obligations("pension-adjustment-2021") == []


def test_cli_obligations_text_and_json() -> None:
    proc = policy_cli("obligations", PLAN, "--responsible", "省司法厅")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("coordinate-and-supervise\t省司法厅\t-\t")
    assert lines[1].startswith("annual-penalty-hearings\t省司法厅\t2021-12-31 (年度内)\t")
    proc = policy_cli("obligations", PLAN, "--due-by", "2021-09-01", "--json")
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)
    assert item["id"] == "submit-drafts-by-august"
    assert item["deadline"] == {
        "date": "2021-08-31",
        "wording": "8月底前",
        "article": "notice-s3",
        "note": "end-of-august",
    }
    assert item["citation"]["label"] == "通知三、"
    assert [n["id"] for n in item["interpretations"]] == ["end-of-august", "drafting-units"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rulemakin-plan-2021"], "unknown policy 'rulemakin-plan-2021' (did you mean"),
        ([PLAN, "--due-by", "2021-13-01"], "--due-by: '2021-13-01' is not a date YYYY-MM-DD"),
        ([PLAN, "--responsible", "司法厅"], "(did you mean '省司法厅'?)"),
    ],
)
def test_cli_obligations_bad_input(args: list[str], message: str) -> None:
    proc = policy_cli("obligations", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert message in line


def test_other_commands_cope_with_no_outputs() -> None:
    proc = policy_cli("validate", str(POLICIES / PLAN))
    assert proc.returncode == 0, proc.stderr
    assert "29 obligations and targets" in proc.stdout
    assert policy_cli("test", PLAN).returncode == 0
    assert policy_cli("matrix", PLAN).returncode == 0
    assert PLAN in policy_cli("list").stdout
    schemas = json.loads(policy_cli("schema", PLAN).stdout)
    assert schemas["outputs"]["properties"] == {}
    proc = policy_cli("eval", PLAN, "--facts", "-", "--on", "2021-07-01", stdin="{}")
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "has no computable rules (obligations and targets only)" in line
    # the Python API answers with no outputs rather than failing
    assert evaluate(PLAN, {}, on="2021-07-01").outputs == {}
    assert evaluate(PLAN, {}, on="2021-07-01", trace=False).outputs == {}


def test_columnar_and_generated_plans_with_zero_outputs(repo: Repository) -> None:
    from interpreter.columnar.engine import ColumnarPlan, evaluate_rows

    program = repo.program(PLAN)
    generated = program.generated_plan(())
    assert generated is not None and generated.run({}, {}) == {}
    result = evaluate_rows(program, [{}, {}, {}], dt.date(2021, 7, 1), plan=ColumnarPlan(program))
    assert result.n == 3
    assert result.row(2) == {}


def test_service_lists_and_describes_the_plan(repo: Repository) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from interpreter.service.app import create_app

    client = TestClient(create_app(Repository(POLICIES)))
    listing = client.get("/policies").json()["policies"]
    (entry,) = [p for p in listing if p["id"] == PLAN]
    assert entry["status"] == "ok" and entry["obligations"] == 29
    meta = client.get(f"/policies/{PLAN}")
    assert meta.status_code == 200
    items = meta.json()["obligations"]
    assert items[0]["id"] == "report-to-party-committee"  # in the order of the text
    (target,) = [i for i in items if i["target"]]
    assert target["target"]["value"] == 12 and target["target"]["by"]["date"] == "2021-12-31"


# -- the docs site ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pages() -> dict[str, bytes]:
    return render_site(Repository(POLICIES), DAY)


def test_policy_page_shows_obligation_tables(pages: dict[str, bytes]) -> None:
    page = pages[f"policies/{PLAN}.md"].decode("utf-8")
    assert "## 义务与目标 · Obligations and targets {#obligations}" in page
    row = next(x for x in page.splitlines() if 'id="obligation-annual-penalty-hearings"' in x)
    assert row.startswith("| ")
    assert "| 省司法厅 |" in row
    assert "**2021-12-31**" in row and "“年度内”" in row
    assert f"](../sources/{PLAN}.md#s1-4)" in row
    target = next(x for x in page.splitlines() if 'id="obligation-annual-target"' in x)
    assert "**12项**" in target and "至 by **2021-12-31**" in target
    august = next(x for x in page.splitlines() if 'id="obligation-submit-drafts-by-august"' in x)
    assert "| 起草单位（解释 note `drafting-units`） |" in august
    assert "**2021-08-31**" in august
    assert '!!! warning "解释 Interpretation `end-of-august`' in page
    assert "## 条款 · Clauses" not in page  # no rule clauses here
    assert f"matrices/{PLAN}.md" not in pages  # nothing to probe


def test_source_page_links_articles_to_their_obligations(pages: dict[str, bytes]) -> None:
    source = pages[f"sources/{PLAN}.md"].decode("utf-8")
    note = source.split('<a id="s1-4"></a>')[1].split("<a id=")[0]
    assert f"(../policies/{PLAN}.md#obligation-annual-penalty-hearings)" in note
    note = source.split('<a id="notice-s3"></a>')[1].split("<a id=")[0]
    assert note.count(f"(../policies/{PLAN}.md#obligation-") == 4
    assert "尚未编码" not in source


def test_rule_policies_pages_do_not_change_shape(pages: dict[str, bytes]) -> None:
    page = pages["policies/pension-adjustment-2021.md"].decode("utf-8")
    assert "## 条款 · Clauses" in page
    assert "{#obligations}" not in page


@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_every_target_reads_as_the_text_prints_it(repo: Repository, policy_id: str) -> None:
    """Value, unit and bound word put back together stand in the quote as printed
    (50个以上, 超过3万家): the site and the CLI show them in the document's own order."""
    for item in repo.policy(policy_id).obligations.values():
        if item.target is not None:
            assert normalize_quote(item.target.as_written()) in normalize_quote(
                item.citation.quote
            ), item.id
