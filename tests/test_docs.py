"""The docs site renderer: deterministic pages, atomic writes, staleness check, readable rules."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from interpreter import Repository
from interpreter.cli import reference
from interpreter.language.expressions import parse
from interpreter.policy.files import write_atomic
from interpreter.site.humanize import cell_text, formula, vocabulary
from interpreter.site.render import render_site, stale_files, status, write_site

from .conftest import PENSION, REPO, policy_cli

DAY = dt.date(2022, 1, 1)


@pytest.fixture(scope="module")
def pages(repo: Repository) -> dict[str, bytes]:
    return render_site(repo, DAY, reference=reference())


def text(pages: dict[str, bytes], rel: str) -> str:
    return pages[rel].decode("utf-8")


def test_render_is_deterministic(repo: Repository, pages: dict[str, bytes]) -> None:
    assert render_site(Repository(repo.root), DAY, reference=reference()) == pages


def test_a_later_day_with_the_same_status_renders_the_same(repo: Repository, pages) -> None:
    # No date is printed: only the status, which for every policy is unchanged here.
    assert render_site(repo, dt.date(2022, 6, 30), reference=reference()) == pages


def test_status_on_the_build_day(repo: Repository) -> None:
    pension = repo.policy(PENSION)  # in force from 2021-01-01, open-ended
    assert status(pension, dt.date(2020, 12, 31)) == "pending"
    assert status(pension, dt.date(2021, 1, 1)) == "in_force"
    assert status(None, dt.date(2021, 1, 1)) == "unknown"
    index = render_site(repo, dt.date(2020, 12, 31))["index.md"].decode()
    row = next(line for line in index.splitlines() if "粤人社规〔2021〕13号" in line)
    assert "尚未生效" in row


def test_every_document_has_a_policy_page_and_a_source_page(repo: Repository, pages) -> None:
    folders = sorted(p.name for p in repo.root.iterdir() if (p / "source.md").is_file())
    assert len(folders) == 8
    for folder in folders:
        assert f"policies/{folder}.md" in pages
        assert f"sources/{folder}.md" in pages
    assert "sources/medical-outpatient-cross-region-2021-interpretation.md" in pages
    for ref in ("rule-language", "cli", "api", "glossary"):
        assert f"reference/{ref}.md" in pages
    assert "coverage.md" in pages


def test_pension_page_quotes_links_and_notes(repo: Repository, pages) -> None:
    page = text(pages, f"policies/{PENSION}.md")
    policy = repo.policy(PENSION)
    age = policy.clauses["age"]
    # the verbatim quote as a blockquote, linked to its anchor in the source text
    assert f"> {age.citation.quote}" in page
    assert f"(../sources/{PENSION}.md#s3-3-1)" in page
    assert "{#clause-age}" in page
    # every interpretation note as an admonition
    for clause in policy.clauses.values():
        for note in clause.interpretations:
            assert f'!!! warning "解释 Interpretation：{note.topic.zh}' in page
            assert f"    {note.note.zh}" in page
    # document facts and the convention in the document's own words (民法典 by default)
    assert "粤人社规〔2021〕13号" in page and "广东省财政厅" in page
    assert "“不满”、“超过”、“以外”，不包括本数" in page
    # the age table with bounds in the document's words, beside the row's text
    assert "| 1 | 年满70不满80 | 30 | 年满70周岁不满80周岁的，每人每月加发30元 |" in page
    # parameters with units, dated values and citations
    assert "| `flat_amount` |" in page and "**45元/月**" in page


def test_transport_convention_is_its_own_article(pages) -> None:
    page = text(pages, "policies/transport-penalty-discretion-2021.md")
    assert "“以下”不包括本数" in page
    assert "以下 **（本文件另有规定 overridden）**" in page


def test_source_page_links_every_anchor_to_its_clause_or_reason(repo: Repository, pages) -> None:
    page = text(pages, f"sources/{PENSION}.md")
    source = repo.policy(PENSION).sources["粤人社规〔2021〕13号"]
    for anchor in source.anchors:
        match = re.search(rf'<a id="{anchor}"></a>[^\n]*\n\n<small>([^\n]*)</small>', page)
        assert match, anchor
    assert re.search(r'<a id="s3-3-1"></a>.*\n\n<small>→ 编码于.*#clause-age\)', page)
    assert re.search(r'<a id="s5-1"></a>.*\n\n<small>→ 不可计算 Not computable', page)
    # printed numbering stays printed: "2." is not turned into a Markdown list
    assert "\n2\\. 按缴费年限长短增加" not in page  # it follows its anchor
    assert '<a id="s3-2-2"></a>2\\. 按缴费年限长短增加' in page


def test_a_document_with_only_its_source_text_renders(tmp_path: Path) -> None:
    """A document whose text has landed before its encoding gets a page that says so."""
    folder = tmp_path / "policies" / "manufacturing-digital-transformation-2021"
    folder.mkdir(parents=True)
    for name in ("source.md", "errata.yaml"):
        shutil.copy(REPO / "policies" / folder.name / name, folder / name)
    page = render_site(Repository(tmp_path / "policies"), DAY)[f"policies/{folder.name}.md"]
    assert "尚未编码" in page.decode("utf-8")
    assert "粤府〔2021〕45号" in page.decode("utf-8")


def test_errata_are_shown_beside_the_rules(pages) -> None:
    errata = text(pages, "policies/agri-industrial-parks-2021.md")
    assert "国家农业高新技术专业示范区" in errata and "国家农业高新技术产业示范区" in errata


def test_pension_formulas_read_as_words(repo: Repository) -> None:
    policy = repo.policy(PENSION)
    zh, en = vocabulary(policy, "zh"), vocabulary(policy, "en")
    expr = {n: c.expr for n, c in policy.computations.items() if c.expr is not None}
    assert formula(expr["flat_increase"], zh) == (
        "属于本次调整范围时为 每人每月定额增加额（45元/月），否则为 0"
    )
    assert formula(expr["flat_increase"], en) == (
        "flat monthly increase per person (45 yuan/month) if in scope by either route, otherwise 0"
    )
    # the threshold word as the document writes it, never an operator
    years = formula(expr["years_beyond_threshold"], zh)
    assert years.startswith("计算用缴费年限 超过 再增加的起点年限（15年）时为")
    assert ">" not in years
    seniority = formula(expr["seniority_increase"], zh)
    assert "按年限计算的增加额 少于 按缴费年限增加的最低额（15元/月）时为" in seniority
    proportional = formula(expr["proportional_increase"], zh)
    assert "× 按本人调整前基本养老金月标准增加的比例（1.8%）（四舍五入到分）" in proportional
    assert formula(expr["age_at_cutoff"], zh) == "出生日期至计算年龄的截止日（2020-12-31）的周岁"
    assert "`enterprise`（企业职工基本养老保险）" in formula(expr["cadre_floor_applies"], zh)


def test_round_reads_its_defaults_when_they_are_left_out(repo: Repository) -> None:
    """``round(x)`` rounds half up to the fen, and reads so (it used to fail to render)."""
    policy = repo.policy(PENSION)
    zh, en = vocabulary(policy, "zh"), vocabulary(policy, "en")
    assert (
        formula(parse("round(x)"), zh) == formula(parse("round(x, 2)"), zh) == "x（四舍五入到分）"
    )
    assert formula(parse("round(x)"), en) == formula(parse("round(x, 2, 'half_up')"), en)


def test_table_cells_in_the_documents_words(repo: Repository) -> None:
    table = repo.policy(PENSION).computations["age_band_amount"].table
    assert table is not None
    cells = [cell_text(row.cells["age_at_cutoff"]) for row in table.rows]
    assert cells == ["年满70不满80", "年满80不满90", "年满90不满100", "年满100"]
    for cell, row in zip(cells, table.rows, strict=True):  # the row's own text, 周岁 dropped
        assert row.text is not None and row.text.replace("周岁", "").startswith(cell)


def test_write_site_is_atomic_and_removes_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "old").mkdir(parents=True)
    (out / "old" / "gone.md").write_text("no longer generated", encoding="utf-8")
    changed = write_site(out, {"index.md": b"# hi\n", "a/b.md": b"b\n"})
    assert sorted(changed) == ["a/b.md", "index.md", "old/gone.md"]
    assert not (out / "old").exists()
    assert sorted(p.name for p in out.rglob("*")) == ["a", "b.md", "index.md"]  # no temp files
    assert write_site(out, {"index.md": b"# hi\n", "a/b.md": b"b\n"}) == []
    write_atomic(out / "index.md", b"new")
    assert (out / "index.md").read_bytes() == b"new"


def test_check_detects_stale_missing_and_leftover_files(tmp_path: Path) -> None:
    pages = {"index.md": b"# hi\n", "a.md": b"a\n"}
    write_site(tmp_path, pages)
    assert stale_files(tmp_path, pages) == []
    (tmp_path / "a.md").write_bytes(b"edited by hand\n")
    (tmp_path / "extra.md").write_bytes(b"x\n")
    (tmp_path / "index.md").unlink()
    assert stale_files(tmp_path, pages) == [
        "index.md: missing",
        "a.md: stale",
        "extra.md: no longer generated",
    ]


def test_docs_command_writes_then_check_catches_a_stale_page(scratch: Path) -> None:
    out = scratch.parent / "generated_docs"
    first = policy_cli("docs", "--today", "2022-01-01", root=scratch)
    assert first.returncode == 0, first.stderr
    assert (out / "policies" / f"{PENSION}.md").is_file()
    assert policy_cli("docs", "--check", "--today", "2022-01-01", root=scratch).returncode == 0
    # a later day with the same status: still up to date
    assert policy_cli("docs", "--check", "--today", "2030-01-01", root=scratch).returncode == 0
    # a rule changes: the committed page is stale
    clause = scratch / PENSION / "clauses" / "flat.yaml"
    clause.write_text(clause.read_text(encoding="utf-8").replace("45 元", "45元"), encoding="utf-8")
    proc = policy_cli("docs", "--check", "--today", "2022-01-01", root=scratch)
    assert proc.returncode == 1
    assert f"generated_docs/policies/{PENSION}.md: stale" in proc.stdout
    # the status on a day before the window changes the page too
    assert policy_cli("docs", root=scratch).returncode == 0
    assert policy_cli("docs", "--check", "--today", "2020-06-01", root=scratch).returncode == 1


def test_docs_command_bad_date_is_one_line(scratch: Path) -> None:
    proc = policy_cli("docs", "--today", "2021-02-30", root=scratch)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "policy: error: --today: '2021-02-30' is not a date YYYY-MM-DD"


def test_matrix_csv_on_the_site_opens_in_excel(pages) -> None:
    data = pages[f"matrices/{PENSION}.csv"]
    assert data.startswith(b"\xef\xbb\xbf")
    assert (REPO / "tests" / "matrices" / f"{PENSION}.csv").read_bytes() == data
