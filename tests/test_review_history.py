"""The site's "what changed" pages, from git history: dated versions, the current one, and
the same committed pages before and after the commit that brings them."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from interpreter import Repository
from interpreter.review.history import policy_history
from interpreter.site.render import render_site

from .conftest import PENSION, POLICIES, commit_edit, edit_policy_file, git_policy_repo

DAY = dt.date(2022, 1, 1)
OLD_NOTE = "An age is reached on the birthday itself"
NEW_NOTE = "An age is reached on the very birthday"


def _pages(root: Path) -> dict[str, bytes]:
    repository = Repository(root / "policies")
    return render_site(repository, DAY, history=policy_history(repository))


def test_each_version_is_compared_with_the_one_before(tmp_path: Path) -> None:
    root = git_policy_repo(tmp_path)
    commit_edit(root, PENSION, "clauses/age.yaml", OLD_NOTE, NEW_NOTE, "reword a note")
    entries = policy_history(Repository(root / "policies"))[PENSION]
    assert [e.date is None for e in entries] == [True, False]  # current, then the base
    current, base = entries
    assert base.first and base.commit is not None
    assert [c.kind for c in current.changes] == ["note"]
    note = current.changes[0]
    assert note.after is not None and NEW_NOTE in note.after.en


def test_the_committed_pages_are_the_same_before_and_after_their_commit(tmp_path: Path) -> None:
    """A rule change and its regenerated site go in one commit: `policy docs --check` holds
    on both sides of it."""
    root = git_policy_repo(tmp_path)
    edit_policy_file(root / "policies", PENSION, "clauses/age.yaml", OLD_NOTE, NEW_NOTE)
    before = _pages(root)
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "note"], check=True)
    after = _pages(root)
    assert before == after
    page = after[f"changes/{PENSION}.md"].decode()
    assert "现行版本 · Current version" in page and NEW_NOTE in page
    assert "<del>" in page and "<ins>" in page  # the note's character diff, marked
    assert "changes.md" in after and f"changes/{PENSION}.md" in after["_nav.yml"].decode()


def test_no_git_no_history(tmp_path: Path) -> None:
    shutil.copytree(POLICIES / PENSION, tmp_path / "policies" / PENSION)
    assert policy_history(Repository(tmp_path / "policies")) == {PENSION: []}
