"""A policy compiled to run: built once per policy from the frozen model, shared by every
evaluation (and every thread of the service).

What it holds is derived from the model and never changes what an evaluation computes:
the closures of every computation (the traced path), the generated plans (the untraced
path, one per set of wanted outputs, at most ``MAX_GENERATED_PLANS``), the columnar plans
(``interpreter.columnar`` builds them and keeps them here), and per-date views (the
parameters in effect, their values, the trace layout), each kept for at most
``MAX_DATES`` dates. Caches may be filled by several threads at once: a value computed
twice is equal, and the first one stored is the one every caller gets.
"""

from __future__ import annotations

import datetime as dt
import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..language.values import Kind, to_json
from ..policy.lowering import lower_policy
from ..policy.model import Computation, ParameterValue, Policy
from .closures import Compiled, compile_definition

if TYPE_CHECKING:
    from .codegen import GeneratedPlan

MAX_GENERATED_PLANS = 64  # per policy: one per distinct set of wanted outputs
MAX_DATES = 256  # per policy and per-date view: the oldest date kept is dropped first


class Program:
    """``program.policy`` is the model; the rest is what running it needs."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # read on every evaluation: kept as plain attributes of the program
        self.id = policy.id
        self.content_hash = policy.content_hash
        self.kinds = policy.kinds
        self.output_names = policy.output_names
        self.definitions = lower_policy(policy)
        """name -> the computation's core definition: what every engine compiles."""
        self.plan: dict[str, tuple[Compiled, Computation]] = {
            name: (compile_definition(definition), policy.computations[name])
            for name, definition in self.definitions.items()
        }
        """name -> (compiled rule, computation): the closures of the traced path."""
        self.columnar: dict[tuple[str, ...], Any] = {}  # outputs -> columnar plan
        self._generated: dict[tuple[str, ...], GeneratedPlan | None] = {}
        self._parameters: dict[dt.date, dict[str, ParameterValue]] = {}
        self._values: dict[dt.date, dict[str, Any]] = {}
        self._layouts: dict[dt.date, dict[str, tuple]] = {}
        self._lock = threading.Lock()  # taken only to store: reads never wait

    def __repr__(self) -> str:
        return f"Program({self.id!r})"

    def generated_plan(self, wanted: tuple[str, ...]) -> GeneratedPlan | None:
        """One generated function computing ``wanted`` (see codegen), or None where the
        rules use something the generator does not know (kept)."""
        generated = self._generated
        if wanted in generated:
            return generated[wanted]
        if len(generated) >= MAX_GENERATED_PLANS:
            return None  # a caller asking for ever new subsets: the closures serve them
        from .codegen import NotGenerated, generate  # the untraced path only: kept off cold starts

        try:
            plan: GeneratedPlan | None = generate(self.policy, self.definitions, wanted)
        except NotGenerated:
            plan = None
        with self._lock:
            if len(generated) < MAX_GENERATED_PLANS:
                plan = generated.setdefault(wanted, plan)
        return plan

    def parameter_values_on(self, on: dt.date) -> dict[str, Any]:
        """name -> value in effect on a date: what a case's environment starts from.
        Shared by every case on that date: read it, never change it."""
        values = self._values.get(on)
        if values is None:
            values = {n: pv.value for n, pv in self.parameters_on(on).items()}
            values = self._keep(self._values, on, values)
        return values

    def parameters_on(self, on: dt.date) -> dict[str, ParameterValue]:
        """Every parameter's value in effect on a date (kept per date)."""
        found = self._parameters.get(on)
        if found is None:
            found = self._keep(self._parameters, on, self.policy.parameters_on(on))
        return found

    def trace_layout(self, on: dt.date) -> dict[str, tuple]:
        """name -> (computation, ((input, is money), ...), parameters read as trace JSON),
        for the parameters in effect on ``on`` (kept per date)."""
        layout = self._layouts.get(on)
        if layout is None:
            parameters = self.parameters_on(on)
            kinds = self.kinds
            layout = {}
            for name, comp in self.policy.computations.items():
                inputs = tuple(
                    (d, kinds.get(d) == Kind.MONEY) for d in comp.deps if d not in parameters
                )
                params = MappingProxyType(
                    {
                        d: MappingProxyType(
                            {
                                "value": to_json(parameters[d].value, kinds.get(d)),
                                "from": parameters[d].start.isoformat(),
                                "article": parameters[d].citation.article,
                            }
                        )
                        for d in comp.deps
                        if d in parameters
                    }
                )
                layout[name] = (comp, inputs, params)
            layout = self._keep(self._layouts, on, layout)
        return layout

    def _keep(self, cache: dict, key: Any, value: Any) -> Any:
        """Store ``value`` unless another thread stored one first; drop the oldest dates
        past the bound. Returns the value stored."""
        with self._lock:
            kept = cache.get(key)
            if kept is not None:
                return kept
            while len(cache) >= MAX_DATES:
                del cache[next(iter(cache))]
            cache[key] = value
        return value
