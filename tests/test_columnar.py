"""The columnar engine against the scalar interpreter: identical outputs (or identical
errors) on every row of random valid pension facts; and properties of the rule language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from interpreter.columnar import ColumnarPlan, evaluate_rows  # noqa: E402
from interpreter.engine import evaluate_parsed  # noqa: E402
from interpreter.errors import FactError, PolicyError  # noqa: E402
from interpreter.expressions import (  # noqa: E402
    Binary,
    Call,
    If,
    ListLit,
    Literal,
    Name,
    Unary,
    parse,
    to_source,
)
from interpreter.facts import parse_facts  # noqa: E402

from .conftest import PENSION  # noqa: E402

ON = dt.date(2021, 1, 1)
CUTOFF = dt.date(2020, 12, 31)


def _around(day: dt.date, spread: int = 3) -> st.SearchStrategy[dt.date]:
    return st.integers(-spread, spread).map(lambda d: day + dt.timedelta(days=d))


def _birth_near_age(age: int) -> st.SearchStrategy[dt.date]:
    """Born so as to be age-1, age or age+1 on 31 Dec 2020, birthdays around the cutoff."""
    return st.sampled_from([age - 1, age, age + 1]).flatmap(
        lambda a: st.one_of(
            _around(dt.date(2020 - a, 12, 31), 2),
            st.dates(dt.date(2020 - a, 1, 1), dt.date(2020 - a, 12, 31)),
        )
    )


money = st.integers(0, 10**9).map(lambda fen: Decimal(fen).scaleb(-2))
small_money = st.one_of(
    st.just(Decimal(0)), st.integers(1, 10**7).map(lambda f: Decimal(f).scaleb(-2))
)


@st.composite
def pension_facts(draw) -> dict:
    start = draw(
        st.one_of(_around(CUTOFF, 3), st.dates(dt.date(1980, 1, 1), dt.date(2022, 12, 31)))
    )
    approved = draw(
        st.one_of(
            _around(dt.date(2020, 12, 1), 2),
            _around(CUTOFF, 2),
            st.dates(dt.date(1980, 1, 1), dt.date(2022, 12, 31)),
        )
    )
    years = draw(
        st.one_of(
            st.sampled_from(
                [
                    Decimal(x)
                    for x in ("0", "14", "14.9", "15", "15.0", "15.01", "15.5", "16", "0.1")
                ]
            ),
            st.integers(0, 600).map(lambda t: Decimal(t) / 10),
            st.decimals(0, 60, places=3),
        )
    )
    facts = {
        "pension_start_date": start,
        "retirement_approved_date": approved,
        "pension_base_year": draw(st.sampled_from([2019, 2020, 2021])),
        "monthly_pension": draw(
            st.one_of(money, st.sampled_from([Decimal("3333.33"), Decimal("0"), Decimal("0.01")]))
        ),
        "contribution_years": str(years),
        "birth_date": draw(
            st.one_of(
                *(_birth_near_age(a) for a in (70, 80, 90, 100)),
                st.dates(dt.date(1900, 1, 1), dt.date(1990, 12, 31)),
            )
        ),
        "scheme": draw(st.sampled_from(["enterprise", "public_institution", "other"])),
    }
    if draw(st.booleans()):
        facts["military_transfer_cadre"] = draw(st.booleans())
    if draw(st.integers(0, 3)):
        facts["city_average_enterprise_pension"] = draw(money)
    if draw(st.booleans()):
        facts["personal_account_balance"] = draw(small_money)
    if draw(st.booleans()):
        facts["personal_account_pension_at_retirement"] = draw(small_money)
    if draw(st.booleans()):
        facts["initial_pension_at_retirement"] = draw(
            st.integers(1, 10**7).map(lambda f: Decimal(f).scaleb(-2))
        )
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in facts.items()}


def _scalar(policy, facts: dict):
    try:
        return evaluate_parsed(policy, dict(facts), ON, trace=False).outputs
    except PolicyError as exc:
        return ("error", str(exc))


def _columnar_rows(result, n: int) -> list:
    out = []
    for i in range(n):
        try:
            out.append(result.row(i))
        except PolicyError as exc:
            out.append(("error", str(exc)))
    return out


@pytest.fixture(scope="module")
def plan(repo) -> ColumnarPlan:
    return ColumnarPlan(repo.policy(PENSION))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(pension_facts(), min_size=1, max_size=40))
def test_columnar_equals_scalar_on_random_valid_facts(repo, plan, rows) -> None:
    policy = repo.policy(PENSION)
    parsed = [parse_facts(policy, r) for r in rows]
    result = evaluate_rows(policy, parsed, ON, plan=plan)
    assert _columnar_rows(result, len(parsed)) == [_scalar(policy, p) for p in parsed]


def test_columnar_rounding_ties_and_errors(repo, plan) -> None:
    """Ties of the 1.8% and of the personal-account split, a cadre without the city
    average (an error, the scalar engine's message), and the largest number accepted."""
    policy = repo.policy(PENSION)
    base = {
        "pension_start_date": "2010-05-01",
        "retirement_approved_date": "2010-04-20",
        "pension_base_year": 2009,
        "monthly_pension": "3000.00",
        "contribution_years": "20.3",
        "birth_date": "1950-12-31",
        "scheme": "enterprise",
    }
    rows = [
        base,
        {**base, "monthly_pension": "2500.25"},  # x 1.8% = 45.0045
        {**base, "monthly_pension": "3333.33"},
        {
            **base,
            "personal_account_balance": "1",
            "personal_account_pension_at_retirement": "1",
            "initial_pension_at_retirement": "3",
        },  # a third: 28-digit Decimal, no tie
        {
            **base,
            "personal_account_balance": "1",
            "personal_account_pension_at_retirement": "600",
            "initial_pension_at_retirement": "2400",
        },  # a quarter: exact ties
        {**base, "military_transfer_cadre": True},  # needs the city average: an error
        {**base, "contribution_years": "9" * 15 + ".5"},  # the largest accepted: 15 digits
    ]
    with pytest.raises(FactError, match="too large"):
        parse_facts(policy, {**base, "contribution_years": "1" + "0" * 20})
    parsed = [parse_facts(policy, r) for r in rows]
    result = evaluate_rows(policy, parsed, ON, plan=plan)
    assert _columnar_rows(result, len(parsed)) == [_scalar(policy, p) for p in parsed]
    assert 5 in result.scalar
    assert result.scalar_rows[0] == 5


# ------------------------------------------------------- the language's properties

names = st.sampled_from(["a", "b", "monthly_pension", "x1"])
numbers = st.decimals(0, 10**6, places=2).map(lambda d: Literal(d, str(d)))
words = st.sampled_from(["以上", "不满", "超过", "年满", "未达到"])


def _exprs() -> st.SearchStrategy:
    leaves = st.one_of(
        names.map(Name), numbers, st.sampled_from([Literal(True, "true"), Literal("x", "'x'")])
    )

    def extend(inner):
        return st.one_of(
            st.tuples(
                st.sampled_from(["+", "-", "*", "/", "==", "<", ">=", "and", "or"]), inner, inner
            ).map(lambda t: Binary(t[0], t[1], t[2])),
            st.tuples(words, inner, inner).map(lambda t: Binary(t[0], t[1], t[2], word=t[0])),
            inner.map(lambda n: Unary("not", n)),
            inner.map(lambda n: Unary("-", n)),
            st.tuples(inner, inner, inner).map(lambda t: If(*t)),
            st.lists(inner, min_size=1, max_size=3).map(lambda a: Call("max", tuple(a))),
            st.tuples(inner, st.lists(numbers, min_size=1, max_size=3)).map(
                lambda t: Binary("in", t[0], ListLit(tuple(t[1])))
            ),
        )

    return st.recursive(leaves, extend, max_leaves=12)


def _strip(node):
    """The tree without source positions."""
    if isinstance(node, Literal):
        return ("lit", node.value, node.text)
    if isinstance(node, Name):
        return ("name", node.name)
    if isinstance(node, Unary):
        return ("un", node.op, _strip(node.operand))
    if isinstance(node, Binary):
        return ("bin", node.op, node.word, _strip(node.left), _strip(node.right))
    if isinstance(node, If):
        return ("if", _strip(node.cond), _strip(node.then), _strip(node.otherwise))
    if isinstance(node, Call):
        return ("call", node.func, tuple(_strip(a) for a in node.args))
    return ("list", tuple(_strip(a) for a in node.items))


@settings(max_examples=300, deadline=None)
@given(_exprs())
def test_print_parse_round_trip(tree) -> None:
    """parse(to_source(t)) == t: printing keeps every tree's meaning (precedence, words)."""
    source = to_source(tree)
    assert _strip(parse(source)) == _strip(tree)
    assert to_source(parse(source)) == source
