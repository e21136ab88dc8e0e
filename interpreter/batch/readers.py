"""Reading a batch file (CSV, JSONL, Parquet): each data row's raw facts, or the
``RowError`` that says why the row cannot be read; CSV rows also a block at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..language.errors import PolicyError, did_you_mean
from ..language.values import Kind
from ..policy.loader import loads_json
from ..policy.model import Policy

FORMATS = (".csv", ".jsonl", ".parquet")
CHUNK = 50_000


class BatchFileError(PolicyError):
    """The batch file itself cannot be read (not a row: the whole file)."""


@dataclass
class RowError:
    row: int  # 1-based data row
    line: int | None  # the line in the file (CSV, JSONL), None for Parquet
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "field": self.field, "error": self.reason}


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BatchFileError(
            f"{path}: unknown batch format {suffix or '(none)'}; use {', '.join(FORMATS)}"
        )
    return suffix


def read_rows(policy: Policy, path: Path) -> Iterator[tuple[int, int | None, Any]]:
    """(row number, file line, raw facts or a RowError) for each data row."""
    fmt = file_format(path)
    if not path.is_file():
        raise BatchFileError(f"{path}: no such file")
    if fmt == ".csv":
        yield from _read_csv(policy, path)
    elif fmt == ".jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_parquet(path)


def _read_csv(policy: Policy, path: Path) -> Iterator[tuple[int, int | None, Any]]:
    header, rows = _read_csv_cells(policy, path)
    kinds = [policy.facts[name].type.kind for name in header]
    for number, line, cells in rows:
        if isinstance(cells, RowError):
            yield number, line, cells
            continue
        yield number, line, _csv_facts(header, kinds, cells)


def _csv_facts(header: list[str], kinds: Sequence[Kind], cells: Sequence[str]) -> dict[str, Any]:
    """A CSV row's raw facts (an empty cell is an absent fact)."""
    return {
        name: _csv_value(cell, kind)
        for name, cell, kind in zip(header, cells, kinds, strict=True)
        if cell != ""
    }


def _read_csv_cells(
    policy: Policy, path: Path
) -> tuple[list[str], Iterator[tuple[int, int | None, Any]]]:
    """The header (checked), and (row number, file line, cells or a RowError) for each
    data row."""
    header, blocks = _csv_blocks(policy, path)
    return header, _csv_rows(blocks)


def _csv_blocks(policy: Policy, path: Path) -> tuple[list[str], _CsvBlocks]:
    """The header (checked), and the data rows to take a block at a time."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BatchFileError(f"{path}: {exc.strerror}") from None
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        return [], _CsvBlocks(None, None, 0)
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise BatchFileError(f"{path}:1: {exc}") from None
    for col, name in enumerate(header, start=1):
        if name not in policy.facts:
            handle.close()
            hint = did_you_mean(name, policy.facts)
            raise BatchFileError(
                f"{path}:1:{col}: unknown fact {name!r} for policy {policy.id}{hint}"
            )
    if len(set(header)) != len(header):
        handle.close()
        raise BatchFileError(f"{path}:1: a column appears twice")
    return header, _CsvBlocks(handle, reader, len(header))


def _csv_rows(blocks: _CsvBlocks) -> Iterator[tuple[int, int | None, Any]]:
    while True:
        where, cells, errors = blocks.take(CHUNK)
        if not where and not errors:
            return
        rows: list[tuple[int, int | None, list[str] | RowError]] = [
            (number, line, c) for (number, line), c in zip(where, cells, strict=True)
        ]
        rows += [(e.row, e.line, e) for e in errors]
        yield from sorted(rows, key=lambda r: r[0])


class _CsvBlocks:
    """A CSV file's data rows, a block at a time."""

    def __init__(self, handle: Any, reader: Any, width: int) -> None:
        self.handle = handle
        self.reader = reader
        self.width = width
        self.number = 0

    def take(
        self, count: int
    ) -> tuple[list[tuple[int, int | None]], list[list[str]], list[RowError]]:
        """The next ``count`` rows (fewer at the end): (row number, file line) and cells
        of the well-formed ones, and the errors of the others."""
        where: list[tuple[int, int | None]] = []
        cells: list[list[str]] = []
        errors: list[RowError] = []
        reader, width = self.reader, self.width
        number = self.number
        end = number + count
        while number < end and self.handle is not None:
            try:
                for row in reader:
                    number += 1
                    if len(row) == width:
                        where.append((number, reader.line_num))
                        cells.append(row)
                    else:
                        line = reader.line_num
                        reason = f"{len(row)} cells for {width} columns"
                        errors.append(RowError(number, line, None, reason))
                    if number >= end:
                        break
                else:
                    self.close()
                    break
            except (csv.Error, UnicodeDecodeError) as exc:
                number += 1
                errors.append(RowError(number, reader.line_num, None, str(exc)))
        self.number = number
        return where, cells, errors

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _csv_value(cell: str, kind: Kind) -> Any:
    if kind == Kind.BOOLEAN:
        low = cell.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
    return cell


def _read_jsonl(path: Path) -> Iterator[tuple[int, int | None, Any]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BatchFileError(f"{path}: {exc.strerror}") from None
    number = 0
    with handle:
        for line_no, line in enumerate(_lines(handle, path), start=1):
            if not line.strip():
                continue
            number += 1
            try:
                data = loads_json(line)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    line_no,
                    RowError(
                        number, line_no, None, f"invalid JSON at column {exc.colno}: {exc.msg}"
                    ),
                )
                continue
            except ValueError as exc:
                yield number, line_no, RowError(number, line_no, None, f"invalid JSON: {exc}")
                continue
            yield number, line_no, data


def _lines(handle: Any, path: Path) -> Iterator[str]:
    try:
        yield from handle
    except UnicodeDecodeError:
        raise BatchFileError(f"{path}: not UTF-8 text") from None


def _read_parquet(path: Path) -> Iterator[tuple[int, int | None, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover
        raise BatchFileError(
            "Parquet needs pyarrow: pip install 'gd-gazette-policy[batch]'"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many kinds; all mean an unreadable file
        raise BatchFileError(f"{path}: not a readable Parquet file: {exc}") from None
    number = 0
    for batch in table.to_batches(CHUNK):
        for record in batch.to_pylist():
            number += 1
            # floats and date-times are read (or refused) by facts.py, as from any other source
            yield number, None, {k: v for k, v in record.items() if v is not None}
