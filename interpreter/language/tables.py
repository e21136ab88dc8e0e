"""Decision tables with explicit interval bounds and a hit policy.

Each cell is an interval with open or closed ends (as in Drools' verifier), written in the
document's own words: ``{年满: 70, 不满: 80}`` is [70, 80) under the Civil Code convention.
At load time a ``unique`` table is checked for overlapping rows (an error) and every table
gets a report of the inputs no row covers (the gaps), which falls to ``default`` if given.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from .conventions import Convention
from .errors import did_you_mean
from .values import Kind, Type, iso_date

Bound = Decimal | dt.date
MAX_GRID = 20_000


class _Orderable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...


# The bounds of one interval are of one kind, the column's: all Decimal or all dates (a
# column's cells are read by its type), so two bounds of an interval always compare.
B = TypeVar("B", bound=_Orderable)


class TableError(Exception):
    """A problem in a table, at a path inside the table (e.g. ``rows[2].when.age``)."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Interval(Generic[B]):
    lo: B | None = None
    lo_closed: bool = False
    hi: B | None = None
    hi_closed: bool = False

    def contains(self, x: B) -> bool:
        if self.lo is not None and (x < self.lo or (x == self.lo and not self.lo_closed)):
            return False
        return not (self.hi is not None and (x > self.hi or (x == self.hi and not self.hi_closed)))

    def intersects(self, other: Interval[B]) -> bool:
        lo, lo_closed = _max_lo(self, other)
        hi, hi_closed = _min_hi(self, other)
        if lo is None or hi is None:
            return True
        return lo < hi or (lo == hi and lo_closed and hi_closed)

    def within(self, other: Interval[B]) -> bool:
        """Is every point of self in other?"""
        if other.lo is not None:
            if self.lo is None or self.lo < other.lo:
                return False
            if self.lo == other.lo and self.lo_closed and not other.lo_closed:
                return False
        if other.hi is not None:
            if self.hi is None or self.hi > other.hi:
                return False
            if self.hi == other.hi and self.hi_closed and not other.hi_closed:
                return False
        return True

    def describe(self, column: str) -> str:
        if self.lo is not None and self.lo == self.hi:
            return f"{column} = {self.lo}"
        parts = []
        if self.lo is not None:
            parts.append(f"{column} {'>=' if self.lo_closed else '>'} {self.lo}")
        if self.hi is not None:
            parts.append(f"{column} {'<=' if self.hi_closed else '<'} {self.hi}")
        return " and ".join(parts) or f"any {column}"


def _max_lo(a: Interval[B], b: Interval[B]) -> tuple[B | None, bool]:
    if a.lo is None:
        return b.lo, b.lo_closed
    if b.lo is None or a.lo > b.lo:
        return a.lo, a.lo_closed
    if b.lo > a.lo:
        return b.lo, b.lo_closed
    return a.lo, a.lo_closed and b.lo_closed


def _min_hi(a: Interval[B], b: Interval[B]) -> tuple[B | None, bool]:
    if a.hi is None:
        return b.hi, b.hi_closed
    if b.hi is None or a.hi < b.hi:
        return a.hi, a.hi_closed
    if b.hi < a.hi:
        return b.hi, b.hi_closed
    return a.hi, a.hi_closed and b.hi_closed


@dataclass(frozen=True)
class Cell:
    """One column's condition in one row: any value, an interval, or a set of values."""

    interval: Interval[Bound] | None = None
    values: frozenset | None = None
    written: tuple[tuple[str, str], ...] = ()  # (word, value) as the author wrote them

    @property
    def is_any(self) -> bool:
        return self.interval is None and self.values is None

    def overlaps(self, other: Cell) -> bool:
        if self.is_any or other.is_any:
            return True
        if self.interval is not None and other.interval is not None:
            return self.interval.intersects(other.interval)
        if self.values is not None and other.values is not None:
            return bool(self.values & other.values)
        return True


def parse_cell(
    spec: Any, column: str, ctype: Type, convention: Convention, path: tuple[str | int, ...]
) -> Cell:
    """A YAML cell: ``{以上: 70, 不满: 80}``, a list of values, or one value."""
    if isinstance(spec, dict):
        if not (ctype.numeric or ctype.kind == Kind.DATE):
            raise TableError(f"bounds need a number or date column; {column} is {ctype}", path)
        return _interval_cell(spec, column, ctype, convention, path)
    values = spec if isinstance(spec, list) else [spec]
    parsed = frozenset(
        _value(v, ctype, (*path, i) if isinstance(spec, list) else path)
        for i, v in enumerate(values)
    )
    written = tuple(("=", str(v)) for v in values)
    return Cell(values=parsed, written=written)


def _interval_cell(
    spec: dict, column: str, ctype: Type, convention: Convention, path: tuple[str | int, ...]
) -> Cell:
    lo = hi = None
    lo_closed = hi_closed = False
    for word, raw in spec.items():
        bound = convention.bound(word)
        if bound is None:
            known = [*convention.words, "gte", "gt", "lte", "lt"]
            raise TableError(
                f"unknown bound word {word!r}{did_you_mean(word, known)}", (*path, word)
            )
        value = _value(raw, ctype, (*path, word))
        if bound.side == "min":
            if lo is not None:
                raise TableError(f"two lower bounds for {column}", (*path, word))
            lo, lo_closed = value, bound.inclusive
        else:
            if hi is not None:
                raise TableError(f"two upper bounds for {column}", (*path, word))
            hi, hi_closed = value, bound.inclusive
    if (
        lo is not None
        and hi is not None
        and (lo > hi or (lo == hi and not (lo_closed and hi_closed)))
    ):
        raise TableError(f"the bounds of {column} leave no value between them", path)
    written = tuple((w, str(v)) for w, v in spec.items())
    return Cell(interval=Interval(lo, lo_closed, hi, hi_closed), written=written)


def _value(raw: Any, ctype: Type, path: tuple[str | int, ...]) -> Any:
    if ctype.kind == Kind.DATE:
        try:
            return iso_date(str(raw))
        except ValueError:
            raise TableError(f"{raw!r} is not a date YYYY-MM-DD", path) from None
    if ctype.numeric:
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
            raise TableError(f"{raw!r} is not a number", path)
        return Decimal(raw)
    if ctype.kind == Kind.BOOLEAN:
        if not isinstance(raw, bool):
            raise TableError(f"{raw!r} is not true/false", path)
        return raw
    if not isinstance(raw, str):
        raise TableError(f"{raw!r} is not a text value", path)
    if ctype.kind == Kind.ENUM and ctype.values and raw not in ctype.values:
        hint = did_you_mean(raw, ctype.values)
        raise TableError(f"{raw!r} is not one of {', '.join(sorted(ctype.values))}{hint}", path)
    return raw


def apply_top_band_ceiling(cells: list[Cell], words: set[str]) -> list[Cell]:
    """Transport measure art. 22: 以下 excludes the number, but the top band of a scale
    includes its ceiling. Only a bound written with one of ``words`` (the document's
    overridden upper-bound words, i.e. 以下) is closed, and only in the band with the
    highest such bound: 不满/未满 and the neutral ``lt`` keep their meaning.
    """

    def ceiling(cell: Cell) -> Bound | None:
        iv = cell.interval
        written = {w for w, _ in cell.written}
        if iv is None or iv.hi is None or iv.hi_closed or not written & words:
            return None
        return iv.hi

    uppers = [b for c in cells if (b := ceiling(c)) is not None]
    if not uppers:
        return cells
    top = max(uppers)
    out = []
    for c in cells:
        iv = c.interval
        if iv is not None and ceiling(c) == top:
            c = Cell(Interval(iv.lo, iv.lo_closed, iv.hi, True), c.values, c.written)
        out.append(c)
    return out


def overlaps(rows: list[dict[str, Cell]], columns: tuple[str, ...]) -> list[tuple[int, int]]:
    """Pairs of rows that some input satisfies both (an error under hit policy unique)."""
    return [
        (i, j)
        for i, j in itertools.combinations(range(len(rows)), 2)
        if all(rows[i][c].overlaps(rows[j][c]) for c in columns)
    ]


def gaps(
    rows: list[dict[str, Cell]], columns: tuple[str, ...], types: Mapping[str, Type]
) -> list[str]:
    """Inputs no row covers, described per column; [] when the rows cover everything."""
    axes: list[list[Cell]] = []
    for column in columns:
        axis = _axis([row[column] for row in rows], types[column])
        if axis is None:
            return []  # free text: cannot enumerate
        axes.append(axis)
    if _grid_size(axes) > MAX_GRID:
        return [f"not analysed: more than {MAX_GRID} combinations"]
    missing = [
        combo
        for combo in itertools.product(*axes)
        if not any(
            all(_covers(row[c], cell) for c, cell in zip(columns, combo, strict=True))
            for row in rows
        )
    ]
    return [_describe(columns, combo) for combo in _merge(missing)]


def _grid_size(axes: list[list[Cell]]) -> int:
    size = 1
    for axis in axes:
        size *= len(axis)
    return size


def _axis(cells: list[Cell], ctype: Type) -> list[Cell] | None:
    if ctype.kind == Kind.BOOLEAN:
        return [Cell(values=frozenset([v])) for v in (False, True)]
    if ctype.kind == Kind.ENUM and ctype.values:
        return [Cell(values=frozenset([v])) for v in sorted(ctype.values)]
    if ctype.numeric or ctype.kind == Kind.DATE:
        points = sorted(
            {
                b
                for c in cells
                if c.interval
                for b in (c.interval.lo, c.interval.hi)
                if b is not None
            }
            | {v for c in cells if c.values for v in c.values}
        )
        if not points:
            return [Cell(interval=Interval())]
        axis = [Cell(interval=Interval(None, False, points[0], False))]
        for a, b in itertools.pairwise(points):
            axis += [
                Cell(interval=Interval(a, True, a, True)),
                Cell(interval=Interval(a, False, b, False)),
            ]
        axis += [
            Cell(interval=Interval(points[-1], True, points[-1], True)),
            Cell(interval=Interval(points[-1], False, None, False)),
        ]
        return axis
    if all(c.is_any for c in cells):
        return [Cell()]
    return None


def _covers(cond: Cell, piece: Cell) -> bool:
    if cond.is_any:
        return True
    if piece.interval is not None:
        if cond.interval is not None:
            return piece.interval.within(cond.interval)
        iv = piece.interval
        return (
            iv.lo is not None
            and iv.lo == iv.hi
            and cond.values is not None
            and iv.lo in cond.values
        )
    if piece.values is not None and cond.values is not None:
        return piece.values <= cond.values
    return False


def _merge(missing: list[tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """Join neighbouring uncovered intervals of the last column: [70] + (70,80) -> [70,80)."""
    merged: list[tuple[Cell, ...]] = []
    for combo in missing:
        if merged and _adjacent(merged[-1], combo):
            last, new = merged[-1][-1].interval, combo[-1].interval
            assert last is not None and new is not None
            joined: Interval[Bound] = Interval(last.lo, last.lo_closed, new.hi, new.hi_closed)
            merged[-1] = (*combo[:-1], Cell(interval=joined))
        else:
            merged.append(combo)
    return merged


def _adjacent(a: tuple[Cell, ...], b: tuple[Cell, ...]) -> bool:
    if a[:-1] != b[:-1]:
        return False
    x, y = a[-1].interval, b[-1].interval
    return (
        x is not None
        and y is not None
        and x.hi == y.lo
        and x.hi is not None
        and (x.hi_closed != y.lo_closed)
    )


def _describe(columns: tuple[str, ...], combo: tuple[Cell, ...]) -> str:
    parts = []
    for column, cell in zip(columns, combo, strict=True):
        if cell.interval is not None:
            text = cell.interval.describe(column)
            if not text.startswith("any"):
                parts.append(text)
        elif cell.values is not None:
            parts.append(f"{column} = {next(iter(cell.values))}")
    return " and ".join(parts) or "every input"
