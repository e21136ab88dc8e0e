"""The rule language on its own: parsing, printing, types, conventions, tables, dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from interpreter.language.conventions import convention_from
from interpreter.language.core import Origin
from interpreter.language.errors import EvaluationError
from interpreter.language.expressions import ExpressionError, parse, to_source
from interpreter.language.functions import add_months, full_years
from interpreter.language.lower import lower_expression
from interpreter.language.tables import Interval, gaps, overlaps, parse_cell
from interpreter.language.typecheck import check
from interpreter.language.values import Type, declared
from interpreter.language.workdays import add_working_days, working_days_between
from interpreter.runtime.closures import compile_expression

CIVIL = convention_from({"base": "civil-code-1259"})
# 粤交〔2021〕5号 第二十二条: 以上 includes, 以下 excludes, the top band includes its ceiling.
TRANSPORT = convention_from(
    {
        "base": "civil-code-1259",
        "overrides": {"以下": {"side": "max", "inclusive": False}},
        "top_band_includes_ceiling": True,
    }
)


def run(source: str, env: dict, types: dict, convention=CIVIL):
    node = parse(source)
    check(node, types, convention)
    return compile_expression(lower_expression(node, types, convention, Origin("t", "t")))(env)


@pytest.mark.parametrize(
    "source",
    [
        "a + b * 2",
        "(a - b) - c",
        "a - (b - c)",
        "a / (b / c)",
        "not (a and b)",
        "if x 以上 5000 then 1 else 0",
        "max(ceil(y) - 15, 0)",
        "x not in ['a', 'b']",
        "-x * 1.8%",
        "(a < b) == c",
    ],
)
def test_print_parse_round_trip(source: str) -> None:
    tree = parse(source)
    assert to_source(parse(to_source(tree))) == to_source(tree)


@pytest.mark.parametrize(
    ("source", "pos", "message"),
    [
        ("a +", 3, "expected a value"),
        ("f(a", 3, "expected ')'"),
        ("a $ b", 2, "unexpected character"),
        ("if a then b", 11, "expected 'else'"),
        ("a b", 2, "unexpected 'b'"),
    ],
)
def test_syntax_errors_have_positions(source: str, pos: int, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    assert info.value.pos == pos and message in info.value.message


def test_no_attribute_access_or_python() -> None:
    for source in ["a.__class__", "__import__('os')", "lambda: 1", "a[0]"]:
        with pytest.raises(ExpressionError):
            check(parse(source), {"a": Type("integer")}, CIVIL)


def test_percent_literal_is_exact() -> None:
    assert run("x * 1.8%", {"x": Decimal("3333.33")}, {"x": Type("money")}) == Decimal("59.999940")


@pytest.mark.parametrize(
    ("word", "convention", "at", "below", "above"),
    [
        ("以上", CIVIL, True, False, True),
        ("以下", CIVIL, True, True, False),
        ("以下", TRANSPORT, False, True, False),  # 第二十二条: 以下 excludes the number
        ("以上", TRANSPORT, True, False, True),
        ("不满", CIVIL, False, True, False),
        ("超过", CIVIL, False, False, True),
        ("以内", CIVIL, True, True, False),
        ("届满", CIVIL, True, False, True),
    ],
)
def test_threshold_words(word, convention, at, below, above) -> None:
    types = {"fine": Type("money")}
    for value, expected in (("5000.00", at), ("4999.99", below), ("5000.01", above)):
        got = run(f"fine {word} 5000", {"fine": Decimal(value)}, types, convention)
        assert got is expected, (word, value)


def test_type_errors() -> None:
    types = {"m": Type("money"), "d": Type("date"), "s": declared("enum", ["a", "b"])}
    for source, message in [
        ("m * m", "money times money"),
        ("m + d", "cannot compute"),
        ("s == 'c'", "'c' is not one of a, b"),
        ("m and d", "true/false"),
        ("nope(m)", "unknown function"),
        ("round(m, m)", "decimal places"),
        ("given(m)", "always true"),
    ]:
        with pytest.raises(ExpressionError, match=message):
            check(parse(source), types, CIVIL)


def test_top_band_includes_ceiling() -> None:
    t = Type("money")
    cells = [
        parse_cell({"以上": 0, "以下": 1000}, "fine", t, TRANSPORT, ()),
        parse_cell({"以上": 1000, "以下": 5000}, "fine", t, TRANSPORT, ()),
    ]
    from interpreter.language.tables import apply_top_band_ceiling

    low, top = apply_top_band_ceiling(cells, {"以下"})
    assert not low.interval.contains(Decimal(1000)) and top.interval.contains(Decimal(1000))
    assert top.interval.contains(Decimal(5000)) and not top.interval.contains(Decimal("5000.01"))


def test_top_band_rule_leaves_other_words_alone() -> None:
    """不满 keeps excluding its number even where 以下's top band includes it."""
    from interpreter.language.tables import apply_top_band_ceiling

    t = Type("integer")
    (cell,) = apply_top_band_ceiling(
        [parse_cell({"年满": 14, "不满": 18}, "age", t, TRANSPORT, ())], {"以下"}
    )
    assert cell.interval.contains(Decimal(17)) and not cell.interval.contains(Decimal(18))


@pytest.mark.parametrize(
    ("word", "at", "below", "above"),
    [("已满", True, False, True), ("不超过", True, True, False), ("未超过", True, True, False)],
)
def test_more_threshold_words(word, at, below, above) -> None:
    types = {"x": Type("integer")}
    for value, expected in (("18", at), ("17", below), ("19", above)):
        assert run(f"x {word} 18", {"x": Decimal(value)}, types) is expected


def test_overlap_and_gap_analysis() -> None:
    t = {"age": Type("integer")}
    rows = [
        {"age": parse_cell({"年满": 70, "不满": 80}, "age", t["age"], CIVIL, ())},
        {"age": parse_cell({"年满": 80}, "age", t["age"], CIVIL, ())},
    ]
    assert overlaps(rows, ("age",)) == []
    assert gaps(rows, ("age",), t) == ["age < 70"]
    rows.append({"age": parse_cell({"以上": 79, "以下": 79}, "age", t["age"], CIVIL, ())})
    assert overlaps(rows, ("age",)) == [(0, 2)]


def test_interval_edges() -> None:
    closed = Interval(Decimal(1), True, Decimal(2), True)
    open_ = Interval(Decimal(2), False, Decimal(3), False)
    assert not closed.intersects(open_)
    assert closed.intersects(Interval(Decimal(2), True, None, False))


def test_age_and_months() -> None:
    assert full_years(dt.date(1950, 12, 31), dt.date(2020, 12, 31)) == 70
    assert full_years(dt.date(1951, 1, 1), dt.date(2020, 12, 31)) == 69
    assert full_years(dt.date(1952, 2, 29), dt.date(2021, 2, 28)) == 68
    assert full_years(dt.date(1952, 2, 29), dt.date(2021, 3, 1)) == 69
    with pytest.raises(EvaluationError, match="does not exist"):
        add_months(dt.date(2021, 1, 31), 1)
    assert add_months(dt.date(2021, 1, 31), 1, "clip") == dt.date(2021, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 24, "clip") == dt.date(2026, 2, 28)


def test_working_days_on_the_official_calendar() -> None:
    # National Day 2021: 10-01..10-07 off; Saturday 10-09 is a make-up working day.
    assert add_working_days(dt.date(2021, 9, 30), 1) == dt.date(2021, 10, 8)
    assert add_working_days(dt.date(2021, 9, 30), 2) == dt.date(2021, 10, 9)
    assert add_working_days(dt.date(2021, 9, 30), 3) == dt.date(2021, 10, 11)
    assert working_days_between(dt.date(2021, 9, 30), dt.date(2021, 10, 11)) == 3
    with pytest.raises(EvaluationError, match="does not cover 2027"):
        add_working_days(dt.date(2026, 12, 30), 5)


def test_month_edges() -> None:
    types = {"d": Type("date")}
    assert run("end_of_month(d)", {"d": dt.date(2024, 2, 10)}, types) == dt.date(2024, 2, 29)
    assert run("end_of_month(d)", {"d": dt.date(2021, 2, 10)}, types) == dt.date(2021, 2, 28)
    assert run("start_of_month(d)", {"d": dt.date(2021, 10, 31)}, types) == dt.date(2021, 10, 1)


@pytest.mark.parametrize(
    ("expr", "day"),
    [
        ("add_days(d, 1)", dt.date(9999, 12, 31)),
        ("add_days(d, -1)", dt.date(1, 1, 1)),
        ("add_months(d, 1)", dt.date(9999, 12, 1)),
        ("add_years(d, -1)", dt.date(1, 6, 1)),
    ],
)
def test_date_arithmetic_past_the_calendar_is_an_evaluation_error(expr: str, day: dt.date) -> None:
    """A batch row with such a date is rejected with a reason, not a crash of the batch."""
    with pytest.raises(EvaluationError, match="falls outside the years 1-9999"):
        run(expr, {"d": day}, {"d": Type("date")})
    assert run("add_days(d, 0)", {"d": day}, {"d": Type("date")}) == day
