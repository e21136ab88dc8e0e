"""The contracts other teams code against: JSON Schemas of a policy's facts and outputs,
and the versioned result/trace format ``trace.v1`` (``schema/trace.v1.schema.json``).

``policy schema POLICY_ID`` prints ``policy_schemas(policy)``; the HTTP service embeds the
same schemas in its OpenAPI document and validates every request body against them.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..language.values import NUMERIC, Kind, to_json
from ..policy import resources
from ..policy.model import Fact, Policy
from .engine import ENGINE_VERSION, Result
from .facts import NUMBER_TEXT
from .versions import CALENDAR_VERSION

TRACE_FORMAT = "trace.v1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# a number as text: the one spelling every entry point accepts (facts.NUMBER_TEXT)
DECIMAL_PATTERN = f"^{NUMBER_TEXT[Kind.NUMBER]}$"
MONEY_IN_PATTERN = f"^{NUMBER_TEXT[Kind.MONEY]}$"
INTEGER_PATTERN = f"^{NUMBER_TEXT[Kind.INTEGER]}$"
MONEY_OUT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _text(t: Any) -> str:
    return f"{t.en} / {t.zh}"


def fact_schema(fact: Fact) -> dict[str, Any]:
    """One fact as a caller may send it (what ``facts.parse_facts`` accepts)."""
    kind = fact.type.kind
    out: dict[str, Any]
    if kind in NUMERIC:
        pattern = {Kind.MONEY: MONEY_IN_PATTERN, Kind.INTEGER: INTEGER_PATTERN}.get(
            kind, DECIMAL_PATTERN
        )
        number: dict[str, Any] = {"type": "integer" if kind == Kind.INTEGER else "number"}
        for key, bound in (
            ("minimum", fact.minimum),
            ("exclusiveMinimum", fact.exclusive_minimum),
            ("maximum", fact.maximum),
        ):
            if bound is not None:
                number[key] = int(bound) if bound == int(bound) else float(bound)
        out = {"anyOf": [number, {"type": "string", "pattern": pattern}]}
        if kind == Kind.MONEY:
            out["description"] = "yuan, at most two decimals (fen); a string keeps it exact"
    elif kind == Kind.BOOLEAN:
        out = {"type": "boolean"}
    elif kind == Kind.DATE:
        out = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    elif kind == Kind.ENUM:
        out = {"type": "string", "enum": sorted(fact.type.values or ())}
    else:
        out = {"type": "string"}
    out["title"] = _text(fact.description)
    if fact.unit:
        out["x-unit"] = fact.unit
    if fact.default is not None:
        out["default"] = to_json(fact.default, kind)
    return out


def facts_schema(policy: Policy) -> dict[str, Any]:
    """The facts object of one evaluation: unknown names are refused."""
    required = [n for n, f in policy.facts.items() if f.required and f.default is None]
    properties = {}
    for name, fact in policy.facts.items():
        schema = fact_schema(fact)
        if name not in required:  # an optional fact may be left out or sent as null
            schema = {"anyOf": [_strip_meta(schema), {"type": "null"}], **_meta(schema)}
        properties[name] = schema
    return {
        "$schema": DIALECT,
        "title": f"facts of {policy.id}",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _meta(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k in ("title", "description", "default", "x-unit")}


def _strip_meta(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("title", "default", "x-unit")}


def output_schema(kind: str, values: frozenset[str] | None, nullable: bool) -> dict[str, Any]:
    """One output value as ``engine.to_json`` writes it."""
    if kind == Kind.MONEY:
        out: dict[str, Any] = {"type": "string", "pattern": MONEY_OUT_PATTERN}
    elif kind == Kind.INTEGER:
        out = {"type": "integer"}
    elif kind == Kind.NUMBER:
        out = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": DECIMAL_PATTERN}]}
    elif kind == Kind.BOOLEAN:
        out = {"type": "boolean"}
    elif kind == Kind.DATE:
        out = {"type": "string", "pattern": DATE_PATTERN}
    elif kind == Kind.ENUM:
        out = {"type": "string", "enum": sorted(values or ())}
    else:
        out = {"type": "string"}
    return {"anyOf": [out, {"type": "null"}]} if nullable else out


def outputs_schema(policy: Policy) -> dict[str, Any]:
    properties = {}
    for name, output in policy.outputs.items():
        t = output.type
        schema = output_schema(t.kind, t.values, t.nullable)
        schema["title"] = _text(output.description)
        if output.unit:
            schema["x-unit"] = output.unit
        properties[name] = schema
    return {
        "$schema": DIALECT,
        "title": f"outputs of {policy.id}",
        "type": "object",
        "properties": properties,
        "required": list(policy.outputs),
        "additionalProperties": False,
    }


@cache
def trace_schema() -> dict[str, Any]:
    """The trace.v1 JSON Schema (schema/trace.v1.schema.json)."""
    return json.loads((resources.schema_dir() / "trace.v1.schema.json").read_text(encoding="utf-8"))


def policy_schemas(policy: Policy) -> dict[str, Any]:
    """What ``policy schema POLICY_ID`` prints."""
    return {
        "policy": policy.id,
        "content_hash": policy.content_hash,
        "engine_version": ENGINE_VERSION,
        "facts": facts_schema(policy),
        "outputs": outputs_schema(policy),
        "result": {"$ref": trace_schema()["$id"], "format": TRACE_FORMAT},
    }


def trace_document(result: Result, policy: Policy | None = None) -> dict[str, Any]:
    """A result in the trace.v1 format: outputs, each step with its inputs, value and
    citation, and every parameter read with the date its value took effect."""
    out = result.as_dict()
    parameters: dict[str, Any] = {}
    for step in out["trace"]:
        parameters.update(step["parameters"])
    return {"format": TRACE_FORMAT, **out, "parameters": parameters}


def policy_summary(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "title": {"zh": policy.title.zh, "en": policy.title.en},
        "document_number": policy.document.number,
        "in_force": in_force(policy),
        "content_hash": policy.content_hash,
    }


def in_force(policy: Policy) -> dict[str, Any]:
    window = policy.in_force
    return {
        "from": window.start.isoformat(),
        "until": window.until.isoformat() if window.until else None,
        "article": window.citation.article,
    }


def policy_metadata(policy: Policy) -> dict[str, Any]:
    """GET /policies/{id}: the document, the in-force window, facts and outputs."""
    doc = policy.document
    return {
        **policy_summary(policy),
        "document": {
            "number": doc.number,
            "title": doc.title,
            "issuers": list(doc.issuers),
            "signed": doc.signed.isoformat(),
            "published": doc.published.isoformat(),
        },
        "engine_version": ENGINE_VERSION,
        "calendar_version": CALENDAR_VERSION,
        "facts": {
            name: {
                "type": f.type.kind,
                **({"values": sorted(f.type.values)} if f.type.values else {}),
                "required": f.required and f.default is None,
                "description": {"zh": f.description.zh, "en": f.description.en},
                **({"unit": f.unit} if f.unit else {}),
            }
            for name, f in policy.facts.items()
        },
        "outputs": {
            name: {
                "type": o.type.kind,
                **({"values": sorted(o.type.values)} if o.type.values else {}),
                "nullable": o.type.nullable,
                "description": {"zh": o.description.zh, "en": o.description.en},
                **({"unit": o.unit} if o.unit else {}),
            }
            for name, o in policy.outputs.items()
        },
        "schemas": {"facts": facts_schema(policy), "outputs": outputs_schema(policy)},
    }
