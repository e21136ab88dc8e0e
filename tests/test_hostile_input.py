"""Hostile input: every entry point answers with a bounded one-line error at its place
(exit 2 on the command line), never a traceback, a hang or an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpreter import Repository
from interpreter.language.errors import FactError, PolicyFileError
from interpreter.policy.loader import load_yaml_text, loads_json
from interpreter.runtime import codegen

from .conftest import PENSION, WORKED_EXAMPLE, edit_policy_file, policy_cli, validation_errors

AGE = "clauses/age.yaml"
AGE_EXPR = "expr: age_on(birth_date, age_cutoff_date)"
AGE_INCREASE = "expr: if eligible then age_band_amount else 0"


def _one_line_error(proc, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[:500])
    first = proc.stderr.splitlines()[0]
    assert first.startswith("policy: error: "), first
    assert len(proc.stderr) < 1000, len(proc.stderr)
    for needle in needles:
        assert needle in first, first
    return first


def _facts_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _both_paths(root: Path) -> None:
    repo = Repository(root)
    traced = repo.evaluate(PENSION, dict(WORKED_EXAMPLE), "2021-01-01")
    untraced = repo.evaluate(PENSION, dict(WORKED_EXAMPLE), "2021-01-01", trace=False)
    assert untraced.outputs == traced.outputs


# ------------------------------------------------------------ 1. generated code


def test_untraced_path_runs_a_long_else_if_chain(scratch: Path) -> None:
    chain = " ".join(f"if age_at_cutoff == {1000 + i} then {i} else" for i in range(195))
    edit_policy_file(scratch, PENSION, AGE, AGE_INCREASE, f"expr: {chain} {AGE_INCREASE[6:]}")
    _both_paths(scratch)


def test_untraced_path_runs_a_first_hit_table_of_200_rows(scratch: Path) -> None:
    rows = "".join(
        f"        - when: {{age_at_cutoff: {{年满: {1000 + i}, 不满: {1001 + i}}}}}\n"
        f"          then: {i}\n"
        for i in range(200)
    )
    old = "      hit_policy: unique\n      columns: [age_at_cutoff]\n      rows:\n"
    new = "      hit_policy: first\n      columns: [age_at_cutoff]\n      rows:\n" + rows
    edit_policy_file(scratch, PENSION, AGE, old, new)
    _both_paths(scratch)


def test_generator_refuses_a_name_with_a_final_newline() -> None:
    with pytest.raises(codegen.NotGenerated):
        codegen.variable("total\n")


def test_schema_refuses_a_computed_name_with_a_final_newline(scratch: Path) -> None:
    new = '  "age_x\\n":\n    type: integer\n    description: {zh: x, en: x}\n'
    new += "    expr: age_at_cutoff\n  age_band_amount:\n"
    edit_policy_file(scratch, PENSION, AGE, "  age_band_amount:\n", new)
    errors = validation_errors(scratch, PENSION)
    assert any("'age_x\\n' does not match" in e for e in errors), errors


# ------------------------------------------------------------ 2. aliases

_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


def test_billion_laughs_facts_file_is_refused(tmp_path: Path) -> None:
    facts = _facts_file(tmp_path, "bomb.yaml", _BOMB + "\n")
    proc = policy_cli("eval", PENSION, "--facts", facts)
    _one_line_error(proc, "bomb.yaml:", "aliases copy more than")


def test_billion_laughs_clause_file_is_refused(scratch: Path) -> None:
    bomb = "\n".join("x" + line for line in _BOMB.splitlines())
    edit_policy_file(scratch, PENSION, AGE, "interpretations:\n", bomb + "\ninterpretations:\n")
    proc = policy_cli("validate", root=scratch)
    _one_line_error(proc, "age.yaml:", "aliases copy more than")


def test_small_aliases_are_still_read() -> None:
    doc = load_yaml_text("a: &c {x: 1}\nb: *c\nc: [*c, *c]\n", "f.yaml")
    assert doc.data == {"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 1}]}


# ------------------------------------------------------------ 3. exit 2, not 3


def test_facts_json_nested_100000_deep(tmp_path: Path) -> None:
    facts = _facts_file(tmp_path, "deep.json", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _one_line_error(policy_cli("eval", PENSION, "--facts", facts), "deep.json:1:", "nested")


def test_facts_yaml_nested_100000_deep(tmp_path: Path) -> None:
    facts = _facts_file(tmp_path, "deep.yaml", "x: " + "[" * 100_000 + "]" * 100_000 + "\n")
    _one_line_error(policy_cli("eval", PENSION, "--facts", facts), "deep.yaml:1:")


def test_block_yaml_nested_deeper_than_the_limit() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(150)) + "  " * 150 + "end: 1\n"
    with pytest.raises(PolicyFileError, match=r"f.yaml:\d+:\d+: .*nested more than 100 deep"):
        load_yaml_text(text, "f.yaml")


def test_110_nested_parentheses(scratch: Path) -> None:
    deep = "(" * 110 + "age_on(birth_date, age_cutoff_date)" + ")" * 110
    edit_policy_file(scratch, PENSION, AGE, AGE_EXPR, f"expr: {deep}")
    proc = policy_cli("validate", root=scratch)
    _one_line_error(proc, "age.yaml:29:", "parentheses or brackets nested")


def test_long_operator_chain(scratch: Path) -> None:
    edit_policy_file(scratch, PENSION, AGE, AGE_EXPR, "expr: 1" + " + 1" * 2000)
    _one_line_error(policy_cli("validate", root=scratch), "age.yaml:29:", "nested more than")


def test_27_digit_number_in_an_expression(scratch: Path) -> None:
    new = "expr: if eligible then age_band_amount + 123456789012345678901234567 else 0"
    edit_policy_file(scratch, PENSION, AGE, AGE_INCREASE, new)
    proc = policy_cli("validate", root=scratch)
    _one_line_error(proc, "age.yaml:", "number too large")


def test_yaml_nested_2000_deep_in_a_clause(scratch: Path) -> None:
    deep = "deep: " + "[" * 2000 + "]" * 2000 + "\ninterpretations:\n"
    edit_policy_file(scratch, PENSION, AGE, "interpretations:\n", deep)
    _one_line_error(policy_cli("validate", root=scratch), "age.yaml:")


def test_dependency_chain_of_1500_computations(scratch: Path) -> None:
    chain = "".join(
        f"  c{i}:\n    type: money\n    description: {{zh: x, en: x}}\n"
        f"    expr: {'age_band_amount' if i == 0 else f'c{i - 1}'}\n"
        for i in range(1500)
    )
    edit_policy_file(scratch, PENSION, AGE, "  age_increase:\n", chain + "  age_increase:\n")
    edit_policy_file(scratch, PENSION, AGE, AGE_INCREASE, "expr: if eligible then c1499 else 0")
    proc = policy_cli("validate", root=scratch)
    _one_line_error(proc, "age.yaml:", "chain of definitions too deep")


def test_impossible_date_in_a_policy_file(scratch: Path) -> None:
    edit_policy_file(scratch, PENSION, "policy.yaml", "  from: 2021-01-01", "  from: 2021-13-01")
    proc = policy_cli("validate", root=scratch)
    _one_line_error(proc, "policy.yaml:17:9: in_force.from:", "'2021-13-01' is not a date")


# ------------------------------------------------------------ 4. bounded messages


def _facts_with(tmp_path: Path, text_of_extra: str) -> str:
    body = json.dumps(WORKED_EXAMPLE)[:-1] + ", " + text_of_extra + "}"
    return _facts_file(tmp_path, "facts.json", body)


def test_a_10_mb_fact_value_is_not_echoed(tmp_path: Path) -> None:
    facts = json.dumps({**WORKED_EXAMPLE, "scheme": "x" * 10_000_000})
    proc = policy_cli("eval", PENSION, "--facts", _facts_file(tmp_path, "f.json", facts))
    _one_line_error(proc, "fact 'scheme'", "…")


def test_a_900_kb_fact_name_is_not_echoed(tmp_path: Path) -> None:
    proc = policy_cli("eval", PENSION, "--facts", _facts_with(tmp_path, f'"{"x" * 900_000}": 1'))
    _one_line_error(proc, "unknown fact", "…")


def test_int_digit_limit_is_not_leaked(tmp_path: Path) -> None:
    facts = json.dumps(WORKED_EXAMPLE).replace('"3000.00"', "9" * 5000)
    proc = policy_cli("eval", PENSION, "--facts", _facts_file(tmp_path, "f.json", facts))
    first = _one_line_error(proc, "fact 'monthly_pension'", "too large")
    assert "sys." not in first


def test_loader_messages_are_bounded() -> None:
    with pytest.raises(ValueError) as info:
        loads_json('{"' + "k" * 100_000 + '": 1, "' + "k" * 100_000 + '": 2}')
    assert len(str(info.value)) < 200
    with pytest.raises(FactError) as fact:
        raise FactError("is required", "y" * 100_000)
    assert len(str(fact.value)) < 200
