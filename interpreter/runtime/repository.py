"""The policies under one folder, loaded once each and compiled once each: what the
Python API, the command line, the HTTP service and the site read policies through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..language.errors import PolicyError, UnknownPolicyError, did_you_mean
from ..language.values import parse_date
from ..policy.build import load_policy
from ..policy.model import Obligation, Policy
from ..policy.resources import policies_dir
from .engine import Result, evaluate_policy
from .facts import parse_on
from .program import Program


class Repository:
    """The policies under one folder, each loaded and checked once, on first use."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or policies_dir()).resolve()
        self._loaded: dict[str, Policy] = {}
        self._programs: dict[str, Program] = {}

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

    def program(self, policy_id: str) -> Program:
        """The policy compiled to run (built once, on first use, and kept)."""
        program = self._programs.get(policy_id)
        if program is None:
            program = self._programs.setdefault(policy_id, Program(self.policy(policy_id)))
        return program

    def evaluate(
        self,
        policy_id: str,
        facts: Mapping[str, Any],
        on: dt.date | str | None = None,
        *,
        trace: bool = True,
    ) -> Result:
        """Outputs and trace for one case. ``on`` defaults to today."""
        program = self.program(policy_id)
        day = dt.date.today() if on is None else parse_on(on)
        return evaluate_policy(program, facts, day, trace=trace)

    def obligations(
        self,
        policy_id: str,
        *,
        responsible: str | None = None,
        due_by: dt.date | str | None = None,
    ) -> list[Obligation]:
        """The policy's obligations and targets, in the order of the text, filtered."""
        return select_obligations(self.policy(policy_id), responsible=responsible, due_by=due_by)


def select_obligations(
    policy: Policy, *, responsible: str | None = None, due_by: dt.date | str | None = None
) -> list[Obligation]:
    """Obligations naming ``responsible`` (exactly as the text writes it) and due, by their
    deadline or their target's date, on or before ``due_by``. An item with no date is
    never due by a date. A name no item lists is an error (with "did you mean")."""
    items = list(policy.obligations.values())
    if responsible is not None:
        known = sorted({name for item in items for name in item.responsible})
        if responsible not in known:
            hint = did_you_mean(responsible, known)
            raise PolicyError(
                f"no obligation of {policy.id!r} names {responsible!r} as responsible{hint}; "
                f"named: {', '.join(known) or 'none'}"
            )
        items = [item for item in items if responsible in item.responsible]
    if due_by is not None:
        day = parse_date(due_by, "due_by")
        items = [item for item in items if (due := item.due()) is not None and due <= day]
    return items
