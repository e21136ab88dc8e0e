"""Shared fixtures: the repository's policies, and a scratch copy to break on purpose."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interpreter import Repository
from interpreter.language.errors import ValidationErrors

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
PENSION = "pension-adjustment-2021"


# The worked example of 粤人社规〔2021〕13号: 3000.00, 20.3 years, 70 on 2020-12-31.
WORKED_EXAMPLE = {
    "pension_start_date": "2010-05-01",
    "retirement_approved_date": "2010-04-20",
    "pension_base_year": 2009,
    "monthly_pension": "3000.00",
    "contribution_years": 20.3,
    "birth_date": "1950-12-31",
    "scheme": "enterprise",
}


def policy_cli(
    *args: str, stdin: str | None = None, root: Path = POLICIES
) -> subprocess.CompletedProcess:
    """Run `policy` as a user would; whatever happens, no traceback reaches the user."""
    proc = subprocess.run(
        [sys.executable, "-m", "interpreter.cli", "--root", str(root), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def validation_errors(root: Path, policy_id: str) -> list[str]:
    """The load errors of a policy that must fail to load, as the CLI prints them."""
    with pytest.raises(ValidationErrors) as info:
        Repository(root).policy(policy_id)
    return [str(e) for e in info.value.errors]


def edit_policy_file(root: Path, policy_id: str, rel: str, old: str, new: str) -> None:
    """Break a scratch copy on purpose: replace the first ``old`` in one of its files."""
    path = root / policy_id / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_in_policy_file(root: Path, policy_id: str, rel: str, needle: str) -> int:
    lines = (root / policy_id / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.fixture(scope="session")
def repo() -> Repository:
    return Repository(POLICIES)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A private copy of the pension policy (and the schemas' repo layout) to mutate."""
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / PENSION, root / PENSION)
    return root


@pytest.fixture
def base_facts() -> dict:
    return {
        "pension_start_date": "2010-05-01",
        "retirement_approved_date": "2010-04-20",
        "pension_base_year": 2009,
        "monthly_pension": "3000.00",
        "contribution_years": 20,
        "birth_date": "1955-06-15",
        "scheme": "enterprise",
    }


def git_policy_repo(tmp_path: Path, policy_ids: tuple[str, ...] = (PENSION,)) -> Path:
    """A git repository holding copies of some policies, committed once as ``base``:
    the ground for `policy diff` tests, which commit real changes on top."""
    root = tmp_path / "repo"
    for policy_id in policy_ids:
        shutil.copytree(POLICIES / policy_id, root / "policies" / policy_id)
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.email", "test@example.invalid"),
        ("config", "user.name", "test"),
        ("add", "-A"),
        ("commit", "-q", "-m", "base"),
        ("tag", "base"),
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return root


def commit_edit(root: Path, policy_id: str, rel: str, old: str, new: str, message: str) -> None:
    """Change one policy file of a ``git_policy_repo`` and commit it."""
    edit_policy_file(root / "policies", policy_id, rel, old, new)
    subprocess.run(
        ["git", "-C", str(root), "commit", "-q", "-am", message], check=True, capture_output=True
    )
