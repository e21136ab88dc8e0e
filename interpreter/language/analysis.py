"""Facts about a checked expression that hold for every case, read at load time (no I/O,
no evaluation): whether a result is surely whole fen, which comparison a legal word
stands for under the document's convention."""

from __future__ import annotations

from decimal import Decimal

from .conventions import Convention
from .expressions import Binary, Call, If, Literal, Name, Node, Unary

FEN = Decimal("0.01")


def whole_fen(node: Node, types: dict) -> bool:
    """Is the value surely a whole number of fen when every money input is?

    Money inputs are checked to be whole fen (facts, parameters, computed values), so only
    a product with a non-integer, a division or an unrounded function can leave a fraction
    of a fen; the engine checks those results at run time and skips the others.
    """
    if isinstance(node, Literal):
        return not isinstance(node.value, Decimal) or node.value == node.value.quantize(FEN)
    if isinstance(node, Name):
        t = types.get(node.name)
        return t is not None and t.kind in ("money", "integer")
    if isinstance(node, If):
        return whole_fen(node.then, types) and whole_fen(node.otherwise, types)
    if isinstance(node, Unary):
        return whole_fen(node.operand, types)
    if isinstance(node, Call):
        if node.func in ("ceil", "floor"):
            return True
        if node.func == "round":
            places = node.args[1] if len(node.args) > 1 else None
            return places is None or (isinstance(places, Literal) and places.value <= 2)
        return node.func in ("min", "max", "abs") and all(whole_fen(a, types) for a in node.args)
    if isinstance(node, Binary):
        if node.op in ("+", "-"):
            return whole_fen(node.left, types) and whole_fen(node.right, types)
        if node.op == "*":
            return (_integral(node.left, types) and whole_fen(node.right, types)) or (
                _integral(node.right, types) and whole_fen(node.left, types)
            )
    return False


def _integral(node: Node, types: dict) -> bool:
    if isinstance(node, Literal):
        return isinstance(node.value, Decimal) and node.value == node.value.to_integral_value()
    if isinstance(node, Name):
        t = types.get(node.name)
        return t is not None and t.kind == "integer"
    return isinstance(node, Call) and node.func in ("ceil", "floor")


def operator_of(node: Binary, convention: Convention) -> str:
    """The comparison a node stands for, with legal words read by the document's convention."""
    if node.word is None:
        return node.op
    bound = convention.bound(node.word)
    assert bound is not None  # the typechecker refused unknown words
    return bound.operator
