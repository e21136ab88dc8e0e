"""One expression, parsed and type-checked where it is written: errors point at the
character (line:column inside the YAML), and an enum result must be one of its values."""

from __future__ import annotations

from ...language.errors import Location, PolicyFileError, did_you_mean
from ...language.expressions import ExpressionError, If, Literal, Node, parse
from ...language.typecheck import check
from ...language.values import Kind, Type
from ..loader import Document, value_at
from .context import LoadContext


def typed_expression(
    ctx: LoadContext, doc: Document, path: tuple, source: str
) -> tuple[Node, Type] | None:
    try:
        node = parse(source)
        return node, check(node, ctx.types, ctx.convention)
    except ExpressionError as exc:
        ctx.errors.append(
            PolicyFileError(
                f"{exc.message} (at {_caret(source, exc.pos)})",
                _expr_location(doc, path, exc.pos),
            )
        )
        return None


def enum_results(ctx: LoadContext, doc: Document, path: tuple, node: Node, t: Type) -> bool:
    """``expr: "'place_of_treatmnet'"`` must fail at load, not at the first comparison."""
    if t.kind != Kind.ENUM or not t.values:
        return True
    for literal in _result_literals(node):
        if isinstance(literal.value, str) and literal.value not in t.values:
            hint = did_you_mean(literal.value, t.values)
            allowed = ", ".join(sorted(t.values))
            ctx.errors.append(
                PolicyFileError(
                    f"{literal.value!r} is not one of {allowed}{hint}",
                    _expr_location(doc, path, literal.pos),
                )
            )
            return False
    return True


def _result_literals(node: Node) -> list[Literal]:
    """The literals an expression can return as its value (through if/then/else)."""
    if isinstance(node, Literal):
        return [node]
    if isinstance(node, If):
        return _result_literals(node.then) + _result_literals(node.otherwise)
    return []


def _caret(source: str, pos: int) -> str:
    """``max(x, 15) + fo`` at 13 -> "...+ fo" with the offending place shown."""
    snippet = source[max(0, pos - 15) : pos + 15].replace("\n", " ")
    return f"character {pos + 1}: {snippet!r}"


def _expr_location(doc: Document, path: tuple, pos: int) -> Location:
    """The line:column of character ``pos`` of an expression written at ``path``."""
    loc = doc.at(path)
    if not loc.line:
        return loc
    expression = value_at(doc.data, path)
    before = str(expression)[:pos]
    if "\n" not in before and "\n" not in str(expression):
        return Location(loc.file, loc.line, loc.column + pos, loc.path)
    return Location(loc.file, loc.line + 1 + before.count("\n"), loc.column, loc.path)
