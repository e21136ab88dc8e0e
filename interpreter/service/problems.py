"""problem+json (RFC 9457): the one shape of every error the service answers, and the
translation of schema errors and the interpreter's errors into it, naming the field at fault."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from starlette.responses import JSONResponse, Response

from ..language.errors import (
    EvaluationError,
    FactError,
    NotInForceError,
    PolicyError,
    UnknownPolicyError,
    did_you_mean,
)
from ..policy.model import Policy

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://gd-gazette-policy.example/problems/"


class Problem(Exception):
    """An RFC 9457 problem: status, a type slug, a title, the detail and the field."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.field = field
        self.extra = extra
        self.headers: dict[str, str] = {}

    def response(self, instance: str = "") -> Response:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
            body["pointer"] = "/" + self.field.replace(".", "/") if self.field else ""
        body.update(self.extra)
        return JSONResponse(body, self.status, headers=self.headers, media_type=PROBLEM)


def _field_of(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # the subschema that failed additionalProperties is an object schema, never a bool
        schema = error.schema if isinstance(error.schema, dict) else {}
        extra = [k for k in error.instance if k not in schema.get("properties", {})]
        if extra:
            path.append(str(extra[0]))
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        if missing:
            path.append(missing)
    return ".".join(path)


def schema_problem(policy: Policy, error: jsonschema.ValidationError, prefix: str = "") -> Problem:
    field = _field_of(error)
    leaf = field.rsplit(".", 1)[-1]
    detail = error.message
    if error.validator == "additionalProperties" and field.startswith("facts."):
        hint = did_you_mean(leaf, policy.facts)
        detail = f"unknown fact {leaf!r} for policy {policy.id}{hint}"
    elif error.validator == "additionalProperties":
        detail = f"unknown field {leaf!r}"
    elif error.validator == "required":
        detail = f"{leaf!r} is required"
    elif field:
        detail = f"{field}: {_short(error)}"
    full = f"{prefix}{field}" if field else prefix.rstrip(".")
    return Problem(422, "invalid-request", "Invalid request", detail, full)


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf"):
        return f"{_show(error.instance)} is not a valid value (see the facts schema)"
    return error.message if len(error.message) < 300 else error.message[:300] + "..."


def _show(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) < 80 else text[:80] + "..."


def policy_error_problem(exc: PolicyError, field_prefix: str = "facts.") -> Problem:
    if isinstance(exc, FactError):
        field = exc.fact
        if field == "on":
            return Problem(422, "invalid-date", "Invalid date", exc.message, "on")
        return Problem(
            422,
            "invalid-facts",
            "Invalid facts",
            exc.message,
            f"{field_prefix}{field}" if field else field_prefix.rstrip("."),
        )
    if isinstance(exc, NotInForceError):
        return Problem(422, "not-in-force", "Policy not in force", exc.message, "on")
    if isinstance(exc, EvaluationError):
        return Problem(
            422, "evaluation-failed", "Cannot evaluate these facts", exc.message, "facts"
        )
    if isinstance(exc, UnknownPolicyError):
        return Problem(404, "unknown-policy", "Unknown policy", exc.message, "id")
    return Problem(422, "invalid-request", "Invalid request", str(exc), "")
