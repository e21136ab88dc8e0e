"""`policy eval --batch`: CSV, JSONL and Parquet; bad rows to the errors file with their row
number and reason while the batch goes on; outputs written atomically."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("numpy")

from .conftest import PENSION, WORKED_EXAMPLE, policy_cli

HEADER = "pension_start_date,retirement_approved_date,pension_base_year,monthly_pension,contribution_years,birth_date,scheme,military_transfer_cadre,city_average_enterprise_pension"
GOOD = "2010-05-01,2010-04-20,2009,3000.00,20.3,1950-12-31,enterprise,false,"
ROWS = [
    GOOD,
    "2010-05-01,2010-04-20,2009,30x0.00,20.3,1950-12-31,enterprise,false,",  # bad number
    "2010-05-01,2010-04-20,2009,3000.00,20.3,1950-12-31,enterprize,,",  # misspelt enum
    "2010-05-01,2010-04-20,2009,3000.00,20.3,1950-12-31,enterprise,true,",  # cadre, no average
    "2010-05-01,2010-04-20,2009,3000.00,20.3",  # short row
    "2010-05-01,2010-04-20,2009,3000.00,20.3,1950-12-31,enterprise,true,3500.00",
]


def test_csv_batch_with_bad_rows(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n")
    out = tmp_path / "out.csv"
    proc = policy_cli(
        "eval", PENSION, "--batch", str(source), "--out", str(out), "--on", "2021-01-01"
    )
    assert proc.returncode == 1, proc.stderr  # some rows rejected
    rows = list(csv.DictReader(out.open()))
    assert [r["row"] for r in rows] == ["1", "6"]
    assert rows[0]["new_monthly_pension"] == "3156.00" and rows[0]["from_personal_account"] == ""
    assert rows[1]["new_monthly_pension"] == "3500.00"
    errors = [json.loads(x) for x in (tmp_path / "out.csv.errors.jsonl").read_text().splitlines()]
    assert [(e["row"], e["line"], e["field"]) for e in errors] == [
        (2, 3, "monthly_pension"),
        (3, 4, "scheme"),
        (4, 5, None),
        (5, 6, None),
    ]
    assert "did you mean 'enterprise'" in errors[1]["error"]
    assert "city_average_enterprise_pension" in errors[2]["error"]
    assert not list(tmp_path.glob("*.part"))


def test_jsonl_and_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    good = dict(WORKED_EXAMPLE)
    source = tmp_path / "cases.jsonl"
    source.write_text(json.dumps(good) + "\n{broken\n" + json.dumps({**good, "bogus": 1}) + "\n")
    out = tmp_path / "out.jsonl"
    errors = tmp_path / "rejected.jsonl"
    proc = policy_cli(
        "eval",
        PENSION,
        "--batch",
        str(source),
        "--out",
        str(out),
        "--errors",
        str(errors),
        "--on",
        "2021-01-01",
    )
    assert proc.returncode == 1
    assert [json.loads(x)["row"] for x in out.read_text().splitlines()] == [1]
    rejected = [json.loads(x) for x in errors.read_text().splitlines()]
    assert [(e["row"], e["field"]) for e in rejected] == [(2, None), (3, "bogus")]

    table = pa.table(
        {
            k: [v]
            for k, v in {**good, "contribution_years": "20.3", "monthly_pension": "3000.00"}.items()
        }
    )
    pq.write_table(table, tmp_path / "cases.parquet")
    proc = policy_cli(
        "eval",
        PENSION,
        "--batch",
        str(tmp_path / "cases.parquet"),
        "--out",
        str(tmp_path / "o.parquet"),
        "--on",
        "2021-01-01",
    )
    assert proc.returncode == 0, proc.stderr
    got = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert str(got[0]["new_monthly_pension"]) == "3156.00"


def test_unreadable_input_leaves_no_output(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_text("pension_start_dat,scheme\n2010-05-01,enterprise\n")
    out = tmp_path / "out.csv"
    proc = policy_cli(
        "eval", PENSION, "--batch", str(source), "--out", str(out), "--on", "2021-01-01"
    )
    assert proc.returncode == 2
    assert "cases.csv:1:1: unknown fact 'pension_start_dat'" in proc.stderr
    assert "did you mean 'pension_start_date'" in proc.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    assert (
        policy_cli(
            "eval", PENSION, "--batch", str(source), "--facts", "x.json", "--out", str(out)
        ).returncode
        == 2
    )
    assert policy_cli("eval", PENSION, "--batch", str(source)).returncode == 2
    assert (
        policy_cli(
            "eval", PENSION, "--batch", str(tmp_path / "cases.xlsx"), "--out", str(out)
        ).returncode
        == 2
    )


def test_schema_command() -> None:
    proc = policy_cli("schema", PENSION)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["facts"]["additionalProperties"] is False
    assert "monthly_pension" in doc["facts"]["required"]
    assert doc["outputs"]["properties"]["new_monthly_pension"]["pattern"]
    assert doc["result"]["properties"]["format"] == {"const": "trace.v1"}
