"""Turn the facts a caller sends into typed values, refusing anything doubtful.

A misspelt fact is never ignored: an unknown name is an error with a suggestion. Money is
exact (Decimal, whole cents); dates are ISO dates; enums must be one of their values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ..language.errors import FactError, did_you_mean, shown
from ..language.values import FEN, NUMERIC, Kind, read_date
from ..policy.model import Fact, Policy

# Exact arithmetic needs room: 15 + 12 digits stay inside Decimal's 28-digit context
# (and the columnar engine's int64 fixed point), so no rule rounds silently.
MAX_DIGITS = 15
MAX_DECIMALS = 12

# The one spelling of a number written as text, on every entry point (CLI facts, the
# Python API, batch files, HTTP): ASCII digits, an optional "-", and an optional point
# with digits after it -- at most two for money, none for an integer. No "+", no
# exponent, no spaces or underscores, no other digits (Arabic-Indic, fullwidth...), no
# final newline. The facts schema's string patterns are these, anchored
# (``json_schemas``); here they are always matched whole (``fullmatch``: Python's ``$``
# would also match before a final newline). A JSON number is a number, not a spelling.
NUMBER_TEXT = {
    Kind.MONEY: r"-?[0-9]+(\.[0-9]{1,2})?",
    Kind.INTEGER: r"-?[0-9]+",
    Kind.NUMBER: r"-?[0-9]+(\.[0-9]+)?",
}
_SPELLING = {kind: re.compile(text).fullmatch for kind, text in NUMBER_TEXT.items()}
_ANY_SPELLING = _SPELLING[Kind.NUMBER]


def parse_facts(policy: Policy, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed facts for one case (absent optional facts are None)."""
    if not isinstance(raw, Mapping):
        raise FactError(f"facts must be an object of name: value, got {type(raw).__name__}")
    for name in raw:
        if name not in policy.facts:
            hint = did_you_mean(str(name), policy.facts)
            raise FactError(f"unknown fact for policy {policy.id}{hint}", str(name))
    values: dict[str, Any] = {}
    for name, fact in policy.facts.items():
        value = raw.get(name)
        if value is None:
            if fact.default is not None:
                values[name] = fact.default
            elif fact.required:
                raise FactError("is required", name)
            else:
                values[name] = None
            continue
        values[name] = parse_value(fact, value)
    return values


_ONE = Decimal(1)


def parse_value(fact: Fact, value: Any) -> Any:
    kind = fact.type.kind
    if kind in NUMERIC:
        number = _number(fact, value)
        _check_bounds(fact, number)
        return number
    if kind == Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise FactError(f"must be true or false, got {shown(value)}", fact.name)
        return value
    if kind == Kind.DATE:
        return _date(fact, value)
    if not isinstance(value, str):
        raise FactError(f"must be text, got {shown(value)}", fact.name)
    if kind == Kind.ENUM and fact.type.values and value not in fact.type.values:
        allowed = ", ".join(sorted(fact.type.values))
        hint = did_you_mean(value, fact.type.values)
        raise FactError(f"{shown(value)} is not one of {allowed}{hint}", fact.name)
    return value


def _number(fact: Fact, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise FactError(f"must be a number, got {shown(value)}", fact.name)
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))  # the shortest text that reads back as this float
        elif isinstance(value, int | Decimal) or (
            isinstance(value, str) and _ANY_SPELLING(value) is not None
        ):
            number = Decimal(value)  # a number, or text in the one spelling
        else:
            raise InvalidOperation
    except InvalidOperation:
        raise FactError(f"must be a number, got {shown(value)}", fact.name) from None
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN, sNaN, Infinity
        raise FactError(f"must be a finite number, got {shown(value)}", fact.name)
    if number and number.adjusted() >= MAX_DIGITS:
        raise FactError(f"is too large: at most {MAX_DIGITS} digits before the point", fact.name)
    if exponent < -MAX_DECIMALS:
        raise FactError(f"has more than {MAX_DECIMALS} decimal places", fact.name)
    kind = fact.type.kind
    if kind == Kind.INTEGER:
        if number != number.to_integral_value():
            raise FactError(f"must be a whole number, got {shown(value)}", fact.name)
        number = number.quantize(_ONE)  # 2020.00 and 1E+2 are the integers 2020 and 100
    if kind == Kind.MONEY and number != number.quantize(FEN):
        raise FactError(f"money has at most two decimals (fen), got {shown(value)}", fact.name)
    if isinstance(value, str) and _SPELLING[kind](value) is None:  # "2020.00", "3000.000"
        if kind == Kind.INTEGER:
            raise FactError(f"must be a whole number, got {shown(value)}", fact.name)
        raise FactError(f"money has at most two decimals (fen), got {shown(value)}", fact.name)
    return number


def _check_bounds(fact: Fact, number: Decimal) -> None:
    if fact.minimum is not None and number < fact.minimum:
        raise FactError(f"must be at least {fact.minimum}, got {number}", fact.name)
    if fact.exclusive_minimum is not None and number <= fact.exclusive_minimum:
        raise FactError(f"must be more than {fact.exclusive_minimum}, got {number}", fact.name)
    if fact.maximum is not None and number > fact.maximum:
        raise FactError(f"must be at most {fact.maximum}, got {number}", fact.name)


def _date(fact: Fact, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise FactError(f"must be a date, not a date-time: {shown(value)}", fact.name)
    if isinstance(value, dt.date):
        return value
    day = read_date(value) if isinstance(value, str) else None
    return day if day is not None else _bad_date(fact, value)


def _bad_date(fact: Fact, value: Any) -> dt.date:
    raise FactError(f"must be a date YYYY-MM-DD, got {shown(value)}", fact.name)


# ------------------------------------------------------------------ quick paths
#
# For a batch of millions of rows: the common, well-formed value read without building a
# Decimal. A quick reader accepts only text that ``parse_value`` accepts, with the same
# value; for anything else it answers None and the caller asks ``parse_value``, so every
# error (and its message) is the one a single evaluation gives.

_PLAIN_NUMBER = {
    # kind -> the kind's NUMBER_TEXT within the digit limits: at most MAX_DIGITS before
    # the point, and at most the kind's decimals after it
    Kind.MONEY: re.compile(rf"(-?)([0-9]{{1,{MAX_DIGITS}}})(?:\.([0-9]{{1,2}}))?"),
    Kind.INTEGER: re.compile(rf"(-?)([0-9]{{1,{MAX_DIGITS}}})()"),
    Kind.NUMBER: re.compile(rf"(-?)([0-9]{{1,{MAX_DIGITS}}})(?:\.([0-9]{{1,{MAX_DECIMALS}}}))?"),
}


class QuickNumber:
    """Reads a numeric fact's plain text as ``(coefficient, exponent)`` (the value is
    coefficient * 10**exponent, as ``Decimal(text).as_tuple()`` has it), bounds checked;
    None when ``parse_value`` must decide."""

    def __init__(self, fact: Fact) -> None:
        self.fact = fact
        self.match = _PLAIN_NUMBER[fact.type.kind].fullmatch
        self.limits: dict[int, tuple[int | None, int | None, int | None]] = {}

    def __call__(self, text: str) -> tuple[int, int] | None:
        m = self.match(text)
        if m is None:
            return None
        sign, whole, frac = m.groups()
        coef = int(whole + frac) if frac else int(whole)
        if sign:
            coef = -coef
        exp = -len(frac) if frac else 0
        lo, above, hi = self.limits_at(exp)
        if (lo is not None and coef < lo) or (above is not None and coef <= above):
            return None
        if hi is not None and coef > hi:
            return None
        return coef, exp

    def limits_at(self, exp: int) -> tuple[int | None, int | None, int | None]:
        """The bounds as whole coefficients at this exponent (exactly: a coefficient c
        is at least m iff c >= ceil(m * 10**-exp), and so on): c >= lo, c > above,
        c <= hi."""
        limits = self.limits.get(exp)
        if limits is None:
            limits = self.limits[exp] = self._limits(exp)
        return limits

    def _limits(self, exp: int) -> tuple[int | None, int | None, int | None]:
        f = self.fact
        scale = Fraction(10) ** -exp

        def at(bound: Any, rounding: Any) -> int | None:
            return None if bound is None else rounding(Fraction(bound) * scale)

        return (
            at(f.minimum, math.ceil),
            at(f.exclusive_minimum, math.floor),
            at(f.maximum, math.floor),
        )


def parse_on(value: Any) -> dt.date:
    """The evaluation date, as given on the CLI or in a request."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    day = read_date(value) if isinstance(value, str) else None
    if day is not None:
        return day
    raise FactError(f"the evaluation date must be YYYY-MM-DD, got {shown(value)}", "on")
