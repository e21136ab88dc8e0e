"""The thresholds of a policy's core tree: which quantities its rules compare, against
which constants, and in which words. Read by ``regions`` (to cut an input axis into the
pieces where both versions answer alike) and ``population`` (to spread synthetic values
around every bound)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from ..language import core
from ..language.values import Kind
from ..runtime.program import Program


@dataclass
class Compared:
    """One quantity (a fact or a computed value) as the rules compare it: the bounds met
    (numbers or dates), the values tested (enum/boolean), and the words written."""

    name: str
    bounds: set[Any] = field(default_factory=set)
    values: set[Any] = field(default_factory=set)
    words: list[str] = field(default_factory=list)


def _name(node: core.Expr) -> str | None:
    if isinstance(node, core.Read | core.Required):
        return node.name
    return None


def constant(program: Program, node: core.Expr, on: dt.date) -> Any:
    """A literal number or date, or a parameter's value on ``on``; else None."""
    value = node.value if isinstance(node, core.Const) else None
    if isinstance(value, Decimal | dt.date) and not isinstance(value, bool):
        return value
    name = _name(node)
    if name is not None and name in program.policy.parameters:
        value = program.parameter_values_on(on).get(name)
        if isinstance(value, Decimal | dt.date) and not isinstance(value, bool):
            return value
    return None


def walk(node: core.Expr) -> Iterator[core.Expr]:
    yield node
    for child in core.children(node):
        yield from walk(child)


def compared(program: Program, body: core.Expr, on: dt.date) -> dict[str, Compared]:
    """Every quantity ``body`` compares with a constant, table bound or listed value."""
    found: dict[str, Compared] = {}

    def get(name: str) -> Compared:
        return found.setdefault(name, Compared(name))

    for node in walk(body):
        if isinstance(node, core.Compare):
            for this, other in ((node.left, node.right), (node.right, node.left)):
                name = _name(this)
                value = constant(program, other, on)
                if name is not None and value is not None:
                    item = get(name)
                    item.bounds.add(value)
                    if node.word and node.word not in item.words:
                        item.words.append(node.word)
                    break
        elif isinstance(node, core.Member):
            name = _name(node.operand)
            if name is not None:
                get(name).values.update(node.values)
        elif isinstance(node, core.Table):
            for row in node.rows:
                for test in row.tests:
                    if isinstance(test, core.IntervalTest):
                        item = get(test.column)
                        item.bounds.update(b for b in (test.lo, test.hi) if b is not None)
                    else:
                        get(test.column).values.update(test.values)
            comp = program.policy.computations.get(node.name)
            if comp is not None and comp.table is not None:
                for model_row in comp.table.rows:
                    for column, cell in model_row.cells.items():
                        for word, _ in cell.written:
                            if word != "=" and word not in get(column).words:
                                get(column).words.append(word)
    return found


def all_compared(program: Program, on: dt.date) -> dict[str, Compared]:
    """``compared`` over every definition of the program, merged by quantity."""
    merged: dict[str, Compared] = {}
    for definition in program.definitions.values():
        for name, item in compared(program, definition.body, on).items():
            into = merged.setdefault(name, Compared(name))
            into.bounds |= item.bounds
            into.values |= item.values
            into.words += [w for w in item.words if w not in into.words]
    return merged


def _plain(value: Any) -> Any:
    """A core node as builtins without its origins (positions move when text is
    reformatted; the meaning does not)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "at"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def meaning(definition: core.Definition) -> Any:
    """A definition's meaning, comparable across versions: the tree without origins."""
    return _plain(msgspec.to_builtins(definition.body, builtin_types=(Decimal, dt.date)))


def parameter_values(program: Program, name: str) -> tuple:
    parameter = program.policy.parameters.get(name)
    if parameter is None:
        return ()
    return tuple((v.start, v.value) for v in parameter.values)


def changed_definitions(old: Program, new: Program) -> list[str]:
    """Computed values (in the new version's order) whose own rule differs, or that read a
    parameter whose dated values differ."""
    out = []
    for name, definition in new.definitions.items():
        before = old.definitions.get(name)
        if before is None:
            continue
        if meaning(before) != meaning(definition):
            out.append(name)
            continue
        params = {n for n in core.reads(definition.body) if n in new.policy.parameters}
        if any(parameter_values(old, p) != parameter_values(new, p) for p in params):
            out.append(name)
    return out


STEP_KINDS = (Kind.INTEGER, Kind.MONEY, Kind.NUMBER, Kind.DATE)
