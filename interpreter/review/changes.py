"""Building one ``Change``: where it stands (clause, article, printed label, the quote the
article is cited with, file:line:column) and what it says, zh first, English beside."""

from __future__ import annotations

from ..language.errors import Location
from ..policy.model import Citation, Policy
from .report import KINDS, Change, Text

ARROW = " → "


def where(location: Location | None) -> str | None:
    """``file:line:column`` of a model location (no path inside the file)."""
    if location is None:
        return None
    if location.line:
        return f"{location.file}:{location.line}:{location.column}"
    return location.file


def label_of(policy: Policy | None, citation: Citation | None) -> str | None:
    """The article as printed (三、（三）1.), from the citation or the policy's source."""
    if citation is None:
        return None
    if citation.label:
        return citation.label
    if policy is not None:
        source = policy.sources.get(citation.document)
        if source is not None and citation.article in source.anchors:
            return source.label_path(citation.article)
    return None


def change(
    kind: str,
    subject: str,
    summary: Text,
    *,
    clause: str | None = None,
    citation: Citation | None = None,
    policy: Policy | None = None,
    before: Text | None = None,
    after: Text | None = None,
    breaking: bool = False,
    meaning: bool = True,
    location: Location | str | None = None,
    article: str | None = None,
    label: str | None = None,
) -> Change:
    """A change cited by ``citation`` (the new side's, else the old side's)."""
    assert kind in KINDS, kind
    return Change(
        kind=kind,
        subject=subject,
        summary=summary,
        clause=clause,
        article=article or (citation.article if citation else None),
        label=label or label_of(policy, citation),
        quote=citation.quote if citation else None,
        before=before,
        after=after,
        breaking=breaking,
        meaning=meaning,
        location=location if isinstance(location, str) or location is None else where(location),
    )


def said(zh: str, en: str | None = None) -> Text:
    return Text(zh, zh if en is None else en)


def headed(label: str | None, zh: str, en: str) -> Text:
    """A summary line opened by the article as printed: 三、（一） parameter flat_amount: …"""
    head = f"{label} " if label else ""
    return Text(head + zh, head + en)


def pair(before: Text | None, after: Text | None) -> Text:
    """``before → after`` in each language; a missing side reads 无 / none."""
    b = before or Text("无", "none")
    a = after or Text("无", "none")
    return Text(f"{b.zh}{ARROW}{a.zh}", f"{b.en}{ARROW}{a.en}")
