"""Load a policy folder into the model: the checkers, run in order on one load context.

Order of checks: YAML (safe, no duplicate keys) -> JSON Schema (no unknown keys) ->
semantics: citations against the source text, names defined, types agreeing, tables
without overlaps, no cycles, dates ordered, test cases naming real facts. All problems
are collected so `policy validate` can list them at once.
"""

from __future__ import annotations

from pathlib import Path

from ...language.conventions import convention_from
from ...language.errors import Location, PolicyError, PolicyFileError, ValidationErrors
from ...language.values import iso_date
from ..article_coverage import citations_of, conflicts, load_manifest, source_coverage
from ..model import (
    Clause,
    Computation,
    DocumentInfo,
    Obligation,
    ObligationGroup,
    Parameter,
    Policy,
)
from .cases import cases_of
from .computations import check_cycles, clause_of, declare_computations
from .context import LoadContext
from .document import check_convention, facts_of, in_force_of, outputs_of
from .hashing import content_hash, policy_files
from .notes import interpretations, text_of
from .parameters import parameters_of
from .reading import read_documents
from .source_texts import cite, load_sources


def load_policy(directory: Path, display_root: Path | None = None) -> Policy:
    """Build one policy; raise ValidationErrors listing every problem found."""
    ctx = LoadContext(directory, display_root or directory.parent.parent)
    policy = build(ctx)
    if ctx.errors or policy is None:
        raise ValidationErrors(ctx.errors or [PolicyError("policy could not be built")])
    return policy


def build(ctx: LoadContext) -> Policy | None:
    """Every checker in order; the model, or None when the files could not be read."""
    if not read_documents(ctx):
        return None  # semantic checks on half-read files would only add noise
    policy_doc = ctx.policy_doc
    assert policy_doc is not None
    data = policy_doc.data
    load_sources(ctx, policy_doc)
    ctx.convention = convention_from(data["boundary_convention"])
    check_convention(ctx, policy_doc)
    facts = facts_of(ctx, policy_doc)
    parameters: dict[str, Parameter] = {}
    for doc in ctx.clause_docs:
        parameters.update(parameters_of(ctx, doc, facts))
    computations: dict[str, Computation] = {}
    clauses: dict[str, Clause] = {}
    declared_only = declare_computations(ctx, ctx.clause_docs, facts, parameters)
    for doc in ctx.clause_docs:
        clause = clause_of(ctx, doc, parameters, declared_only, computations)
        if clause.id in clauses:
            ctx.errors.append(
                PolicyFileError(f"clause id {clause.id!r} is used twice", doc.at(("id",)))
            )
        clauses[clause.id] = clause
    check_cycles(ctx, computations)
    obligations, groups = _obligations(ctx, clauses)
    outputs = outputs_of(ctx, policy_doc, computations)
    in_force = in_force_of(ctx, policy_doc)
    cases = cases_of(ctx, ctx.test_docs, facts, outputs, declared_only, clauses)
    notes = tuple(interpretations(data.get("interpretations", [])))
    manifest, problems = load_manifest(
        ctx.directory, ctx.sources, ctx.display(ctx.directory / "coverage.yaml")
    )
    ctx.errors += problems
    files = policy_files(ctx.directory)
    conv_citation = None
    if "citation" in data["boundary_convention"]:
        conv_citation = cite(ctx, policy_doc, ("boundary_convention", "citation"))
    doc_info = data["document"]
    policy = Policy(
        id=data["id"],
        root=ctx.directory,
        title=text_of(data["title"]),
        summary=text_of(data["summary"]) if "summary" in data else None,
        document=DocumentInfo(
            doc_info["number"],
            doc_info["title"],
            tuple(doc_info["issuers"]),
            iso_date(doc_info["signed"]),
            iso_date(doc_info["published"]),
        ),
        in_force=in_force,
        convention=ctx.convention,
        convention_citation=conv_citation,
        facts=facts,
        outputs=outputs,
        parameters=parameters,
        computations=computations,
        clauses=clauses,
        cases=cases,
        sources=ctx.sources,
        interpretations=notes,
        content_hash=content_hash(files, ctx.directory),
        not_computable=manifest,
        obligations=obligations,
        obligation_groups=groups,
    )
    ctx.errors += [
        PolicyFileError(c, Location(ctx.display(ctx.directory / "coverage.yaml")))
        for c in conflicts(source_coverage(ctx.sources, citations_of(policy), manifest), manifest)
    ]
    return policy


def _obligations(
    ctx: LoadContext, clauses: dict[str, Clause]
) -> tuple[dict[str, Obligation], dict[str, ObligationGroup]]:
    """The obligation files' duties and targets; their checks are imported only by the
    policies that have such files (most rules files have none: a faster cold start)."""
    if not ctx.obligation_docs:
        return {}, {}
    from .obligations import obligations_of

    return obligations_of(ctx, ctx.obligation_docs, clauses)
