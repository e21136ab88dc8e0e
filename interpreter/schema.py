"""JSON Schema validation of policy files, with errors at file:line:column.

The schemas in ``schema/`` are the contract for every kind of file; editors use them
through the ``# yaml-language-server: $schema=...`` modeline, we enforce them here.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from .errors import PolicyFileError, did_you_mean
from .loader import Document

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
KINDS = ("policy", "clause", "tests", "errata", "source")
_UNEXPECTED = re.compile(r"\('(.+?)' (?:was|were) unexpected\)")


@cache
def _registry(schema_dir: Path) -> Registry:
    resources = []
    for file in sorted(schema_dir.glob("*.schema.json")):
        contents = json.loads(file.read_text(encoding="utf-8"))
        resources.append((file.name, Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def validator(kind: str, schema_dir: Path = SCHEMA_DIR) -> Draft202012Validator:
    """The compiled validator for one kind of file (cached: compiling is the slow part)."""
    name = f"{kind}.schema.json"
    contents = json.loads((schema_dir / name).read_text(encoding="utf-8"))
    return Draft202012Validator(
        {**contents, "$id": name},
        registry=_registry(schema_dir),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate(doc: Document, kind: str) -> list[PolicyFileError]:
    """All schema problems of a loaded file, each at the place it was written."""
    errors = sorted(validator(kind).iter_errors(doc.data), key=lambda e: list(map(str, e.path)))
    return [_to_policy_error(doc, e) for e in errors]


def _to_policy_error(doc: Document, error: ValidationError) -> PolicyFileError:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        match = _UNEXPECTED.search(error.message)
        unexpected = match.group(1) if match else "?"
        allowed = list(error.schema.get("properties", {}))
        hint = did_you_mean(unexpected, allowed)
        where = doc.at((*path, unexpected), key=True)
        allowed_text = ", ".join(allowed) if allowed else "none"
        return PolicyFileError(
            f"unknown key {unexpected!r}{hint}; allowed here: {allowed_text}", where
        )
    if error.validator == "required":
        return PolicyFileError(error.message, doc.at(path))
    message = _short(error)
    return PolicyFileError(message, doc.at(path))


def _short(error: ValidationError) -> str:
    """jsonschema's message, trimmed: long instances make unreadable one-liners."""
    if error.validator in ("type", "pattern", "enum", "minimum", "minLength", "const"):
        instance = repr(error.instance)
        if len(instance) > 60:
            instance = instance[:57] + "..."
        expected = {
            "type": f"is not of type {error.validator_value!r}",
            "pattern": f"does not match {error.validator_value!r}",
            "enum": f"is not one of {error.validator_value!r}",
        }.get(error.validator)
        if expected:
            return f"{instance} {expected}"
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(e.message))
        return _short(best)
    return error.message
