"""The OpenAPI 3.1 document served at ``/openapi.json``.

Its fixed part is ``openapi.json`` beside this module, shipped as package data: a valid
OpenAPI document by itself (the service without a policy), plus two templates. At run
time ``openapi_document`` fills it:

- ``components.schemas`` gains the trace.v1 schema (``TraceV1`` and its ``$defs``) and, for
  each loadable policy, its facts and outputs schemas (``runtime/json_schemas.py``);
- ``x-policy-paths`` and ``x-policy-schemas`` are filled once per loadable policy
  (``${id}``, ``${Key}``, ``${title_en}``, ``${title_zh}``, ``${number}``), then dropped;
- every ``$ref`` to one of the skeleton's shared ``responses``, ``parameters`` and
  ``headers`` is replaced by that component, and those sections are dropped: each
  operation served reads whole, and ``components`` has ``schemas`` only.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from ..runtime.json_schemas import facts_schema, outputs_schema, trace_schema
from ..runtime.versions import ENGINE_VERSION
from .catalog import Catalog

SKELETON = "openapi.json"
INLINED = ("responses", "parameters", "headers")  # components written out where referenced
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@functools.cache
def skeleton() -> dict[str, Any]:
    """The skeleton as shipped (read once; never modified: ``_fill`` copies)."""
    text = resources.files(__package__).joinpath(SKELETON).read_text(encoding="utf-8")
    return json.loads(text)


def _fill(node: Any, values: dict[str, str], shared: dict[str, Any]) -> Any:
    """A copy of a skeleton node: ``${name}`` in a key or a string replaced by
    ``values[name]``, a ``$ref`` to a shared component replaced by the component."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if len(node) == 1 and isinstance(target, str) and target.startswith("#/components/"):
            kind, _, name = target.removeprefix("#/components/").partition("/")
            if kind in shared:
                return _fill(shared[kind][name], values, shared)
        return {_fill(k, values, shared): _fill(v, values, shared) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(item, values, shared) for item in node]
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], node)
    return node


def openapi_document(catalog: Catalog) -> dict[str, Any]:
    """OpenAPI 3.1: generic paths, plus each loadable policy's paths with its own facts
    and outputs schemas (so clients and schemathesis know the exact payloads)."""
    skel = skeleton()
    shared = {kind: skel["components"][kind] for kind in INLINED}
    fixed = {k: v for k, v in skel.items() if not k.startswith("x-")}
    doc = _fill(fixed, {"engine_version": ENGINE_VERSION}, shared)
    paths: dict[str, Any] = doc["paths"]
    trace = dict(trace_schema())
    trace.pop("$schema", None)
    trace.pop("$id", None)
    defs = trace.pop("$defs")
    trace = json.loads(json.dumps(trace).replace("#/$defs/", "#/components/schemas/"))
    defs = json.loads(json.dumps(defs).replace("#/$defs/", "#/components/schemas/"))
    schemas: dict[str, Any] = {**defs, "TraceV1": trace, **doc["components"]["schemas"]}
    for policy in catalog.loaded():
        key = "".join(part.capitalize() for part in policy.id.replace("_", "-").split("-"))
        facts = dict(facts_schema(policy))
        facts.pop("$schema", None)
        outputs = dict(outputs_schema(policy))
        outputs.pop("$schema", None)
        schemas[f"{key}Facts"] = facts
        schemas[f"{key}Outputs"] = outputs
        values = {
            "id": policy.id,
            "Key": key,
            "title_en": policy.title.en,
            "title_zh": policy.title.zh,
            "number": policy.document.number,
        }
        schemas.update(_fill(skel["x-policy-schemas"], values, shared))
        paths.update(_fill(skel["x-policy-paths"], values, shared))
    doc["components"] = {"schemas": schemas}
    return doc
