"""Decision tables: columns that exist, cells read by the document's convention, results of
the declared type, no overlaps under hit policy unique, and no gap without a default."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from msgspec.structs import replace

from ...language.errors import PolicyFileError, did_you_mean
from ...language.expressions import Literal, Node, names
from ...language.tables import Cell, TableError, apply_top_band_ceiling, gaps, overlaps, parse_cell
from ...language.values import Kind, Type, assignable
from ..loader import Document
from ..model import Computation, Row, Table
from .context import LoadContext
from .expressions import typed_expression
from .source_texts import phrase_in_citation


def decision_table(
    ctx: LoadContext, doc: Document, comp: Computation, spec: dict, base: tuple
) -> Computation | None:
    columns = tuple(spec["columns"])
    ok = True
    for i, column in enumerate(columns):
        if column not in ctx.types:
            hint = did_you_mean(column, ctx.types)
            ctx.errors.append(
                PolicyFileError(f"unknown column {column!r}{hint}", doc.at((*base, "columns", i)))
            )
            ok = False
    if not ok:
        return None
    rows: list[Row] = []
    cell_rows: list[dict] = []
    thens = []
    for i, row in enumerate(spec["rows"]):
        rpath = (*base, "rows", i)
        cells = {}
        for column in row["when"]:
            if column not in columns:
                ctx.errors.append(
                    PolicyFileError(
                        f"{column!r} is not a column of this table ({', '.join(columns)})",
                        doc.at((*rpath, "when", column), key=True),
                    )
                )
                ok = False
        for column in columns:
            if column not in row["when"]:
                cells[column] = Cell()  # not mentioned: any value
                continue
            try:
                cells[column] = parse_cell(
                    row["when"][column],
                    column,
                    ctx.types[column],
                    ctx.convention,
                    (*rpath, "when", column),
                )
            except TableError as exc:
                ctx.errors.append(PolicyFileError(exc.message, doc.at(exc.path)))
                ok = False
        then = _then(ctx, doc, (*rpath, "then"), row["then"], comp.type)
        if then is None:
            ok = False
        if row.get("text") and not phrase_in_citation(ctx, row["text"], comp.citation):
            ctx.errors.append(
                PolicyFileError(
                    f"row text {row['text']!r} does not occur in the cited article "
                    f"{comp.citation.article}",
                    doc.at((*rpath, "text")),
                )
            )
        cell_rows.append(cells)
        thens.append(then)
        rows.append(Row(cells, then or Literal(None, "null"), row.get("text"), doc.at(rpath)))
    default = None
    if "default" in spec:
        default = _then(ctx, doc, (*base, "default"), spec["default"], comp.type)
        ok = ok and default is not None
    if not ok:
        return None
    for column in columns:
        if ctx.convention.top_band_includes_ceiling:
            upper_words = {w for w, b in ctx.convention.overridden().items() if b.side == "max"}
            fixed = apply_top_band_ceiling([r[column] for r in cell_rows], upper_words)
            for r, cell in zip(cell_rows, fixed, strict=True):
                r[column] = cell
    if spec["hit_policy"] == "unique":
        for i, j in overlaps(cell_rows, columns):
            ctx.errors.append(
                PolicyFileError(
                    f"rows {i} and {j} overlap (hit policy unique): an input matches both",
                    doc.at((*base, "rows", j)),
                )
            )
    rows = [
        Row(cells, r.then, r.text, r.location) for cells, r in zip(cell_rows, rows, strict=True)
    ]
    table_gaps = gaps(cell_rows, columns, ctx.types)
    if table_gaps and default is None:
        ctx.errors.append(
            PolicyFileError(
                "no row covers: " + "; ".join(table_gaps) + " (add rows or a default)",
                doc.at(base),
            )
        )
    table = Table(spec["hit_policy"], columns, tuple(rows), default, tuple(table_gaps))
    deps = list(columns) + [n.name for t in thens if t for n in names(t)]
    if default is not None:
        deps += [n.name for n in names(default)]
    return replace(comp, table=table, deps=tuple(dict.fromkeys(deps)))


def _then(ctx: LoadContext, doc: Document, path: tuple, raw: Any, t: Type) -> Node | None:
    """A table result: a literal, an enum value, null, or an expression."""
    if raw is None:
        if not t.nullable:
            ctx.errors.append(
                PolicyFileError("null, but the value is not declared nullable", doc.at(path))
            )
            return None
        return Literal(None, "null")
    if (
        t.kind == Kind.ENUM
        and isinstance(raw, str)
        and raw.isidentifier()
        and raw not in (t.values or ())
        and raw not in ctx.types
    ):
        hint = did_you_mean(raw, t.values or ())
        allowed = ", ".join(sorted(t.values or ()))
        ctx.errors.append(PolicyFileError(f"{raw!r} is not one of {allowed}{hint}", doc.at(path)))
        return None
    if (
        t.kind in (Kind.ENUM, Kind.TEXT)
        and isinstance(raw, str)
        and (t.values is None or raw in t.values)
        and raw.isidentifier()
    ):
        return Literal(raw, repr(raw))
    if isinstance(raw, bool):
        node: Node = Literal(raw, "true" if raw else "false")
        actual = Type(Kind.BOOLEAN)
    elif isinstance(raw, int | Decimal):
        node = Literal(Decimal(raw), str(raw))
        actual = Type(Kind.INTEGER if isinstance(raw, int) else Kind.NUMBER, literal=True)
    else:
        parsed = typed_expression(ctx, doc, path, str(raw))
        if parsed is None:
            return None
        node, actual = parsed
    if not assignable(actual, t):
        ctx.errors.append(
            PolicyFileError(f"gives {actual} but the value is declared {t}", doc.at(path))
        )
        return None
    return node
