"""A clause's parameters: named amounts and limits, each with its dated values and the
citation of every value."""

from __future__ import annotations

from ...language.errors import PolicyFileError
from ...language.values import declared, iso_date
from ..loader import Document
from ..model import Fact, Parameter, ParameterValue
from .context import LoadContext
from .notes import text_of
from .source_texts import cite
from .values import literal_value


def parameters_of(ctx: LoadContext, doc: Document, facts: dict[str, Fact]) -> dict[str, Parameter]:
    out = {}
    clause_id = doc.data["id"]
    for name, spec in (doc.data.get("parameters") or {}).items():
        base = ("parameters", name)
        t = declared(spec["type"])
        if not ctx.declare(name, t, doc.at(base, key=True), "parameter"):
            continue
        values = []
        for i, entry in enumerate(spec["values"]):
            where = doc.at((*base, "values", i, "value"))
            value = literal_value(ctx, entry["value"], t, where)
            citation = cite(ctx, doc, (*base, "values", i, "citation"))
            values.append(ParameterValue(iso_date(entry["from"]), value, citation))
        starts = [v.start for v in values]
        if starts != sorted(set(starts)):
            ctx.errors.append(
                PolicyFileError(
                    "dated values must be in strictly increasing order of 'from'",
                    doc.at((*base, "values")),
                )
            )
        out[name] = Parameter(
            name, t, text_of(spec["description"]), tuple(values), clause_id, spec.get("unit")
        )
    return out
