"""The core language: the one tree every engine reads.

The surface language (``expressions``) is what an encoder writes and a lawyer reads: legal
threshold words, ``round(x)`` with defaults, ``given(x)``, tables of cells in the
document's words. ``lower`` turns it, once, into this smaller tree, in the manner of
Catala's desugared → default-calculus stages and CPython's ``ast.NodeTransformer``:

- threshold words are comparisons already (the document's convention applied; the word
  stays on the node for rendering and diffs);
- rounding is explicit (places and mode always written), and a money result is either
  provably whole fen or wrapped in ``WholeFen``, whose failure names the clause;
- an optional value read where it is needed is a ``Required`` node, and ``given`` is a
  ``Given`` node;
- a decision table is explicit interval and set tests, in row order, with its hit policy;
- every node carries its type and its origin (clause, article, position).

Engines (closures with trace, generated Python, numpy columns, SQL) dispatch on these
classes with ``match`` and end with ``assert_never``, so a new node kind fails loudly
in every engine that does not handle it, and the type checker finds it first.

Nodes are frozen ``msgspec`` structs rather than dataclasses: the same immutable value
semantics (equality, hashing, ``match`` by field), defined in microseconds instead of the
~18 ms twenty dataclasses cost every cold start of ``policy eval``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TypeAlias

from msgspec import Struct

from .values import Type

Scalar: TypeAlias = Decimal | bool | str | dt.date | None
Bound: TypeAlias = Decimal | dt.date


class Origin(Struct, frozen=True):
    """Where a node comes from: the clause that defines the value, the article it cites,
    and the character offset in the written expression (-1 inside a table's cells)."""

    clause: str
    article: str
    pos: int = 0


class Const(Struct, frozen=True):
    value: Scalar | frozenset[Scalar]  # a set only for a list written outside ``in``
    type: Type
    at: Origin


class Read(Struct, frozen=True):
    """A fact, parameter or computed value that is never absent."""

    name: str
    type: Type
    at: Origin


class Required(Struct, frozen=True):
    """An optional value read where the rule needs it: absent is an error naming it."""

    name: str
    type: Type
    at: Origin


class Given(Struct, frozen=True):
    """Whether an optional value is present (the surface ``given(x)``)."""

    name: str
    type: Type
    at: Origin


class Neg(Struct, frozen=True):
    operand: Expr
    type: Type
    at: Origin


class Not(Struct, frozen=True):
    operand: Expr
    type: Type
    at: Origin


ARITHMETIC = ("+", "-", "*", "/")
ORDERINGS = ("==", "!=", "<", "<=", ">", ">=")


class Arith(Struct, frozen=True):
    """``+ - * /``; division by zero is an evaluation error, never infinity."""

    op: str
    left: Expr
    right: Expr
    type: Type
    at: Origin


class Compare(Struct, frozen=True):
    """A comparison. ``word`` is the threshold word it was written with (以上...), already
    read by the document's convention into ``op``; None for ``<``, ``==`` and the like."""

    op: str
    left: Expr
    right: Expr
    type: Type
    at: Origin
    word: str | None = None


class And(Struct, frozen=True):
    """Short-circuit: the right side is evaluated only when the left holds."""

    left: Expr
    right: Expr
    type: Type
    at: Origin


class Or(Struct, frozen=True):
    """Short-circuit: the right side is evaluated only when the left does not hold."""

    left: Expr
    right: Expr
    type: Type
    at: Origin


class Member(Struct, frozen=True):
    """``x in [...]`` (or ``not in`` when ``negated``) over values written in the rule."""

    operand: Expr
    values: frozenset[Scalar]
    negated: bool
    type: Type
    at: Origin


class IfExp(Struct, frozen=True):
    """Only the branch taken is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type
    at: Origin


class Round(Struct, frozen=True):
    """Rounding, always explicit: ``places`` decimals, ``mode`` a key of ``ROUNDING``."""

    operand: Expr
    places: int
    mode: str
    type: Type
    at: Origin


class Call(Struct, frozen=True):
    """A function of the registry (``functions.FUNCTIONS``) other than round and given."""

    func: str
    args: tuple[Expr, ...]
    type: Type
    at: Origin


class WholeFen(Struct, frozen=True):
    """A money result that the rule does not round: it must come out in whole fen, or the
    evaluation fails naming the clause that must say how it rounds."""

    operand: Expr
    type: Type
    at: Origin


class IntervalTest(Struct, frozen=True):
    """``lo <(=) value <(=) hi``; an absent end is unbounded."""

    column: str
    lo: Bound | None
    lo_closed: bool
    hi: Bound | None
    hi_closed: bool


class SetTest(Struct, frozen=True):
    column: str
    values: frozenset[Scalar]


Test: TypeAlias = IntervalTest | SetTest


class TableRow(Struct, frozen=True):
    """A row: every test must hold (a column a row does not mention has no test)."""

    index: int
    tests: tuple[Test, ...]
    then: Expr


class Table(Struct, frozen=True):
    """A decision table. Every column is read first (an absent column is an error naming
    it); then the rows are tried in order and the first that holds gives the value (a
    ``unique`` table was checked at load for overlapping rows, so first and unique
    agree); ``default`` when no row holds, else an error naming the inputs."""

    name: str
    columns: tuple[Read | Required, ...]  # each column's read, in the table's order
    rows: tuple[TableRow, ...]
    default: Expr | None
    hit_policy: str
    type: Type
    at: Origin


Expr: TypeAlias = (
    Const
    | Read
    | Required
    | Given
    | Neg
    | Not
    | Arith
    | Compare
    | And
    | Or
    | Member
    | IfExp
    | Round
    | Call
    | WholeFen
    | Table
)


class Definition(Struct, frozen=True):
    """One computed value: its name, type, origin and lowered body."""

    name: str
    type: Type
    at: Origin
    body: Expr


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of a node, in evaluation order (a table: columns, rows, default)."""
    match node:
        case Const() | Read() | Required() | Given():
            return ()
        case Neg(operand=x) | Not(operand=x) | Round(operand=x) | WholeFen(operand=x):
            return (x,)
        case Member(operand=x):
            return (x,)
        case Arith(left=a, right=b) | Compare(left=a, right=b) | And(left=a, right=b):
            return (a, b)
        case Or(left=a, right=b):
            return (a, b)
        case IfExp(cond=c, then=t, otherwise=o):
            return (c, t, o)
        case Call(args=args):
            return args
        case Table(columns=columns, rows=rows, default=default):
            thens = tuple(row.then for row in rows)
            return (*columns, *thens, *((default,) if default is not None else ()))
    raise TypeError(f"not a core node: {type(node).__name__}")


def reads(node: Expr) -> list[str]:
    """Every name the node may read (Read, Required, Given), in order, with repeats."""
    found: list[str] = []

    def walk(n: Expr) -> None:
        if isinstance(n, Read | Required | Given):
            found.append(n.name)
        for child in children(n):
            walk(child)

    walk(node)
    return found


def strict_reads(node: Expr) -> list[str]:
    """Names every evaluation of ``node`` reads: a name read only in one branch of an
    ``IfExp``, on the right of ``And``/``Or``, or in a table's results, is not strict."""
    match node:
        case Read(name=name) | Required(name=name) | Given(name=name):
            return [name]
        case IfExp(cond=cond):
            return strict_reads(cond)
        case And(left=left) | Or(left=left):
            return strict_reads(left)
        case Table(columns=columns):
            return [n for c in columns for n in strict_reads(c)]
        case _:
            return [n for child in children(node) for n in strict_reads(child)]
