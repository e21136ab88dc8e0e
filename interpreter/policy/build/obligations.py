"""Obligations and targets: what a document binds the administration to, as checked data.

They decide no individual case (the rule language has no lists, and nothing is computed),
so they are loaded beside the rules and checked against the text instead: each
department, bound word, unit and number must stand in the quote, each deadline's wording
too, and a wording that is not a calendar date must name the interpretation note that
dates it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from ...language.errors import PolicyFileError, did_you_mean
from ...language.values import iso_date
from ..loader import Document, value_at
from ..model import (
    Citation,
    Clause,
    Deadline,
    Interpretation,
    Obligation,
    ObligationGroup,
    Target,
)
from ..sources import normalize_quote
from .context import LoadContext
from .notes import interpretations, text_of
from .source_texts import cite


def obligations_of(
    ctx: LoadContext, docs: list[Document], clauses: dict[str, Clause]
) -> tuple[dict[str, Obligation], dict[str, ObligationGroup]]:
    """Obligation files: data, not rules. Everything must trace to the quote: each
    department, bound word, unit and number stands in it, each deadline's wording too,
    and a wording that is not a calendar date names the note that dates it."""
    obligations: dict[str, Obligation] = {}
    groups: dict[str, ObligationGroup] = {}
    for doc in docs:
        data = doc.data
        stem = Path(doc.file).stem
        if data["id"] != stem:
            ctx.errors.append(
                PolicyFileError(
                    f"obligations id {data['id']!r} differs from its file name {stem!r}",
                    doc.at(("id",)),
                )
            )
        if data["id"] in clauses or data["id"] in groups:
            ctx.errors.append(
                PolicyFileError(f"clause id {data['id']!r} is used twice", doc.at(("id",)))
            )
        shared = tuple(interpretations(data.get("interpretations", [])))
        _unique_notes(ctx, doc, ("interpretations",), shared)
        ids = []
        for i, spec in enumerate(data["items"]):
            item = _obligation(ctx, doc, ("items", i), spec, shared)
            if item.id in obligations:
                ctx.errors.append(
                    PolicyFileError(
                        f"obligation id {item.id!r} is used twice (first at "
                        f"{obligations[item.id].location.file}:"
                        f"{obligations[item.id].location.line})",
                        doc.at(("items", i, "id")),
                    )
                )
                continue
            obligations[item.id] = item
            ids.append(item.id)
        groups[data["id"]] = ObligationGroup(
            data["id"], text_of(data["title"]), tuple(ids), shared, doc.file
        )
    return dict(sorted(obligations.items(), key=lambda kv: _place(ctx, kv[1]))), groups


def _place(ctx: LoadContext, item: Obligation) -> tuple[int, int]:
    """Where an item's article stands: documents in order, then anchors in the text."""
    documents = list(ctx.sources)
    source = ctx.sources.get(item.citation.document)
    if source is None or item.citation.article not in source.anchors:
        return len(documents), 0
    anchors = list(source.anchors)
    return documents.index(item.citation.document), anchors.index(item.citation.article)


def _unique_notes(
    ctx: LoadContext, doc: Document, path: tuple, notes: tuple[Interpretation, ...]
) -> None:
    seen: set[str] = set()
    for j, note in enumerate(notes):
        if note.id in seen:
            ctx.errors.append(
                PolicyFileError(
                    f"interpretation id {note.id!r} is used twice", doc.at((*path, j, "id"))
                )
            )
        seen.add(note.id)


def _obligation(
    ctx: LoadContext, doc: Document, base: tuple, spec: dict, shared: tuple[Interpretation, ...]
) -> Obligation:
    citation = cite(ctx, doc, (*base, "citation"))
    own = tuple(interpretations(spec.get("interpretations", [])))
    _unique_notes(ctx, doc, (*base, "interpretations"), own)
    notes = {n.id: n for n in shared} | {n.id: n for n in own}
    quote = normalize_quote(citation.quote)
    responsible = tuple(spec["responsible"])
    for j, name in enumerate(responsible):
        if normalize_quote(name) not in quote:
            ctx.errors.append(
                PolicyFileError(
                    f"responsible {name!r} does not occur in the quote of "
                    f"{citation.article}: name departments as the text writes them",
                    doc.at((*base, "responsible", j)),
                )
            )
    responsible_note = None
    if "responsible_note" in spec:
        responsible_note = _note(ctx, doc, (*base, "responsible_note"), notes)
    elif not responsible:
        ctx.errors.append(
            PolicyFileError(
                "no one is responsible: if the text names no department, say so in an "
                "interpretation note and name it in responsible_note",
                doc.at((*base, "responsible")),
            )
        )
    deadline = None
    if "deadline" in spec:
        deadline = _deadline(ctx, doc, (*base, "deadline"), citation, notes)
    target = None
    if "target" in spec:
        target = _target(ctx, doc, (*base, "target"), citation, notes)
    return Obligation(
        id=spec["id"],
        group=doc.data["id"],
        citation=citation,
        duty=text_of(spec["duty"]),
        responsible=responsible,
        responsible_note=responsible_note,
        deadline=deadline,
        target=target,
        category=spec.get("category"),
        interpretations=own,
        location=doc.at(base),
    )


def _note(
    ctx: LoadContext, doc: Document, path: tuple, notes: dict[str, Interpretation]
) -> Interpretation | None:
    name = value_at(doc.data, path)
    if name not in notes:
        hint = did_you_mean(name, notes)
        known = ", ".join(notes) or "none"
        ctx.errors.append(
            PolicyFileError(
                f"no interpretation {name!r} on this item or its file{hint}; known: {known}",
                doc.at(path),
            )
        )
        return None
    return notes[name]


def _deadline(
    ctx: LoadContext,
    doc: Document,
    path: tuple,
    citation: Citation,
    notes: dict[str, Interpretation],
) -> Deadline:
    spec = value_at(doc.data, path)
    day = iso_date(spec["date"])
    where = citation
    if "citation" in spec:
        where = cite(ctx, doc, (*path, "citation"))
    wording = spec["wording"]
    if normalize_quote(wording) not in normalize_quote(where.quote):
        ctx.errors.append(
            PolicyFileError(
                f"deadline wording {wording!r} does not occur in the quote of {where.article}",
                doc.at((*path, "wording")),
            )
        )
    printed = _calendar_date(wording)
    if printed is not None and printed != day:
        ctx.errors.append(
            PolicyFileError(
                f"deadline {day.isoformat()} differs from the date the text prints "
                f"({wording!r} is {printed.isoformat()})",
                doc.at((*path, "date")),
            )
        )
    note = None
    if "note" in spec:
        note = _note(ctx, doc, (*path, "note"), notes)
    elif printed is None:
        ctx.errors.append(
            PolicyFileError(
                f"deadline wording {wording!r} is not a calendar date: add an "
                f"interpretation note saying why it means {day.isoformat()} and name it "
                "in 'note'",
                doc.at(path),
            )
        )
    return Deadline(day, wording, where, note)


def _target(
    ctx: LoadContext,
    doc: Document,
    path: tuple,
    citation: Citation,
    notes: dict[str, Interpretation],
) -> Target:
    spec = value_at(doc.data, path)
    quote = normalize_quote(citation.quote)
    value = Decimal(spec["value"])
    written = format(value.normalize(), "f") if value == value.to_integral_value() else None
    candidates = {format(value, "f"), written or format(value, "f")}
    if not any(c in quote for c in candidates):
        ctx.errors.append(
            PolicyFileError(
                f"target value {spec['value']} does not occur in the quote of {citation.article}",
                doc.at((*path, "value")),
            )
        )
    for key in ("unit", "bound"):
        if key in spec and normalize_quote(spec[key]) not in quote:
            ctx.errors.append(
                PolicyFileError(
                    f"target {key} {spec[key]!r} does not occur in the quote of {citation.article}",
                    doc.at((*path, key)),
                )
            )
    bound = spec.get("bound")
    if bound is not None and bound not in ctx.convention.words:
        hint = did_you_mean(bound, ctx.convention.words)
        ctx.errors.append(
            PolicyFileError(
                f"target bound {bound!r} is not a threshold word of this document's "
                f"convention{hint}",
                doc.at((*path, "bound")),
            )
        )
    by = None
    if "by" in spec:
        by = _deadline(ctx, doc, (*path, "by"), citation, notes)
    return Target(text_of(spec["metric"]), value, spec.get("unit"), bound, by)


_CALENDAR_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:前|之前|以前)?$")


def _calendar_date(wording: str) -> dt.date | None:
    """``2021年12月31日(前)`` is a calendar date; 年度内, 8月底前 and 适时 are not."""
    match = _CALENDAR_DATE.match(normalize_quote(wording))
    if match is None:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
