"""Source coverage: every article of the text is encoded, or declared not computable.

Coverage is an explicit mapping from text to rules (citations and the manifest in
``coverage.yaml``), never a keyword match: a keyword check can pass while a prohibition
has been dropped. An article is accounted for when something cites it, when the manifest
lists it, or when every article inside it is accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..language.errors import PolicyError, PolicyFileError, did_you_mean
from . import schema
from .loader import load_yaml
from .model import Citation, Policy, Text
from .sources import SourceText, is_descendant

OBLIGATION_PREFIX = "obligation:"  # who cites, in SourceCoverage.cited_by, for an obligation


@dataclass(frozen=True)
class NotComputable:
    anchor: str
    source: str  # file name: source.md or interpretation.md
    category: str
    reason: Text


@dataclass
class SourceCoverage:
    file: str
    document: str
    status: dict[str, str] = field(default_factory=dict)  # anchor -> status
    cited_by: dict[str, list[str]] = field(default_factory=dict)  # anchor -> clause ids

    def count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)

    @property
    def unaccounted(self) -> list[str]:
        return [a for a, s in self.status.items() if s == "unaccounted"]


def load_manifest(
    directory: Path, sources: dict[str, SourceText], display: str
) -> tuple[list[NotComputable], list[PolicyError]]:
    """Read coverage.yaml (if present) and check that each anchor exists."""
    path = directory / "coverage.yaml"
    if not path.is_file():
        return [], []
    try:
        doc = load_yaml(path, display)
    except PolicyFileError as exc:
        return [], [exc]
    errors: list[PolicyError] = list(schema.validate(doc, "coverage"))
    if errors:
        return [], errors
    by_file = {s.path.name: s for s in sources.values()}
    entries = []
    seen = set()
    for i, item in enumerate(doc.data["not_computable"]):
        file = item.get("source", "source.md")
        source = by_file.get(file)
        where = doc.at(("not_computable", i, "anchor"))
        if source is None:
            errors.append(PolicyFileError(f"no source file {file!r} in this policy", where))
            continue
        if item["anchor"] not in source.anchors:
            hint = did_you_mean(item["anchor"], source.anchors)
            errors.append(PolicyFileError(f"no anchor {item['anchor']!r} in {file}{hint}", where))
            continue
        if (file, item["anchor"]) in seen:
            errors.append(PolicyFileError(f"{item['anchor']!r} is listed twice", where))
        seen.add((file, item["anchor"]))
        reason = Text(item["reason"]["zh"], item["reason"]["en"])
        entries.append(NotComputable(item["anchor"], file, item["category"], reason))
    return entries, errors


def citations_of(policy: Policy) -> list[tuple[str, Citation]]:
    """Every citation in a policy, with who makes it (a clause id, 'policy', or
    ``obligation:<id>`` for an obligation or target: its article counts as encoded)."""
    found: list[tuple[str, Citation]] = [("policy", policy.in_force.citation)]
    if policy.convention_citation is not None:
        found.append(("policy", policy.convention_citation))
    for clause in policy.clauses.values():
        found.append((clause.id, clause.citation))
    for comp in policy.computations.values():
        found.append((comp.clause, comp.citation))
    for parameter in policy.parameters.values():
        found += [(parameter.clause, v.citation) for v in parameter.values]
    for item in policy.obligations.values():
        who = OBLIGATION_PREFIX + item.id
        found.append((who, item.citation))
        deadlines = [item.deadline, item.target.by if item.target else None]
        found += [(who, d.citation) for d in deadlines if d is not None]
    return found


def source_coverage(
    sources: dict[str, SourceText],
    citations: list[tuple[str, Citation]],
    manifest: list[NotComputable],
) -> list[SourceCoverage]:
    reports = []
    for document, source in sources.items():
        report = SourceCoverage(source.path.name, document)
        for who, citation in citations:
            if citation.document == document:
                report.cited_by.setdefault(citation.article, [])
                if who not in report.cited_by[citation.article]:
                    report.cited_by[citation.article].append(who)
        declared = {n.anchor for n in manifest if n.source == source.path.name}
        for anchor in reversed(list(source.anchors)):  # children before parents
            if anchor in report.cited_by:
                status = "encoded"
            elif anchor in declared:
                status = "not_computable"
            else:
                children = [a for a in report.status if is_descendant(a, anchor)]
                accounted = children and all(report.status[c] != "unaccounted" for c in children)
                heading = is_heading_only(source, anchor, children)
                status = "container" if accounted and heading else "unaccounted"
            report.status[anchor] = status
        report.status = {a: report.status[a] for a in source.anchors}
        reports.append(report)
    return reports


HEADING_CHARS = 20  # "（五）临时异地就医人员：" is a heading; a longer lead-in says something


def is_heading_only(source: SourceText, anchor: str, children: list[str]) -> bool:
    """Does the article say nothing of its own before its first sub-item?

    Only then may it count as accounted for through its sub-items. A lead-in sentence
    ("有下列情形之一的，依法不予行政处罚：") or a first paragraph is text of its own, and
    must itself be cited or declared not computable.
    """
    if not children:
        return False
    text = source.anchors[anchor].text
    first = min(source.anchors[c].line for c in children)
    own_lines = first - source.anchors[anchor].line
    own = "".join(line.strip() for line in text.splitlines()[:own_lines] if line.strip())
    return "。" not in own and (not own.endswith("：") or len(own) <= HEADING_CHARS)


def conflicts(reports: list[SourceCoverage], manifest: list[NotComputable]) -> list[str]:
    """Anchors both encoded and declared not computable: one of the two is wrong."""
    out = []
    for report in reports:
        for item in manifest:
            if item.source == report.file and item.anchor in report.cited_by:
                clauses = ", ".join(report.cited_by[item.anchor])
                out.append(
                    f"{report.file}: {item.anchor} is declared not computable but "
                    f"cited by {clauses}"
                )
    return out
