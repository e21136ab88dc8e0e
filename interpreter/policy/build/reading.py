"""Reading the files: safe YAML (no duplicate keys), then each file against its schema.

A file that fails either is left out, its problems collected; the semantic checkers run
only when every file was read cleanly (checks on half-read files would only add noise).
"""

from __future__ import annotations

from pathlib import Path

from ...language.errors import PolicyFileError
from .. import schema
from ..loader import Document, load_yaml
from .context import LoadContext


def read_documents(ctx: LoadContext) -> bool:
    """policy.yaml, clauses/*.yaml and tests/*.yaml into ``ctx``; False if any has a problem."""
    policy_doc = read_document(ctx, ctx.directory / "policy.yaml", "policy")
    if policy_doc is None:
        return False
    ctx.policy_doc = policy_doc
    data = policy_doc.data
    if data["id"] != ctx.directory.name:
        ctx.errors.append(
            PolicyFileError(
                f"id {data['id']!r} differs from the folder name {ctx.directory.name!r}",
                policy_doc.at(("id",)),
            )
        )
    ctx.clause_docs, ctx.obligation_docs = read_clauses(ctx)
    ctx.test_docs = read_folder(ctx, "tests", "tests")
    return not ctx.errors


def read_document(ctx: LoadContext, path: Path, kind: str) -> Document | None:
    try:
        doc = load_yaml(path, ctx.display(path))
    except PolicyFileError as exc:
        ctx.errors.append(exc)
        return None
    problems = schema.validate(doc, kind)
    ctx.errors += problems
    return None if problems else doc


def read_folder(ctx: LoadContext, folder: str, kind: str) -> list[Document]:
    files = sorted((ctx.directory / folder).glob("*.yaml"))
    return [doc for f in files if (doc := read_document(ctx, f, kind)) is not None]


def read_clauses(ctx: LoadContext) -> tuple[list[Document], list[Document]]:
    """clauses/*.yaml: rule clauses, and obligation files (``kind: obligations``),
    each validated against its own schema."""
    rules: list[Document] = []
    obligations: list[Document] = []
    for path in sorted((ctx.directory / "clauses").glob("*.yaml")):
        try:
            doc = load_yaml(path, ctx.display(path))
        except PolicyFileError as exc:
            ctx.errors.append(exc)
            continue
        is_obligations = isinstance(doc.data, dict) and doc.data.get("kind") == "obligations"
        problems = schema.validate(doc, "obligations" if is_obligations else "clause")
        ctx.errors += problems
        if not problems:
            (obligations if is_obligations else rules).append(doc)
    return rules, obligations
