"""The app's policies (loaded on first use, a failure remembered per policy) and the
request schema each evaluation body is validated against."""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal
from typing import Any

import jsonschema

from ..language.errors import PolicyError, UnknownPolicyError
from ..policy.model import Policy
from ..runtime.json_schemas import facts_schema
from ..runtime.program import Program
from ..runtime.repository import Repository
from .problems import Problem

HASH_HEADER = "X-Policy-Content-Hash"  # on every response about a policy


def _is_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema's integer: any number with no fractional part, 2009.0 too. A request's
    decimals are read as Decimal (never float), which the stock checker does not see as an
    integer, so ``{"pension_base_year": 2009.0}`` would be refused here and nowhere else."""
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return bool(jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


class Catalog:
    """The app's policies: loaded on first use; a policy that fails to load is an error
    for that policy only, remembered so it is not reloaded on every request."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.failed: dict[str, str] = {}
        self.validators: dict[str, jsonschema.Draft202012Validator] = {}
        self.lock = threading.Lock()

    def ids(self) -> list[str]:
        return self.repo.ids()

    def get(self, policy_id: str) -> Policy:
        if policy_id in self.failed:
            raise Problem(
                503,
                "policy-unavailable",
                "Policy unavailable",
                f"policy {policy_id!r} failed to load: {self.failed[policy_id]}",
                "id",
            )
        try:
            with self.lock:
                return self.repo.policy(policy_id)
        except UnknownPolicyError as exc:
            raise Problem(404, "unknown-policy", "Unknown policy", exc.message, "id") from None
        except PolicyError as exc:
            self.failed[policy_id] = str(exc)
            return self.get(policy_id)
        except Exception as exc:  # a policy file the loader itself trips on
            self.failed[policy_id] = f"{type(exc).__name__}: {exc}"
            return self.get(policy_id)

    def program(self, policy_id: str) -> Program:
        """The policy compiled to run, built once (``get``'s problems if it fails to load)."""
        self.get(policy_id)
        with self.lock:
            return self.repo.program(policy_id)

    def loaded(self) -> list[Policy]:
        out = []
        for policy_id in self.ids():
            with contextlib.suppress(Problem):
                out.append(self.get(policy_id))
        return out

    def validator(self, policy: Policy) -> jsonschema.Draft202012Validator:
        v = self.validators.get(policy.id)
        if v is None:
            v = _Validator(request_schema(policy), format_checker=jsonschema.FormatChecker())
            self.validators[policy.id] = v
        return v


def request_schema(policy: Policy) -> dict[str, Any]:
    # the facts schema without its "$schema": a subschema naming its dialect would be
    # checked by the stock validator of that dialect, not by this one (_is_integer)
    facts = {k: v for k, v in facts_schema(policy).items() if k != "$schema"}
    return {
        "type": "object",
        "properties": {
            "facts": facts,
            "on": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "explain": {"type": "boolean"},
            "trace": {"type": "boolean"},
        },
        "required": ["facts"],
        "additionalProperties": False,
    }


def best_error(
    validator: jsonschema.Draft202012Validator, body: Any
) -> jsonschema.ValidationError | None:
    return jsonschema.exceptions.best_match(validator.iter_errors(body))
