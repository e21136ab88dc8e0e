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


# ------------------------------------------------ the columnar path equals row by row

import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import pkgutil  # noqa: E402
import random  # noqa: E402
from decimal import Decimal  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import interpreter.batch  # noqa: E402
from interpreter import Repository  # noqa: E402
from interpreter.batch import run as batch  # noqa: E402
from interpreter.batch.columns import MISS, _Codec  # noqa: E402
from interpreter.batch.writers import _Writer  # noqa: E402
from interpreter.columnar.engine import ColumnarPlan, evaluate_rows, fen_text, fen_texts  # noqa: E402
from interpreter.language.errors import FactError, PolicyError  # noqa: E402
from interpreter.language.values import read_date  # noqa: E402
from interpreter.runtime.engine import to_json  # noqa: E402
from interpreter.runtime.facts import QuickNumber, parse_facts, parse_value  # noqa: E402

from .conftest import POLICIES  # noqa: E402

INT64 = st.integers(-(2**63) + 1, 2**63 - 1)
EDGE_FEN = [
    0,
    1,
    -1,
    5,
    -5,
    99,
    -99,
    100,
    -100,
    101,
    -101,
    2**62,
    -(2**62),
    2**63 - 1,
    -(2**63) + 1,
]


@given(st.lists(INT64, max_size=30))
def test_fen_text_is_to_json(fens: list[int]) -> None:
    import numpy as np

    fens = fens + EDGE_FEN
    want = [to_json(Decimal(x).scaleb(-2), "money") for x in fens]
    assert [fen_text(x) for x in fens] == want
    assert fen_texts(np.array(fens, dtype=np.int64)) == want


NUMBER_TEXT = st.one_of(
    st.from_regex(r"-?[0-9]{1,17}(\.[0-9]{0,14})?", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(
        [
            "",
            " 1",
            "1 ",
            "+1",
            "1e2",
            "1E+2",
            "0x10",
            "1_000",
            "١٢",
            "１２",
            ".5",
            "5.",
            "-0",
            "-0.00",
            "nan",
            "inf",
            "sNaN",
            "-",
            ".",
            "1,5",
            "0" * 20 + "1",
            "1.000",
            "2009.0",
        ]
    ),
)


def _facts(policy_id: str = PENSION) -> dict:
    return Repository(POLICIES).policy(policy_id).facts


@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBER_TEXT, min_size=1, max_size=12))
def test_quick_numbers_agree_with_parse_value(texts: list[str]) -> None:
    """Whatever a quick reader accepts, parse_value accepts with the same value; what it
    declines goes to parse_value, whose error message is then the only one."""
    facts = _facts()
    plan = batch._columnar_plan(Repository(POLICIES).program(PENSION))
    for name in (
        "monthly_pension",
        "contribution_years",
        "pension_base_year",
        "initial_pension_at_retirement",
    ):
        fact = facts[name]
        quick = QuickNumber(fact)
        codec = _Codec(fact, plan)
        for text in texts:
            got = quick(text) if text else None
            if got is not None:
                value = parse_value(fact, text)
                sign, digits, exp = value.as_tuple()
                coef = int("".join(map(str, digits))) * (-1 if sign else 1)
                assert got == (coef, exp), (name, text)
        one_by_one = [codec.text(t) for t in texts]
        assert codec.read_numbers(texts) == one_by_one
        for text, packed in zip(texts, one_by_one, strict=True):
            if packed is MISS:
                continue
            want = codec.packed(parse_value(fact, text))
            if fact.type.kind == "number":  # (coefficient, exponent), or the Decimal
                sign, digits, exp = want.as_tuple()
                want = (int("".join(map(str, digits))) * (-1 if sign else 1), exp)
            assert packed == want, (name, text)


@given(
    st.one_of(
        st.dates().map(str), st.text(max_size=12), st.from_regex(r"[0-9-W]{10}", fullmatch=True)
    )
)
def test_quick_date_agrees_with_parse_value(text: str) -> None:
    fact = _facts()["birth_date"]
    day = read_date(text)
    try:
        want = parse_value(fact, text)
    except FactError:
        assert day is None
    else:
        assert day == want


def _random_cell(rng: random.Random, kind: str, values: list[str]) -> str:
    pick = rng.random()
    if pick < 0.1:
        return ""
    if kind == "money":
        good = f"{rng.randrange(-(10**6), 10**8) / 100:.2f}"
        return good if pick < 0.8 else rng.choice(["1.005", "3e3", " 12", "-0", "1.5", "x"])
    if kind == "integer":
        return str(rng.randrange(0, 3000)) if pick < 0.8 else rng.choice(["2009.0", "1.5", "-1"])
    if kind == "number":
        return str(rng.randrange(0, 500) / 10) if pick < 0.8 else rng.choice(["1e1", "-2", "7."])
    if kind == "date":
        day = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(50_000))
        return day.isoformat() if pick < 0.85 else rng.choice(["2021-02-30", "2021/1/1", "x"])
    if kind == "boolean":
        return rng.choice(["true", "false", "TRUE", " yes", "0", "1", "ture"])
    if kind == "enum":
        return rng.choice([*values, values[0].upper(), values[0] + "s"])
    return 'text, "quoted"'


def _write_random_csv(path: Path, policy_id: str, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    facts = _facts(policy_id)
    names = list(facts)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for i in range(rows):
            if i % 97 == 5:
                writer.writerow(["short"])
                continue
            writer.writerow(
                [
                    _random_cell(rng, f.type.kind, sorted(f.type.values or ["x"]))
                    for f in facts.values()
                ]
            )


def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many chunks and blocks: ``CHUNK`` in every batch module that reads it."""
    for info in pkgutil.iter_modules(interpreter.batch.__path__):
        module = importlib.import_module(f"interpreter.batch.{info.name}")
        if hasattr(module, "CHUNK"):
            monkeypatch.setattr(module, "CHUNK", 37)


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, policy_id: str, source: Path, on: dt.date
) -> None:
    """The columnar path's output and errors files are byte for byte the row path's."""
    program = Repository(POLICIES).program(policy_id)
    _small_chunks(monkeypatch)
    for fmt in (".csv", ".jsonl", ".parquet"):
        files = {}
        for way in ("columns", "rows"):
            if way == "rows":
                monkeypatch.setattr(_Codec, "supports", classmethod(lambda cls, p: False))
            out = tmp_path / f"{source.stem}.{way}{fmt}"
            summary = batch.evaluate_file(program, source, out, on, progress=False)
            errors = out.with_name(out.name + ".errors.jsonl")
            files[way] = (out.read_bytes(), errors.read_bytes(), summary.rows, summary.ok)
            monkeypatch.undo()
            _small_chunks(monkeypatch)
        assert files["columns"] == files["rows"], fmt
        assert files["rows"][1], "the sample has bad rows"


@pytest.mark.parametrize(
    ("policy_id", "on"),
    [
        (PENSION, dt.date(2021, 1, 1)),
        ("transport-penalty-discretion-2021", dt.date(2022, 3, 1)),
        ("medical-outpatient-cross-region-2021", dt.date(2022, 3, 1)),
    ],
)
def test_columnar_path_equals_row_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, policy_id: str, on: dt.date
) -> None:
    pytest.importorskip("pyarrow")
    source = tmp_path / "cases.csv"
    _write_random_csv(source, policy_id, 400, seed=len(policy_id))
    _both_ways(monkeypatch, tmp_path, policy_id, source, on)
    # the same rows as JSONL (typed values where they parse) and as Parquet text columns
    import pyarrow as pa
    import pyarrow.parquet as pq

    facts = _facts(policy_id)
    lines, table = [], {name: [] for name in facts}
    for record in csv.DictReader(source.open(newline="", encoding="utf-8")):
        for name in facts:
            table[name].append(record.get(name) or None)
        obj = {}
        for name, cell in record.items():
            if name is None or cell in ("", None):
                continue
            kind = facts[name].type.kind
            if kind == "boolean" and cell in ("true", "false"):
                obj[name] = cell == "true"
            elif kind == "integer" and cell.isdigit():
                obj[name] = int(cell)
            else:
                obj[name] = cell
        lines.append(json.dumps(obj, ensure_ascii=False))
    lines[3:3] = ["{broken", "[1]", json.dumps({"bogus": 1})]
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _both_ways(monkeypatch, tmp_path, policy_id, jsonl, on)
    parquet = tmp_path / "cases.parquet"
    pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in table.items()}), parquet)
    _both_ways(monkeypatch, tmp_path, policy_id, parquet, on)


@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_json_column_is_to_json_of_row(policy_id: str) -> None:
    """Every policy's cases: the output columns formatted at once are to_json of each
    row's values, value and type."""
    program = Repository(POLICIES).program(policy_id)
    policy = program.policy
    batches: dict[dt.date, list[dict]] = {}
    for case in policy.cases:
        on = case.on or policy.in_force.start
        try:
            policy.check_in_force(on)
            batches.setdefault(on, []).append(parse_facts(policy, case.facts))
        except PolicyError:
            continue
    plan = ColumnarPlan(program)
    for on, rows in batches.items():
        result = evaluate_rows(program, rows, on, plan=plan)
        for name in policy.outputs:
            column = result.json_column(name)
            if column is None:  # no quick form: the batch goes row by row
                continue
            for i in range(len(rows)):
                if i in result.scalar:
                    continue
                want = to_json(result.row(i)[name], result.kinds[name])
                assert column[i] == want and type(column[i]) is type(want), (name, on, i)


@pytest.mark.parametrize("fmt", [".csv", ".jsonl", ".parquet"])
def test_write_columns_is_write(tmp_path: Path, fmt: str) -> None:
    pytest.importorskip("pyarrow")
    columns = ["row", "text", "flag", "count", "money"]
    kinds = {"text": "text", "flag": "boolean", "count": "integer", "money": "money"}
    records = [
        {"row": 1, "text": "plain", "flag": True, "count": 3, "money": "1.00"},
        {"row": 2, "text": "a, b", "flag": False, "count": None, "money": "-0.05"},
        {"row": 3, "text": 'say "hi"\n中', "flag": None, "count": -7, "money": None},
        {"row": 4, "text": None, "flag": True, "count": 0, "money": "12345678901234.56"},
    ]
    for sample in (records, records[:1] + records[3:]):  # with and without quoting
        one, many = tmp_path / f"one{fmt}", tmp_path / f"many{fmt}"
        writer = _Writer(one, fmt, columns, kinds)
        for record in sample:
            writer.write(record)
        writer.close(one)
        writer = _Writer(many, fmt, columns, kinds)
        cols = [[r[c] for r in sample] for c in columns]
        special = {1: None, 2: dict(sample[2])} if len(sample) > 2 else {}
        if special:  # row 2 left out, row 3 given as a record
            cols[1][2] = "overwritten"
        writer.write_columns(cols, special)
        writer.close(many)
        if special:
            one2 = tmp_path / f"one2{fmt}"
            writer = _Writer(one2, fmt, columns, kinds)
            for record in [sample[0], *sample[2:]]:
                writer.write(record)
            writer.close(one2)
            assert many.read_bytes() == one2.read_bytes()
        else:
            assert many.read_bytes() == one.read_bytes()


def test_the_batch_readers_use_the_columnar_engines_integer_limit() -> None:
    """batch/columns.py keeps its own copy so that reading a file needs no numpy import."""
    from interpreter.batch import columns
    from interpreter.columnar import engine as columnar

    assert columns._SAFE == columnar.SAFE
