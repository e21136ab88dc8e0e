"""Evaluate a policy for one case: outputs, and a trace that says why, article by article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .errors import EvaluationError
from .facts import CENT, parse_facts
from .model import Citation, Computation, Policy

ENGINE_VERSION = "0.1.0"


class CaseEnv(dict):
    """One case's values; a computed value is worked out on its first read, then kept."""

    def __init__(self, policy: Policy, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.computations = policy.computations
        self.plan = policy.plan
        self.order: list[str] = []
        self.rows_hit: dict[str, int | None] = {}

    def __missing__(self, name: str) -> Any:
        fn, check_fen, comp = self.plan[name]
        try:
            value = fn(self)
        except EvaluationError as exc:
            if getattr(exc, "placed", False):
                raise
            error = EvaluationError(
                f"clause {comp.clause} ({comp.citation.label or comp.citation.article}), "
                f"{name}: {exc.message}"
            )
            error.placed = True  # type: ignore[attr-defined]
            raise error from None
        if check_fen and value is not None and value != value.quantize(CENT):
            raise EvaluationError(
                f"clause {comp.clause}, {name}: {value} is not a whole number of fen; "
                "the clause must say how it rounds"
            )
        self[name] = value
        self.order.append(name)
        return value


@dataclass(frozen=True)
class TraceStep:
    clause: str
    name: str
    value: Any
    kind: str  # the value's type, for formatting
    inputs: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    citation: Citation
    is_table: bool = False
    row: int | None = None  # the table row taken (0-based), None for the default

    def as_dict(self) -> dict[str, Any]:
        out = {
            "clause": self.clause,
            "name": self.name,
            "value": to_json(self.value, self.kind),
            "inputs": {k: to_json(v) for k, v in self.inputs.items()},
            "parameters": self.parameters,
            "citation": self.citation.as_dict(),
        }
        if self.is_table:
            out["row"] = self.row
        return out


@dataclass
class Result:
    policy: str
    on: dt.date
    outputs: dict[str, Any]
    steps: list[TraceStep]
    content_hash: str
    kinds: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "on": self.on.isoformat(),
            "outputs": {k: to_json(v, self.kinds.get(k)) for k, v in self.outputs.items()},
            "trace": [s.as_dict() for s in self.steps],
            "content_hash": self.content_hash,
            "engine_version": ENGINE_VERSION,
        }


def to_json(value: Any, kind: str | None = None) -> Any:
    """Stable JSON: money as a string with two decimals, other decimals as exact strings,
    whole numbers as integers, dates ISO."""
    if isinstance(value, Decimal):
        if kind == "money":
            return format(value.quantize(CENT), "f")
        if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
            return int(value)
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def evaluate_policy(
    policy: Policy,
    facts: Mapping[str, Any],
    on: dt.date,
    *,
    outputs: list[str] | None = None,
    trace: bool = True,
) -> Result:
    """Evaluate ``outputs`` (default: all declared outputs) for one case on a date."""
    policy.check_in_force(on)
    values = parse_facts(policy, facts)
    return evaluate_parsed(policy, values, on, outputs=outputs, trace=trace)


def evaluate_parsed(
    policy: Policy,
    values: dict[str, Any],
    on: dt.date,
    *,
    outputs: list[str] | None = None,
    trace: bool = True,
) -> Result:
    """As evaluate_policy, for facts already parsed (the batch and benchmark path)."""
    env = CaseEnv(policy, values)
    env.update(policy.parameter_values_on(on))
    wanted = outputs or policy.outputs
    if not trace:
        if _eagerly(policy, env, tuple(wanted)):
            results = {n: env[n] for n in wanted}
            return Result(policy.id, on, results, [], policy.content_hash, policy.kinds)
        env = CaseEnv(policy, values)  # start again, lazily
        env.update(policy.parameter_values_on(on))
    results = {name: env[name] for name in wanted}
    steps = _trace(policy, env, policy.parameters_on(on)) if trace else []
    return Result(policy.id, on, results, steps, policy.content_hash, policy.kinds)


def _eagerly(policy: Policy, env: CaseEnv, wanted: tuple[str, ...]) -> bool:
    """Work out every value the outputs depend on, in dependency order, without the
    lazy look-ups. Rules are pure, so where this succeeds it gives exactly what lazy
    evaluation gives; where any value fails (say an optional fact a branch never reads),
    start again lazily so that only the values really needed can fail."""
    try:
        for name, fn, check_fen in policy.eager_plan(wanted):
            value = fn(env)
            if check_fen and value is not None and value != value.quantize(CENT):
                return False
            env[name] = value
    except EvaluationError:
        return False
    return True


def _as_kind(value: Any, kind: str | None) -> Any:
    """Money read as an input shows as money (45 -> 45.00) in the trace."""
    if kind == "money" and isinstance(value, Decimal):
        return value.quantize(CENT)
    return value


def _trace(policy: Policy, env: CaseEnv, parameters: dict) -> list[TraceStep]:
    kinds = policy.kinds
    steps = []
    for name in env.order:
        comp: Computation = policy.computations[name]
        inputs = {
            d: _as_kind(env[d], kinds.get(d)) for d in comp.deps if d in env and d not in parameters
        }
        params = {
            d: {
                "value": to_json(parameters[d].value, kinds.get(d)),
                "from": parameters[d].start.isoformat(),
                "article": parameters[d].citation.article,
            }
            for d in comp.deps
            if d in parameters
        }
        steps.append(
            TraceStep(
                comp.clause,
                name,
                env[name],
                comp.type.kind,
                inputs,
                params,
                comp.citation,
                comp.table is not None,
                env.rows_hit.get(name),
            )
        )
    return steps
