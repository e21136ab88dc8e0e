"""One reading and writing of values at the edges (``language.values``): the date every
entry point reads, the JSON every output writes, the one "too large" error."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal, InvalidOperation, Overflow
from pathlib import Path

import pytest

from interpreter import FactError, PolicyError, Repository, evaluate, obligations
from interpreter.language.errors import EvaluationError, TooLargeError
from interpreter.language.values import (
    FEN,
    Kind,
    fen_text,
    iso_date,
    money_text,
    parse_date,
    read_date,
    to_json,
)

from .conftest import PENSION, POLICIES, WORKED_EXAMPLE, policy_cli

PLAN = "rulemaking-plan-2021"
NOT_ISO = ["20211231", "2021-W52-5", "2021-12-3", " 2021-12-31", "2021-12-31T00:00", "2021-02-30"]


# ------------------------------------------------------------------ the kinds


def test_kind_is_the_string_files_write() -> None:
    assert Kind.MONEY == "money" and {"money": 1}[Kind.MONEY] == 1
    assert json.dumps({Kind.DATE: Kind.ENUM}) == '{"date": "enum"}'
    assert f"{Kind.INTEGER}" == "integer"
    assert Repository(POLICIES).policy(PENSION).kinds["monthly_pension"] is Kind.MONEY
    assert Decimal("0.01") == FEN


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize("text", NOT_ISO)
def test_read_date_takes_only_yyyy_mm_dd(text: str) -> None:
    assert read_date(text) is None
    with pytest.raises(ValueError, match="is not a date YYYY-MM-DD"):
        iso_date(text)
    with pytest.raises(PolicyError, match=r"^--x: .* is not a date YYYY-MM-DD$"):
        parse_date(text, "--x")


def test_read_date_reads_a_date() -> None:
    assert read_date("2021-12-31") == dt.date(2021, 12, 31)
    assert parse_date(dt.date(2021, 1, 1), "on") == dt.date(2021, 1, 1)
    with pytest.raises(PolicyError):
        parse_date(dt.datetime(2021, 1, 1), "on")


def test_cli_on_due_by_today_refuse_the_basic_format(scratch: Path) -> None:
    proc = policy_cli("eval", PENSION, "--facts", "-", "--on", "20211231", stdin="{}")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.strip().endswith(
        "fact 'on': the evaluation date must be YYYY-MM-DD, got '20211231'"
    )
    proc = policy_cli("obligations", PLAN, "--due-by", "20211231")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.strip() == "policy: error: --due-by: '20211231' is not a date YYYY-MM-DD"
    proc = policy_cli("docs", "--today", "20211231", root=scratch)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.strip() == "policy: error: --today: '20211231' is not a date YYYY-MM-DD"
    assert policy_cli("obligations", PLAN, "--due-by", "2021-12-31").returncode == 0


def test_api_on_and_due_by_refuse_the_basic_format() -> None:
    with pytest.raises(FactError, match="evaluation date must be YYYY-MM-DD, got '20210101'"):
        evaluate(PENSION, WORKED_EXAMPLE, on="20210101")
    with pytest.raises(PolicyError, match=r"^due_by: '20211231' is not a date YYYY-MM-DD$"):
        obligations(PLAN, due_by="20211231")
    assert obligations(PLAN, due_by="2021-12-31") == obligations(PLAN, due_by=dt.date(2021, 12, 31))


def test_http_on_refuses_the_basic_format() -> None:
    from starlette.testclient import TestClient

    from interpreter.service.app import create_app

    client = TestClient(create_app(Repository(POLICIES)))
    r = client.post(
        f"/policies/{PENSION}/evaluate", json={"facts": WORKED_EXAMPLE, "on": "20210101"}
    )
    assert r.status_code == 422
    r = client.post(f"/policies/{PENSION}/evaluate/batch?on=20210101", json=[WORKED_EXAMPLE])
    assert r.status_code == 422
    assert r.json()["detail"].endswith("the evaluation date must be YYYY-MM-DD, got '20210101'")


def test_yaml_dates_and_rule_dates_are_yyyy_mm_dd(scratch: Path) -> None:
    from .conftest import edit_policy_file, validation_errors

    edit_policy_file(scratch, PENSION, "policy.yaml", "from: 2021-01-01", "from: '20210101'")
    assert validation_errors(scratch, PENSION)


# ------------------------------------------------------------------ JSON

EDGES = [0, -0, 1, -1, 5, -5, 99, -99, 100, -100, 12345, -12345, 10**15, -(10**15), 2**62]


@pytest.mark.parametrize("fen", EDGES)
def test_money_from_fen_and_from_decimal_agree(fen: int) -> None:
    from interpreter.columnar.engine import fen_texts

    np = pytest.importorskip("numpy")
    value = Decimal(fen).scaleb(-2)
    assert fen_text(fen) == money_text(value) == to_json(value, Kind.MONEY)
    assert fen_texts(np.array([fen], dtype=np.int64)) == [fen_text(fen)]


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (Decimal("0"), Kind.MONEY, "0.00"),
        (Decimal("-0"), Kind.MONEY, "0.00"),
        (Decimal("-0.00"), Kind.MONEY, "0.00"),
        (Decimal("-0.001"), Kind.MONEY, "0.00"),
        (Decimal("-1.5"), Kind.MONEY, "-1.50"),
        (Decimal("2.0"), Kind.MONEY, "2.00"),
        (Decimal("1E+2"), Kind.MONEY, "100.00"),
        (Decimal("2.0"), Kind.NUMBER, 2),
        (Decimal("2.0"), None, 2),
        (Decimal("-0.0"), Kind.NUMBER, 0),
        (Decimal("1E+2"), Kind.NUMBER, 100),
        (Decimal("1E+2"), Kind.INTEGER, 100),
        (Decimal("0.018"), Kind.NUMBER, "0.018"),
        (Decimal("2.50"), Kind.NUMBER, "2.50"),
        (Decimal("-1E-3"), None, "-0.001"),
        (Decimal("123456789012345678"), Kind.INTEGER, 123456789012345678),
        (dt.date(2021, 1, 1), Kind.DATE, "2021-01-01"),
        (frozenset({"b", "a"}), Kind.LIST, ["a", "b"]),
        (True, Kind.BOOLEAN, True),
        (None, Kind.MONEY, None),
    ],
)
def test_to_json(value: object, kind: Kind | None, shown: object) -> None:
    assert to_json(value, kind) == shown
    assert type(to_json(value, kind)) is type(shown)


def test_number_columns_agree_with_to_json() -> None:
    """json_column formats a column of numbers as to_json formats each value."""
    pytest.importorskip("numpy")
    from interpreter.columnar.plan import ColumnarResult
    from interpreter.columnar.values import Num, Val

    np = pytest.importorskip("numpy")
    for kind, scale in ((Kind.NUMBER, 1), (Kind.NUMBER, 2), (Kind.MONEY, 2), (Kind.INTEGER, 0)):
        data = np.array([0, 20, -20, 25, -1, 10**12, 7], dtype=np.int64)
        result = ColumnarResult(len(data), {"x": Val(Num(data, scale))}, {"x": kind}, [])
        want = [to_json(result.row(i)["x"], kind) for i in range(len(data))]
        assert result.json_column("x") == want, (kind, scale)


def _pension_zero_rows(tmp_path: Path) -> Path:
    source = tmp_path / "zero.csv"
    facts = {**WORKED_EXAMPLE, "monthly_pension": "-0", "personal_account_balance": "-0.00"}
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(facts))
        writer.writerow([facts[k] for k in facts])
    return source


def test_money_zero_is_never_negative_on_any_path(tmp_path: Path) -> None:
    """A scalar Decimal('-0.00') (monthly_pension sent as -0) prints as the columnar
    engine's 0.00: in the outputs, the trace and every batch path."""
    from interpreter.batch import run as batch

    facts = {**WORKED_EXAMPLE, "monthly_pension": "-0", "personal_account_balance": "-0.00"}
    result = evaluate(PENSION, facts, on="2021-01-01")
    text = json.dumps(result.as_dict(), ensure_ascii=False)
    assert '"-0.00"' not in text
    assert result.as_dict()["outputs"]["proportional_increase"] == "0.00"
    program = Repository(POLICIES).program(PENSION)
    source = _pension_zero_rows(tmp_path)
    files = []
    for columnar in (True, False):
        out = tmp_path / f"out-{columnar}.jsonl"
        batch.evaluate_file(
            program, source, out, dt.date(2021, 1, 1), progress=False, columnar=columnar
        )
        files.append(out.read_text())
    assert files[0] == files[1]
    assert "-0.00" not in files[0] and '"proportional_increase": "0.00"' in files[0]


# ------------------------------------------------------------------ too large


def test_too_large_is_one_error_with_one_message() -> None:
    for exc in (InvalidOperation(), Overflow()):
        error = TooLargeError(exc)
        assert isinstance(error, EvaluationError)
        assert error.message == (
            f"a value is too large to compute exactly ({type(exc).__name__}); "
            "check the facts' magnitudes"
        )
