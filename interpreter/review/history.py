"""What changed in each policy, version by version: the site's "what changed" pages.

A version is a state of ``policies/<id>/`` in the git history. Each version is compared
with the one before it, in the same readable form as ``policy diff`` (``compare``), so the
public sees when a rule changed and how. An older version is dated by the commit that made
it; the newest is "the current version" (the working tree's, or HEAD's when the working
tree has no change). So the committed pages stay the same before and after the commit that
brings them: a rule change and its regenerated site go in one commit, and `policy docs
--check` holds on both sides of it.

Versions are read with ``git archive`` (nothing in the checkout is touched) and loaded once
per git tree. A version that today's checks refuse is shown as such, not compared.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..language.errors import PolicyError, ValidationErrors
from ..policy.model import Policy
from ..runtime.repository import Repository
from .compare import compare_policy
from .report import Change
from .revisions import git

MAX_VERSIONS = 100  # per policy: a bound on the work of one docs build


@dataclass(frozen=True)
class Entry:
    """The change from one version of a policy to the next. ``date``/``commit`` are the
    commit that made the newer version; both None for the current version."""

    date: str | None
    commit: str | None
    changes: list[Change] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # today's checks refuse the newer version
    first: bool = False  # the policy's first version: nothing to compare it with
    earlier_refused: bool = False  # the version before cannot be read by today's checks


@dataclass
class _Versions:
    """Policy versions loaded from git, one per tree."""

    repo_root: Path
    work: Path
    loaded: dict[str, Policy | list[str]] = field(default_factory=dict)

    def tree(self, commit: str, policy_id: str) -> str | None:
        try:
            return git(self.repo_root, "rev-parse", f"{commit}:policies/{policy_id}").strip()
        except PolicyError:
            return None

    def load(self, tree: str, policy_id: str) -> Policy | list[str]:
        """The policy of a git tree, or the problems today's checks find in it."""
        if tree not in self.loaded:
            archive = subprocess.run(
                ["git", "-C", str(self.repo_root), "archive", "--format=tar", tree],
                capture_output=True,
                check=True,
                timeout=120,
            )
            folder = self.work / tree / "policies" / policy_id
            folder.mkdir(parents=True)
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(folder, filter="data")
            self.loaded[tree] = _checked(Repository(folder.parent), policy_id)
        return self.loaded[tree]


def _checked(repository: Repository, policy_id: str) -> Policy | list[str]:
    try:
        return repository.policy(policy_id)
    except ValidationErrors as exc:
        return [str(e) for e in exc.errors]
    except PolicyError as exc:
        return [str(exc)]


def policy_history(repository: Repository) -> dict[str, list[Entry]]:
    """Every policy's changes, newest first; empty where the policies are not in a git
    checkout (an installed package has no history)."""
    root = repository.root.parent
    ids = repository.ids()
    try:
        git(root, "rev-parse", "--git-dir")
    except PolicyError:
        return {policy_id: [] for policy_id in ids}
    with tempfile.TemporaryDirectory(prefix="policy-history-") as tmp:
        versions = _Versions(root, Path(tmp))
        return {policy_id: _entries(versions, repository, policy_id) for policy_id in ids}


def _entries(versions: _Versions, repository: Repository, policy_id: str) -> list[Entry]:
    """(label, version) newest first, then each compared with the next older one."""
    log = git(
        versions.repo_root,
        "log",
        f"--max-count={MAX_VERSIONS}",
        "--format=%H%x09%cs",
        "--",
        f"policies/{policy_id}",
    )
    dated: list[tuple[str | None, str | None, Policy | list[str]]] = []
    seen: set[str] = set()
    for line in log.splitlines():
        made_by, made_on = line.split("\t")
        tree = versions.tree(made_by, policy_id)
        if tree is None or tree in seen:  # removed here, or back to a state already listed
            continue
        seen.add(tree)
        dated.append((made_on, made_by, versions.load(tree, policy_id)))
    status = git(versions.repo_root, "status", "--porcelain", "--", f"policies/{policy_id}")
    current = _checked(repository, policy_id)
    if status.strip() or not dated:
        dated.insert(0, (None, None, current))
    else:  # the newest commit's version is the working tree's: it is the current one
        dated[0] = (None, None, dated[0][2])
    entries = []
    for (date, commit, new), older in zip(dated, [*dated[1:], None], strict=True):
        old = older[2] if older is not None else None
        if isinstance(new, list):
            entries.append(Entry(date, commit, refused=new))
        elif old is None:
            entries.append(Entry(date, commit, first=True))
        elif isinstance(old, list):
            entries.append(Entry(date, commit, earlier_refused=True))
        else:
            changes = [c for c in compare_policy(old, new).changes if c.kind != "case"]
            entries.append(Entry(date, commit, changes))
    return entries
