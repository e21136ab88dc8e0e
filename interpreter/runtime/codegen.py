"""Compile a policy's rules into one Python function for untraced evaluation.

Why: the closures in ``compiler`` cost one Python call per node of every rule, so a case
took about three times as long as the same rule written by hand. Untraced callers (the
case system asking for outputs only, the batch fallback) get one function per set of
wanted outputs instead, in which every value is a local variable, as a programmer would
write it. The closures stay for the traced path, which must note every step.

Only three kinds of text reach the generated source, so nothing from a policy file or a
case is ever executed: names of facts, parameters and computed values (re-checked here
against the schema's ``^[a-z][a-z0-9_]*$`` and prefixed ``v_``, so a name can be neither
a keyword nor a helper); operators from a fixed table; and generated constant names.
Every value, whether a number, a text, a set or a function, is bound in the function's
namespace, never written into the source.

Semantics are those of eager evaluation: every computation the outputs depend on is worked
out in dependency order. Any failure (an absent optional fact that is read, division by
zero, no table row, a money result that is not whole fen) makes the function return None,
and the engine starts again lazily, which names the clause and article in the error.
"""

from __future__ import annotations

import hashlib
import linecache
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..language.conventions import Convention
from ..language.errors import EvaluationError
from ..language.expressions import Binary, Call, If, ListLit, Literal, Name, Node, Unary
from ..language.functions import FUNCTIONS, ROUNDING
from ..language.tables import Cell
from .closures import FEN, _divide, operator_of

if TYPE_CHECKING:
    from ..policy.model import Computation, Policy, Table

Plan = Callable[[dict[str, Any], dict[str, Any]], "dict[str, Any] | None"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OPERATORS = {
    "+": "+",
    "-": "-",
    "*": "*",
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "and": "and",
    "or": "or",
    "in": "in",
    "not in": "not in",
}


class _Fallback(EvaluationError):
    """Raised inside generated code: evaluate this case lazily instead."""


class NotGenerated(Exception):
    """The rules use something the generator does not know: keep to the closures."""


MAX_SOURCE = 200_000  # characters: past this, inlining has got out of hand


@dataclass(frozen=True)
class GeneratedPlan:
    run: Plan
    source: str  # kept for reading and for tracebacks (registered with linecache)


@dataclass
class _Emitter:
    """Writes Python expressions for the checked tree.

    ``deferred`` are the computations that only some branches need: each is worked out
    where it is first read, and remembered (``v_x := ...``), as the lazy path does; the
    rest are plain statements in dependency order."""

    convention: Convention
    nullable: frozenset[str]
    deferred: dict[str, Computation]
    namespace: dict[str, Any] = field(default_factory=dict)
    temporaries: int = 0

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        self.temporaries += 1
        return f"t_{self.temporaries}"

    def expr(self, node: Node) -> str:
        if isinstance(node, Literal):
            if node.value is None or isinstance(node.value, bool):
                return repr(node.value)
            return self.constant(node.value)
        if isinstance(node, Name):
            return self.read(node.name)
        if isinstance(node, Unary):
            inner = self.expr(node.operand)
            return f"(not {inner})" if node.op == "not" else f"(-{inner})"
        if isinstance(node, If):
            cond, then, other = (self.expr(n) for n in (node.cond, node.then, node.otherwise))
            return f"({then} if {cond} else {other})"
        if isinstance(node, ListLit):
            items = frozenset(i.value for i in node.items if isinstance(i, Literal))
            return self.constant(items)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Binary):
            return self.binary(node)
        raise NotGenerated(f"no generator for {type(node).__name__}")

    def value(self, name: str) -> str:
        """The name's value, None included: a deferred computation is worked out here."""
        local = variable(name)
        comp = self.deferred.get(name)
        if comp is None:
            return local
        return f"({local} if {local} is not _UNSET else ({local} := {self.computation(comp)}))"

    def read(self, name: str) -> str:
        """A nullable name read in an expression must be given (``given(x)`` tests it)."""
        local, value = variable(name), self.value(name)
        if name not in self.nullable:
            return value
        if value == local:
            return f"({local} if {local} is not None else _absent())"
        return f"(_absent() if {value} is None else {local})"

    def call(self, node: Call) -> str:
        if node.func == "given":
            (arg,) = node.args
            if not isinstance(arg, Name):
                raise NotGenerated("given() of something other than a name")
            return f"({self.value(arg.name)} is not None)"
        if node.func == "round" and all(isinstance(a, Literal) for a in node.args[1:]):
            places = node.args[1].value if len(node.args) > 1 else 2  # type: ignore[union-attr]
            mode = node.args[2].value if len(node.args) > 2 else "half_up"  # type: ignore[union-attr]
            quantum = self.constant(Decimal(1).scaleb(-int(places)))  # type: ignore[arg-type]
            rounding = self.constant(ROUNDING[mode])  # type: ignore[index]
            return f"{self.expr(node.args[0])}.quantize({quantum}, rounding={rounding})"
        impl = self.constant(FUNCTIONS[node.func].impl)
        return f"{impl}({', '.join(self.expr(a) for a in node.args)})"

    def binary(self, node: Binary) -> str:
        op = operator_of(node, self.convention)
        left, right = self.expr(node.left), self.expr(node.right)
        if op == "/":
            return f"_divide({left}, {right})"
        if op not in _OPERATORS:
            raise NotGenerated(f"no generator for operator {op!r}")
        return f"({left} {_OPERATORS[op]} {right})"

    def cell(self, local: str, cell: Cell) -> str | None:
        """One column's test in one row, None for "any value"."""
        if cell.values is not None:
            if len(cell.values) == 1:
                return f"{local} == {self.constant(next(iter(cell.values)))}"
            return f"{local} in {self.constant(cell.values)}"
        iv = cell.interval
        if iv is None or (iv.lo is None and iv.hi is None):
            return None
        parts = []
        if iv.lo is not None:
            parts += [self.constant(iv.lo), "<=" if iv.lo_closed else "<"]
        parts.append(local)
        if iv.hi is not None:
            parts += ["<=" if iv.hi_closed else "<", self.constant(iv.hi)]
        return " ".join(parts)

    def computation(self, comp: Computation) -> str:
        """The computation's value as one expression, checked for whole fen if it must be."""
        value = self.expr(comp.expr) if comp.table is None else self.table(comp.table)  # type: ignore[arg-type]
        return f"_whole_fen({value})" if comp.check_fen else value

    def table(self, table: Table) -> str:
        """First matching row wins (unique tables were checked for overlaps at load time);
        every column is read first and must be given, as in ``tables.compile_table``."""
        locals_, checks = {}, []
        for column in table.columns:
            value = self.value(column)
            if value == variable(column):
                locals_[column] = value
                checks.append(f"{value} is None")
            else:
                locals_[column] = self.temporary()
                checks.append(f"({locals_[column]} := {value}) is None")
        chain = "_absent()" if table.default is None else self.expr(table.default)
        for row in reversed(table.rows):
            tests = [self.cell(locals_[c], row.cells[c]) for c in table.columns]
            condition = " and ".join(t for t in tests if t is not None) or "True"
            chain = f"({self.expr(row.then)} if {condition} else {chain})"
        return f"(_absent() if {' or '.join(checks)} else {chain})"


def variable(name: str) -> str:
    if not _NAME.match(name):
        raise NotGenerated(f"{name!r} is not a plain name")
    return f"v_{name}"


def _absent() -> Any:
    raise _Fallback("evaluate lazily")


def _whole_fen(value: Any) -> Any:
    if value is not None and value != value.quantize(FEN):
        raise _Fallback("not whole fen: the lazy path says which clause must round")
    return value


_UNSET = object()


def strict_names(node: Node) -> list[str]:
    """Names every evaluation of ``node`` reads; a name read only in one branch of an
    ``if``, or on the right of ``and``/``or``, is not strict."""
    if isinstance(node, Name):
        return [node.name]
    if isinstance(node, If):
        return strict_names(node.cond)
    if isinstance(node, Unary):
        return strict_names(node.operand)
    if isinstance(node, Call):
        return [n for a in node.args for n in strict_names(a)]
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            return strict_names(node.left)
        return strict_names(node.left) + strict_names(node.right)
    return []


def _always_needed(policy: Policy, wanted: tuple[str, ...]) -> set[str]:
    """Computations the wanted outputs read whatever the facts: the lazy path would work
    these out for every case, so computing them up front changes nothing."""
    needed: set[str] = set()
    pending = [n for n in wanted if n in policy.computations]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        comp = policy.computations[name]
        reads = list(comp.table.columns) if comp.table else strict_names(comp.expr)  # type: ignore[arg-type]
        pending += [n for n in reads if n in policy.computations]
    return needed


def generate(policy: Policy, wanted: tuple[str, ...]) -> GeneratedPlan:
    """The function ``run(facts, parameters) -> outputs | None`` for these outputs."""
    order = policy.dependency_order(wanted)
    unknown = [
        n
        for n in wanted
        if n not in policy.computations and n not in policy.facts and n not in policy.parameters
    ]
    if unknown:
        raise NotGenerated(f"unknown outputs {unknown}")
    needed = _always_needed(policy, wanted)
    deferred = {n: policy.computations[n] for n in order if n not in needed}
    emit = _Emitter(policy.convention, policy.nullable, deferred)
    emit.namespace.update(_absent=_absent, _divide=_divide, _whole_fen=_whole_fen, _UNSET=_UNSET)
    reads = _inputs(policy, order, wanted)
    body = [f"{variable(n)} = {'p' if n in policy.parameters else 'f'}[{n!r}]" for n in reads]
    body += [f"{variable(n)} = _UNSET" for n in deferred]
    body += [
        f"{variable(n)} = {emit.computation(policy.computations[n])}" for n in order if n in needed
    ]
    result = ", ".join(f"{n!r}: {variable(n)}" for n in dict.fromkeys(wanted))
    lines = [
        "def run(f, p):",
        "    try:",
        *(f"        {line}" for line in body or ["pass"]),  # no outputs: an empty plan
        "    except _EvaluationError:",
        "        return None",
        f"    return {{{result}}}",
    ]
    source = "\n".join(lines) + "\n"
    if len(source) > MAX_SOURCE:
        raise NotGenerated(f"the generated source would be {len(source)} characters")
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"<policy {policy.id} plan {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {**emit.namespace, "_EvaluationError": EvaluationError}
    exec(compile(source, filename, "exec"), namespace)
    return GeneratedPlan(namespace["run"], source)


def _inputs(policy: Policy, order: tuple[str, ...], wanted: tuple[str, ...]) -> list[str]:
    """Facts and parameters the plan reads, each read once into a local variable."""
    used: dict[str, None] = {}
    for comp in (policy.computations[n] for n in order):
        for dep in comp.deps:
            if dep not in policy.computations:
                used[dep] = None
    for n in wanted:
        if n not in policy.computations:
            used[n] = None
    return list(used)
