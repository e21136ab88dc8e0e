"""The Python API other teams call: a repository of policies, and evaluate().

from interpreter import evaluate
result = evaluate("pension-adjustment-2021", facts, on="2021-01-01")
result.outputs["new_monthly_pension"]      # Decimal
result.as_dict()                           # stable JSON-ready dict with the trace
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .engine import Result, evaluate_policy
from .errors import UnknownPolicyError, did_you_mean
from .facts import parse_on
from .model import Policy
from .policies import load_policy


def default_root() -> Path:
    """$POLICY_ROOT, else the repository this package sits in, else ./policies."""
    env = os.environ.get("POLICY_ROOT")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "policies"
    return beside if beside.is_dir() else Path.cwd() / "policies"


class Repository:
    """The policies under one folder, each loaded and checked once, on first use."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_root()).resolve()
        self._loaded: dict[str, Policy] = {}

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "policy.yaml").is_file())

    def policy(self, policy_id: str) -> Policy:
        if policy_id not in self._loaded:
            ids = self.ids()
            if policy_id not in ids:
                hint = did_you_mean(policy_id, ids)
                raise UnknownPolicyError(
                    f"unknown policy {policy_id!r}{hint}; known: {', '.join(ids) or 'none'}"
                )
            self._loaded[policy_id] = load_policy(self.root / policy_id, self.root.parent)
        return self._loaded[policy_id]

    def evaluate(
        self,
        policy_id: str,
        facts: Mapping[str, Any],
        on: dt.date | str | None = None,
        *,
        trace: bool = True,
    ) -> Result:
        """Outputs and trace for one case. ``on`` defaults to today."""
        policy = self.policy(policy_id)
        day = dt.date.today() if on is None else parse_on(on)
        return evaluate_policy(policy, facts, day, trace=trace)


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


def load(policy_id: str, *, root: Path | None = None) -> Policy:
    """The checked policy model (facts, outputs, clauses, parameters, cases)."""
    return _repository(root).policy(policy_id)
