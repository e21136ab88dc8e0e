"""policy.yaml: the boundary convention's overrides, the facts (inputs), the outputs and
the in-force window."""

from __future__ import annotations

from ...language.errors import PolicyFileError, did_you_mean
from ...language.values import declared, iso_date
from ..loader import Document
from ..model import Computation, Fact, InForce, Output
from .context import LoadContext
from .notes import text_of
from .source_texts import cite
from .values import enum_values, literal_value


def check_convention(ctx: LoadContext, doc: Document) -> None:
    overrides = doc.data["boundary_convention"].get("overrides") or {}
    for word in overrides:
        if word not in ctx.convention.words or word in ("gte", "gt", "lte", "lt"):
            ctx.errors.append(
                PolicyFileError(
                    f"{word!r} is not a threshold word",
                    doc.at(("boundary_convention", "overrides", word), key=True),
                )
            )


def facts_of(ctx: LoadContext, doc: Document) -> dict[str, Fact]:
    facts = {}
    for name, spec in (doc.data.get("facts") or {}).items():
        where = doc.at(("facts", name), key=True)
        values = enum_values(ctx, spec, where, f"fact {name}")
        required = spec.get("required", True)
        has_default = "default" in spec
        t = declared(spec["type"], values, nullable=not required and not has_default)
        default = None
        if has_default:
            default = literal_value(ctx, spec["default"], t, doc.at(("facts", name, "default")))
        for bound in ("minimum", "exclusive_minimum", "maximum"):
            if bound in spec and not t.numeric:
                ctx.errors.append(
                    PolicyFileError(
                        f"{bound} applies to numbers only", doc.at(("facts", name, bound))
                    )
                )
        ctx.declare(name, t, where, "fact")
        facts[name] = Fact(
            name,
            t,
            text_of(spec["description"]),
            required,
            default,
            spec.get("minimum"),
            spec.get("exclusive_minimum"),
            spec.get("maximum"),
            spec.get("unit"),
        )
    return facts


def outputs_of(
    ctx: LoadContext, doc: Document, computations: dict[str, Computation]
) -> dict[str, Output]:
    outputs = {}
    for name, spec in (doc.data.get("outputs") or {}).items():
        where = doc.at(("outputs", name), key=True)
        values = enum_values(ctx, spec, where, f"output {name}")
        t = declared(spec["type"], values, spec.get("nullable", False))
        comp = computations.get(name)
        if comp is None:
            if name not in ctx.types:
                hint = did_you_mean(name, computations)
                ctx.errors.append(
                    PolicyFileError(f"output {name!r} is computed by no clause{hint}", where)
                )
        elif comp.type != t:
            ctx.errors.append(
                PolicyFileError(
                    f"output {name!r} is declared {t} here but computed as {comp.type} in "
                    f"clause {comp.clause}",
                    where,
                )
            )
        outputs[name] = Output(name, t, text_of(spec["description"]), spec.get("unit"))
    return outputs


def in_force_of(ctx: LoadContext, doc: Document) -> InForce:
    spec = doc.data["in_force"]
    start = iso_date(spec["from"])
    until = iso_date(spec["until"]) if spec["until"] else None
    if until is not None and until < start:
        ctx.errors.append(
            PolicyFileError(
                f"in force until {until} is before its start {start}",
                doc.at(("in_force", "until")),
            )
        )
    for key in ("signed", "published"):
        iso_date(doc.data["document"][key])
    return InForce(start, until, cite(ctx, doc, ("in_force", "citation")))
