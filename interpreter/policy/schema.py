"""JSON Schema validation of policy files, with errors at file:line:column.

The schemas in ``schema/`` are the contract for every kind of file; editors use them
through the ``# yaml-language-server: $schema=...`` modeline, we enforce them here.

Validation is most of the cost of a cold `policy eval`, so a file found valid is
remembered by the hash of its text and of the schemas (an empty marker file in the user's
cache folder; ``POLICY_CACHE_DIR`` moves it, ``POLICY_CACHE_DIR=off`` disables it). A file
with problems is never remembered: it is validated, and its errors reported, every time.
Semantic checks (citations, names, types, tables) always run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..language.errors import PolicyFileError, did_you_mean
from . import resources
from .loader import Document

if TYPE_CHECKING:  # jsonschema is imported only when a file really needs validating
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_VALIDATION = "ecma-pattern"  # how files are validated: a change forgets what was found valid
KINDS = ("policy", "clause", "obligations", "tests", "errata", "source")
_UNEXPECTED = re.compile(r"\('(.+?)' (?:was|were) unexpected\)")


@cache
def _registry(schema_dir: Path) -> Any:
    from referencing import Registry, Resource

    resources = []
    for file in sorted(schema_dir.glob("*.schema.json")):
        contents = json.loads(file.read_text(encoding="utf-8"))
        resources.append((file.name, Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def validator(kind: str, schema_dir: Path | None = None) -> Draft202012Validator:
    """The compiled validator for one kind of file (cached: compiling is the slow part)."""
    return _validator(kind, schema_dir or resources.schema_dir())


@cache
def _validator(kind: str, schema_dir: Path) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    name = f"{kind}.schema.json"
    contents = json.loads((schema_dir / name).read_text(encoding="utf-8"))
    return _ecma_validator()(
        {**contents, "$id": name},
        registry=_registry(schema_dir),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def _ecma_validator() -> type[Draft202012Validator]:
    """Draft 2020-12 with ``pattern`` read as ECMA-262 reads it, as editors do: there
    ``$`` (without the multiline flag) is the end of the text, where Python's ``$`` also
    matches before a final newline, so ``"total\\n"`` would pass ``^[a-z][a-z0-9_]*$``."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not _ecma(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})


@cache
def _ecma(pattern: str) -> re.Pattern[str]:
    """The pattern with every ``$`` outside a character class made ``\\Z``."""
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def validate(doc: Document, kind: str) -> list[PolicyFileError]:
    """All schema problems of a loaded file, each at the place it was written."""
    marker = _marker(doc, kind)
    if marker is not None and marker.exists():
        return []
    errors = sorted(validator(kind).iter_errors(doc.data), key=lambda e: list(map(str, e.path)))
    if not errors and marker is not None:
        _remember(marker)
    return [_to_policy_error(doc, e) for e in errors]


def _schemas_digest() -> str:
    return _digest_of(resources.schema_dir())


@cache
def _digest_of(schema_dir: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(schema_dir.glob("*.json")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_dir() -> Path | None:
    setting = os.environ.get("POLICY_CACHE_DIR")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gd-gazette-policy"


def _marker(doc: Document, kind: str) -> Path | None:
    folder = _cache_dir()
    if folder is None or not doc.digest:
        return None
    text = f"{kind}\0{_schemas_digest()}\0{doc.digest}\0{_VALIDATION}"
    key = hashlib.sha256(text.encode()).hexdigest()
    return folder / "valid" / key


def _remember(marker: Path) -> None:
    """Best effort: a read-only or full disk only means validating again next time."""
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass


def _to_policy_error(doc: Document, error: ValidationError) -> PolicyFileError:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        match = _UNEXPECTED.search(error.message)
        unexpected = match.group(1) if match else "?"
        # the subschema that failed additionalProperties is an object schema, never a bool
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        allowed = list(properties)
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
