"""The value kinds of facts, parameters and computed values, their rules of combination,
and their one reading and writing at the edges: a date's text (``read_date``), a value as
JSON (``to_json``), money's fen (``FEN``)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from .errors import PolicyError


class Kind(enum.StrEnum):
    """The kind of a value. A member is the string the YAML and JSON write (``Kind.MONEY
    == "money"``), so files and outputs are unchanged; code spells a kind only this way."""

    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    ENUM = "enum"
    TEXT = "text"
    LIST = "list"
    NULL = "null"


NUMERIC = (Kind.MONEY, Kind.NUMBER, Kind.INTEGER)
FEN = Decimal("0.01")  # one fen (分): money is a whole number of them


@dataclass(frozen=True)
class Type:
    kind: Kind
    values: frozenset[str] | None = None  # the allowed values of an enum
    nullable: bool = False
    literal: bool = False  # a number written in the expression: it takes the other side's unit
    item: Type | None = None  # the element type of a list

    def __str__(self) -> str:
        text: str = self.kind
        if self.kind == Kind.ENUM and self.values:
            text += "{" + ",".join(sorted(self.values)) + "}"
        if self.kind == Kind.LIST and self.item:
            text = f"list of {self.item}"
        return text + ("?" if self.nullable else "")

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    def strict(self) -> Type:
        return replace(self, nullable=False, literal=False)


BOOLEAN = Type(Kind.BOOLEAN)
INTEGER = Type(Kind.INTEGER)
NUMBER = Type(Kind.NUMBER)
MONEY = Type(Kind.MONEY)
DATE = Type(Kind.DATE)
TEXT = Type(Kind.TEXT)
NULL = Type(Kind.NULL, nullable=True)


def declared(kind: str, values: list[str] | None = None, nullable: bool = False) -> Type:
    """The type of a declared fact, parameter or computation."""
    return Type(Kind(kind), frozenset(values) if values else None, nullable)


def numeric_result(a: Type, b: Type) -> Type | None:
    """The kind of a sum/min/max of two numbers, or None when the units disagree."""
    if a.literal and b.literal:
        return Type(_wider(a.kind, b.kind), literal=True)
    if a.literal:
        return b.strict() if b.kind != Kind.INTEGER or a.kind == Kind.INTEGER else NUMBER
    if b.literal:
        return numeric_result(b, a)
    if a.kind == b.kind:
        return a.strict()
    if Kind.MONEY in (a.kind, b.kind):
        return None
    return NUMBER


def _wider(a: Kind, b: Kind) -> Kind:
    order = [Kind.INTEGER, Kind.NUMBER, Kind.MONEY]
    return order[max(order.index(a), order.index(b))]


def assignable(value: Type, target: Type) -> bool:
    """May a value of type ``value`` be stored where ``target`` is declared?"""
    if value.kind == Kind.NULL:
        return target.nullable
    if value.nullable and not target.nullable:
        return False
    if value.kind == target.kind:
        if value.kind == Kind.ENUM:
            return value.values is None or target.values is None or value.values <= target.values
        return True
    if value.literal and target.numeric and value.kind in NUMERIC:
        return value.kind == Kind.INTEGER or target.kind != Kind.INTEGER
    if value.kind == Kind.INTEGER and target.kind == Kind.NUMBER:
        return True
    return value.kind == Kind.TEXT and value.literal and target.kind == Kind.ENUM


def python_value_ok(value: object, kind: str) -> bool:
    """Does a runtime value have the representation of ``kind``?"""
    if kind in NUMERIC:
        return isinstance(value, Decimal) and (kind != Kind.INTEGER or value == value.to_integral())
    if kind == Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind == Kind.DATE:
        return isinstance(value, dt.date)
    return isinstance(value, str)


# ------------------------------------------------------------------ dates
#
# One reading of a date's text for every entry point (facts, --on, --due-by, --today, the
# API's on= and due_by=, HTTP, batch files, dates written in YAML and in rules): exactly
# YYYY-MM-DD. Python's ``date.fromisoformat`` also takes 20211231 and 2021-W52-5; a date
# that only one entry point accepts is a date two callers read differently.


def read_date(text: str) -> dt.date | None:
    """The date ``text`` writes as YYYY-MM-DD (ten characters, ASCII digits), else None."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return dt.date.fromisoformat(text)  # digits checked here: "2021-1a-01" fails
    except ValueError:
        return None


def iso_date(text: str) -> dt.date:
    """``read_date`` where a caller expects ``date.fromisoformat``: ValueError if not a date."""
    day = read_date(text)
    if day is None:
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD")
    return day


def parse_date(value: Any, what: str) -> dt.date:
    """A date given to an entry point (``what`` names it: "--due-by", "due_by"): a
    ``datetime.date`` (not a date-time) or text YYYY-MM-DD; else a one-line PolicyError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    day = read_date(value) if isinstance(value, str) else None
    if day is None:
        raise PolicyError(f"{what}: {value!r} is not a date YYYY-MM-DD")
    return day


# ------------------------------------------------------------------ JSON
#
# One writing of a value for outputs, the trace (its inputs and parameters), HTTP
# responses, the decision log and batch files: money as a string with two decimals (zero
# is "0.00", never "-0.00"), any other whole number as an integer (Decimal("2.0") is 2,
# Decimal("1E+2") is 100), any other number as its exact decimal string ("0.018"), a date
# ISO, a set sorted; everything else (text, booleans, None) as it is.


def money_text(value: Decimal) -> str:
    """Money as JSON writes it: "45.00", "-0.50", "0.00"."""
    q = value.quantize(FEN)
    return format(q, "f") if q else "0.00"


def fen_text(fen: int) -> str:
    """A whole number of fen as ``money_text`` writes it, without a Decimal."""
    whole, cents = divmod(-fen if fen < 0 else fen, 100)
    return f"-{whole}.{cents:02d}" if fen < 0 else f"{whole}.{cents:02d}"


def number_json(value: Decimal) -> int | str:
    """A number that is not money: a whole one as an integer, else its exact decimals."""
    return int(value) if value == value.to_integral_value() else format(value, "f")


def as_written(value: Any) -> Any:
    """A fact's value as a YAML or JSON author writes it: a date as ISO text, a number as
    its exact decimal text (``Decimal('3000.00')`` -> ``"3000.00"``), anything else as is."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def to_json(value: Any, kind: str | None = None) -> Any:
    """``value`` (of ``kind`` when known: money needs it) as stable JSON."""
    if isinstance(value, Decimal):
        return money_text(value) if kind == Kind.MONEY else number_json(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)`` for values whose kind is not known."""
    if isinstance(value, Decimal | dt.date | frozenset | set):
        return to_json(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
