"""`policy diff BASE [HEAD]` as a reviewer and a pull-request workflow run it, on a real git
repository: the one-number change (the 80-89 age supplement, 50 → 60 元)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from .conftest import PENSION, REPO, commit_edit, git_policy_repo

SENTENCE = "年满80周岁不满90周岁的，每人每月加发{}元"


def _diff(root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "interpreter.cli", "--root", str(root / "policies"), "diff", *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def repo_60(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gazette text, the clause's quote, the row's text and its number, changed together
    (the loader checks that the row's text stands in the cited article)."""
    root = git_policy_repo(tmp_path_factory.mktemp("diff"))
    old, new = SENTENCE.format(50), SENTENCE.format(60)
    commit_edit(root, PENSION, "source.md", old, new, "gazette: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", old, new, "quote: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", old, new, "row text: 60")
    commit_edit(root, PENSION, "clauses/age.yaml", "then: 50\n", "then: 60\n", "row: 60")
    return root


def test_the_markdown_report_of_a_one_number_change_fits_one_screen(repo_60: Path) -> None:
    proc = _diff(repo_60, "base")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    shown = re.sub(r"<details>.*?</details>", "", text, flags=re.DOTALL)  # collapsed
    assert len([line for line in shown.splitlines() if line.strip()]) <= 45  # one screen
    assert "三、(三)1." in text or "三、（三）1." in text  # the article as printed
    assert SENTENCE.format(60) in text  # its quote, as it now reads
    assert "年满80周岁不满90周岁" in text  # the changed region in the document's words
    assert "50元/月" in text and "60元/月" in text
    assert "+10.00" in text or "10.00" in text  # the population impact in yuan
    assert "synthetic rows" in text
    assert "Breaking for callers" not in text  # no contract change
    stderr = proc.stderr.strip().splitlines()
    assert len(stderr) == 1 and "1 with different answers" in stderr[0]


def test_json_report_follows_its_schema_and_fail_on_change(repo_60: Path) -> None:
    proc = _diff(repo_60, "base", "HEAD", "--format", "json", "--fail-on-change")
    assert proc.returncode == 1  # answers change
    report = json.loads(proc.stdout)
    schema = json.loads((REPO / "schema" / "diff.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
    pension = next(p for p in report["policies"] if p["id"] == PENSION)
    assert report["behaviour_changed"] and not report["breaking"]
    assert {c["kind"] for c in pension["changes"]} >= {"table-row", "source", "quote"}
    assert pension["examples"]  # worked examples with their cited steps


def test_no_change_exits_0_even_with_fail_on_change(repo_60: Path) -> None:
    proc = _diff(repo_60, "HEAD", "HEAD", "--fail-on-change")
    assert proc.returncode == 0
    assert "没有变更 · nothing changed" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(("no-such-revision",), "unknown revision 'no-such-revision'")],
)
def test_bad_revisions_are_one_line_and_exit_2(repo_60: Path, args: tuple, message: str) -> None:
    proc = _diff(repo_60, *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"policy: error: {message}"]


def test_outside_a_git_repository_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    proc = _diff(tmp_path, "HEAD")
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
