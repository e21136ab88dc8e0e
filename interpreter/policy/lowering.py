"""A policy's computations lowered to the core language (``language.core``).

Every engine reads these definitions, never the surface tree: the closures of the traced
path, the generated Python of the untraced path, the numpy columns, and tools that compare
or mutate rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..language import core
from ..language.lower import define, lower_expression, lower_table
from .model import Computation, Policy


def lower_computation(policy: Policy, comp: Computation) -> core.Definition:
    """One computation's definition: its body as the core tree, checked for whole fen
    where the rule does not provably keep it."""
    origin = core.Origin(comp.clause, comp.citation.article)
    if comp.table is not None:
        table = comp.table
        body: core.Expr = lower_table(
            comp.name,
            table.columns,
            [(row.cells, row.then) for row in table.rows],
            table.default,
            table.hit_policy,
            comp.type,
            policy.types,
            policy.convention,
            origin,
        )
    elif comp.expr is not None:
        body = lower_expression(comp.expr, policy.types, policy.convention, origin)
    else:  # pragma: no cover - the builder refuses a computation with neither
        raise ValueError(f"{comp.name}: neither an expression nor a table")
    return define(comp.name, comp.type, body, origin)


def lower_policy(policy: Policy) -> Mapping[str, core.Definition]:
    """Every computation of the policy, lowered, by name (read-only)."""
    return MappingProxyType(
        {name: lower_computation(policy, comp) for name, comp in policy.computations.items()}
    )
