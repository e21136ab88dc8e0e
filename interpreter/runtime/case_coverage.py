"""Which table rows and if-branches the hand-written cases exercise, per clause.

The goal is that every row and branch of every computable clause is reached by a case a
person wrote from the text. Rows come from the engine's own record (``rows_hit``). Branches
need the condition of each ``if`` on each case, which the engine's compiled closures do not
keep: this module re-walks the expression tree of every value a case computed, evaluating
only the conditions (with the same compiled code), in a separate pass. The engine's hot
path is untouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..language import core
from ..language.errors import PolicyError
from ..policy.model import Case
from .closures import Compiled, compile_expression
from .engine import CaseEnv, evaluate_policy
from .facts import parse_facts
from .program import Program


@dataclass(frozen=True)
class Branch:
    """One arm of one ``if`` in a computation: ``(name, n, True)`` is the then-arm of the
    n-th ``if`` (pre-order, from 1)."""

    computation: str
    index: int
    taken: bool

    def describe(self) -> str:
        return f"{self.computation} if#{self.index} {'then' if self.taken else 'else'}"


@dataclass
class ClauseCoverage:
    clause: str
    rows: dict[tuple[str, int | None], list[str]] = field(default_factory=dict)
    branches: dict[Branch, list[str]] = field(default_factory=dict)

    @property
    def rows_covered(self) -> int:
        return sum(1 for cases in self.rows.values() if cases)

    @property
    def branches_covered(self) -> int:
        return sum(1 for cases in self.branches.values() if cases)

    def missing(self) -> list[str]:
        out = [f"{n} row {_row_label(i)}" for (n, i), cases in self.rows.items() if not cases]
        return out + [b.describe() for b, cases in self.branches.items() if not cases]


@dataclass
class PolicyCoverage:
    policy: str
    clauses: dict[str, ClauseCoverage]

    def totals(self) -> tuple[int, int, int, int]:
        """rows covered, rows, branches covered, branches."""
        values = list(self.clauses.values())
        return (
            sum(c.rows_covered for c in values),
            sum(len(c.rows) for c in values),
            sum(c.branches_covered for c in values),
            sum(len(c.branches) for c in values),
        )


def _row_label(index: int | None) -> str:
    return "default" if index is None else str(index + 1)


def if_nodes(node: core.Expr) -> list[core.IfExp]:
    """Every ``if`` of an expression, in pre-order: the numbering used in reports."""
    found = [node] if isinstance(node, core.IfExp) else []
    for child in core.children(node):
        found += if_nodes(child)
    return found


def _expression(program: Program, name: str) -> core.Expr | None:
    """A computation's lowered expression (its whole-fen check aside), None for a table:
    a table's rows are counted instead of its branches."""
    body = program.definitions[name].body
    if isinstance(body, core.WholeFen):
        body = body.operand
    return None if isinstance(body, core.Table) else body


def case_coverage(program: Program) -> PolicyCoverage:
    """Rows and branches of every clause, each with the names of the cases reaching it."""
    policy = program.policy
    report = PolicyCoverage(policy.id, {c: ClauseCoverage(c) for c in policy.clauses})
    numbering: dict[str, dict[int, int]] = {}
    for name, comp in policy.computations.items():
        target = report.clauses[comp.clause]
        if comp.table is not None:
            for index in range(len(comp.table.rows)):
                target.rows[(name, index)] = []
            if comp.table.default is not None:
                target.rows[(name, None)] = []
        expression = _expression(program, name)
        if expression is not None:
            nodes = if_nodes(expression)
            numbering[name] = {id(n): i for i, n in enumerate(nodes, 1)}
            for i in range(1, len(nodes) + 1):
                target.branches[Branch(name, i, True)] = []
                target.branches[Branch(name, i, False)] = []
    conditions = _compiled_conditions(program)
    for case in policy.cases:
        if case.expect_error:
            continue
        _record_case(program, case, report, numbering, conditions)
    return report


def _compiled_conditions(program: Program) -> dict[int, Compiled]:
    out = {}
    for name in program.definitions:
        expression = _expression(program, name)
        if expression is not None:
            for node in if_nodes(expression):
                out[id(node)] = compile_expression(node.cond)
    return out


def _record_case(
    program: Program,
    case: Case,
    report: PolicyCoverage,
    numbering: dict[str, dict[int, int]],
    conditions: dict[int, Compiled],
) -> None:
    policy = program.policy
    on: dt.date = case.on or policy.in_force.start
    wanted = [n for n in case.expect if n in policy.computations] or None
    try:
        result = evaluate_policy(program, case.facts, on, outputs=wanted)
    except PolicyError:
        return
    env = CaseEnv(program, parse_facts(policy, case.facts))
    env.update(program.parameter_values_on(on))
    env.update({step.name: step.value for step in result.steps})
    for step in result.steps:
        comp = policy.computations[step.name]
        clause = report.clauses[comp.clause]
        if step.is_table:
            clause.rows.setdefault((step.name, step.row), []).append(case.name)
        expression = _expression(program, step.name)
        if expression is not None:
            for node, taken in _taken(expression, env, conditions):
                branch = Branch(step.name, numbering[step.name][id(node)], taken)
                clause.branches[branch].append(case.name)


def _taken(
    node: core.Expr, env: CaseEnv, conditions: dict[int, Compiled]
) -> list[tuple[core.IfExp, bool]]:
    """The ifs on the path this case takes through an expression, and which arm each took."""
    if isinstance(node, core.IfExp):
        try:
            taken = bool(conditions[id(node)](env))
        except PolicyError:
            return []
        inner = _taken(node.cond, env, conditions)
        return [
            (node, taken),
            *inner,
            *_taken(node.then if taken else node.otherwise, env, conditions),
        ]
    out: list[tuple[core.IfExp, bool]] = []
    for child in core.children(node):
        out += _taken(child, env, conditions)
    return out


def report_lines(report: PolicyCoverage) -> list[str]:
    """The text `policy test --coverage` prints for one policy."""
    rows_hit, rows, branches_hit, branches = report.totals()
    lines = [f"{report.policy}: rows {rows_hit}/{rows}, branches {branches_hit}/{branches}"]
    for clause in report.clauses.values():
        if not clause.rows and not clause.branches:
            continue
        lines.append(
            f"  {clause.clause}: rows {clause.rows_covered}/{len(clause.rows)}, "
            f"branches {clause.branches_covered}/{len(clause.branches)}"
        )
        lines += [f"    not covered: {item}" for item in clause.missing()]
    return lines
