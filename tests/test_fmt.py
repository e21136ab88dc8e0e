"""`policy fmt`: one canonical style for policy YAML, so that a reviewer's diff of a rule
change is the change and nothing else."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from interpreter.language.errors import PolicyFileError
from interpreter.policy.canonical import format_yaml
from interpreter.policy.loader import load_yaml_text

from .conftest import PENSION, POLICIES, policy_cli

# Written the way an author might: indentless sequences, an unused anchor, numbers with
# trailing zeros, comments everywhere, a folded block, a long quote, an empty value.
MESSY = """\
# yaml-language-server: $schema=../../../schema/clause.schema.json
id: flat   # the clause id
title:
  zh: 定额调整
  en: Flat increase
citation: &cite
  document: 粤人社规〔2021〕13号
  article: s3-2-1
  quote: 每人每月增加45元。这是一段很长的引文，绝不能被折行，因为审阅人要逐字对照公报原文；折行会让一处改动变成好几行的差异，也会让引文核对出错。
parameters:
  flat_amount:
    type: money
    values:
    # the 2021 value
    - from: 2021-01-01
      value: 3000.00
      rate: 0.018
      ratio: 1.50
      until:
      citation: *cite
    - from: 2022-01-01
      value: 45
      flag: true
      citation: {document: 粤人社规〔2021〕13号, article: s3-2-1, quote: '“每人每月”'}
compute:
  flat_increase:
    expr: >-
      if eligible
      then flat_amount else 0
    note: |
      kept
        as written
tags: [a, b]
"""


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_the_canonical_style() -> None:
    out = format_yaml(MESSY)
    assert out.startswith("# yaml-language-server: $schema=../../../schema/clause.schema.json\n")
    assert "id: flat   # the clause id\n" in out  # comments kept where they were
    assert "    # the 2021 value\n      - from: 2021-01-01\n" in out  # sequences indented
    assert "        value: 3000.00\n        rate: 0.018\n        ratio: 1.50\n" in out
    assert "        until: null\n" in out
    assert "citation: &cite\n" in out and "        citation: *cite\n" in out
    assert "quote: '“每人每月”'}" in out  # quotes as written, Chinese never escaped
    assert "    expr: >-\n      if eligible\n      then flat_amount else 0\n" in out
    assert "    note: |\n      kept\n        as written\n" in out
    assert "tags: [a, b]\n" in out
    long_quote = next(line for line in MESSY.splitlines() if "绝不能被折行" in line)
    assert long_quote in out.splitlines()  # never folded, however long
    assert len(out.splitlines()) == len(MESSY.splitlines())  # only indentation moved


def test_formatting_keeps_the_meaning_exactly() -> None:
    before = load_yaml_text(MESSY, "messy.yaml").data
    after = load_yaml_text(format_yaml(MESSY), "messy.yaml").data
    assert repr(after) == repr(before)  # Decimal('3000.00') stays Decimal('3000.00')
    assert str(after["parameters"]["flat_amount"]["values"][0]["value"]) == "3000.00"


def test_an_unused_anchor_and_anchored_scalars_are_kept() -> None:
    text = "base: &base\n  a: 1\nlimit: &limit 3000.00\nday: &day 2021-01-01\nuse: *limit\n"
    assert format_yaml(text) == text


def test_formatting_is_idempotent_and_one_edit_is_one_line() -> None:
    once = format_yaml(MESSY)
    assert format_yaml(once) == once
    edited = once.replace("value: 3000.00", "value: 3100.50", 1)
    assert format_yaml(edited) == edited
    assert _changed_lines(once, format_yaml(edited)) == [
        "-        value: 3000.00",
        "+        value: 3100.50",
    ]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: 1\na: 2\n", "bad.yaml:2:1", "duplicate key 'a'"),
        ("a: [1, 2\nb: 3\n", "bad.yaml:2:2", "invalid YAML"),
        ("a:\n  b: 1\n c: 2\n", "bad.yaml:3:2", "invalid YAML"),
        ("a: 1\n---\nb: 2\n", "bad.yaml:2:1", "invalid YAML"),
    ],
)
def test_text_that_does_not_parse_names_file_line_column(
    text: str, where: str, message: str
) -> None:
    with pytest.raises(PolicyFileError) as info:
        format_yaml(text, "bad.yaml")
    assert str(info.value).startswith(where), str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_comment_only_text_is_left_alone() -> None:
    assert format_yaml("# only a comment\n") == "# only a comment\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of every policy, formatted by `policy fmt` once."""
    root = tmp_path_factory.mktemp("fmt") / "policies"
    shutil.copytree(POLICIES, root)
    proc = policy_cli("fmt", str(root), root=root)
    assert proc.returncode == 0, proc.stderr
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_committed_policies_are_formatted(tree: Path) -> None:
    # The formatted copy is byte for byte the committed tree (CI runs `policy fmt --check`).
    assert _snapshot(tree) == _snapshot(POLICIES)
    assert not [p for p in tree.rglob("*.part")]  # atomic writes leave nothing behind


def test_a_second_fmt_changes_nothing(tree: Path) -> None:
    before = _snapshot(tree)
    proc = policy_cli("fmt", root=tree)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "0 file(s) reformatted" in proc.stderr
    assert _snapshot(tree) == before


def test_one_parameter_edit_is_one_line_after_fmt(tmp_path: Path, tree: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(tree / PENSION, root / PENSION)
    path = root / PENSION / "clauses" / "seniority.yaml"
    formatted = path.read_text(encoding="utf-8")
    # The edit a reviewer would make: one value, on the line where it is written.
    path.write_text(formatted.replace("value: 15\n", "value: 16.50\n", 1), encoding="utf-8")
    check = policy_cli("fmt", "--check", PENSION, root=root)
    assert check.returncode == 0, check.stdout + check.stderr
    proc = policy_cli("fmt", PENSION, root=root)
    assert proc.returncode == 0, proc.stderr
    after = path.read_text(encoding="utf-8")
    assert _changed_lines(formatted, after) == ["-        value: 15", "+        value: 16.50"]


def test_check_lists_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / PENSION, root / PENSION)
    path = root / PENSION / "clauses" / "seniority.yaml"
    messy = path.read_text(encoding="utf-8").replace("      - from:", "    - from:")
    messy = messy.replace("        value:", "      value:").replace(
        "        citation:", "      citation:"
    )
    path.write_text(messy, encoding="utf-8")
    check = policy_cli("fmt", "--check", root=root)
    assert check.returncode == 1, check.stderr
    assert check.stdout.splitlines() == [str(path)]
    assert "1 file(s) would be reformatted" in check.stderr
    assert path.read_text(encoding="utf-8") == messy
    proc = policy_cli("fmt", str(path), root=root)
    assert (proc.returncode, proc.stdout.splitlines()) == (0, [str(path)])
    assert path.read_text(encoding="utf-8") == (
        POLICIES / PENSION / "clauses" / "seniority.yaml"
    ).read_text(encoding="utf-8")


def test_bad_input_exit_2_one_line(tmp_path: Path) -> None:
    missing = policy_cli("fmt", str(tmp_path / "nowhere.yaml"))
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[0].endswith(
        "nowhere.yaml: no such file, folder or policy id"
    )
    typo = policy_cli("fmt", "pension-adjustment-2012")
    assert typo.returncode == 2 and "did you mean" in typo.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nvalues: [1, 2\nother: 3\n", encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text("a:\n- 1\n", encoding="utf-8")
    proc = policy_cli("fmt", str(bad), str(good))
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("policy: error:")]
    assert errors == [f"policy: error: {bad}:3:6: invalid YAML: expected ',' or ']', but got ':'"]
    assert bad.read_text(encoding="utf-8") == "id: x\nvalues: [1, 2\nother: 3\n"
    assert good.read_text(encoding="utf-8") == "a:\n  - 1\n"  # the others are still formatted
