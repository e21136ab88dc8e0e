"""Bad policy files: every problem is named at file:line:column, nothing is ignored."""

from __future__ import annotations

from pathlib import Path

from interpreter import Repository

from .conftest import PENSION, edit_policy_file, line_in_policy_file, validation_errors


def _errors(root: Path) -> list[str]:
    return validation_errors(root, PENSION)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    edit_policy_file(root, PENSION, rel, old, new)


def _line_of(root: Path, rel: str, needle: str) -> int:
    return line_in_policy_file(root, PENSION, rel, needle)


def test_schema_error_names_file_line_column_and_path(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/seniority.yaml",
        "        value: 15\n        citation:\n          document: 粤人社规〔2021〕13号\n          article: s3-2-2\n          quote: 增加额少于15元",
        "        value: [15]\n        citation:\n          document: 粤人社规〔2021〕13号\n          article: s3-2-2\n          quote: 增加额少于15元",
    )
    line = _line_of(scratch, "clauses/seniority.yaml", "value: [15]")
    (error,) = _errors(scratch)
    assert error.startswith(f"policies/{PENSION}/clauses/seniority.yaml:{line}:16: ")
    assert "parameters.seniority_minimum.values[0].value: [15] is not of type" in error


def test_unknown_key_is_an_error_with_suggestion(scratch: Path) -> None:
    _edit(scratch, "clauses/flat.yaml", "    unit: 元/月", "    unti: 元/月")
    (error,) = _errors(scratch)
    assert "unknown key 'unti' (did you mean 'unit'?)" in error
    assert f"flat.yaml:{_line_of(scratch, 'clauses/flat.yaml', 'unti:')}:5" in error


def test_duplicate_key_is_an_error(scratch: Path) -> None:
    _edit(scratch, "clauses/flat.yaml", "    unit: 元/月", "    unit: 元/月\n    unit: 元")
    (error,) = _errors(scratch)
    assert "duplicate key 'unit'" in error
    assert "flat.yaml:" in error


def test_quote_must_be_verbatim(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "quote: 基本养老金每人每月定额增加 45 元。",
        "quote: 基本养老金每人每月定额增加 50 元。",
    )
    (error,) = _errors(scratch)
    assert "citation.quote: quote does not occur verbatim in s3-1" in error


def test_quote_must_be_in_the_cited_article(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "  article: s3-1\n  quote: 基本养老金每人每月定额增加 45 元。",
        "  article: s3-2-1\n  quote: 基本养老金每人每月定额增加 45 元。",
    )
    (error,) = _errors(scratch)
    assert (
        "does not occur verbatim in s3-2-1" in error and "it occurs elsewhere in the text" in error
    )


def test_unknown_article_anchor(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "  article: s3-1\n  quote: 基本",
        "  article: s3-9\n  quote: 基本",
    )
    (error,) = _errors(scratch)
    assert "no article anchor 's3-9'" in error


def test_unknown_name_in_expression_points_at_it(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "expr: if eligible then flat_amount else 0",
        "expr: if eligible then flat_amuont else 0",
    )
    line = _line_of(scratch, "clauses/flat.yaml", "flat_amuont")
    (error,) = _errors(scratch)
    assert "unknown name 'flat_amuont' (did you mean 'flat_amount'?)" in error
    assert f"flat.yaml:{line}:28:" in error


def test_type_error_in_expression(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "expr: if eligible then flat_amount else 0",
        "expr: if eligible then flat_amount + birth_date else 0",
    )
    (error,) = _errors(scratch)
    assert "cannot compute money + date" in error


def test_enum_literal_must_exist(scratch: Path) -> None:
    _edit(scratch, "clauses/cadre-floor.yaml", "scheme == 'enterprise'", "scheme == 'enterprize'")
    (error,) = _errors(scratch)
    assert "'enterprize' is not one of enterprise, other, public_institution" in error


def test_overlapping_rows_of_a_unique_table(scratch: Path) -> None:
    _edit(scratch, "clauses/age.yaml", "{年满: 80, 不满: 90}", "{年满: 79, 不满: 90}")
    (error,) = _errors(scratch)
    assert "rows 0 and 1 overlap (hit policy unique)" in error


def test_gap_without_default_is_an_error(scratch: Path) -> None:
    _edit(scratch, "clauses/age.yaml", "      default: 0\n", "")
    (error,) = _errors(scratch)
    assert "no row covers: age_at_cutoff < 70" in error


def test_row_text_must_be_in_the_article(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/age.yaml",
        "text: 年满80周岁不满90周岁的，每人每月加发50元",
        "text: 年满80周岁不满90周岁的，每人每月加发60元",
    )
    (error,) = _errors(scratch)
    assert "row text" in error and "does not occur in the cited article s3-3-1" in error


def test_misspelt_fact_in_a_test_case(scratch: Path) -> None:
    _edit(
        scratch,
        "tests/flat.yaml",
        'facts: {monthly_pension: "0.00"}',
        'facts: {monthly_pensoin: "0.00"}',
    )
    (error,) = _errors(scratch)
    assert "unknown fact 'monthly_pensoin' (did you mean 'monthly_pension'?)" in error


def test_in_force_dates_ordered(scratch: Path) -> None:
    _edit(scratch, "policy.yaml", "  until: null", "  until: 2020-01-01")
    (error,) = _errors(scratch)
    assert "in force until 2020-01-01 is before its start 2021-01-01" in error


def test_cycle_is_reported(scratch: Path) -> None:
    _edit(
        scratch,
        "clauses/flat.yaml",
        "expr: if eligible then flat_amount else 0",
        "expr: if eligible then flat_amount else total_increase",
    )
    errors = _errors(scratch)
    assert any("circular definition" in e for e in errors)


def test_output_must_be_computed(scratch: Path) -> None:
    _edit(scratch, "policy.yaml", "  flat_increase:\n", "  flat_increse:\n")
    (error,) = _errors(scratch)
    assert "output 'flat_increse' is computed by no clause (did you mean 'flat_increase'?)" in error


def test_all_problems_are_listed(scratch: Path) -> None:
    _edit(scratch, "clauses/flat.yaml", "    unit: 元/月", "    unti: 元/月")
    _edit(
        scratch, "clauses/age.yaml", "hit_policy: unique", "hit_policy: unique\n      hitpolicy: x"
    )
    assert len(_errors(scratch)) == 2


def test_all_semantic_problems_are_listed(scratch: Path) -> None:
    _edit(scratch, "clauses/flat.yaml", "then flat_amount", "then flat_amuont")
    _edit(scratch, "clauses/age.yaml", "{年满: 80, 不满: 90}", "{年满: 79, 不满: 90}")
    assert len(_errors(scratch)) == 2


def test_invalid_yaml_syntax(scratch: Path) -> None:
    _edit(scratch, "clauses/flat.yaml", "title:\n", "title: [\n")
    (error,) = _errors(scratch)
    assert "invalid YAML" in error and "flat.yaml:" in error


def test_coverage_manifest_anchor_must_exist(scratch: Path) -> None:
    _edit(scratch, "coverage.yaml", "anchor: s5-4", "anchor: s5-9")
    (error,) = _errors(scratch)
    assert "no anchor 's5-9' in source.md" in error


def test_encoded_and_not_computable_is_a_contradiction(scratch: Path) -> None:
    _edit(scratch, "coverage.yaml", "anchor: s5-4", "anchor: s3-1")
    (error,) = _errors(scratch)
    assert "s3-1 is declared not computable but cited by flat" in error


def test_validation_cache_never_hides_a_problem(scratch: Path, tmp_path: Path, monkeypatch) -> None:
    """A valid file is remembered by its text; any edit is validated afresh."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("POLICY_CACHE_DIR", str(cache))
    Repository(scratch).policy(PENSION)
    assert len(list((cache / "valid").iterdir())) > 0
    _edit(scratch, "clauses/flat.yaml", "    unit: 元/月", "    unti: 元/月")
    (error,) = _errors(scratch)
    assert "unknown key 'unti'" in error
    assert "unknown key 'unti'" in _errors(scratch)[0]  # and again: errors are never cached


def test_validation_cache_can_be_turned_off(scratch: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("POLICY_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    Repository(scratch).policy(PENSION)
    assert not (tmp_path / "xdg").exists()
