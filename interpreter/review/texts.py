"""What changed in the words around the rules: the gazette text per article (a compact
character diff), citations and quotes, interpretation notes, errata, coverage, duties,
deadlines and targets, and the hand-written cases."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..policy.model import Citation, Interpretation, Policy
from ..policy.sources import Erratum, SourceError, SourceText, load_errata, load_source
from .changes import change, headed, label_of, pair, said
from .report import Change, Text

CONTEXT = 8  # characters of unchanged text kept on each side of a change


@dataclass(frozen=True)
class Texts:
    """The texts of one version, as far as they read: source files by file name, errata."""

    sources: dict[str, SourceText] = field(default_factory=dict)
    errata: list[Erratum] = field(default_factory=list)


def texts_of_policy(policy: Policy) -> Texts:
    sources = {s.path.name: s for s in policy.sources.values()}
    return Texts(sources, _errata(policy.root, sources))


def texts_of_folder(folder: Path) -> Texts:
    """The texts of a version that does not validate: every source file that parses."""
    sources = {}
    for path in sorted(folder.glob("*.md")):
        try:
            sources[path.name] = load_source(path)
        except SourceError:
            continue
    return Texts(sources, _errata(folder, sources))


def _errata(folder: Path, sources: Mapping[str, SourceText]) -> list[Erratum]:
    path = folder / "errata.yaml"
    if not path.is_file() or "source.md" not in sources:
        return []
    try:
        return load_errata(path, sources["source.md"])
    except SourceError:  # a broken errata file is a validation problem of its version
        return []


# -- the gazette text ---------------------------------------------------------------------


def own_text(source: SourceText, anchor_id: str) -> str:
    """An article's own text, its sub-items left out (they are compared on their own)."""
    anchor = source.anchors[anchor_id]
    children = [a.line for a in source.anchors.values() if a.parent == anchor_id]
    lines = anchor.text.split("\n")
    if children:
        lines = lines[: min(children) - anchor.line]
    return "\n".join(lines).strip()


def char_diff(before: str, after: str, context: int = CONTEXT) -> str:
    """``…定额增加 [-45-]{+50+} 元…``: the changed characters marked, a little context
    kept; a change is widened to whole numbers, and changes a character or two apart are
    shown as one."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    spans: list[list[int]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if spans and i1 - spans[-1][1] <= 2 and j1 - spans[-1][3] <= 2:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    for span in spans:  # whole numbers: 1[-4-]5 reads worse than [-145-]
        changed = before[span[0] : span[1]] + after[span[2] : span[3]]
        if not any(ch.isdigit() for ch in changed):
            continue
        while span[0] > 0 and span[2] > 0 and before[span[0] - 1].isdigit():
            span[0] -= 1
            span[2] -= 1
        while span[1] < len(before) and span[3] < len(after) and before[span[1]].isdigit():
            span[1] += 1
            span[3] += 1
    parts: list[str] = []
    done = 0
    for k, (i1, i2, j1, j2) in enumerate(spans):
        gap = before[done:i1]
        if k == 0:
            gap = gap if len(gap) <= context else "…" + gap[-context:]
        elif len(gap) > 2 * context:
            gap = gap[:context] + "…" + gap[-context:]
        parts.append(gap)
        if i2 > i1:
            parts.append(f"[-{before[i1:i2]}-]")
        if j2 > j1:
            parts.append(f"{{+{after[j1:j2]}+}}")
        done = i2
    tail = before[done:]
    parts.append(tail if len(tail) <= context else tail[:context] + "…")
    return "".join(parts).replace("\n", "⏎")


def source_changes(old: Texts, new: Texts) -> list[Change]:
    out: list[Change] = []
    for name in sorted(old.sources.keys() | new.sources.keys()):
        a, b = old.sources.get(name), new.sources.get(name)
        anchors = list(b.anchors) if b else []
        anchors += [x for x in (a.anchors if a else []) if x not in anchors]
        for anchor in anchors:
            before = own_text(a, anchor) if a and anchor in a.anchors else None
            after = own_text(b, anchor) if b and anchor in b.anchors else None
            if before == after:
                continue
            side = b if after is not None else a
            assert side is not None
            label = side.label_path(anchor)
            if before is None or after is None:
                what = ("新增", "added") if before is None else ("删除", "removed")
                shown = (after or before or "")[:60]
                summary = headed(
                    label, f"{name} 条文{what[0]}：{shown}", f"{name} text {what[1]}: {shown}"
                )
            else:
                diff = char_diff(before, after)
                summary = headed(label, f"{name} 条文修改：{diff}", f"{name} text changed: {diff}")
            out.append(
                change(
                    "source",
                    f"{name}#{anchor}",
                    summary,
                    article=anchor,
                    label=label,
                    before=said(before) if before is not None else None,
                    after=said(after) if after is not None else None,
                    location=f"policies/{side.path.parent.name}/{name}:{side.anchors[anchor].line}:1",
                )
            )
    return out


def errata_changes(old: Texts, new: Texts) -> list[Change]:
    def key(e: Erratum) -> tuple[str, str]:
        return (e.anchor, e.printed)

    a = {key(e): e for e in old.errata}
    b = {key(e): e for e in new.errata}
    out = []
    for k in [*b, *(x for x in a if x not in b)]:
        before, after = a.get(k), b.get(k)
        if (
            before
            and after
            and (before.probably_meant, before.why) == (after.probably_meant, after.why)
        ):
            continue
        e = after or before
        assert e is not None
        what = (
            ("新增勘误", "erratum added")
            if before is None
            else ("删除勘误", "erratum removed")
            if after is None
            else ("勘误修改", "erratum changed")
        )

        def shown(x: Erratum | None) -> Text | None:
            if x is None:
                return None
            return Text(
                f"印作“{x.printed}”，疑为“{x.probably_meant}”",
                f'printed "{x.printed}", probably meant "{x.probably_meant}" ({x.why})',
            )

        t = shown(after or before)
        assert t is not None
        out.append(
            change(
                "erratum",
                f"{e.anchor}: {e.printed}",
                Text(f"{e.anchor} {what[0]}：{t.zh}", f"{e.anchor} {what[1]}: {t.en}"),
                article=e.anchor,
                before=shown(before),
                after=shown(after),
                location=f"errata.yaml:{e.line}:1",
            )
        )
    return out


# -- citations and quotes -----------------------------------------------------------------


def _citations(
    policy: Policy, clauses: Mapping[str, str] | None
) -> dict[str, tuple[str | None, Citation]]:
    """Every citation by who makes it (stable across versions), with its clause."""
    m = clauses or {}
    out: dict[str, tuple[str | None, Citation]] = {"in-force": (None, policy.in_force.citation)}
    if policy.convention_citation is not None:
        out["convention"] = (None, policy.convention_citation)
    for clause in policy.clauses.values():
        cid = m.get(clause.id, clause.id)
        out[f"clause {cid}"] = (cid, clause.citation)
    for comp in policy.computations.values():
        cid = m.get(comp.clause, comp.clause)
        out[f"value {comp.name}"] = (cid, comp.citation)
    for p in policy.parameters.values():
        cid = m.get(p.clause, p.clause)
        for v in p.values:
            out[f"parameter {p.name} {v.start.isoformat()}"] = (cid, v.citation)
    for item in policy.obligations.values():
        out[f"item {item.id}"] = (item.group, item.citation)
        for what, d in (
            ("deadline", item.deadline),
            ("target date", item.target.by if item.target else None),
        ):
            if d is not None:
                out[f"{what} of {item.id}"] = (item.group, d.citation)
    return out


def citation_changes(old: Policy, new: Policy, clauses: Mapping[str, str]) -> list[Change]:
    a, b = _citations(old, clauses), _citations(new, None)
    out: list[Change] = []
    seen: set[tuple] = set()
    for who in b.keys() & a.keys():
        (_, ca), (clause, cb) = a[who], b[who]
        if (ca.document, ca.article) != (cb.document, cb.article):
            kind = "citation"
            before = Text(
                f"{ca.label or ca.article}（{ca.article}）",
                f"{ca.label or ca.article} ({ca.article})",
            )
            after = Text(
                f"{cb.label or cb.article}（{cb.article}）",
                f"{cb.label or cb.article} ({cb.article})",
            )
        elif ca.quote != cb.quote:
            kind = "quote"
            before, after = said(ca.quote), said(cb.quote)
        else:
            continue
        key = (kind, clause, before, after)
        if key in seen:  # one quote shared by several values: said once
            continue
        seen.add(key)
        shown = pair(before, after) if kind == "citation" else said(char_diff(ca.quote, cb.quote))
        out.append(
            change(
                kind,
                who,
                headed(label_of(new, cb), f"{who} 引文：{shown.zh}", f"{who} citation: {shown.en}"),
                clause=clause,
                citation=cb,
                policy=new,
                before=before,
                after=after,
                location=cb.location,
            )
        )
    return sorted(out, key=lambda c: c.subject)


# -- interpretation notes -----------------------------------------------------------------


def _notes(
    policy: Policy, clauses: Mapping[str, str] | None
) -> dict[str, tuple[str | None, Interpretation, Citation | None, str]]:
    m = clauses or {}
    out: dict[str, tuple[str | None, Interpretation, Citation | None, str]] = {}
    for note in policy.interpretations:
        out[f"policy/{note.id}"] = (None, note, None, "policy.yaml")
    for clause in policy.clauses.values():
        cid = m.get(clause.id, clause.id)
        for note in clause.interpretations:
            out[f"{cid}/{note.id}"] = (cid, note, clause.citation, clause.file)
    for group in policy.obligation_groups.values():
        for note in group.interpretations:
            out[f"{group.id}/{note.id}"] = (group.id, note, None, group.file)
    for item in policy.obligations.values():
        for note in item.interpretations:
            out[f"{item.id}/{note.id}"] = (item.group, note, item.citation, str(item.location.file))
    return out


def _note_text(note: Interpretation) -> Text:
    return Text(f"{note.topic.zh}：{note.note.zh}", f"{note.topic.en}: {note.note.en}")


def note_changes(old: Policy, new: Policy, clauses: Mapping[str, str]) -> list[Change]:
    a, b = _notes(old, clauses), _notes(new, None)
    out = []
    for key in [*b, *(k for k in a if k not in b)]:
        before, after = a.get(key), b.get(key)
        bt = _note_text(before[1]) if before else None
        at = _note_text(after[1]) if after else None
        if bt == at:
            continue
        side, entry = (new, after) if after else (old, before)
        assert entry is not None
        clause, note, citation, file = entry
        if bt is None or at is None:
            what = (
                ("新增解释说明", "note added") if bt is None else ("删除解释说明", "note removed")
            )
            shown = at or bt or Text("", "")
        else:
            what = ("解释说明修改", "note changed")
            shown = Text(char_diff(bt.zh, at.zh), char_diff(bt.en, at.en))
        out.append(
            change(
                "note",
                key,
                headed(
                    label_of(side, citation),
                    f"{what[0]} {note.id}：{shown.zh}",
                    f"{what[1]} {note.id}: {shown.en}",
                ),
                clause=clause,
                citation=citation,
                policy=side,
                before=bt,
                after=at,
                location=file,
            )
        )
    return out
