"""Checks and coverage for a policy folder, including folders whose text is not yet encoded."""

from __future__ import annotations

from pathlib import Path

from ..language.errors import Location, PolicyError, PolicyFileError
from .article_coverage import SourceCoverage, citations_of, load_manifest, source_coverage
from .model import Policy
from .sources import SourceError, SourceText, load_errata, load_source


def _display(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def load_folder_sources(
    folder: Path, base: Path
) -> tuple[dict[str, SourceText], list[PolicyError]]:
    """source.md (and interpretation.md) of a folder, keyed by document, with its errata checked."""
    sources: dict[str, SourceText] = {}
    errors: list[PolicyError] = []
    for name in ("source.md", "interpretation.md"):
        path = folder / name
        if not path.is_file():
            continue
        try:
            source = load_source(path)
        except SourceError as exc:
            errors.append(
                PolicyFileError(exc.message, Location(_display(path, base), exc.line, exc.col))
            )
            continue
        key = str(source.front_matter.get("document_number") or name)
        sources[key] = source
        if name == "source.md" and (folder / "errata.yaml").is_file():
            try:
                load_errata(folder / "errata.yaml", source)
            except SourceError as exc:
                errors.append(
                    PolicyFileError(
                        exc.message,
                        Location(_display(folder / "errata.yaml", base), exc.line, exc.col),
                    )
                )
    return sources, errors


def check_source_folder(folder: Path, base: Path) -> list[PolicyError]:
    sources, errors = load_folder_sources(folder, base)
    _, problems = load_manifest(folder, sources, _display(folder / "coverage.yaml", base))
    return errors + problems


def folder_coverage(folder: Path, base: Path, policy: Policy | None) -> list[SourceCoverage]:
    """Coverage of a folder's text: by its policy when it has one (``policy``), else by its
    coverage manifest alone (a document not yet encoded)."""
    if policy is not None:
        return source_coverage(policy.sources, citations_of(policy), policy.not_computable)
    sources, errors = load_folder_sources(folder, base)
    manifest, problems = load_manifest(folder, sources, "coverage.yaml")
    if errors or problems:
        raise PolicyError(str((errors + problems)[0]))
    return source_coverage(sources, [], manifest)
