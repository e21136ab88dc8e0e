"""The columnar engine against the scalar interpreter: identical outputs (or identical
errors) on every row of random valid pension facts and of every policy's YAML cases; its
integer kernels against Decimal; and properties of the rule language."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from interpreter import Repository  # noqa: E402
from interpreter.columnar import values as columnar  # noqa: E402
from interpreter.columnar.engine import ColumnarPlan, evaluate_rows  # noqa: E402
from interpreter.language.errors import FactError, PolicyError  # noqa: E402
from interpreter.language.expressions import (  # noqa: E402
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
from interpreter.language.functions import ROUNDING  # noqa: E402
from interpreter.runtime.engine import evaluate_parsed  # noqa: E402
from interpreter.runtime.facts import parse_facts  # noqa: E402

from .conftest import PENSION, POLICIES  # noqa: E402

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


def _scalar(program, facts: dict, on: dt.date = ON, outputs: list[str] | None = None):
    try:
        return evaluate_parsed(program, dict(facts), on, outputs=outputs, trace=False).outputs
    except PolicyError as exc:
        return ("error", str(exc))


def _columnar_rows(result, n: int | range) -> list:
    out = []
    for i in range(n) if isinstance(n, int) else n:
        try:
            out.append(result.row(i))
        except PolicyError as exc:
            out.append(("error", str(exc)))
    return out


@pytest.fixture(scope="module")
def plan(repo) -> ColumnarPlan:
    return ColumnarPlan(repo.program(PENSION))


@pytest.mark.parametrize("by_value", [False, True], ids=["per-row", "by-value"])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(pension_facts(), min_size=1, max_size=40))
def test_columnar_equals_scalar_on_random_valid_facts(repo, plan, by_value, rows) -> None:
    """by-value: every date and table column computed once per value in its range and
    gathered, as in a large batch (see ``columnar._by_value``), whatever the batch size."""
    program = repo.program(PENSION)
    parsed = [parse_facts(program.policy, r) for r in rows]
    with pytest.MonkeyPatch.context() as patch:
        if by_value:
            patch.setattr(columnar, "_BY_VALUE_ROWS", 0)
            patch.setattr(columnar, "_BY_VALUE_SPAN", 0)
        result = evaluate_rows(program, parsed, ON, plan=plan)
    assert _columnar_rows(result, len(parsed)) == [_scalar(program, p) for p in parsed]


def _vectorised(program) -> list[str]:
    """The computations that depend on nothing the columnar compiler refuses."""
    policy = program.policy
    refused = set(ColumnarPlan(program, list(policy.computations)).unsupported)
    return [n for n in policy.computations if not refused & set(policy.dependency_order((n,)))]


def _case_batches(policy) -> dict[dt.date, list[dict]]:
    """The policy's YAML cases with valid facts, parsed, by the day they are evaluated on."""
    batches: dict[dt.date, list[dict]] = defaultdict(list)
    for case in policy.cases:
        on = case.on or policy.in_force.start
        try:
            policy.check_in_force(on)
            batches[on].append(parse_facts(policy, case.facts))
        except PolicyError:
            continue
    return batches


@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_columnar_equals_scalar_on_every_policys_cases(repo, policy_id) -> None:
    """Each policy's cases as one batch, repeated to 4096+ rows (where large-batch paths
    start): its outputs, and every computation the columnar compiler accepts, exactly as
    the scalar engine gives them, or its errors. An empty batch is no error."""
    program = repo.program(policy_id)
    policy = program.policy
    for wanted in (list(policy.outputs), _vectorised(program)):
        if not wanted:
            continue
        plan = ColumnarPlan(program, wanted)
        for on, rows in _case_batches(policy).items():
            assert evaluate_rows(program, [], on, plan=plan).n == 0
            times = -(-4096 // len(rows))
            result = evaluate_rows(program, rows * times, on, plan=plan)
            expected = [_scalar(program, r, on, wanted) for r in rows]
            assert _columnar_rows(result, len(rows)) == expected
            last = range(len(rows) * (times - 1), len(rows) * times)
            assert _columnar_rows(result, last) == expected


def _mixtures(policy) -> st.SearchStrategy[list[tuple[dict, dt.date]]]:
    """Batches of facts mixed from different YAML cases (combinations nobody wrote down,
    many of them failing), each row with one of the cases' dates."""
    batches = _case_batches(policy)
    pools: dict[str, list] = {
        name: [] if fact.required else [None] for name, fact in policy.facts.items()
    }
    for rows in batches.values():
        for values in rows:
            for name, value in values.items():
                if name in pools and value not in pools[name]:
                    pools[name].append(value)
    row = st.fixed_dictionaries({n: st.sampled_from(pool) for n, pool in pools.items() if pool})
    return st.lists(st.tuples(row, st.sampled_from(sorted(batches))), min_size=1, max_size=30)


@pytest.mark.parametrize("by_value", [False, True], ids=["per-row", "by-value"])
@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_columnar_equals_scalar_on_random_mixtures_of_every_policys_cases(
    repo, policy_id, by_value
) -> None:
    """Every policy with outputs: random mixtures of its cases' facts, evaluated as one
    batch per day, give the scalar engine's outputs or errors on every row, for its
    outputs and for every computation the columnar compiler accepts."""
    program = repo.program(policy_id)
    policy = program.policy
    if not policy.outputs:
        pytest.skip("obligations and targets only: no outputs")
    plans = [ColumnarPlan(program, list(policy.outputs))]
    if vectorised := _vectorised(program):
        plans.append(ColumnarPlan(program, vectorised))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_mixtures(policy))
    def check(drawn) -> None:
        by_day: dict[dt.date, list[dict]] = defaultdict(list)
        for values, on in drawn:
            by_day[on].append(values)
        for plan in plans:
            wanted = list(plan.outputs)
            for on, rows in by_day.items():
                with pytest.MonkeyPatch.context() as patch:
                    if by_value:
                        patch.setattr(columnar, "_BY_VALUE_ROWS", 0)
                        patch.setattr(columnar, "_BY_VALUE_SPAN", 0)
                    result = evaluate_rows(program, rows, on, plan=plan)
                expected = [_scalar(program, r, on, wanted) for r in rows]
                assert _columnar_rows(result, len(rows)) == expected

    check()


def test_evaluate_leaves_the_plan_unchanged(repo) -> None:
    """A plan is shared by threads: what one batch finds unsupported stays in its result."""
    for policy_id in Repository(POLICIES).ids():
        program = repo.program(policy_id)
        policy = program.policy
        plan = ColumnarPlan(program, list(policy.computations))
        before = (dict(plan.unsupported), dict(plan.compiled), list(plan.release))
        for on, rows in _case_batches(policy).items():
            evaluate_rows(program, rows, on, plan=plan)
        assert (plan.unsupported, plan.compiled, plan.release) == before


def test_columnar_rounding_ties_and_errors(repo, plan) -> None:
    """Ties of the 1.8% and of the personal-account split, a cadre without the city
    average (an error, the scalar engine's message), and the largest number accepted."""
    program = repo.program(PENSION)
    policy = program.policy
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
    result = evaluate_rows(program, parsed, ON, plan=plan)
    assert _columnar_rows(result, len(parsed)) == [_scalar(program, p) for p in parsed]
    assert 5 in result.scalar
    assert result.scalar_rows[0] == 5


# ------------------------------------------------------------- the integer kernels

_EDGES = [0, 1, -1, 2**62 - 1, -(2**62) + 1, 2**63 - 1, -(2**63)]


def test_pick_is_where_for_any_int64() -> None:
    """Choosing by arithmetic (y + (x - y) * cond) is exact even where x - y wraps."""
    rng = np.random.default_rng(7)
    n = 2000
    x = np.concatenate([np.array(_EDGES * 10), rng.integers(-(2**63), 2**63 - 1, n)])
    y = np.concatenate([np.array(list(reversed(_EDGES)) * 10), rng.integers(-(2**62), 2**62, n)])
    cond = rng.random(x.size) < 0.5
    for a, b in ((x, y), (x, 0), (0, y), (5, y), (x, -7), (3, 4), (0, 0)):
        assert np.array_equal(columnar._pick(cond, a, b), np.where(cond, a, b))
    for a, b in ((cond, ~cond), (True, ~cond), (False, ~cond), (cond, True), (cond, False)):
        want = np.where(cond, a, b)
        assert np.array_equal(np.broadcast_to(columnar._pick_bool(cond, a, b), want.shape), want)


@pytest.mark.parametrize("mode", sorted(ROUNDING))
def test_integer_rounding_is_decimals(mode) -> None:
    """n / k rounded in int64 (one division, unsigned where both columns are >= 0) as
    Decimal rounds it, ties and signs included."""
    rng = np.random.default_rng(13)
    n = np.concatenate([np.arange(-60, 61), rng.integers(-(10**15), 10**15, 500)])
    for k in (1, 2, 7, 10, 1000):
        got = columnar._round_int(n, k, mode)
        want = [int((Decimal(int(v)) / k).quantize(Decimal(1), ROUNDING[mode])) for v in n]
        assert got.tolist() == want, k
    dens = rng.integers(1, 10**6, n.size)
    for nums in (np.abs(n), n):
        q, r, sign = columnar._divmod_sign(nums, dens)
        assert ((q * dens + r) * sign).tolist() == nums.tolist()
        assert ((r >= 0) & (r < dens)).all()


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


def test_an_unknown_node_kind_fails_loudly_in_the_columnar_compiler() -> None:
    """Every dispatch on the core tree ends with ``assert_never``."""
    from interpreter.columnar import compiler

    class Unknown:
        pass

    with pytest.raises(AssertionError):
        compiler.build(Unknown())  # type: ignore[arg-type]
