"""Lower the checked surface tree to the core tree (``core``), once, at load time.

Every choice the surface leaves implicit is made here and only here: the document's
convention reads each threshold word into a comparison; ``round`` gets its places (2) and
mode (half-up) when the rule leaves them out; ``date('…')`` becomes a constant; an
optional value read where it is needed becomes ``Required``; a money result that is not
provably whole fen is wrapped in ``WholeFen``; table cells become interval and set tests.
The engines then have one meaning to implement, not one each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from . import core
from .conventions import Convention
from .expressions import Binary, Call, ExpressionError, If, ListLit, Literal, Name, Node, Unary
from .functions import keeps_whole_fen
from .tables import Cell
from .typecheck import Checker
from .values import BOOLEAN, DATE, FEN, Kind, Type, iso_date

DEFAULT_PLACES = 2  # round(x) rounds to the fen …
DEFAULT_MODE = "half_up"  # … half-up, unless the rule names another mode


class _Lowering:
    def __init__(
        self, types: Mapping[str, Type], convention: Convention, origin: core.Origin
    ) -> None:
        self.types = types
        self.convention = convention
        self.checker = Checker(types, convention)
        self.clause, self.article = origin.clause, origin.article

    def at(self, node: Node | None) -> core.Origin:
        return core.Origin(self.clause, self.article, -1 if node is None else node.pos)

    def expr(self, node: Node) -> core.Expr:
        t = self.checker.infer(node)
        at = self.at(node)
        match node:
            case Literal(value=value):
                return core.Const(value, t, at)
            case Name(name=name):
                declared = self.types[name]
                if declared.nullable:
                    return core.Required(name, t, at)
                return core.Read(name, t, at)
            case Unary(op="not", operand=operand):
                return core.Not(self.expr(operand), t, at)
            case Unary(operand=operand):
                return core.Neg(self.expr(operand), t, at)
            case If(cond=cond, then=then, otherwise=otherwise):
                return core.IfExp(self.expr(cond), self.expr(then), self.expr(otherwise), t, at)
            case ListLit(items=items):
                return core.Const(frozenset(_literal(i) for i in items), t, at)
            case Call():
                return self.call(node, t, at)
            case Binary():
                return self.binary(node, t, at)
        raise ExpressionError(f"cannot lower {type(node).__name__}", node.pos)

    def call(self, node: Call, t: Type, at: core.Origin) -> core.Expr:
        args = node.args
        if node.func == "given":
            (arg,) = args
            if not isinstance(arg, Name):  # the typechecker refused it already
                raise ExpressionError("given() expects a name", node.pos)
            return core.Given(arg.name, BOOLEAN, at)
        if node.func == "round":
            places = _whole_number(args[1]) if len(args) > 1 else DEFAULT_PLACES
            mode = str(_literal(args[2])) if len(args) > 2 else DEFAULT_MODE
            return core.Round(self.expr(args[0]), places, mode, t, at)
        if node.func == "date":
            return core.Const(iso_date(str(_literal(args[0]))), DATE, at)
        return core.Call(node.func, tuple(self.expr(a) for a in args), t, at)

    def binary(self, node: Binary, t: Type, at: core.Origin) -> core.Expr:
        op = node.op
        if op in ("and", "or"):
            left, right = self.expr(node.left), self.expr(node.right)
            return core.And(left, right, t, at) if op == "and" else core.Or(left, right, t, at)
        if op in ("in", "not in"):
            if not isinstance(node.right, ListLit):
                raise ExpressionError(f"'{op}' needs a list written in the rule", node.right.pos)
            values = frozenset(_literal(i) for i in node.right.items)
            return core.Member(self.expr(node.left), values, op == "not in", t, at)
        if node.word is not None:
            bound = self.convention.bound(node.word)
            if bound is None:  # the typechecker refused it already
                raise ExpressionError(f"{node.word!r} is not a threshold word", node.pos)
            left, right = self.expr(node.left), self.expr(node.right)
            return core.Compare(bound.operator, left, right, t, at, node.word)
        left, right = self.expr(node.left), self.expr(node.right)
        if op in core.ORDERINGS:
            return core.Compare(op, left, right, t, at)
        return core.Arith(op, left, right, t, at)


def _whole_number(node: Node) -> int:
    value = _literal(node)
    if not isinstance(value, Decimal) or value != value.to_integral_value():
        raise ExpressionError("expected a whole number written in the rule", node.pos)
    return int(value)


def _literal(node: Node) -> core.Scalar:
    if not isinstance(node, Literal):  # the typechecker refused it already
        raise ExpressionError("expected a value written in the rule", node.pos)
    return node.value


def lower_expression(
    node: Node, types: Mapping[str, Type], convention: Convention, origin: core.Origin
) -> core.Expr:
    """The core tree of one checked surface expression."""
    return _Lowering(types, convention, origin).expr(node)


def lower_table(
    name: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Mapping[str, Cell], Node]],
    default: Node | None,
    hit_policy: str,
    result: Type,
    types: Mapping[str, Type],
    convention: Convention,
    origin: core.Origin,
) -> core.Table:
    """A decision table's rows as explicit tests, in row order (cells as finally read,
    the transport measure's top band included)."""
    lowering = _Lowering(types, convention, origin)
    at = core.Origin(origin.clause, origin.article, -1)
    reads = tuple(
        (core.Required if types[c].nullable else core.Read)(c, types[c].strict(), at)
        for c in columns
    )
    lowered_rows = tuple(
        core.TableRow(
            i,
            tuple(test for c in columns if (test := _test(c, cells[c])) is not None),
            lowering.expr(then),
        )
        for i, (cells, then) in enumerate(rows)
    )
    fallback = lowering.expr(default) if default is not None else None
    return core.Table(name, reads, lowered_rows, fallback, hit_policy, result, at)


def _test(column: str, cell: Cell) -> core.Test | None:
    if cell.interval is not None:
        iv = cell.interval
        return core.IntervalTest(column, iv.lo, iv.lo_closed, iv.hi, iv.hi_closed)
    if cell.values is not None:
        return core.SetTest(column, frozenset(cell.values))
    return None


def define(name: str, result: Type, body: core.Expr, origin: core.Origin) -> core.Definition:
    """A computed value's definition: money that is not provably whole fen is checked."""
    if result.kind == Kind.MONEY and not whole_fen(body):
        body = core.WholeFen(body, result, body.at)
    return core.Definition(name, result, origin, body)


def whole_fen(node: core.Expr) -> bool:
    """Is the value surely a whole number of fen when every money input is?

    Money inputs are checked to be whole fen (facts, parameters, computed values), so only
    a product with a non-integer, a division or a function that does not keep whole fen
    (the registry says which do) can leave a fraction of a fen; ``WholeFen`` checks those
    results at run time and the others go unchecked.
    """
    match node:
        case core.Const(value=value):
            return not isinstance(value, Decimal) or value == value.quantize(FEN)
        case core.Read(type=t) | core.Required(type=t):
            return t.kind in (Kind.MONEY, Kind.INTEGER)
        case core.IfExp(then=then, otherwise=otherwise):
            return whole_fen(then) and whole_fen(otherwise)
        case core.Neg(operand=operand) | core.Not(operand=operand):
            return whole_fen(operand)
        case core.Round(places=places):
            return keeps_whole_fen("round", True, places)
        case core.Call(func=func, args=args):
            return keeps_whole_fen(func, all(whole_fen(a) for a in args))
        case core.Arith(op="+" | "-", left=left, right=right):
            return whole_fen(left) and whole_fen(right)
        case core.Arith(op="*", left=left, right=right):
            return (_integral(left) and whole_fen(right)) or (_integral(right) and whole_fen(left))
        case core.Table(rows=rows, default=default):
            results = [row.then for row in rows] + ([default] if default is not None else [])
            return all(whole_fen(r) for r in results)
        case core.WholeFen():
            return True
        case _:
            return False  # a quotient, a comparison, a presence test


def _integral(node: core.Expr) -> bool:
    """Is the value surely a whole number (a factor that keeps fen whole)?"""
    match node:
        case core.Const(value=value):
            return isinstance(value, Decimal) and value == value.to_integral_value()
        case core.Read(type=t) | core.Required(type=t):
            return t.kind == Kind.INTEGER
        case core.Call(func=func):
            return func in ("ceil", "floor")
        case _:
            return False
