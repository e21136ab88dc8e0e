"""The function registry (``language.functions.FUNCTIONS``) declares each function's
forms once, and the column forms agree with the scalar forms on generated values,
boundary dates (month ends, leap days, the first and last days dates can have) included."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from interpreter.columnar import values  # noqa: E402
from interpreter.columnar.kernels import KERNELS, SCALAR_ONLY, kernel  # noqa: E402
from interpreter.columnar.plan import ColumnarResult  # noqa: E402
from interpreter.columnar.values import EPOCH_ORDINAL, Date, Num, Unsupported, Val  # noqa: E402
from interpreter.language.errors import EvaluationError  # noqa: E402
from interpreter.language.functions import (  # noqa: E402
    FUNCTIONS,
    LOWERED,
    PER_ROW,
    KeepsFen,
    keeps_whole_fen,
)


def test_every_function_has_a_scalar_form_and_a_column_form() -> None:
    for name, f in FUNCTIONS.items():
        assert callable(f.impl), name
        assert f.column in (PER_ROW, LOWERED) or f.column in KERNELS, (name, f.column)
        assert isinstance(f.keeps_fen, KeepsFen), name
    # lowering turns exactly these into core nodes (core.Round, core.Given, core.Const)
    assert {n for n, f in FUNCTIONS.items() if f.column == LOWERED} == {"round", "given", "date"}
    # every kernel is some function's column form
    assert set(KERNELS) == {f.column for f in FUNCTIONS.values()} - {PER_ROW, LOWERED}


def test_the_rows_sent_to_the_scalar_engine_are_derived_from_the_registry() -> None:
    assert set(SCALAR_ONLY) == {n for n, f in FUNCTIONS.items() if f.column == PER_ROW}
    for name in SCALAR_ONLY:
        with pytest.raises(Unsupported):
            kernel(name)
    assert "start_of_month" not in SCALAR_ONLY and "end_of_month" not in SCALAR_ONLY


def test_whole_fen_flags() -> None:
    assert keeps_whole_fen("ceil", False) and keeps_whole_fen("floor", False)
    assert keeps_whole_fen("round", False, 2) and not keeps_whole_fen("round", True, 3)
    for name in ("min", "max", "abs"):
        assert keeps_whole_fen(name, True) and not keeps_whole_fen(name, False)
    assert not keeps_whole_fen("days_between", True)


# ------------------------------------------------ column forms against scalar forms

_LEAP_DAYS = [dt.date(y, 2, 29) for y in (1904, 1996, 2000, 2004, 2020, 2024, 2400)]
_EDGES = [
    dt.date.min,
    dt.date(1, 1, 31),
    dt.date.max,
    dt.date(9999, 12, 1),
    dt.date(1900, 2, 28),
    dt.date(1900, 3, 1),
    dt.date(2100, 2, 28),
    dt.date(1970, 1, 1),
    dt.date(1969, 12, 31),
]


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


dates = st.one_of(
    st.dates(),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    st.dates().map(_month_end),
    st.sampled_from(_LEAP_DAYS + _EDGES),
    st.sampled_from(_LEAP_DAYS).map(lambda d: d + dt.timedelta(days=1)),
)
amounts = st.one_of(
    st.integers(-(10**12), 10**12).map(lambda x: Decimal(x).scaleb(-2)),
    st.decimals(-(10**6), 10**6, places=3),
    st.integers(-1000, 1000).map(Decimal),
)
day_counts = st.one_of(
    st.integers(-40_000, 40_000),
    st.sampled_from([0, 1, -1, 3_000_000, -3_000_000, 4_000_001, 10**9, -(10**10)]),
)

# The argument strategies of each function with a column kernel.
ARGUMENTS = {
    "min": [amounts, amounts, amounts],
    "max": [amounts, amounts],
    "abs": [amounts],
    "ceil": [amounts],
    "floor": [amounts],
    "age_on": [dates, dates],
    "years_between": [dates, dates],
    "months_between": [dates, dates],
    "days_between": [dates, dates],
    "add_days": [dates, day_counts],
    "year": [dates],
    "month": [dates],
    "day": [dates],
    "start_of_month": [dates],
    "end_of_month": [dates],
}


def test_every_kernel_is_tested() -> None:
    with_kernel = {n for n, f in FUNCTIONS.items() if f.column not in (PER_ROW, LOWERED)}
    assert set(ARGUMENTS) == with_kernel


def _column(items: list) -> Val:
    if isinstance(items[0], dt.date):
        return Val(Date(np.array([d.toordinal() - EPOCH_ORDINAL for d in items], dtype=np.int64)))
    if isinstance(items[0], int):
        return Val(Num(np.array(items, dtype=np.int64)))
    scale = max(-d.as_tuple().exponent for d in items)
    return Val(Num(np.array([int(d.scaleb(scale)) for d in items], dtype=np.int64), scale))


def _scalar(name: str, args: tuple) -> object:
    impl = FUNCTIONS[name].impl
    try:
        return impl(*(Decimal(a) if isinstance(a, int) else a for a in args))
    except EvaluationError:
        return EvaluationError


@pytest.mark.parametrize("by_value", [False, True], ids=["per-row", "by-value"])
@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_column_kernel_equals_scalar_form(name, by_value) -> None:
    """Each row the kernel answers is the scalar form's value; a row where the scalar form
    fails is one the kernel sends to the scalar engine (``bad``)."""
    row = st.tuples(*ARGUMENTS[name])

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(row, min_size=1, max_size=30))
    def check(rows) -> None:
        cols = [_column([r[i] for r in rows]) for i in range(len(rows[0]))]
        with pytest.MonkeyPatch.context() as patch:
            if by_value:
                patch.setattr(values, "_BY_VALUE_ROWS", 0)
                patch.setattr(values, "_BY_VALUE_SPAN", 0)
            out = kernel(name)(*cols)
        n = len(rows)
        result = ColumnarResult(n, {"x": out}, {"x": "number"}, [])
        bad = np.broadcast_to(np.asarray(out.bad, dtype=bool), (n,))
        for i, args in enumerate(rows):
            want = _scalar(name, args)
            if bad[i]:
                continue
            assert want is not EvaluationError, (name, args)
            assert result.row(i)["x"] == want, (name, args)

    check()
