"""Reading a batch file (CSV, JSONL, Parquet): each data row's raw facts, or the
``RowError`` that says why the row cannot be read; CSV rows also a block at a time."""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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
    lines = _Lines.open(path, bom=True)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        lines.close()
        return [], _CsvBlocks(None, None, 0)
    except csv.Error as exc:
        lines.close()
        raise BatchFileError(f"{path}:{reader.line_num}: {exc}") from None
    except OSError as exc:
        lines.close()
        raise BatchFileError(f"{path}: {exc.strerror}") from None
    if lines.bad:
        bad = lines.bad[0]
        if bad.line <= reader.line_num:
            lines.close()
            raise BatchFileError(f"{path}:{bad.line}:{bad.column}: {bad.reason}")
    for col, name in enumerate(header, start=1):
        if name not in policy.facts:
            lines.close()
            hint = did_you_mean(name, policy.facts)
            raise BatchFileError(
                f"{path}:1:{col}: unknown fact {name!r} for policy {policy.id}{hint}"
            )
    if len(set(header)) != len(header):
        lines.close()
        raise BatchFileError(f"{path}:1: a column appears twice")
    return header, _CsvBlocks(lines, reader, len(header))


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

    def __init__(self, lines: _Lines | None, reader: Any, width: int) -> None:
        self.lines = lines
        self.reader = reader
        self.width = width
        self.number = 0

    def take(
        self, count: int
    ) -> tuple[list[tuple[int, int | None]], list[list[str]], list[RowError]]:
        """The next ``count`` rows (fewer at the end): (row number, file line) and cells
        of the well-formed ones, and the errors of the others. A row with a line that is
        not UTF-8 is an error; the rows after it are read as they are."""
        where: list[tuple[int, int | None]] = []
        cells: list[list[str]] = []
        errors: list[RowError] = []
        if self.lines is None:
            return where, cells, errors
        reader, width, bad = self.reader, self.width, self.lines.bad
        number = self.number
        end = number + count
        while number < end and self.lines is not None:
            before = reader.line_num
            try:
                for row in reader:
                    number += 1
                    line = reader.line_num
                    if bad and bad[0].line <= line:  # the lines of this row: one not UTF-8
                        errors.append(RowError(number, line, None, _take_bad(bad, line)))
                    elif len(row) == width:
                        where.append((number, line))
                        cells.append(row)
                    else:
                        reason = f"{len(row)} cells for {width} columns"
                        errors.append(RowError(number, line, None, reason))
                    if number >= end:
                        break
                else:
                    self.close()
                    break
            except csv.Error as exc:
                number += 1
                line = reader.line_num
                reason = _take_bad(bad, line) if bad and bad[0].line <= line else str(exc)
                errors.append(RowError(number, line, None, reason))
                if line == before:  # nothing read: never loop on the same place
                    self.close()
        self.number = number
        return where, cells, errors

    def close(self) -> None:
        if self.lines is not None:
            self.lines.close()
            self.lines = None


@dataclass(frozen=True)
class _BadLine:
    line: int
    column: int  # the byte in the line, 1-based
    reason: str


def _take_bad(bad: deque[_BadLine], line: int) -> str:
    """The reason of the first line (up to ``line``) that is not UTF-8; those lines taken."""
    reason = bad[0].reason
    while bad and bad[0].line <= line:
        bad.popleft()
    return reason


class _Lines:
    """A file's lines as text mode with ``newline=""`` gives them (ends kept; a line ends
    at LF, CR or CR LF), each decoded as UTF-8 on its own: a line that is not UTF-8 is
    noted in ``bad`` and given decoded with ``surrogateescape``, so that the lines after it
    (and the records a reader makes of them) are read and counted exactly as they are."""

    BLOCK = 1 << 20

    def __init__(self, handle: BinaryIO, *, bom: bool) -> None:
        self.handle = handle
        self.bom = bom  # a UTF-8 byte order mark at the start is dropped
        self.bad: deque[_BadLine] = deque()  # in line order, taken by the reader
        self.count = 0  # lines given so far

    @classmethod
    def open(cls, path: Path, *, bom: bool) -> _Lines:
        try:
            return cls(path.open("rb"), bom=bom)
        except OSError as exc:
            raise BatchFileError(f"{path}: {exc.strerror}") from None

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._blocks())

    def close(self) -> None:
        self.handle.close()

    def _blocks(self) -> Iterator[list[str]]:
        carry = b""
        block = self.handle.read(self.BLOCK)
        if self.bom and block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        while block:
            lines = (carry + block).splitlines(keepends=True)
            # the last line may go on in the next block (a CR may be the first half of CR LF)
            carry = b"" if lines[-1].endswith(b"\n") else lines.pop()
            if lines:
                yield self._decode(lines)
            block = self.handle.read(self.BLOCK)
        if carry:
            yield self._decode([carry])

    def _decode(self, lines: list[bytes]) -> list[str]:
        first = self.count + 1
        self.count += len(lines)
        try:
            return list(map(bytes.decode, lines))
        except UnicodeDecodeError:
            pass
        out = []
        for number, line in enumerate(lines, start=first):
            try:
                out.append(line.decode())
            except UnicodeDecodeError as exc:
                byte = line[exc.start]
                reason = f"not UTF-8 text: byte 0x{byte:02x} at line {number}, byte {exc.start + 1} ({exc.reason})"
                self.bad.append(_BadLine(number, exc.start + 1, reason))
                out.append(line.decode("utf-8", "surrogateescape"))
        return out


def _csv_value(cell: str, kind: Kind) -> Any:
    if kind == Kind.BOOLEAN:
        low = cell.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
    return cell


def _read_jsonl(path: Path) -> Iterator[tuple[int, int | None, Any]]:
    lines = _Lines.open(path, bom=False)
    bad = lines.bad
    number = 0
    try:
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            number += 1
            if bad and bad[0].line == line_no:
                yield number, line_no, RowError(number, line_no, None, _take_bad(bad, line_no))
                continue
            if line.endswith("\r"):  # as text mode reads it: every line end an LF
                line = line[:-1] + "\n"
            elif line.endswith("\r\n"):
                line = line[:-2] + "\n"
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
    except OSError as exc:
        raise BatchFileError(f"{path}: {exc.strerror}") from None
    finally:
        lines.close()


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
