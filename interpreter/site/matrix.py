"""Test matrices: the hand-written cases plus boundary cases derived from every threshold.

Every bound in a decision table (``{年满: 70, 不满: 80}``) and every comparison in an
expression (``counted_years 超过 threshold_years``) is probed just below, at and just above
(one unit of the compared value: 1 year, 1 fen, 1 day), with the other inputs taken from a
representative hand-written case of the same clause. The engine's outputs for all of them
form a snapshot (``tests/matrices/<id>.csv``) that pytest compares with a fresh run, so a
change in behaviour cannot pass unreviewed. The snapshot is derived by the engine: it is a
regression record for humans to review, never a source of truth; the hand-written YAML
cases are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..language.conventions import CIVIL_CODE_1259, NEUTRAL
from ..language.errors import PolicyError
from ..language.expressions import COMPARISONS, Binary, Call, Literal, Name, Node, children
from ..language.tables import Cell
from ..language.values import FEN, Kind, as_written, iso_date, to_json
from ..policy.model import Case, Computation, Policy
from ..runtime.engine import evaluate_policy
from ..runtime.facts import parse_value
from ..runtime.program import Program
from .humanize import cell_text, show_value

STEP = {Kind.INTEGER: Decimal(1), Kind.MONEY: FEN, Kind.NUMBER: FEN}
POINTS = ("below", "at", "above")
FIXED_COLUMNS = ("kind", "clause", "case", "boundary", "point", "value", "on", "facts")
MAX_BASELINES = 8
LABEL = "regression snapshot derived by the engine; the hand-written YAML cases are the truth"


@dataclass(frozen=True)
class Inverse:
    """The one fact that sets a compared value, and how: value -> that fact's value."""

    fact: str
    setter: Callable[[Any], Any]


@dataclass(frozen=True)
class Boundary:
    """One threshold to probe: ``quantity`` (a fact or a value computed from one fact)
    compared with ``bound``; ``against`` names the other side when the bound is only known
    per case (``regular_adjusted_pension 未达到 city_average_enterprise_pension``)."""

    clause: str
    computation: str
    quantity: str
    written: str  # the condition as written: 年满70, 超过 15, ≤ 2020-12-31
    bound: Any = None
    against: str | None = None
    values: tuple[Any, ...] = ()  # for enum/boolean cells: every value, not three points

    @property
    def key(self) -> tuple:
        return (self.quantity, str(self.bound), self.against, self.values)


@dataclass
class MatrixRow:
    kind: str  # "hand-written", "boundary" or "in-force"
    clause: str
    case: str
    on: dt.date
    facts: dict[str, Any]
    boundary: str = ""
    point: str = ""
    value: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)  # what a hand-written case checks

    def cells(self, outputs: list[str]) -> list[str]:
        facts = json.dumps(self.facts, ensure_ascii=False, sort_keys=True, default=str)
        fixed = [self.kind, self.clause, self.case, self.boundary, self.point, self.value]
        return [*fixed, self.on.isoformat(), facts, *(self.outputs.get(o, "") for o in outputs)]


@dataclass
class Matrix:
    policy: str
    outputs: list[str]
    rows: list[MatrixRow]
    boundaries: list[Boundary]

    def csv(self) -> str:
        """UTF-8 CSV text (the BOM is added when written, so Excel reads it as UTF-8)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*FIXED_COLUMNS, *self.outputs])
        for row in self.rows:
            writer.writerow(row.cells(self.outputs))
        return out.getvalue()

    def csv_bytes(self) -> bytes:
        return csv_bytes(self.csv())


def csv_bytes(text: str) -> bytes:
    """UTF-8 with a byte-order mark: what Excel needs to open Chinese text correctly."""
    return "\ufeff".encode() + text.encode("utf-8")


# -- finding the thresholds ----------------------------------------------------------------
def boundaries(policy: Policy) -> list[Boundary]:
    """Every threshold of the policy's tables and comparisons that can be reached by
    changing one fact, in clause order; a bound met twice (不满80, 年满80) is listed once
    with both wordings."""
    found: dict[tuple, Boundary] = {}
    for comp in policy.computations.values():
        items = _table_bounds(policy, comp) if comp.table else _expr_bounds(policy, comp)
        for item in items:
            if inverse(policy, item.quantity) is None:
                continue
            known = found.get(item.key)
            if known is None:
                found[item.key] = item
            elif item.written not in known.written.split(" / "):
                found[item.key] = replace(known, written=f"{known.written} / {item.written}")
    return list(found.values())


def _table_bounds(policy: Policy, comp: Computation) -> Iterator[Boundary]:
    assert comp.table is not None
    for column in comp.table.columns:
        cells = [row.cells[column] for row in comp.table.rows if column in row.cells]
        kind = policy.kinds.get(column, "")
        if kind in (Kind.ENUM, Kind.BOOLEAN) and any(c.values for c in cells):
            yield _value_boundary(policy, comp, column, cells)
            continue
        for cell in cells:
            yield from _cell_bounds(comp, column, cell)


def _value_boundary(policy: Policy, comp: Computation, column: str, cells: list[Cell]) -> Boundary:
    values: set[Any] = {v for c in cells if c.values for v in c.values}
    kind = policy.kinds[column]
    if kind == Kind.BOOLEAN:
        values = {False, True}
    else:
        declared = _declared_type(policy, column)
        values |= set(declared.values or ()) if declared else set()
    ordered = tuple(sorted(values, key=str))
    written = "、".join(show_value(v) for v in ordered)
    return Boundary(comp.clause, comp.name, column, written, values=ordered)


def _declared_type(policy: Policy, name: str) -> Any:
    for group in (policy.facts, policy.computations):
        if name in group:
            return group[name].type
    return None


def _cell_bounds(comp: Computation, column: str, cell: Cell) -> Iterator[Boundary]:
    if cell.interval is None:
        return
    for index, bound in enumerate((cell.interval.lo, cell.interval.hi)):
        if bound is None:
            continue
        side = "min" if index == 0 else "max"
        words = [(w, v) for w, v in cell.written if _side(w) == side] or list(cell.written)
        written = cell_text(Cell(interval=cell.interval, written=tuple(words)))
        yield Boundary(comp.clause, comp.name, column, written, bound=bound)


def _side(word: str) -> str:
    bound = CIVIL_CODE_1259.get(word) or NEUTRAL.get(word)
    return bound.side if bound else ""


def _expr_bounds(policy: Policy, comp: Computation) -> Iterator[Boundary]:
    if comp.expr is None:
        return
    for node in _walk(comp.expr):
        if not isinstance(node, Binary) or not (node.word or node.op in COMPARISONS):
            continue
        word = node.word or node.op
        left, right = node.left, node.right
        for this, other in ((left, right), (right, left)):
            if not isinstance(this, Name) or policy.kinds.get(this.name) not in (*STEP, Kind.DATE):
                continue
            written = f"{_label(this)} {word} {_label(other)}"
            bound = constant(policy, other)
            if bound is not None:
                yield Boundary(comp.clause, comp.name, this.name, written, bound=bound)
                break
            if isinstance(other, Name) and inverse(policy, this.name) is not None:
                yield Boundary(comp.clause, comp.name, this.name, written, against=other.name)
                break


def _label(node: Node) -> str:
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Literal):
        return node.text
    return "…"


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from _walk(child)


def constant(policy: Policy, node: Node) -> Any:
    """The value of a literal, a parameter (on the first day in force) or date('...')."""
    if isinstance(node, Literal) and isinstance(node.value, Decimal):
        return node.value
    if isinstance(node, Name) and node.name in policy.parameters:
        value = policy.parameters[node.name].at(policy.in_force.start)
        return value.value if value is not None else None
    if isinstance(node, Call) and node.func == "date" and isinstance(node.args[0], Literal):
        return iso_date(str(node.args[0].value))
    return None


def inverse(policy: Policy, name: str) -> Inverse | None:
    """How to set the facts so that ``name`` takes a given value, or None if it cannot be
    done by one fact: a fact itself, ``ceil``/``floor`` of a fact, ``age_on(birth, day)``."""
    if name in policy.facts:
        return Inverse(name, lambda value: value)
    comp = policy.computations.get(name)
    if comp is None or comp.expr is None:
        return None
    expr = comp.expr
    if isinstance(expr, Name):
        return inverse(policy, expr.name)
    if isinstance(expr, Call) and expr.func in ("ceil", "floor") and isinstance(expr.args[0], Name):
        return inverse(policy, expr.args[0].name)
    if isinstance(expr, Call) and expr.func == "age_on" and isinstance(expr.args[0], Name):
        birth, day = expr.args[0].name, constant(policy, expr.args[1])
        if birth in policy.facts and isinstance(day, dt.date):
            return Inverse(birth, lambda value: _years_before(day, int(value)))
    return None


def _years_before(day: dt.date, years: int) -> dt.date:
    """The birth date that makes someone exactly ``years`` old on ``day``."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def points(bound: Any, kind: Kind) -> list[tuple[str, Any]]:
    """Just below, at and just above a bound: the day before/of/after for a date."""
    if isinstance(bound, dt.date):
        one = dt.timedelta(days=1)
        return [("below", bound - one), ("at", bound), ("above", bound + one)]
    step = STEP.get(kind, FEN)
    return [("below", bound - step), ("at", bound), ("above", bound + step)]


# -- building the matrix -------------------------------------------------------------------
def build_matrix(program: Program) -> Matrix:
    """Hand-written cases, boundary cases and in-force cases, each with every output."""
    policy = program.policy
    outputs = list(policy.outputs)
    rows = [_hand_row(program, case, outputs) for case in policy.cases]
    found = boundaries(policy)
    for item in found:
        rows += _boundary_rows(program, item, outputs)
    rows += _in_force_rows(program, outputs)
    return Matrix(policy.id, outputs, rows, found)


def _hand_row(program: Program, case: Case, outputs: list[str]) -> MatrixRow:
    on = case.on or program.policy.in_force.start
    facts = {k: as_written(v) for k, v in case.facts.items()}
    row = MatrixRow("hand-written", case.clause or "", case.name, on, facts)
    row.expect = dict(case.expect) or {"error": case.expect_error}
    row.outputs = run(program, facts, on, outputs)
    return row


def run(program: Program, facts: dict[str, Any], on: dt.date, outputs: list[str]) -> dict[str, str]:
    """Every output as stable text; an output that fails shows its error, and when the
    case as a whole is refused (bad fact, not in force) every column says so."""
    policy = program.policy
    try:
        result = evaluate_policy(program, facts, on, outputs=outputs, trace=False)
        return {o: _show(result.outputs[o], policy.kinds.get(o)) for o in outputs}
    except PolicyError:
        pass
    shown = {}
    for name in outputs:
        try:
            result = evaluate_policy(program, facts, on, outputs=[name], trace=False)
            shown[name] = _show(result.outputs[name], policy.kinds.get(name))
        except PolicyError as exc:
            shown[name] = f"error: {exc}"
    return shown


def _show(value: Any, kind: str | None) -> str:
    shown = to_json(value, kind)
    if shown is None:
        return "null"
    if isinstance(shown, bool):
        return "true" if shown else "false"
    if isinstance(shown, list):
        return json.dumps(shown, ensure_ascii=False)
    return str(shown)


def baselines(policy: Policy, item: Boundary, fact: str, target: Any) -> list[Case]:
    """Representative hand-written cases for a boundary, best first: of its clause, giving
    the fact varied, with that fact nearest the bound (so the other inputs are the ones
    the author chose to put this threshold in play)."""
    usable = [c for c in policy.cases if not c.expect_error]

    def score(case: Case) -> tuple[bool, bool, Any]:
        return (
            case.clause != item.clause,
            fact not in case.facts,
            _distance(policy, case, fact, target),
        )

    return sorted(usable, key=score)[:MAX_BASELINES]


def _distance(policy: Policy, case: Case, fact: str, target: Any) -> Decimal:
    if target is None or case.facts.get(fact) is None:
        return Decimal(0)
    try:
        value = parse_value(policy.facts[fact], case.facts[fact])
    except PolicyError:
        return Decimal(0)
    if isinstance(value, dt.date) and isinstance(target, dt.date):
        return Decimal(abs((value - target).days))
    if isinstance(value, Decimal) and isinstance(target, Decimal):
        return abs(value - target)
    return Decimal(0)


def _boundary_rows(program: Program, item: Boundary, outputs: list[str]) -> list[MatrixRow]:
    """The probes of one boundary on the first baseline where they change an output (so
    the boundary is really exercised), else on the best baseline."""
    policy = program.policy
    invert = inverse(policy, item.quantity)
    assert invert is not None
    target = None if item.bound is None else invert.setter(item.bound)
    first: list[MatrixRow] = []
    for base in baselines(policy, item, invert.fact, target):
        rows = _probe(program, item, invert, base, outputs)
        first = first or rows
        if len({tuple(r.outputs.values()) for r in rows}) > 1:
            return rows
    return first


def _probe(
    program: Program, item: Boundary, invert: Inverse, base: Case, outputs: list[str]
) -> list[MatrixRow]:
    policy = program.policy
    on = base.on or policy.in_force.start
    facts = {k: as_written(v) for k, v in base.facts.items()}
    if item.values:
        probes = [(show_value(v), v) for v in item.values]
    else:
        bound = item.bound if item.against is None else _value_of(program, facts, on, item.against)
        if bound is None:
            return []
        probes = points(bound, policy.kinds[item.quantity])
    rows = []
    for point, value in probes:
        case_facts = {**facts, invert.fact: as_written(invert.setter(value))}
        shown = _show(value, policy.kinds.get(item.quantity))
        row = MatrixRow(
            "boundary",
            item.clause,
            base.name,
            on,
            case_facts,
            boundary=f"{item.computation}: {item.written}",
            point=point,
            value=f"{item.quantity}={shown}",
        )
        row.outputs = run(program, case_facts, on, outputs)
        rows.append(row)
    return rows


def _value_of(program: Program, facts: dict[str, Any], on: dt.date, name: str) -> Any:
    try:
        return evaluate_policy(program, facts, on, outputs=[name], trace=False).outputs[name]
    except PolicyError:
        return None


def _in_force_rows(program: Program, outputs: list[str]) -> list[MatrixRow]:
    """The day before, of and after the start (and end) of the in-force window."""
    policy = program.policy
    usable = [c for c in policy.cases if not c.expect_error]
    if not usable:
        return []
    base = usable[0]
    facts = {k: as_written(v) for k, v in base.facts.items()}
    rows = []
    ends = [("from", policy.in_force.start)]
    if policy.in_force.until is not None:
        ends.append(("until", policy.in_force.until))
    for label, day in ends:
        for point, on in points(day, Kind.DATE):
            row = MatrixRow(
                "in-force",
                "",
                base.name,
                on,
                facts,
                boundary=f"in_force.{label}: {day.isoformat()}",
                point=point,
                value=f"on={on.isoformat()}",
            )
            row.outputs = run(program, facts, on, outputs)
            rows.append(row)
    return rows


# -- the snapshot ----------------------------------------------------------------------------
def snapshot_path(repo_root: Path, policy_id: str) -> Path:
    return repo_root / "tests" / "matrices" / f"{policy_id}.csv"


def run_matrix(repo: Any, policy_id: str, update: bool) -> int:
    """`policy matrix ID [--update]`: check the snapshot (exit 1 if it differs) or rewrite it."""
    from ..policy.files import write_atomic

    content = build_matrix(repo.program(policy_id)).csv_bytes()
    path = snapshot_path(repo.root.parent, policy_id)
    if update:
        if not path.is_file() or path.read_bytes() != content:
            write_atomic(path, content)
            print(f"updated {path.relative_to(repo.root.parent)}")
        else:
            print(f"unchanged {path.relative_to(repo.root.parent)}")
        return 0
    if not path.is_file():
        print(
            f"{path.relative_to(repo.root.parent)}: missing; run policy matrix {policy_id} --update"
        )
        return 1
    if path.read_bytes() != content:
        print(
            f"{path.relative_to(repo.root.parent)}: differs from the engine's outputs; review the "
            f"change, then run policy matrix {policy_id} --update"
        )
        return 1
    print(f"ok: {path.relative_to(repo.root.parent)}")
    return 0
