"""The gazette texts a policy cites: reading them (with their errata), and checking each
citation and quoted phrase against them."""

from __future__ import annotations

from ...language.errors import Location, PolicyFileError
from ..citations import check_citation
from ..loader import Document, value_at
from ..model import Citation
from ..sources import SourceError, load_errata, load_source
from .context import LoadContext


def load_sources(ctx: LoadContext, doc: Document) -> None:
    number = doc.data["document"]["number"]
    entries = doc.data.get("sources") or [
        {"file": "source.md", "document": number, "role": "primary"}
    ]
    for i, entry in enumerate(entries):
        path = ctx.directory / entry["file"]
        try:
            source = load_source(path)
        except SourceError as exc:
            ctx.errors.append(
                PolicyFileError(exc.message, Location(ctx.display(path), exc.line, exc.col))
            )
            continue
        except FileNotFoundError:
            ctx.errors.append(
                PolicyFileError(f"source file {entry['file']} is missing", doc.at(("sources", i)))
            )
            continue
        printed = str(source.front_matter.get("document_number", "")).replace(" ", "")
        if entry["role"] == "primary" and printed != entry["document"].replace(" ", ""):
            ctx.errors.append(
                PolicyFileError(
                    f"document number {entry['document']!r} differs from {entry['file']}'s "
                    f"front matter {printed!r}",
                    doc.at(("document", "number")),
                )
            )
        ctx.sources[entry["document"]] = source
        errata = ctx.directory / "errata.yaml"
        if entry["role"] == "primary" and errata.is_file():
            try:
                load_errata(errata, source)
            except SourceError as exc:
                ctx.errors.append(
                    PolicyFileError(exc.message, Location(ctx.display(errata), exc.line, exc.col))
                )


def cite(ctx: LoadContext, doc: Document, path: tuple) -> Citation:
    raw = value_at(doc.data, path)
    citation = Citation(raw["document"], raw["article"], raw["quote"])
    cited, problems = check_citation(
        citation, ctx.sources, lambda key: doc.at((*path, key) if key else path)
    )
    ctx.errors += problems
    return cited


def phrase_in_citation(ctx: LoadContext, phrase: str, citation: Citation) -> bool:
    source = ctx.sources.get(citation.document)
    if source is None or citation.article not in source.anchors:
        return True  # the citation error is reported already
    return source.locate(phrase, citation.article)
