"""The value types of facts, parameters and computed values, and their rules of combination."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

NUMERIC = ("money", "number", "integer")


@dataclass(frozen=True)
class Type:
    kind: str  # money number integer boolean date enum text list null
    values: frozenset[str] | None = None  # the allowed values of an enum
    nullable: bool = False
    literal: bool = False  # a number written in the expression: it takes the other side's unit
    item: Type | None = None  # the element type of a list

    def __str__(self) -> str:
        text = self.kind
        if self.kind == "enum" and self.values:
            text += "{" + ",".join(sorted(self.values)) + "}"
        if self.kind == "list" and self.item:
            text = f"list of {self.item}"
        return text + ("?" if self.nullable else "")

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    def strict(self) -> Type:
        return replace(self, nullable=False, literal=False)


BOOLEAN = Type("boolean")
INTEGER = Type("integer")
NUMBER = Type("number")
MONEY = Type("money")
DATE = Type("date")
TEXT = Type("text")
NULL = Type("null", nullable=True)


def declared(kind: str, values: list[str] | None = None, nullable: bool = False) -> Type:
    """The type of a declared fact, parameter or computation."""
    return Type(kind, frozenset(values) if values else None, nullable)


def numeric_result(a: Type, b: Type) -> Type | None:
    """The kind of a sum/min/max of two numbers, or None when the units disagree."""
    if a.literal and b.literal:
        return Type(_wider(a.kind, b.kind), literal=True)
    if a.literal:
        return b.strict() if b.kind != "integer" or a.kind == "integer" else NUMBER
    if b.literal:
        return numeric_result(b, a)
    if a.kind == b.kind:
        return a.strict()
    if "money" in (a.kind, b.kind):
        return None
    return NUMBER


def _wider(a: str, b: str) -> str:
    order = ["integer", "number", "money"]
    return order[max(order.index(a), order.index(b))]


def assignable(value: Type, target: Type) -> bool:
    """May a value of type ``value`` be stored where ``target`` is declared?"""
    if value.kind == "null":
        return target.nullable
    if value.nullable and not target.nullable:
        return False
    if value.kind == target.kind:
        if value.kind == "enum":
            return value.values is None or target.values is None or value.values <= target.values
        return True
    if value.literal and target.numeric and value.kind in NUMERIC:
        return value.kind == "integer" or target.kind != "integer"
    if value.kind == "integer" and target.kind == "number":
        return True
    return value.kind == "text" and value.literal and target.kind == "enum"


def python_value_ok(value: object, kind: str) -> bool:
    """Does a runtime value have the representation of ``kind``?"""
    if kind in NUMERIC:
        return isinstance(value, Decimal) and (kind != "integer" or value == value.to_integral())
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, dt.date)
    return isinstance(value, str)
