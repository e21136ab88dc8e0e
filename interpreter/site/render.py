"""The docs site, rendered by Jinja from the same files the interpreter runs.

``render_site`` returns every page of ``generated_docs/`` as bytes, in memory; ``write_site``
writes them atomically (temp file in the same folder, then ``os.replace``) and removes the
generated files no longer produced; ``stale_files`` lists what differs on disk (for
``policy docs --check``).

Determinism: nothing depends on the clock except each document's status (现行 / 已失效 /
尚未生效), computed for the day given (``--today``, default today). The build date itself is
never printed, so a check on a later day renders identical pages unless a status really
changed on the way; then the committed pages *are* stale (they state a wrong status) and
the check rightly fails until ``policy docs`` is run again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import jinja2

from ..language.conventions import BASES
from ..language.errors import PolicyError
from ..language.values import parse_date
from ..policy.article_coverage import (
    OBLIGATION_PREFIX,
    NotComputable,
    SourceCoverage,
    citations_of,
    load_manifest,
    source_coverage,
)
from ..policy.files import write_atomic
from ..policy.model import Citation, Deadline, Obligation, Policy
from ..policy.sources import Erratum, SourceError, SourceText, load_errata
from ..runtime.case_coverage import PolicyCoverage, case_coverage
from ..runtime.repository import Repository
from . import humanize
from .matrix import LABEL, Matrix, build_matrix

TEMPLATES = Path(__file__).parent / "templates"
CIVIL_CODE_QUOTE = (
    "民法所称的“以上”、“以下”、“以内”、“届满”，包括本数；所称的“不满”、“超过”、“以外”，不包括本数。"
)
STATUS = {
    "in_force": ("现行", "In force"),
    "expired": ("已失效", "Expired"),
    "pending": ("尚未生效", "Not yet in force"),
    "unknown": ("未编码", "Not yet encoded"),
}
_ANCHOR_LINE = re.compile(r'^<a id="([^"]+)"></a>')
_MD_LINE_START = re.compile(r"^(\s*)(\d+)\.(\s)")


# -- the model of a page ------------------------------------------------------------------
@dataclass
class Document:
    """One folder of policies/: encoded (``policy`` set) or source text only."""

    id: str
    folder: Path
    sources: dict[str, SourceText]
    manifest: list[NotComputable]
    errata: list[Erratum]
    policy: Policy | None = None
    problem: str | None = None  # why an encoded folder is shown as source only
    coverage: list[SourceCoverage] = field(default_factory=list)
    tests: PolicyCoverage | None = None
    matrix: Matrix | None = None

    @property
    def primary(self) -> SourceText:
        for source in self.sources.values():
            if source.front_matter.get("role", "primary") == "primary":
                return source
        return next(iter(self.sources.values()))

    @property
    def number(self) -> str:
        return str(self.primary.front_matter.get("document_number", ""))

    @property
    def title(self) -> str:
        return str(self.primary.front_matter.get("title", self.id))

    def source_page(self, document: str) -> str:
        """The site page (relative to generated_docs/) of a cited source document."""
        source = self.sources.get(document, self.primary)
        if source is self.primary:
            return f"sources/{self.id}.md"
        return f"sources/{self.id}-{source.path.stem}.md"


def status(policy: Policy | None, today: dt.date) -> str:
    """The document's status on the build day."""
    if policy is None:
        return "unknown"
    if today < policy.in_force.start:
        return "pending"
    return "in_force" if policy.in_force.covers(today) else "expired"


def load_documents(repo: Repository) -> list[Document]:
    """Every folder with a source.md; a policy that fails validation is shown as text only
    (its problem noted), so the site always builds while others edit."""
    documents = []
    folders = sorted(p for p in repo.root.iterdir() if (p / "source.md").is_file())
    for folder in folders:
        policy, problem = None, None
        if (folder / "policy.yaml").is_file():
            try:
                policy = repo.policy(folder.name)
            except PolicyError as exc:
                problem = str(exc).splitlines()[0]
        documents.append(_document(repo, folder, policy, problem))
    return documents


def _document(
    repo: Repository, folder: Path, policy: Policy | None, problem: str | None
) -> Document:
    from ..policy.folder_check import load_folder_sources

    if policy is not None:
        sources, manifest = policy.sources, policy.not_computable
        coverage = source_coverage(sources, citations_of(policy), manifest)
    else:
        sources, errors = load_folder_sources(folder, repo.root.parent)
        if errors:
            raise PolicyError(str(errors[0]))
        manifest, problems = load_manifest(folder, sources, "coverage.yaml")
        manifest = [] if problems else manifest
        coverage = source_coverage(sources, [], manifest)
    doc = Document(folder.name, folder, sources, manifest, [], policy, problem, coverage)
    errata_file = folder / "errata.yaml"
    if errata_file.is_file():
        try:
            doc.errata = load_errata(errata_file, doc.primary)
        except SourceError:
            doc.errata = []
    if policy is not None and policy.outputs:  # obligations only: no rules to test or probe
        program = repo.program(folder.name)
        doc.tests = case_coverage(program)
        doc.matrix = build_matrix(program)
    return doc


# -- Jinja ----------------------------------------------------------------------------------
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # Markdown, not HTML; table cells are escaped by the `cell` filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # Markdown heading ids are written {#id}: move Jinja's comments out of the way.
        comment_start_string="<#--",
        comment_end_string="--#>",
    )
    env.filters["cell"] = md_cell
    env.filters["quote"] = md_quote
    env.filters["indent4"] = lambda text: "\n".join(
        ("    " + line) if line else "" for line in str(text).splitlines()
    )
    env.filters["show"] = humanize.show_value
    env.filters["yamlstr"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    env.filters["pair"] = zh_en
    env.filters["marks"] = diff_marks
    return env


_DELETED = re.compile(r"\[-(.*?)-\]")
_INSERTED = re.compile(r"\{\+(.*?)\+\}")


def diff_marks(text: str) -> str:
    """A character diff's ``[-old-]{+new+}`` marks as struck-out and inserted text."""
    return _INSERTED.sub(r"<ins>\1</ins>", _DELETED.sub(r"<del>\1</del>", text))


def zh_en(text: Any) -> str:
    """A zh/en pair as one line, Chinese first ("—" for none; once when both are alike)."""
    if text is None:
        return "—"
    return text.zh if text.zh == text.en else f"{text.zh} · {text.en}"


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or " "


def md_quote(text: str) -> str:
    """A verbatim quote as a Markdown blockquote, every line marked."""
    return "\n".join(f"> {line}".rstrip() for line in str(text).splitlines())


class ApiItem(TypedDict):
    """One public name: its signature, docstring and (for a class) its public methods."""

    name: str
    signature: str
    doc: str
    methods: list[str]


@dataclass(frozen=True)
class Reference:
    """What the reference pages document: each command's --help and the public API."""

    commands: list[dict[str, str]]
    api: list[ApiItem]


# -- pages ----------------------------------------------------------------------------------
def render_site(
    repo: Repository,
    today: dt.date,
    docs_dir: Path | None = None,
    reference: Reference | None = None,
    history: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, bytes]:
    """Every generated page, path (relative to generated_docs/) -> bytes. The CLI and API
    reference pages are rendered from ``reference``, and the "what changed" pages from
    ``history`` (policy id -> its versions' changes, newest first), which the surfaces
    above give: the site imports neither the command line it documents nor the review
    that compares versions."""
    env = environment()
    documents = load_documents(repo)
    pages: dict[str, str | bytes] = {}
    common = {
        "status_names": STATUS,
        "today_status": lambda d: status(d.policy, today),
        "has_changes": history is not None,
    }
    pages["index.md"] = env.get_template("index.md.j2").render(documents=documents, **common)
    for doc in documents:
        pages[f"policies/{doc.id}.md"] = env.get_template("policy.md.j2").render(
            doc=doc, view=policy_view(doc), **common
        )
        for document, source in doc.sources.items():
            pages[doc.source_page(document)] = env.get_template("source.md.j2").render(
                doc=doc, source=source, document=document, body=source_body(doc, document, source)
            )
        if doc.matrix is not None:
            pages[f"matrices/{doc.id}.md"] = env.get_template("matrix.md.j2").render(
                doc=doc, m=matrix_view(doc.matrix), label=LABEL
            )
            pages[f"matrices/{doc.id}.csv"] = doc.matrix.csv_bytes()
    if history is not None:
        rows = []
        for doc in documents:
            entries = history.get(doc.id, [])
            if doc.policy is not None:
                pages[f"changes/{doc.id}.md"] = env.get_template("changes.md.j2").render(
                    doc=doc, entries=entries
                )
                rows += [(doc, e) for e in entries]
        rows.sort(key=lambda row: row[1].date or "9999", reverse=True)  # current first
        pages["changes.md"] = env.get_template("changelog.md.j2").render(rows=rows)
    pages["coverage.md"] = env.get_template("coverage.md.j2").render(documents=documents)
    repo_root = repo.root.parent
    rule_language = repo_root / "docs" / "rule-language.md"
    if rule_language.is_file():
        pages["reference/rule-language.md"] = rule_language.read_text(encoding="utf-8")
    if reference is not None:
        pages["reference/cli.md"] = env.get_template("cli.md.j2").render(
            commands=reference.commands
        )
        pages["reference/api.md"] = env.get_template("api.md.j2").render(items=reference.api)
    pages["reference/glossary.md"] = env.get_template("glossary.md.j2").render(
        words=BASES["civil-code-1259"], quote=CIVIL_CODE_QUOTE
    )
    benchmarks = repo_root / "docs" / "benchmarks.md"
    if benchmarks.is_file():
        pages["benchmarks.md"] = benchmarks.read_text(encoding="utf-8")
    pages["_nav.yml"] = env.get_template("nav.yml.j2").render(
        documents=documents,
        has_benchmarks="benchmarks.md" in pages,
        has_rules="reference/rule-language.md" in pages,
        has_changes="changes.md" in pages,
    )
    return {k: v if isinstance(v, bytes) else v.encode("utf-8") for k, v in sorted(pages.items())}


@dataclass
class ClauseView:
    clause: Any
    anchor_label: str
    source_link: str
    parameters: list[dict]
    computations: list[dict]
    rows_covered: int = 0
    rows: int = 0
    branches_covered: int = 0
    branches: int = 0
    missing: list[str] = field(default_factory=list)


def policy_view(doc: Document) -> dict[str, Any]:
    """Everything the policy page shows, in reading order (clauses by their place in the text)."""
    policy = doc.policy
    view: dict[str, Any] = {"errata": doc.errata}
    pages = {s.path.name: doc.source_page(d) for d, s in doc.sources.items()}
    view["not_computable"] = [
        {
            "anchor": n.anchor,
            "category": n.category,
            "reason": n.reason,
            "link": f"../{pages.get(n.source, f'sources/{doc.id}.md')}#{n.anchor}",
        }
        for n in doc.manifest
    ]
    if policy is None:
        return view
    vz, ve = humanize.vocabulary(policy, "zh"), humanize.vocabulary(policy, "en")
    order = {a: i for i, a in enumerate(doc.primary.anchors)}
    clauses = sorted(
        policy.clauses.values(), key=lambda c: (order.get(c.citation.article, 10**6), c.id)
    )
    view["clauses"] = [_clause_view(doc, policy, c, vz, ve) for c in clauses]
    view["convention_quote"] = (
        policy.convention_citation.quote if policy.convention_citation else CIVIL_CODE_QUOTE
    )
    view["convention_link"] = (
        cite_link(doc, policy.convention_citation, "../") if policy.convention_citation else None
    )
    words = policy.convention.words
    overridden = policy.convention.overridden()
    view["words"] = [
        {"word": w, "bound": b, "overridden": w in overridden} for w, b in words.items()
    ]
    view["in_force_link"] = cite_link(doc, policy.in_force.citation, "../")
    view["obligation_groups"] = obligations_view(doc, policy, order)
    return view


def _deadline_view(doc: Document, deadline: Deadline | None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    return {
        "date": deadline.date.isoformat(),
        "wording": deadline.wording,
        "link": cite_link(doc, deadline.citation, "../"),
        "note": deadline.note.id if deadline.note else None,
    }


def obligations_view(doc: Document, policy: Policy, order: dict[str, int]) -> list[dict]:
    """Obligation files as tables, in the order of the text (by each file's first item)."""

    def place(item: Obligation) -> tuple[int, str]:
        return order.get(item.citation.article, 10**6), item.id

    groups = []
    for group in policy.obligation_groups.values():
        items = [policy.obligations[i] for i in group.items if i in policy.obligations]
        rows = []
        notes: list[dict[str, Any]] = []
        for item in items:
            target = None
            if item.target is not None:
                t = item.target
                bound = policy.convention.words.get(t.bound) if t.bound else None
                target = {
                    "metric": t.metric,
                    "text": t.as_written(),
                    "operator": bound.operator if bound else None,
                    "by": _deadline_view(doc, t.by),
                }
            rows.append(
                {
                    "item": item,
                    "label": item.citation.label or item.citation.article,
                    "link": cite_link(doc, item.citation, "../"),
                    "deadline": _deadline_view(doc, item.deadline),
                    "target": target,
                    "responsible_note": item.responsible_note.id if item.responsible_note else None,
                }
            )
            notes += [{"item": item.id, "note": n} for n in item.interpretations]
        groups.append(
            {
                "group": group,
                "rows": rows,
                "notes": notes,
                "first": min((place(i) for i in items), default=(10**6, group.id)),
            }
        )
    return sorted(groups, key=lambda g: g["first"])


def cite_link(doc: Document, citation: Citation, prefix: str) -> str:
    return f"{prefix}{doc.source_page(citation.document)}#{citation.article}"


def _clause_view(doc: Document, policy: Policy, clause: Any, vz: Any, ve: Any) -> ClauseView:
    parameters = []
    for name in clause.parameters:
        p = policy.parameters[name]
        values = [
            {
                "start": v.start.isoformat(),
                "value": humanize.show_value(v.value, p.type.kind, p.unit),
                "label": v.citation.label or v.citation.article,
                "quote": v.citation.quote,
                "link": cite_link(doc, v.citation, "../"),
            }
            for v in p.values
        ]
        parameters.append({"p": p, "values": values})
    computations = []
    for name in clause.computations:
        c = policy.computations[name]
        item: dict[str, Any] = {"c": c, "own_citation": c.citation != clause.citation}
        item["citation_link"] = cite_link(doc, c.citation, "../")
        if c.expr is not None:
            item["zh"] = humanize.formula(c.expr, vz)
            item["en"] = humanize.formula(c.expr, ve)
        if c.table is not None:
            item["table"] = _table_view(c.table)
        computations.append(item)
    view = ClauseView(
        clause,
        clause.citation.label or clause.citation.article,
        cite_link(doc, clause.citation, "../"),
        parameters,
        computations,
    )
    if doc.tests is not None and clause.id in doc.tests.clauses:
        cov = doc.tests.clauses[clause.id]
        view.rows_covered, view.rows = cov.rows_covered, len(cov.rows)
        view.branches_covered, view.branches = cov.branches_covered, len(cov.branches)
        view.missing = cov.missing()
    return view


def _table_view(table: Any) -> dict[str, Any]:
    rows = []
    for i, row in enumerate(table.rows, 1):
        cells = [humanize.cell_text(row.cells[c]) if c in row.cells else "—" for c in table.columns]
        rows.append({"n": i, "cells": cells, "then": _then(row.then), "text": row.text or ""})
    default = _then(table.default) if table.default is not None else None
    return {
        "columns": table.columns,
        "rows": rows,
        "default": default,
        "hit": table.hit_policy,
        "gaps": table.gaps,
    }


def _then(node: Any) -> str:
    from ..language.expressions import Literal, to_source

    if isinstance(node, Literal) and not isinstance(node.value, bool | type(None)):
        return str(node.value) if not isinstance(node.value, str) else f"`{node.value}`"
    return to_source(node)


def source_body(doc: Document, document: str, source: SourceText) -> str:
    """The text as printed, anchors kept, each anchored unit followed by what encodes it."""
    report = next((r for r in doc.coverage if r.document == document), None)
    reasons = {n.anchor: n for n in doc.manifest if n.source == source.path.name}
    errata = {e.anchor: e for e in doc.errata} if source is doc.primary else {}
    raw_lines = source.path.read_text(encoding="utf-8").split("\n")
    body_start = raw_lines.index("---", 1) + 1 if raw_lines[:1] == ["---"] else 0
    result: list[str] = []
    for raw in raw_lines[body_start:]:
        match = _ANCHOR_LINE.match(raw)
        if not match:
            result.append(_escape_line(raw))
            continue
        text = _escape_line(raw[match.end() :])
        anchor = match.group(1)
        result.append(f'<a id="{anchor}"></a>{text}')
        result.append("")
        result.append(_article_note(doc, anchor, report, reasons, errata))
        result.append("")
    return "\n".join(result).rstrip("\n") + "\n"


def _article_note(
    doc: Document,
    anchor: str,
    report: SourceCoverage | None,
    reasons: dict[str, NotComputable],
    errata: dict[str, Erratum],
) -> str:
    parts = []
    who = report.cited_by.get(anchor, []) if report else []
    links = []
    duties, also = [], 0
    for clause in who:
        if clause.startswith(OBLIGATION_PREFIX) and doc.policy is not None:
            item = doc.policy.obligations.get(clause[len(OBLIGATION_PREFIX) :])
            if item is None:
                continue
            if item.citation.article != anchor:
                also += 1  # the unit holds the wording of the item's deadline only
                continue
            duties.append(
                f"[{item.duty.zh} `{item.id}`](../policies/{doc.id}.md#obligation-{item.id})"
            )
        elif clause == "policy":
            links.append(f"[文件信息 document](../policies/{doc.id}.md#document)")
        elif doc.policy is not None and clause in doc.policy.clauses:
            title = doc.policy.clauses[clause].title.zh
            links.append(f"[{title} `{clause}`](../policies/{doc.id}.md#clause-{clause})")
    if links:
        parts.append("→ 编码于 Encoded in: " + "；".join(links))
    if duties:
        parts.append("→ 义务与目标 Obligations and targets: " + "；".join(duties))
    if also:
        parts.append(
            f"→ 另为 {also} 项义务的期限用语出处 Also the deadline wording of {also} item(s) "
            f"([义务与目标 obligations](../policies/{doc.id}.md#obligations))"
        )
    if not parts and anchor in reasons:
        reason = reasons[anchor]
        parts.append(
            f"→ 不可计算 Not computable（{reason.category}）：{reason.reason.zh} "
            f"[详见 details](../coverage.md#{doc.id})"
        )
    elif not parts and report is not None and report.status.get(anchor) == "container":
        parts.append("→ 各项分别编码 Items encoded separately")
    elif not parts:
        parts.append("→ 尚未编码 Not yet accounted for")
    if anchor in errata:
        e = errata[anchor]
        parts.append(f"⚠ 疑似误印 Suspected misprint：“{e.printed}” → “{e.probably_meant}”")
    return "<small>" + "<br>".join(parts) + "</small>\n{: .article-note }"


def _escape_line(line: str) -> str:
    """Keep printed numbering as printed: Markdown would renumber "2." as a list."""
    line = _MD_LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)}\\.{m.group(3)}", line)
    if line.lstrip().startswith(("#", ">")):
        line = "\\" + line.lstrip()
    return line


def matrix_view(matrix: Matrix) -> dict[str, Any]:
    """Hand-written rows, and per boundary the outputs that change across its probes."""
    hand = [r for r in matrix.rows if r.kind == "hand-written"]
    groups: dict[str, list] = {}
    for row in matrix.rows:
        if row.kind != "hand-written":
            groups.setdefault(row.boundary, []).append(row)
    views = []
    for name, rows in groups.items():
        changing = [o for o in matrix.outputs if len({r.outputs.get(o) for r in rows}) > 1]
        views.append({"name": name, "rows": rows, "outputs": changing, "base": rows[0].case})
    return {"hand": hand, "groups": views, "outputs": matrix.outputs}


def facts_text(facts: dict[str, Any]) -> str:
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, default=str)


# -- writing ----------------------------------------------------------------------------------
def stale_files(out_dir: Path, pages: dict[str, bytes]) -> list[str]:
    """Generated files that differ from what would be rendered, are missing, or are left over."""
    problems = []
    for rel, content in pages.items():
        path = out_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.read_bytes() != content:
            problems.append(f"{rel}: stale")
    problems += [f"{rel}: no longer generated" for rel in _existing(out_dir) if rel not in pages]
    return problems


def write_site(out_dir: Path, pages: dict[str, bytes]) -> list[str]:
    """Write changed pages atomically and remove the ones no longer produced; returns the
    paths changed."""
    changed = []
    for rel, content in pages.items():
        path = out_dir / rel
        if path.is_file() and path.read_bytes() == content:
            continue
        write_atomic(path, content)
        changed.append(rel)
    for rel in _existing(out_dir):
        if rel not in pages:
            (out_dir / rel).unlink()
            changed.append(rel)
    _remove_empty_dirs(out_dir)
    return changed


def _existing(out_dir: Path) -> Iterable[str]:
    if not out_dir.is_dir():
        return []
    return sorted(
        p.relative_to(out_dir).as_posix()
        for p in out_dir.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def _remove_empty_dirs(out_dir: Path) -> None:
    if not out_dir.is_dir():
        return
    for path in sorted(out_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def run_docs(
    repo: Repository,
    check: bool,
    today: str | None,
    reference: Reference,
    history: Mapping[str, Sequence[Any]],
) -> int:
    """`policy docs [--check] [--today DATE]`: write generated_docs/, or exit 1 if stale."""
    day = _parse_day(today)
    out_dir = repo.root.parent / "generated_docs"
    pages = render_site(repo, day, reference=reference, history=history)
    if check:
        problems = stale_files(out_dir, pages)
        for problem in problems:
            print(f"generated_docs/{problem}")
        if problems:
            print(f"{len(problems)} generated file(s) out of date; run: policy docs")
            return 1
        print(f"ok: generated_docs/ is up to date ({len(pages)} files)")
        return 0
    changed = write_site(out_dir, pages)
    print(f"generated_docs/: {len(pages)} files, {len(changed)} changed")
    return 0


def _parse_day(text: str | None) -> dt.date:
    return dt.date.today() if text is None else parse_date(text, "--today")
