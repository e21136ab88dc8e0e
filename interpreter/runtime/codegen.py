"""Compile a policy's core definitions into one Python function for untraced evaluation.

Why: the closures in ``compiler`` cost one Python call per node of every rule, so a case
took about three times as long as the same rule written by hand. Untraced callers (the
case system asking for outputs only, the batch fallback) get one function per set of
wanted outputs instead, in which every value is a local variable, as a programmer would
write it. The closures stay for the traced path, which must note every step.

Only three kinds of text reach the generated source, so nothing from a policy file or a
case is ever executed: names of facts, parameters and computed values (re-checked here
against the schema's ``^[a-z][a-z0-9_]*$``, whole text, and prefixed ``v_``, so a name can be neither
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, assert_never

from ..language import core
from ..language.errors import EvaluationError
from ..language.functions import FUNCTIONS, ROUNDING
from ..language.values import FEN
from .closures import divide

if TYPE_CHECKING:
    from ..policy.model import Policy

Plan = Callable[[dict[str, Any], dict[str, Any]], "dict[str, Any] | None"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")  # fullmatch: "$" would match before a final newline
_OPERATORS = {op: op for op in ("+", "-", "*", *core.ORDERINGS)}


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
    """Writes Python expressions for the core tree.

    ``deferred`` are the definitions that only some branches need: each is worked out
    where it is first read, and remembered (``v_x := ...``), as the lazy path does; the
    rest are plain statements in dependency order."""

    deferred: dict[str, core.Definition]
    namespace: dict[str, Any] = field(default_factory=dict)
    temporaries: int = 0

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        self.temporaries += 1
        return f"t_{self.temporaries}"

    def expr(self, node: core.Expr) -> str:
        match node:
            case core.Const(value=value):
                if value is None or isinstance(value, bool):
                    return repr(value)
                return self.constant(value)
            case core.Read(name=name):
                return self.value(name)
            case core.Required(name=name):
                return self.required(name)
            case core.Given(name=name):
                return f"({self.value(name)} is not None)"
            case core.Not(operand=operand):
                return f"(not {self.expr(operand)})"
            case core.Neg(operand=operand):
                return f"(-{self.expr(operand)})"
            case core.IfExp(cond=cond, then=then, otherwise=otherwise):
                c, t, o = self.expr(cond), self.expr(then), self.expr(otherwise)
                return f"({t} if {c} else {o})"
            case core.Member(operand=operand, values=values, negated=negated):
                op = "not in" if negated else "in"
                return f"({self.expr(operand)} {op} {self.constant(values)})"
            case core.And(left=left, right=right):
                return f"({self.expr(left)} and {self.expr(right)})"
            case core.Or(left=left, right=right):
                return f"({self.expr(left)} or {self.expr(right)})"
            case core.Arith(op="/", left=left, right=right):
                return f"_divide({self.expr(left)}, {self.expr(right)})"
            case (
                core.Arith(op=op, left=left, right=right)
                | core.Compare(op=op, left=left, right=right)
            ):
                return f"({self.expr(left)} {_OPERATORS[op]} {self.expr(right)})"
            case core.Round(operand=operand, places=places, mode=mode):
                quantum = self.constant(Decimal(1).scaleb(-places))
                rounding = self.constant(ROUNDING[mode])
                return f"{self.expr(operand)}.quantize({quantum}, rounding={rounding})"
            case core.Call(func=func, args=args):
                impl = self.constant(FUNCTIONS[func].impl)
                return f"{impl}({', '.join(self.expr(a) for a in args)})"
            case core.WholeFen(operand=operand):
                return f"_whole_fen({self.expr(operand)})"
            case core.Table():
                return self.table(node)
            case _:
                assert_never(node)

    def value(self, name: str) -> str:
        """The name's value, None included: a deferred definition is worked out here."""
        local = variable(name)
        definition = self.deferred.get(name)
        if definition is None:
            return local
        return f"({local} if {local} is not _UNSET else ({local} := {self.expr(definition.body)}))"

    def required(self, name: str) -> str:
        """An optional name read in an expression must be given (``given(x)`` tests it)."""
        local, value = variable(name), self.value(name)
        if value == local:
            return f"({local} if {local} is not None else _absent())"
        return f"(_absent() if {value} is None else {local})"

    def test(self, local: str, test: core.Test) -> str | None:
        """One column's test in one row, None for "any value"."""
        match test:
            case core.SetTest(values=values):
                if len(values) == 1:
                    return f"{local} == {self.constant(next(iter(values)))}"
                return f"{local} in {self.constant(values)}"
            case core.IntervalTest(lo=lo, lo_closed=lo_closed, hi=hi, hi_closed=hi_closed):
                if lo is None and hi is None:
                    return None
                parts = []
                if lo is not None:
                    parts += [self.constant(lo), "<=" if lo_closed else "<"]
                parts.append(local)
                if hi is not None:
                    parts += ["<=" if hi_closed else "<", self.constant(hi)]
                return " ".join(parts)
            case _:
                assert_never(test)

    def table(self, table: core.Table) -> str:
        """First matching row wins (unique tables were checked for overlaps at load time);
        every column is read first and must be given, as the closures do."""
        locals_, checks = {}, []
        for read in table.columns:
            if not isinstance(read, core.Read | core.Required):
                raise NotGenerated("a table column that is not a name")
            column = read.name
            value = self.value(column)
            if value == variable(column):
                locals_[column] = value
                checks.append(f"{value} is None")
            else:
                locals_[column] = self.temporary()
                checks.append(f"({locals_[column]} := {value}) is None")
        chain = "_absent()" if table.default is None else self.expr(table.default)
        for row in reversed(table.rows):
            tests = [self.test(locals_[t.column], t) for t in row.tests]
            condition = " and ".join(t for t in tests if t is not None) or "True"
            chain = f"({self.expr(row.then)} if {condition} else {chain})"
        return f"(_absent() if {' or '.join(checks)} else {chain})"


def variable(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NotGenerated(f"{name!r} is not a plain name")
    return f"v_{name}"


def _absent() -> Any:
    raise _Fallback("evaluate lazily")


def _whole_fen(value: Any) -> Any:
    if value is not None and value != value.quantize(FEN):
        raise _Fallback("not whole fen: the lazy path says which clause must round")
    return value


_UNSET = object()


def _always_needed(definitions: Mapping[str, core.Definition], wanted: tuple[str, ...]) -> set[str]:
    """Definitions the wanted outputs read whatever the facts: the lazy path would work
    these out for every case, so computing them up front changes nothing."""
    needed: set[str] = set()
    pending = [n for n in wanted if n in definitions]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        pending += [n for n in core.strict_reads(definitions[name].body) if n in definitions]
    return needed


def generate(
    policy: Policy, definitions: Mapping[str, core.Definition], wanted: tuple[str, ...]
) -> GeneratedPlan:
    """The function ``run(facts, parameters) -> outputs | None`` for these outputs;
    NotGenerated where Python cannot compile it: one expression per definition nests a
    long table or else-if chain deeper than Python's parser allows (200 parentheses)."""
    try:
        return _generate(policy, definitions, wanted)
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise NotGenerated(f"Python cannot compile the plan: {type(exc).__name__}") from None


def _generate(
    policy: Policy, definitions: Mapping[str, core.Definition], wanted: tuple[str, ...]
) -> GeneratedPlan:
    order = policy.dependency_order(wanted)
    unknown = [
        n
        for n in wanted
        if n not in definitions and n not in policy.facts and n not in policy.parameters
    ]
    if unknown:
        raise NotGenerated(f"unknown outputs {unknown}")
    needed = _always_needed(definitions, wanted)
    deferred = {n: definitions[n] for n in order if n not in needed}
    emit = _Emitter(deferred)
    emit.namespace.update(_absent=_absent, _divide=divide, _whole_fen=_whole_fen, _UNSET=_UNSET)
    reads = _inputs(policy, definitions, order, wanted)
    body = [f"{variable(n)} = {'p' if n in policy.parameters else 'f'}[{n!r}]" for n in reads]
    body += [f"{variable(n)} = _UNSET" for n in deferred]
    body += [f"{variable(n)} = {emit.expr(definitions[n].body)}" for n in order if n in needed]
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


def _inputs(
    policy: Policy,
    definitions: Mapping[str, core.Definition],
    order: tuple[str, ...],
    wanted: tuple[str, ...],
) -> list[str]:
    """Facts and parameters the plan reads, each read once into a local variable."""
    used: dict[str, None] = {}
    for name in order:
        for dep in core.reads(definitions[name].body):
            if dep not in definitions:
                used[dep] = None
    for n in wanted:
        if n not in definitions:
            used[n] = None
    return list(used)
