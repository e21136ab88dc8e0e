"""The policy files as they stand at a git revision, or in the working tree.

``policy diff BASE [HEAD]`` compares two such versions. A revision's ``policies/`` is
written out with ``git archive`` into a temporary folder (nothing in the checkout is
touched) and loaded by its own ``Repository``, so each version is checked as it was
written. The schemas are the running package's: a version whose files no longer fit them
is reported as not validating, and compared as far as it loads.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..language.errors import PolicyError
from ..runtime.repository import Repository

WORKING_TREE = "working tree"


@dataclass(frozen=True)
class Version:
    """One side of a comparison: its label as given, its commit (None: the working tree)
    and the repository of its policies."""

    label: str
    commit: str | None
    repository: Repository


def git(repo_root: Path, *args: str) -> str:
    """A git command's stdout; its failure is bad input naming what was asked."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo_root), *args],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        raise PolicyError("git is not installed: policy diff reads revisions with git") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PolicyError(f"git {' '.join(args)}: {detail[-1] if detail else 'failed'}")
    return done.stdout.decode("utf-8")


def resolve(repo_root: Path, revision: str) -> str:
    """The commit a revision names; an unknown revision or a folder outside any git
    repository is bad input."""
    git(repo_root, "rev-parse", "--git-dir")  # "not a git repository" reads plainly
    try:
        return git(repo_root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except PolicyError:
        raise PolicyError(f"unknown revision {revision!r}") from None


def _extract(repo_root: Path, commit: str, into: Path) -> Path:
    """``policies/`` at a commit, written under ``into``; an empty folder if it had none."""
    root = repo_root.resolve()
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", commit, "--", "policies"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    target = into / "policies"
    target.mkdir(parents=True, exist_ok=True)
    if archive.returncode != 0:  # the revision has no policies/ folder
        return target
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return target


@contextmanager
def version(repo_root: Path, revision: str | None) -> Iterator[Version]:
    """The policies at ``revision`` (None: the working tree), for the ``with`` block."""
    if revision is None:
        yield Version(WORKING_TREE, None, Repository(repo_root / "policies"))
        return
    commit = resolve(repo_root, revision)
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        policies = _extract(repo_root, commit, Path(tmp))
        yield Version(revision, commit, Repository(policies))
