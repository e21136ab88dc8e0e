"""The `policy` command as a user meets it: exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import PENSION, POLICIES, WORKED_EXAMPLE, policy_cli

FACTS = dict(WORKED_EXAMPLE)


def test_eval_prints_outputs_and_trace(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS))
    proc = policy_cli("eval", PENSION, "--facts", str(facts), "--on", "2021-01-01")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["outputs"]["new_monthly_pension"] == "3156.00"
    assert out["outputs"]["seniority_increase"] == "27.00"
    assert out["on"] == "2021-01-01"
    assert out["content_hash"].startswith("sha256:")
    assert all("citation" in step for step in out["trace"])


def test_eval_explain_from_stdin() -> None:
    proc = policy_cli(
        "eval", PENSION, "--facts", "-", "--on", "2021-01-01", "--explain", stdin=json.dumps(FACTS)
    )
    assert proc.returncode == 0, proc.stderr
    explanation = json.loads(proc.stdout)["explanation"]
    assert any("【三、(三)1.】高龄倾斜调整" in line for line in explanation["zh"])
    assert any("年满70周岁不满80周岁的，每人每月加发30元" in line for line in explanation["zh"])
    assert any("Old-age supplement" in line for line in explanation["en"])


def test_eval_yaml_facts(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("\n".join(f"{k}: {v}" for k, v in FACTS.items()))
    proc = policy_cli("eval", PENSION, "--facts", str(facts), "--on", "2021-01-01")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"]["total_increase"] == "156.00"


@pytest.mark.parametrize(
    ("facts_text", "args", "message"),
    [
        ('{"monthly_pension": 1,}', [], "facts.json:1:23: invalid JSON"),
        ('{"scheme": "enterprise", "scheme": "other"}', [], "duplicate key 'scheme'"),
        (json.dumps({**FACTS, "birth_dat": "1950-01-01"}), [], "did you mean 'birth_date'"),
        (
            json.dumps({**FACTS, "monthly_pension": "lots"}),
            [],
            "fact 'monthly_pension': must be a number",
        ),
        (json.dumps(FACTS), ["--on", "2021-02-30"], "evaluation date must be YYYY-MM-DD"),
        (
            json.dumps(FACTS),
            ["--on", "2020-06-01"],
            "not in force on 2020-06-01; in force 2021-01-01",
        ),
        ("[1, 2]", [], "facts must be a JSON object"),
    ],
)
def test_eval_bad_input_exit_2(tmp_path: Path, facts_text: str, args: list, message: str) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(facts_text)
    proc = policy_cli("eval", PENSION, "--facts", str(facts), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_unknown_policy_and_missing_file() -> None:
    proc = policy_cli("eval", "pension-adjustment-2012", "--facts", "-", stdin="{}")
    assert proc.returncode == 2 and "did you mean 'pension-adjustment-2021'" in proc.stderr
    proc = policy_cli("eval", PENSION, "--facts", "/nonexistent/facts.json")
    assert proc.returncode == 2 and "cannot read facts file" in proc.stderr


def test_usage_error_exit_2() -> None:
    proc = policy_cli("eval")
    assert proc.returncode == 2 and proc.stderr.startswith("policy: error:")


def test_test_and_list_and_coverage() -> None:
    proc = policy_cli("test", PENSION)
    assert proc.returncode == 0 and " passed, 0 failed" in proc.stdout
    proc = policy_cli("list")
    assert proc.returncode == 0 and "粤人社规〔2021〕13号\t2021-01-01 .. open-ended" in proc.stdout
    proc = policy_cli("coverage", PENSION)
    assert proc.returncode == 0 and "0 unaccounted" in proc.stdout


def test_failing_case_exit_1(scratch: Path) -> None:
    path = scratch / PENSION / "tests" / "flat.yaml"
    path.write_text(
        path.read_text().replace(
            'expect: {flat_increase: "45.00"}', 'expect: {flat_increase: "46.00"}', 1
        )
    )
    proc = policy_cli("test", PENSION, root=scratch)
    assert proc.returncode == 1
    assert "FAIL policies/pension-adjustment-2021/tests/flat.yaml:" in proc.stdout
    assert "flat_increase: expected '46.00', got '45.00'" in proc.stdout


def test_validate_lists_problems_exit_2(scratch: Path) -> None:
    path = scratch / PENSION / "clauses" / "flat.yaml"
    path.write_text(path.read_text().replace("    unit: 元/月", "    unti: 元/月"))
    proc = policy_cli("validate", str(scratch / PENSION), root=scratch)
    assert proc.returncode == 2
    assert "clauses/flat.yaml:13:5: parameters.flat_amount.unti: unknown key 'unti'" in proc.stderr


def test_validate_ok() -> None:
    proc = policy_cli("validate", str(POLICIES / PENSION))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"ok: {PENSION}")


def test_validate_takes_a_policy_id_a_folder_or_a_file_inside_one(tmp_path: Path) -> None:
    by_id = policy_cli("validate", "pension-adjustment-2021")
    assert by_id.returncode == 0 and by_id.stdout.startswith("ok: pension-adjustment-2021 (")
    inside = policy_cli("validate", "policies/pension-adjustment-2021/clauses/flat.yaml")
    assert inside.returncode == 0 and inside.stdout.startswith("ok: pension-adjustment-2021 (")
    misspelt = policy_cli("validate", "pension-adjustmnt-2021")
    assert misspelt.returncode == 2
    assert "did you mean 'pension-adjustment-2021'" in misspelt.stderr
    assert len(misspelt.stderr.strip().splitlines()) == 1
    outside = policy_cli("validate", str(tmp_path))
    assert outside.returncode == 2 and "not inside a policy folder" in outside.stderr
