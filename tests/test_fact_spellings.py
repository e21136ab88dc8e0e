"""One facts contract on every entry point (issue 12, item 6): a number is written with
ASCII digits, an optional "-", and an optional point with digits after it (money at most
two, an integer none), or sent as a JSON number. ``policy eval --facts``, the Python API,
a CSV or JSONL batch row, ``/evaluate`` and ``/evaluate/batch`` refuse the same spellings,
each with one line naming the fact, and read the accepted ones as the same value."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")
pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient

from interpreter import FactError, Repository, cli, evaluate
from interpreter.service.app import create_app

from .conftest import PENSION, POLICIES, WORKED_EXAMPLE

ON = "2021-01-01"
OUTPUTS = ("total_increase", "new_monthly_pension")


def _pension_only() -> Path:
    """A private root with the pension policy alone (others edit theirs in parallel)."""
    root = Path(tempfile.mkdtemp(prefix="spellings-test-")) / "policies"
    shutil.copytree(POLICIES / PENSION, root / PENSION)
    return root


ROOT = _pension_only()
CLIENT = TestClient(create_app(Repository(ROOT)), raise_server_exceptions=False)


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--root", str(ROOT), *args])
    return code, out.getvalue(), err.getvalue()


# Each entry point answers ("ok", {output: JSON text}) or ("refused", (field, message)).
Answer = tuple[str, Any]


def _outputs(outputs: dict[str, Any]) -> dict[str, str]:
    return {k: str(outputs[k]) for k in OUTPUTS}


def via_cli_facts(facts: dict[str, Any], tmp: Path) -> Answer:
    path = tmp / "facts.json"
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    code, out, err = _cli("eval", PENSION, "--facts", str(path), "--on", ON)
    if code == 0:
        return "ok", _outputs(json.loads(out)["outputs"])
    assert code == 2, err
    assert err.count("\n") == 1, err  # one line
    return "refused", (None, err)


def via_api(facts: dict[str, Any], tmp: Path) -> Answer:
    try:
        result = evaluate(PENSION, facts, on=ON)
    except FactError as exc:
        return "refused", (exc.fact, str(exc))
    return "ok", _outputs(result.as_dict()["outputs"])


def _batch(source: Path, tmp: Path) -> Answer:
    out, errors = tmp / ("out" + source.suffix), tmp / "errors.jsonl"
    code, _, err = _cli(
        "eval",
        PENSION,
        "--batch",
        str(source),
        "--out",
        str(out),
        "--errors",
        str(errors),
        "--on",
        ON,
    )
    assert code in (0, 1), err
    if code == 0:
        if source.suffix == ".csv":
            [row] = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
        else:
            [row] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        return "ok", _outputs(row)
    [rejected] = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert rejected["row"] == 1, rejected
    return "refused", (rejected["field"], rejected["error"])


def via_csv_batch(facts: dict[str, Any], tmp: Path) -> Answer:
    source = tmp / "cases.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(list(facts))
        writer.writerow([str(v) for v in facts.values()])
    return _batch(source, tmp)


def via_jsonl_batch(facts: dict[str, Any], tmp: Path) -> Answer:
    source = tmp / "cases.jsonl"
    source.write_text(json.dumps(facts, ensure_ascii=False) + "\n", encoding="utf-8")
    return _batch(source, tmp)


def via_http(facts: dict[str, Any], tmp: Path) -> Answer:
    r = CLIENT.post(f"/policies/{PENSION}/evaluate", json={"facts": facts, "on": ON})
    if r.status_code == 200:
        return "ok", _outputs(r.json()["outputs"])
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    return "refused", (body["field"], body["detail"])


def via_http_batch(facts: dict[str, Any], tmp: Path) -> Answer:
    r = CLIENT.post(f"/policies/{PENSION}/evaluate/batch?on={ON}", json=[facts])
    assert r.status_code == 200, r.text
    [entry] = r.json()["results"]
    if "error" in entry:
        return "refused", (entry["error"]["field"], entry["error"]["detail"])
    return "ok", _outputs(entry["outputs"])


ENTRY_POINTS: dict[str, Callable[[dict[str, Any], Path], Answer]] = {
    "cli-facts": via_cli_facts,
    "api": via_api,
    "csv-batch": via_csv_batch,
    "jsonl-batch": via_jsonl_batch,
    "http-evaluate": via_http,
    "http-batch": via_http_batch,
}

REFUSED = [
    ("monthly_pension", "٣٠٠٠"),  # Arabic-Indic digits
    ("monthly_pension", "３０００"),  # fullwidth digits
    ("monthly_pension", " 3000 "),
    ("monthly_pension", "3000 "),
    ("monthly_pension", "3_000"),
    ("monthly_pension", "3E+3"),
    ("monthly_pension", "3e3"),
    ("monthly_pension", "3000.00\n"),
    ("monthly_pension", "+3000"),
    ("monthly_pension", "3000."),
    ("monthly_pension", ".50"),
    ("monthly_pension", "3000.000"),  # money: at most two decimals, as written
    ("monthly_pension", "Infinity"),
    ("pension_base_year", "٢٠٠٩"),
    ("pension_base_year", "2009.00"),  # an integer has no point
    ("pension_base_year", "2009.0"),
    ("pension_base_year", "2.009E+3"),
    ("pension_base_year", "2009\n"),
    ("contribution_years", "２０.３"),
    ("contribution_years", "20.3\n"),
    ("contribution_years", "2.03E+1"),
    ("contribution_years", "20_3"),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("fact", "written"), REFUSED, ids=[repr(w) for _, w in REFUSED])
def test_every_entry_point_refuses_the_same_spellings(
    entry: str, fact: str, written: str, tmp_path: Path
) -> None:
    facts = {**WORKED_EXAMPLE, fact: written}
    status, answer = ENTRY_POINTS[entry](facts, tmp_path)
    assert status == "refused", (entry, written, answer)
    field, message = answer
    assert field in (None, fact, f"facts.{fact}"), answer
    assert fact in message, answer
    assert "\n" not in message.rstrip("\n"), answer


ACCEPTED = [
    ("monthly_pension", "3000", "3000"),
    ("monthly_pension", "3000.00", "3000"),
    ("monthly_pension", 3000, "3000"),
    ("monthly_pension", "3000.5", "3000.5"),
    ("monthly_pension", "3000.50", "3000.5"),
    ("monthly_pension", 3000.5, "3000.5"),
    ("monthly_pension", "03000", "3000"),
    ("pension_base_year", "2009", "2009"),
    ("pension_base_year", 2009, "2009"),
    ("pension_base_year", 2009.0, "2009"),
    ("contribution_years", "20.3", "20.3"),
    ("contribution_years", 20.3, "20.3"),
    ("contribution_years", "20.30", "20.3"),
]


@pytest.mark.parametrize(
    ("fact", "written", "value"), ACCEPTED, ids=[f"{f}={w!r}" for f, w, _ in ACCEPTED]
)
def test_every_entry_point_reads_an_accepted_spelling_as_the_same_value(
    fact: str, written: Any, value: str, tmp_path: Path
) -> None:
    want = evaluate(PENSION, {**WORKED_EXAMPLE, fact: Decimal(value)}, on=ON)
    expected = _outputs(want.as_dict()["outputs"])
    facts = {**WORKED_EXAMPLE, fact: written}
    for entry, via in ENTRY_POINTS.items():
        if entry == "csv-batch" and fact == "pension_base_year" and isinstance(written, float):
            continue  # a CSV cell is text, and the text "2009.0" is no integer's spelling
        status, answer = via(facts, tmp_path)
        assert (status, answer) == ("ok", expected), (entry, written)
