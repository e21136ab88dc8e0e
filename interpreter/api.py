"""The Python API other teams call: a repository of policies, and evaluate().

from interpreter import evaluate
result = evaluate("pension-adjustment-2021", facts, on="2021-01-01")
result.outputs["new_monthly_pension"]      # Decimal
result.as_dict()                           # stable JSON-ready dict with the trace
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .policy.model import Obligation, Policy
from .runtime.engine import Result
from .runtime.repository import Repository, select_obligations

__all__ = ["Repository", "evaluate", "load", "obligations", "select_obligations"]


@cache
def _repository(root: Path | None) -> Repository:
    return Repository(root)


def evaluate(
    policy_id: str,
    facts: Mapping[str, Any],
    on: dt.date | str | None = None,
    *,
    root: Path | None = None,
    trace: bool = True,
) -> Result:
    """Evaluate one policy for one case; raises a PolicyError subclass on bad input."""
    return _repository(root).evaluate(policy_id, facts, on, trace=trace)


def obligations(
    policy_id: str,
    *,
    responsible: str | None = None,
    due_by: dt.date | str | None = None,
    root: Path | None = None,
) -> list[Obligation]:
    """A policy's obligations and targets (who must do what, by when), optionally only
    those naming one responsible department or due on or before a date; each item has
    ``as_dict()``. Raises a PolicyError subclass on bad input."""
    return _repository(root).obligations(policy_id, responsible=responsible, due_by=due_by)


def load(policy_id: str, *, root: Path | None = None) -> Policy:
    """The checked policy model (facts, outputs, clauses, parameters, cases)."""
    return _repository(root).policy(policy_id)
