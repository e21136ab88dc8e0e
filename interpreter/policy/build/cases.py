"""tests/*.yaml: the hand-written cases, naming real clauses, facts and outputs."""

from __future__ import annotations

from ...language.errors import PolicyFileError, did_you_mean
from ...language.values import Type, iso_date
from ..loader import Document
from ..model import Case, Clause, Fact, Output
from .context import LoadContext


def cases_of(
    ctx: LoadContext,
    docs: list[Document],
    facts: dict[str, Fact],
    outputs: dict[str, Output],
    computations: dict[str, Type],
    clauses: dict[str, Clause],
) -> list[Case]:
    """``computations``: every declared computed name, built or not (no cascades)."""
    cases = []
    for doc in docs:
        data = doc.data
        clause = data.get("clause")
        if clause is not None and clause not in clauses:
            hint = did_you_mean(clause, clauses)
            ctx.errors.append(
                PolicyFileError(f"unknown clause {clause!r}{hint}", doc.at(("clause",)))
            )
        file_on = iso_date(data["on"]) if "on" in data else None
        common = data.get("common_facts") or {}
        _known(ctx, common, facts, doc, ("common_facts",), "fact")
        for i, spec in enumerate(data["cases"]):
            base = ("cases", i)
            _known(ctx, spec["facts"], facts, doc, (*base, "facts"), "fact")
            _known(
                ctx,
                spec.get("expect") or {},
                {**computations, **outputs},
                doc,
                (*base, "expect"),
                "output",
            )
            if ("expect" in spec) == ("expect_error" in spec):
                ctx.errors.append(
                    PolicyFileError(
                        "a case needs exactly one of 'expect' or 'expect_error'", doc.at(base)
                    )
                )
            on = iso_date(spec["on"]) if "on" in spec else file_on
            cases.append(
                Case(
                    spec["name"],
                    on,
                    {**common, **spec["facts"]},
                    spec.get("expect") or {},
                    spec.get("expect_error"),
                    clause,
                    doc.at(base),
                )
            )
    return cases


def _known(
    ctx: LoadContext, given: dict, known: dict, doc: Document, path: tuple, what: str
) -> None:
    for name in given:
        if name not in known:
            ctx.errors.append(
                PolicyFileError(
                    f"unknown {what} {name!r}{did_you_mean(name, known)}",
                    doc.at((*path, name), key=True),
                )
            )
