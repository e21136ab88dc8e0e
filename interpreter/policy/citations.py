"""Where a citation gets checked: the quote must stand, verbatim, in the cited article.

Whitespace and ``**`` are ignored (line breaks are layout, not law); every other character
must match the source text as printed in the gazette.
"""

from __future__ import annotations

from collections.abc import Callable

from ..language.errors import Location, PolicyFileError, did_you_mean
from .model import Citation
from .sources import SourceText


def check_citation(
    citation: Citation, sources: dict[str, SourceText], at: Callable[[str], Location]
) -> tuple[Citation, list[PolicyFileError]]:
    """The citation with its printed label filled in, and any problems with it.

    ``at(key)`` is where ``document``, ``article`` or ``quote`` was written."""
    source = sources.get(citation.document)
    if source is None:
        known = ", ".join(sources) or "none"
        hint = did_you_mean(citation.document, sources)
        return citation, [
            PolicyFileError(
                f"unknown document {citation.document!r}{hint}; this policy's sources: {known}",
                at("document"),
            )
        ]
    if citation.article not in source.anchors:
        hint = did_you_mean(citation.article, source.anchors)
        return citation, [
            PolicyFileError(
                f"no article anchor {citation.article!r} in {source.path.name}{hint}",
                at("article"),
            )
        ]
    label = source.label_path(citation.article)
    cited = Citation(citation.document, citation.article, citation.quote, label, at(""))
    if not source.locate(citation.quote, citation.article):
        where = "elsewhere in the text" if source.locate(citation.quote) else "nowhere in the text"
        return cited, [
            PolicyFileError(
                f"quote does not occur verbatim in {citation.article} ({label}); it occurs {where}: "
                f"{_clip(citation.quote)!r}",
                at("quote"),
            )
        ]
    return cited, []


def _clip(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."
