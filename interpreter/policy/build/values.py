"""Declared types and the values written for them: enum values, literal values (a
parameter's dated value, a fact's default) as the runtime represents them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ...language.errors import Location, PolicyFileError
from ...language.expressions import number_literal
from ...language.values import FEN, Kind, Type, iso_date, python_value_ok
from .context import LoadContext


def enum_values(ctx: LoadContext, spec: dict, where: Location, what: str) -> list[str] | None:
    if spec["type"] == Kind.ENUM and not spec.get("values"):
        ctx.errors.append(PolicyFileError(f"{what}: an enum needs its values", where))
    if spec["type"] != Kind.ENUM and spec.get("values"):
        ctx.errors.append(PolicyFileError(f"{what}: only an enum has values", where))
    return spec.get("values")


def literal_value(ctx: LoadContext, raw: Any, t: Type, where: Location) -> Any:
    """A value written in YAML (parameter value, default) as the runtime representation."""
    try:
        if t.kind == Kind.DATE:
            return iso_date(str(raw))
        if t.numeric:
            if isinstance(raw, bool):
                raise ValueError
            value = number_literal(raw) if isinstance(raw, str) else Decimal(raw)
            if t.kind == Kind.INTEGER and value != value.to_integral_value():
                raise ValueError
            if t.kind == Kind.MONEY and value != value.quantize(FEN):
                raise ValueError
            return value
    except (ValueError, InvalidOperation):
        ctx.errors.append(PolicyFileError(f"{raw!r} is not a valid {t.kind}", where))
        return None
    if not python_value_ok(raw, t.kind):
        ctx.errors.append(PolicyFileError(f"{raw!r} is not a valid {t.kind}", where))
        return None
    if t.kind == Kind.ENUM and t.values and raw not in t.values:
        ctx.errors.append(
            PolicyFileError(f"{raw!r} is not one of {', '.join(sorted(t.values))}", where)
        )
    return raw
