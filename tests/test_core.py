"""The core language: what lowering makes explicit, and that every engine reads only it."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from interpreter import Repository
from interpreter.language import core
from interpreter.language.conventions import CIVIL_CODE_1259, Bound, Convention
from interpreter.language.errors import EvaluationError
from interpreter.language.expressions import parse
from interpreter.language.lower import define, lower_expression
from interpreter.language.values import Type, declared
from interpreter.policy.lowering import lower_policy
from interpreter.runtime import closures, codegen

from .conftest import PENSION, POLICIES, WORKED_EXAMPLE, edit_policy_file

ORIGIN = core.Origin("c", "a1")
TYPES = {
    "fine": declared("money"),
    "age": declared("integer"),
    "rate": declared("number"),
    "flag": declared("boolean"),
    "maybe": declared("money", nullable=True),
}
CIVIL = Convention("civil-code-1259", dict(CIVIL_CODE_1259))
# 粤交〔2021〕5号 第二十二条: 以下 excludes the number.
TRANSPORT = Convention("civil-code-1259", {**CIVIL_CODE_1259, "以下": Bound("max", False)})


def lower(text: str, convention: Convention = CIVIL) -> core.Expr:
    return lower_expression(parse(text), TYPES, convention, ORIGIN)


@pytest.mark.parametrize(
    ("text", "civil", "transport"),
    [
        ("fine 以上 5000", ">=", ">="),
        ("fine 以下 5000", "<=", "<"),
        ("fine 超过 5000", ">", ">"),
        ("age 不满 80", "<", "<"),
        ("age 年满 70", ">=", ">="),
    ],
)
def test_threshold_words_are_comparisons_read_by_the_documents_convention(
    text: str, civil: str, transport: str
) -> None:
    for convention, op in ((CIVIL, civil), (TRANSPORT, transport)):
        node = lower(text, convention)
        assert isinstance(node, core.Compare)
        assert node.op == op
        assert node.word == text.split()[1]  # the word stays for rendering and diffs


def test_round_is_explicit_with_the_default_of_the_rules() -> None:
    node = lower("round(fine * rate)")
    assert isinstance(node, core.Round)
    assert (node.places, node.mode, node.type) == (2, "half_up", Type("money"))
    assert isinstance(node.operand, core.Arith)
    node = lower("round(fine * rate, 0, 'down')")
    assert isinstance(node, core.Round)
    assert (node.places, node.mode) == (0, "down")


def test_given_optional_reads_and_dates_are_explicit_nodes() -> None:
    node = lower("if given(maybe) then maybe else 0")
    assert isinstance(node, core.IfExp)
    assert isinstance(node.cond, core.Given)
    assert isinstance(node.then, core.Required)  # absent is an error naming it
    assert isinstance(lower("fine + 1"), core.Arith)
    assert isinstance(lower("fine + 1").left, core.Read)  # type: ignore[union-attr]
    date = lower("date('2021-01-01')")
    assert isinstance(date, core.Const)
    assert str(date.value) == "2021-01-01"


@pytest.mark.parametrize(
    ("text", "checked"),
    [
        ("round(fine * rate)", False),
        ("round(fine * rate, 3)", True),
        ("fine * rate", True),
        ("fine * 2", False),
        ("fine * age", False),
        ("fine / 2", True),
        ("max(fine - 15, 0)", False),
        ("ceil(rate) * fine", False),
        ("if flag then fine * rate else 0", True),
        ("if flag then fine else 0.5", False),  # 50 fen
        ("if flag then fine else 0.005", True),  # half a fen
        ("if given(maybe) then maybe else 15", False),
    ],
)
def test_a_money_result_is_checked_for_whole_fen_unless_provably_whole(
    text: str, checked: bool
) -> None:
    definition = define("x", Type("money"), lower(text), ORIGIN)
    assert isinstance(definition.body, core.WholeFen) == checked


def test_membership_is_a_set_of_written_values() -> None:
    node = lower("age not in [1, 2]")
    assert isinstance(node, core.Member)
    assert node.negated
    assert node.values == frozenset({Decimal(1), Decimal(2)})


@pytest.fixture(scope="module")
def repo() -> Repository:
    return Repository(POLICIES)


@pytest.mark.parametrize("policy_id", Repository(POLICIES).ids())
def test_every_computation_lowers_with_its_type_origin_and_whole_fen_check(
    repo: Repository, policy_id: str
) -> None:
    policy = repo.policy(policy_id)
    definitions = lower_policy(policy)
    assert set(definitions) == set(policy.computations)
    for name, definition in definitions.items():
        comp = policy.computations[name]
        assert definition.type == comp.type
        assert definition.at.clause == comp.clause
        assert definition.at.article == comp.citation.article
        # the core reads exactly the names the computation depends on
        assert list(dict.fromkeys(core.reads(definition.body))) == list(comp.deps)
        for node in _walk(definition.body):
            assert node.at.clause == comp.clause
            if isinstance(node, core.Compare) and node.word is not None:
                bound = policy.convention.bound(node.word)
                assert bound is not None and bound.operator == node.op


def _walk(node: core.Expr) -> list[core.Expr]:
    return [node, *(n for child in core.children(node) for n in _walk(child))]


def test_every_node_kind_is_used_by_some_policy(repo: Repository) -> None:
    """Each kind of the core language is exercised by an encoded rule, so the engines'
    differential tests over every policy reach it (Neg is the one the gazette never needs)."""
    used = {
        type(node)
        for policy_id in repo.ids()
        for definition in lower_policy(repo.policy(policy_id)).values()
        for node in _walk(definition.body)
    }
    kinds = set(typing.get_args(core.Expr))
    # Every encoded money rule rounds, so WholeFen never fires on them: the test below
    # breaks a rule on purpose to reach it.
    assert kinds - used <= {core.Neg, core.WholeFen}, sorted(k.__name__ for k in kinds - used)


def test_a_money_rule_that_does_not_round_fails_naming_its_clause(scratch: Path) -> None:
    """1.8% of 3000.01 is 54.00018: not whole fen, and the rule no longer rounds it."""
    edit_policy_file(
        scratch,
        PENSION,
        "clauses/proportional.yaml",
        "round(monthly_pension * proportional_rate, 2, 'half_up')",
        "monthly_pension * proportional_rate",
    )
    policy = Repository(scratch).policy(PENSION)
    definition = lower_policy(policy)["proportional_increase"]
    assert isinstance(definition.body, core.WholeFen)
    facts = {**WORKED_EXAMPLE, "monthly_pension": "3000.01"}
    for trace in (True, False):
        with pytest.raises(EvaluationError) as info:
            Repository(scratch).evaluate(PENSION, facts, "2021-01-01", trace=trace)
        assert str(info.value) == (
            "clause proportional, proportional_increase: 54.00018 is not a whole number of "
            "fen; the clause must say how it rounds"
        )


@dataclass(frozen=True)
class _Unknown:
    """A node kind no engine knows."""

    at: core.Origin = ORIGIN


def test_an_unknown_node_kind_fails_loudly_in_every_engine() -> None:
    node: typing.Any = _Unknown()
    with pytest.raises(AssertionError):
        closures.compile_expression(node)
    with pytest.raises(AssertionError):
        codegen._Emitter({}).expr(node)
    with pytest.raises(TypeError):
        core.children(node)
