"""The functions an expression may call: their types, their meaning, their documentation.

Rounding is never implicit: ``round(x, 2)`` rounds half-up to the cent unless another mode
is named, so each clause says how it rounds. Date arithmetic refuses to invent a day:
adding one month to 31 January is an error unless the clause asks for ``'clip'``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from enum import Enum

from .errors import EvaluationError
from .expressions import Literal, Name, Node
from .values import BOOLEAN, DATE, INTEGER, NUMBER, Kind, Type, iso_date, numeric_result
from .workdays import add_working_days, is_working_day, working_days_between

ROUNDING = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


class SignatureError(Exception):
    """Wrong argument types: the typechecker turns it into an error at the call."""


PER_ROW = "per-row"  # column form: the columnar engine sends the rows using it to the scalar engine
LOWERED = "lowered"  # column form: never an engine's call; lowering makes it a core node


class KeepsFen(Enum):
    """Whether a money result is whole fen when the rule does not round it (whole-fen
    analysis: a result that is not provably whole fen is checked at run time)."""

    NEVER = "never"
    ALWAYS = "always"  # ceil, floor: a whole number
    IF_ARGUMENTS = "if arguments"  # min, max, abs: a value of one of the arguments
    IF_PLACES = "if at most 2 places"  # round: to the fen or coarser


@dataclass(frozen=True)
class Function:
    """One function of the rule language, declared once: its type rule (``check``), its
    scalar form (``impl``, what the closures and generated Python call), its column form
    (``column``: the name of a kernel in ``interpreter.columnar.kernels.KERNELS``, or
    ``PER_ROW``, or ``LOWERED`` for ``round``, ``given`` and ``date``, which lowering turns
    into ``core.Round``, ``core.Given`` and ``core.Const``), and whether it keeps whole fen."""

    name: str
    min_args: int
    max_args: int
    check: Callable[[list[Type], Sequence[Node]], Type]
    impl: Callable[..., object]
    zh: str
    en: str
    column: str
    keeps_fen: KeepsFen = KeepsFen.NEVER


def keeps_whole_fen(name: str, arguments_do: bool, places: int | None = None) -> bool:
    """Whether ``name(...)`` is surely whole fen, given whether its arguments surely are
    and, for ``round``, the places it rounds to (for whole-fen analysis)."""
    keeps = FUNCTIONS[name].keeps_fen
    if keeps is KeepsFen.IF_PLACES:
        return places is None or places <= 2
    return keeps is KeepsFen.ALWAYS or (keeps is KeepsFen.IF_ARGUMENTS and arguments_do)


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise SignatureError(message)


def _numbers(types: list[Type], _nodes: Sequence[Node]) -> Type:
    result = types[0]
    for t in types:
        _need(t.numeric, f"expects numbers, got {t}")
    for t in types[1:]:
        combined = numeric_result(result, t)
        if combined is None:
            raise SignatureError(f"mixes {result} and {t}")
        result = combined
    return result


def _integral(types: list[Type], _nodes: Sequence[Node]) -> Type:
    (t,) = types
    _need(t.numeric, f"expects a number, got {t}")
    return t.strict() if t.kind == Kind.MONEY else INTEGER


def _round(types: list[Type], nodes: Sequence[Node]) -> Type:
    _need(types[0].numeric, f"expects a number, got {types[0]}")
    if len(nodes) > 1:
        _need(
            isinstance(nodes[1], Literal) and types[1].kind == Kind.INTEGER,
            "the number of decimal places must be a whole number written in the rule",
        )
    if len(nodes) > 2:
        mode = nodes[2]
        _need(
            isinstance(mode, Literal) and mode.value in ROUNDING,
            f"rounding mode must be one of {', '.join(ROUNDING)}",
        )
    return types[0].strict() if not types[0].literal else NUMBER


def _dates(count: int, result: Type) -> Callable[[list[Type], Sequence[Node]], Type]:
    def check(types: list[Type], _nodes: Sequence[Node]) -> Type:
        for t in types[:count]:
            _need(t.kind == Kind.DATE, f"expects a date, got {t}")
        return result

    return check


def _date_plus(types: list[Type], nodes: Sequence[Node]) -> Type:
    _need(types[0].kind == Kind.DATE, f"expects a date first, got {types[0]}")
    _need(types[1].kind == Kind.INTEGER, f"expects a whole number second, got {types[1]}")
    if len(nodes) > 2:
        mode = nodes[2]
        _need(isinstance(mode, Literal) and mode.value == "clip", "the only mode is 'clip'")
    return DATE


def _date_literal(types: list[Type], nodes: Sequence[Node]) -> Type:
    node = nodes[0]
    if not (isinstance(node, Literal) and isinstance(node.value, str)):
        raise SignatureError("expects 'YYYY-MM-DD'")
    try:
        iso_date(node.value)
    except ValueError:
        raise SignatureError(f"{node.value!r} is not a date YYYY-MM-DD") from None
    return DATE


def _given(types: list[Type], nodes: Sequence[Node]) -> Type:
    _need(isinstance(nodes[0], Name), "expects the name of an optional fact or value")
    return BOOLEAN


def full_years(start: dt.date, end: dt.date) -> int:
    """Completed years from start to end (周岁 on the anniversary day itself).

    Someone born on 29 February completes a year on 1 March in a common year.
    """
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def full_months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def add_days(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        raise _beyond_calendar(day, f"{days} day(s)") from None


def add_months(day: dt.date, months: int, mode: str | None = None) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise _beyond_calendar(day, f"{months} month(s)")
    last = calendar.monthrange(year, month + 1)[1]
    if day.day > last:
        if mode != "clip":
            raise EvaluationError(
                f"{day.isoformat()} plus {months} month(s) falls on a day that does not exist; "
                "the clause must say how to count it (mode 'clip' = last day of the month)"
            )
        return dt.date(year, month + 1, last)
    return dt.date(year, month + 1, day.day)


def _beyond_calendar(day: dt.date, added: str) -> EvaluationError:
    """A date past year 9999 (or before year 1) is bad input, not a crash of the batch."""
    return EvaluationError(
        f"{day.isoformat()} plus {added} falls outside the years "
        f"{dt.MINYEAR}-{dt.MAXYEAR} that dates can have"
    )


def start_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def end_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def round_decimal(value: Decimal, places: Decimal | int = 2, mode: str = "half_up") -> Decimal:
    return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUNDING[mode])


def _ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def _floor(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_FLOOR)


def _age_on(start: dt.date, end: dt.date) -> Decimal:
    return Decimal(full_years(start, end))


def _months(start: dt.date, end: dt.date) -> Decimal:
    return Decimal(full_months(start, end))


def _working_days(start: dt.date, end: dt.date) -> Decimal:
    return Decimal(working_days_between(start, end))


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function(
            "min",
            2,
            9,
            _numbers,
            min,
            "取最小值",
            "the smallest of the numbers",
            column="minimum",
            keeps_fen=KeepsFen.IF_ARGUMENTS,
        ),
        Function(
            "max",
            2,
            9,
            _numbers,
            max,
            "取最大值",
            "the largest of the numbers",
            column="maximum",
            keeps_fen=KeepsFen.IF_ARGUMENTS,
        ),
        Function(
            "abs",
            1,
            1,
            _numbers,
            abs,
            "绝对值",
            "absolute value",
            column="absolute",
            keeps_fen=KeepsFen.IF_ARGUMENTS,
        ),
        Function(
            "ceil",
            1,
            1,
            _integral,
            _ceil,
            "向上取整（不满1按1计）",
            "round up to a whole number (a part counts as a whole)",
            column="ceiling",
            keeps_fen=KeepsFen.ALWAYS,
        ),
        Function(
            "floor",
            1,
            1,
            _integral,
            _floor,
            "向下取整（只计满数）",
            "round down to a whole number (only completed units count)",
            column="floor",
            keeps_fen=KeepsFen.ALWAYS,
        ),
        Function(
            "round",
            1,
            3,
            _round,
            round_decimal,
            "按指定位数和方式舍入（默认四舍五入到分）",
            "round to the given decimal places and mode (default half-up to the cent)",
            column=LOWERED,
            keeps_fen=KeepsFen.IF_PLACES,
        ),
        Function(
            "age_on",
            2,
            2,
            _dates(2, INTEGER),
            _age_on,
            "到某日的周岁",
            "age in completed years on a date",
            column="whole_years",
        ),
        Function(
            "years_between",
            2,
            2,
            _dates(2, INTEGER),
            _age_on,
            "相隔的整年数",
            "completed years from the first date to the second",
            column="whole_years",
        ),
        Function(
            "months_between",
            2,
            2,
            _dates(2, INTEGER),
            _months,
            "相隔的整月数",
            "completed months from the first date to the second",
            column="whole_months",
        ),
        Function(
            "days_between",
            2,
            2,
            _dates(2, INTEGER),
            lambda a, b: Decimal((b - a).days),
            "相隔的天数",
            "days from the first date to the second",
            column="days_between",
        ),
        Function(
            "add_days",
            2,
            2,
            _date_plus,
            lambda d, n: add_days(d, int(n)),
            "加若干日",
            "the date a number of days later",
            column="add_days",
        ),
        Function(
            "add_months",
            2,
            3,
            _date_plus,
            lambda d, n, m=None: add_months(d, int(n), m),
            "加若干月",
            "the date a number of months later",
            column=PER_ROW,
        ),
        Function(
            "add_years",
            2,
            3,
            _date_plus,
            lambda d, n, m=None: add_months(d, 12 * int(n), m),
            "加若干年",
            "the date a number of years later",
            column=PER_ROW,
        ),
        Function(
            "year",
            1,
            1,
            _dates(1, INTEGER),
            lambda d: Decimal(d.year),
            "年份",
            "the year",
            column="year",
        ),
        Function(
            "month",
            1,
            1,
            _dates(1, INTEGER),
            lambda d: Decimal(d.month),
            "月份",
            "the month",
            column="month",
        ),
        Function(
            "day", 1, 1, _dates(1, INTEGER), lambda d: Decimal(d.day), "日", "the day", column="day"
        ),
        Function(
            "start_of_month",
            1,
            1,
            _dates(1, DATE),
            start_of_month,
            "当月第一日",
            "the first day of the date's month",
            column="start_of_month",
        ),
        Function(
            "end_of_month",
            1,
            1,
            _dates(1, DATE),
            end_of_month,
            "当月最后一日（月底）",
            "the last day of the date's month (月底)",
            column="end_of_month",
        ),
        Function("date", 1, 1, _date_literal, iso_date, "日期", "a date", column=LOWERED),
        Function(
            "add_working_days",
            2,
            2,
            _date_plus,
            add_working_days,
            "加若干个工作日（按国务院节假日安排，含调休上班日）",
            "the date that many working days later (official holidays and make-up days)",
            column=PER_ROW,
        ),
        Function(
            "working_days_between",
            2,
            2,
            _dates(2, INTEGER),
            _working_days,
            "相隔的工作日数（不含起日，含止日）",
            "working days after the first date up to and including the second",
            column=PER_ROW,
        ),
        Function(
            "is_working_day",
            1,
            1,
            _dates(1, BOOLEAN),
            is_working_day,
            "是否为工作日",
            "whether the date is a working day on the official calendar",
            column=PER_ROW,
        ),
        Function(
            "given",
            1,
            1,
            _given,
            lambda v: v is not None,
            "已提供该事实",
            "the optional fact or value is present",
            column=LOWERED,
        ),
    ]
}
