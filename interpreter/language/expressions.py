"""The rule language: a small, safe expression syntax parsed into a plain tree.

No Python ``eval``/``exec``, no attribute access, no imports: the only things an
expression can do are arithmetic, comparisons (including the legal threshold words
以上/以下/不满/超过...), boolean logic, if/then/else, list membership and calls of the
documented functions in ``functions.py``. The tree is plain frozen data so it can be
type-checked, compiled (to closures, and to one generated function for untraced runs),
rendered for the docs and compared for diffs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

from .conventions import CIVIL_CODE_1259

# Threshold words that may stand between two operands: ``fine 以上 5000``. Their bound
# (inclusive or not) depends on the document's boundary convention: see conventions.py.
LEGAL_WORDS = tuple(sorted(CIVIL_CODE_1259, key=len, reverse=True))  # longest first
KEYWORDS = {"and", "or", "not", "if", "then", "else", "in", "true", "false", "null"}
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?%?)
  | (?P<string>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<legal>"""
    + "|".join(LEGAL_WORDS)
    + r""")
  | (?P<op>==|!=|<=|>=|[-+*/(),<>\[\]])
    """,
    re.VERBOSE,
)


class ExpressionError(Exception):
    """A syntax error in an expression, at a character offset (0-based)."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Literal:
    value: Decimal | bool | str | None
    text: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / == != < <= > >= and or in "not in"
    left: Node
    right: Node
    pos: int = 0
    word: str | None = None  # the legal word it was written with (以上...), for rendering


@dataclass(frozen=True, slots=True)
class If:
    cond: Node
    then: Node
    otherwise: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Node, ...]
    pos: int = 0


Node = Union[Literal, Name, Unary, Binary, If, Call, ListLit]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise ExpressionError(f"unexpected character {source[pos]!r}", pos)
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "ws":
            if kind == "name" and text in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


MAX_NESTING = 32
"""Parentheses, brackets and calls nested in one another: each costs the parser about
ten Python frames, so an expression nested much deeper cannot be read."""

MAX_DEPTH = 300
"""Levels of one expression's tree (else-if chains, operators, signs): every engine walks
the tree recursively, one or two Python frames per level."""

MAX_DIGITS = 15
MAX_DECIMALS = 12
"""A number literal is exact within the limits of a fact: at most 15 digits before the
point and 12 after (Decimal's 28-digit context, the columnar engine's int64)."""


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0
        self.nesting = 0  # parentheses, brackets and calls open
        self.depth = 0  # else-ifs, signs and brackets open

    def enter(self, token: Token, bracket: bool = False) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} deep", token.pos)
        if bracket:
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise ExpressionError(
                    f"more than {MAX_NESTING} parentheses or brackets nested", token.pos
                )

    def leave(self, bracket: bool = False) -> None:
        self.depth -= 1
        if bracket:
            self.nesting -= 1

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, text: str) -> Token | None:
        token = self.peek()
        if token.text == text and token.kind in ("op", "keyword"):
            self.i += 1
            return token
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            found = self.peek()
            shown = repr(found.text) if found.text else "end of expression"
            raise ExpressionError(f"expected {text!r}, found {shown}", found.pos)
        return token

    def parse(self) -> Node:
        node = self.expression()
        end = self.peek()
        if end.kind != "end":
            raise ExpressionError(f"unexpected {end.text!r}", end.pos)
        return node

    def expression(self) -> Node:
        start = self.accept("if")
        if start:
            self.enter(start)
            cond = self.expression()
            self.expect("then")
            then = self.expression()
            self.expect("else")
            node = If(cond, then, self.expression(), start.pos)
            self.leave()
            return node
        return self.disjunction()

    def disjunction(self) -> Node:
        node = self.conjunction()
        while token := self.accept("or"):
            node = Binary("or", node, self.conjunction(), token.pos)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while token := self.accept("and"):
            node = Binary("and", node, self.negation(), token.pos)
        return node

    def negation(self) -> Node:
        token = self.accept("not")
        if token:
            self.enter(token)
            node = Unary("not", self.negation(), token.pos)
            self.leave()
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self.take()
            return Binary(token.text, left, self.additive(), token.pos)
        if token.kind == "legal":
            self.take()
            return Binary(token.text, left, self.additive(), token.pos, word=token.text)
        if token.kind == "keyword" and token.text == "in":
            self.take()
            return Binary("in", left, self.additive(), token.pos)
        if token.kind == "keyword" and token.text == "not":
            after = self.tokens[self.i + 1]
            if after.text == "in":
                self.i += 2
                return Binary("not in", left, self.additive(), token.pos)
        return left

    def additive(self) -> Node:
        node = self.term()
        while (token := self.peek()).kind == "op" and token.text in "+-":
            self.take()
            node = Binary(token.text, node, self.term(), token.pos)
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()).kind == "op" and token.text in "*/":
            self.take()
            node = Binary(token.text, node, self.unary(), token.pos)
        return node

    def unary(self) -> Node:
        token = self.accept("-")
        if token:
            self.enter(token)
            node = Unary("-", self.unary(), token.pos)
            self.leave()
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(_bounded(token), token.text, token.pos)
        if token.kind == "string":
            return Literal(token.text[1:-1], token.text, token.pos)
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[token.text]
            return Literal(value, token.text, token.pos)
        if token.kind == "name":
            if self.accept("("):
                self.enter(token, bracket=True)
                args: list[Node] = []
                if not self.accept(")"):
                    args.append(self.expression())
                    while self.accept(","):
                        args.append(self.expression())
                    self.expect(")")
                self.leave(bracket=True)
                return Call(token.text, tuple(args), token.pos)
            return Name(token.text, token.pos)
        if token.text == "(" and token.kind == "op":
            self.enter(token, bracket=True)
            node = self.expression()
            self.expect(")")
            self.leave(bracket=True)
            return node
        if token.text == "[" and token.kind == "op":
            self.enter(token, bracket=True)
            items: list[Node] = []
            if not self.accept("]"):
                items.append(self.expression())
                while self.accept(","):
                    items.append(self.expression())
                self.expect("]")
            self.leave(bracket=True)
            return ListLit(tuple(items), token.pos)
        shown = repr(token.text) if token.text else "end of expression"
        raise ExpressionError(f"expected a value, found {shown}", token.pos)


def _bounded(token: Token) -> Decimal:
    """A number literal within the exact range, else ExpressionError at it."""
    value = number_literal(token.text)
    digits = token.text.rstrip("%").replace(".", " ").split()
    whole = digits[0].lstrip("0") if digits else ""
    places = len(digits[1]) if len(digits) > 1 else 0
    if len(whole) > MAX_DIGITS:
        raise ExpressionError(
            f"number too large: at most {MAX_DIGITS} digits before the point", token.pos
        )
    if places > MAX_DECIMALS:
        raise ExpressionError(f"number with more than {MAX_DECIMALS} decimal places", token.pos)
    return value


def number_literal(text: str) -> Decimal:
    """``1.8%`` -> Decimal('0.018'); ``45`` -> Decimal('45'). Exact, never float."""
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    return Decimal(text)


def parse(source: str) -> Node:
    """Parse one expression; raise ExpressionError with the character offset."""
    if not source.strip():
        raise ExpressionError("empty expression", 0)
    node = _Parser(source).parse()
    _check_depth(node)
    return node


def _check_depth(root: Node) -> None:
    """ExpressionError where the tree is deeper than MAX_DEPTH (a long chain of
    operators nests without recursing in the parser); walked without recursion."""
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} deep", getattr(node, "pos", 0))
        pending += [(child, depth + 1) for child in children(node)]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, If):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, Call | ListLit):
        return node.args if isinstance(node, Call) else node.items
    return ()


def names(node: Node) -> list[Name]:
    """Every name the expression reads, in order of appearance."""
    if isinstance(node, Name):
        return [node]
    out: list[Name] = []
    for child in children(node):
        out.extend(names(child))
    return out


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def _level(node: Node) -> int:
    if isinstance(node, If):
        return 0
    if isinstance(node, Binary):
        return _PRECEDENCE.get(node.op, 4)
    if isinstance(node, Unary):
        return 3 if node.op == "not" else 7
    return 9


def to_source(node: Node) -> str:
    """Print a tree back as canonical source; parse(to_source(t)) == t up to positions."""
    if isinstance(node, Literal):
        return node.text
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_source(a) for a in node.args)})"
    if isinstance(node, ListLit):
        return f"[{', '.join(to_source(a) for a in node.items)}]"
    if isinstance(node, If):
        return (
            f"if {to_source(node.cond)} then {to_source(node.then)} "
            f"else {to_source(node.otherwise)}"
        )
    if isinstance(node, Unary):
        inner = _wrap(node.operand, _level(node) if node.op == "-" else _level(node) - 1)
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    level = _level(node)
    left = _wrap(node.left, level if level == _PRECEDENCE["cmp"] else level - 1)
    right = _wrap(node.right, level)
    return f"{left} {node.op} {right}"


def _wrap(node: Node, above: int) -> str:
    text = to_source(node)
    return f"({text})" if _level(node) <= above else text
