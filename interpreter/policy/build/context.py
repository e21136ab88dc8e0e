"""The load context: what every checker of a policy folder reads and adds to.

One ``LoadContext`` goes down the pipeline (``pipeline.load_policy``): the folder, the
documents read, the gazette texts, the boundary convention, the names declared so far with
their types, and every problem found, each at its file:line:column. A checker appends to
``errors`` and goes on; nothing stops at the first problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...language.conventions import Convention, convention_from
from ...language.errors import Location, PolicyError, PolicyFileError
from ...language.values import Type
from ..loader import Document
from ..sources import SourceText


@dataclass
class LoadContext:
    directory: Path
    display_root: Path
    errors: list[PolicyError] = field(default_factory=list)
    convention: Convention = field(
        default_factory=lambda: convention_from({"base": "civil-code-1259"})
    )
    sources: dict[str, SourceText] = field(default_factory=dict)
    types: dict[str, Type] = field(default_factory=dict)
    defined_at: dict[str, Location] = field(default_factory=dict)
    # the documents read (reading.py), each valid against its schema
    policy_doc: Document | None = None
    clause_docs: list[Document] = field(default_factory=list)
    obligation_docs: list[Document] = field(default_factory=list)
    test_docs: list[Document] = field(default_factory=list)

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.display_root).as_posix()
        except ValueError:
            return str(path)

    def declare(self, name: str, t: Type, where: Location, what: str) -> bool:
        if name in self.types:
            self.errors.append(
                PolicyFileError(
                    f"{what} {name!r} is already defined at {self.defined_at[name]}", where
                )
            )
            return False
        self.types[name] = t
        self.defined_at[name] = where
        return True
