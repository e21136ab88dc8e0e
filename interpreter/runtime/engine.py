"""Evaluate a policy for one case: outputs, and a trace that says why, article by article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..language.errors import EvaluationError
from ..language.values import FEN, Kind, to_json
from ..policy.model import Citation
from .facts import parse_facts
from .program import Program
from .versions import CALENDAR_VERSION, ENGINE_VERSION


class CaseEnv(dict):
    """One case's values; a computed value is worked out on its first read, then kept."""

    def __init__(self, program: Program, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.plan = program.plan
        self.order: list[str] = []
        self.rows_hit: dict[str, int | None] = {}

    def __missing__(self, name: str) -> Any:
        fn, comp = self.plan[name]
        try:
            value = fn(self)
        except EvaluationError as exc:
            if exc.placed:
                raise
            raise EvaluationError(
                f"clause {comp.clause} ({comp.citation.label or comp.citation.article}), "
                f"{name}: {exc.message}",
                placed=True,
            ) from None
        self[name] = value
        self.order.append(name)
        return value


@dataclass(slots=True)
class TraceStep:
    clause: str
    name: str
    value: Any
    kind: str  # the value's type, for formatting
    inputs: dict[str, Any]
    parameters: Mapping[str, Mapping[str, Any]]  # read-only: shared by every case on a date
    citation: Citation
    is_table: bool = False
    row: int | None = None  # the table row taken (0-based), None for the default
    kinds: Mapping[str, Kind] = field(default_factory=dict)  # of the inputs, for formatting

    def as_dict(self) -> dict[str, Any]:
        out = {
            "clause": self.clause,
            "name": self.name,
            "value": to_json(self.value, self.kind),
            "inputs": {k: to_json(v, self.kinds.get(k)) for k, v in self.inputs.items()},
            "parameters": {name: dict(read) for name, read in self.parameters.items()},
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
    kinds: dict[str, Kind] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "on": self.on.isoformat(),
            "outputs": {k: to_json(v, self.kinds.get(k)) for k, v in self.outputs.items()},
            "trace": [s.as_dict() for s in self.steps],
            "content_hash": self.content_hash,
            "engine_version": ENGINE_VERSION,
            "calendar_version": CALENDAR_VERSION,
        }


def evaluate_policy(
    program: Program,
    facts: Mapping[str, Any],
    on: dt.date,
    *,
    outputs: list[str] | None = None,
    trace: bool = True,
) -> Result:
    """Evaluate ``outputs`` (default: all declared outputs) for one case on a date."""
    policy = program.policy
    policy.check_in_force(on)
    values = parse_facts(policy, facts)
    return evaluate_parsed(program, values, on, outputs=outputs, trace=trace)


def evaluate_parsed(
    program: Program,
    values: dict[str, Any],
    on: dt.date,
    *,
    outputs: list[str] | None = None,
    trace: bool = True,
) -> Result:
    """As evaluate_policy, for facts already parsed (the batch and benchmark path)."""
    wanted = tuple(outputs) if outputs else program.output_names
    if not trace:
        generated = program.generated_plan(wanted)
        if generated is not None:
            quick = generated.run(values, program.parameter_values_on(on))
            if quick is not None:
                return Result(program.id, on, quick, [], program.content_hash, program.kinds)
    env = CaseEnv(program, values)  # lazily, as the text reads: only what is needed
    env.update(program.parameter_values_on(on))
    results = {name: env[name] for name in wanted}
    steps = _trace(program, env, on) if trace else []
    return Result(program.id, on, results, steps, program.content_hash, program.kinds)


def _trace(program: Program, env: CaseEnv, on: dt.date) -> list[TraceStep]:
    """The steps in the order they were worked out. What does not change from case to case
    (which names are inputs, the parameters read on this date) is prepared once per date."""
    layout = program.trace_layout(on)
    steps = []
    for name in env.order:
        comp, inputs_of, params = layout[name]
        inputs = {}
        for d, money in inputs_of:
            if d in env:
                value = env[d]
                inputs[d] = value.quantize(FEN) if money and value is not None else value
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
                program.kinds,
            )
        )
    return steps
