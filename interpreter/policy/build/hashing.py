"""The content hash: every file that defines a policy, in a stable order, hashed together."""

from __future__ import annotations

import hashlib
from pathlib import Path


def policy_files(directory: Path) -> list[Path]:
    """Every file that defines the policy, in a stable order (for the content hash)."""
    files = [directory / "policy.yaml"]
    for sub in ("clauses", "tests"):
        files += sorted((directory / sub).glob("*.yaml"))
    files += sorted(directory.glob("*.md"))
    files += [directory / "errata.yaml", directory / "coverage.yaml"]
    return [f for f in files if f.is_file()]


def content_hash(files: list[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(base).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()
