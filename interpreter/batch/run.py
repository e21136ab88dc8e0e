"""Batch evaluation of a file of cases: CSV, JSONL or Parquet in; the same formats out.

- Each row is one case's facts (a CSV header names the facts; an empty cell is an absent
  fact). Rows are parsed exactly as a single evaluation parses facts (``facts.py``), then
  evaluated together by the columnar engine (``columnar.py``), which hands the rows it
  cannot answer exactly to the scalar engine.
- A row with bad facts, or whose evaluation fails, is written to the errors file (JSONL:
  row number, file line, the field at fault and the reason) and the batch goes on.
- Outputs (and the errors file) are written to a temporary file beside the target and
  renamed into place when complete: a reader never sees half a file.
- A progress bar (tqdm) is shown on a terminal.

For speed (a batch is millions of rows), the columnar path reads each column of a block of
rows at once: the common, well-formed value goes straight to the engine's column
representation (fen, day numbers, codes: ``facts.QuickNumber``/``quick_date``) without a
Decimal, and the outputs are formatted per column from the engine's integer columns. A
row with any value the quick readers do not accept is parsed exactly as before, so its
error (or its value) is the one ``parse_facts`` gives; outputs are what ``to_json`` gives.
The rows and their chunks (``CHUNK`` rows of good facts) are the same as row by row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from ..language.errors import FactError, PolicyError, did_you_mean
from ..policy.files import atomic_path
from ..policy.loader import loads_json
from ..policy.model import Policy
from ..runtime.engine import to_json
from ..runtime.facts import QuickNumber, parse_facts, quick_date
from ..runtime.program import Program

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


@dataclass
class BatchSummary:
    rows: int = 0
    ok: int = 0
    errors: list[RowError] = field(default_factory=list)
    scalar_rows: int = 0  # rows the columnar engine handed to the scalar engine


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BatchFileError(
            f"{path}: unknown batch format {suffix or '(none)'}; use {', '.join(FORMATS)}"
        )
    return suffix


# ------------------------------------------------------------------------ readers


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


def _csv_facts(header: list[str], kinds: list[str], cells: Sequence[str]) -> dict[str, Any]:
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
        rows = [(number, line, c) for (number, line), c in zip(where, cells, strict=True)]
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


def _csv_value(cell: str, kind: str) -> Any:
    if kind == "boolean":
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


# ----------------------------------------------------------------------- writers


class _Writer:
    def __init__(self, path: Path, fmt: str, columns: list[str], kinds: dict[str, str]) -> None:
        self.fmt = fmt
        self.columns = columns
        self.kinds = kinds
        self.parquet_columns: list[list[Any]] = [[] for _ in columns]
        self.handle = None
        if fmt != ".parquet":
            self.handle = path.open("w", encoding="utf-8", newline="")
            if fmt == ".csv":
                self.csv = csv.writer(self.handle)
                self.csv.writerow(columns)

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == ".csv":
            self.csv.writerow(self._csv_cells(record))
        elif self.fmt == ".jsonl":
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
        else:
            for c, out in zip(self.columns, self.parquet_columns, strict=True):
                out.append(record[c])

    def write_columns(
        self, columns: list[list[Any]], special: dict[int, dict[str, Any] | None]
    ) -> None:
        """Rows given as columns (``self.columns`` in order; values as ``to_json`` gives
        them), exactly as ``write`` writes each row; row i in ``special`` is that record
        instead, or is left out (None)."""
        n = len(columns[0])
        if self.fmt == ".csv":
            texts = [_csv_texts(col) for col in columns]
            if any(t is None for t in texts):  # a value to quote: the csv module does it
                cells = [
                    [_CSV_CELL[x] if x is None or x is True or x is False else x for x in col]
                    for col in columns
                ]
                rows: list[Any] = list(zip(*cells, strict=True))
                for i, record in special.items():
                    rows[i] = None if record is None else self._csv_cells(record)
                self.csv.writerows(rows if not special else [r for r in rows if r is not None])
                return
            lines: list[str | None] = list(map(",".join, zip(*texts, strict=True)))
            for i, record in special.items():
                lines[i] = None if record is None else self._csv_line(record)[:-2]
        elif self.fmt == ".jsonl":
            keys = [
                encode_basestring(c).replace("{", "{{").replace("}", "}}") for c in self.columns
            ]
            template = "{{" + ", ".join(f"{k}: {{}}" for k in keys) + "}}"
            parts = [_json_texts(col) for col in columns]
            lines = [template.format(*r) for r in zip(*parts, strict=True)]
            for i, record in special.items():
                lines[i] = None if record is None else json.dumps(record, ensure_ascii=False)
        if self.fmt in (".csv", ".jsonl"):
            end = "\r\n" if self.fmt == ".csv" else "\n"
            kept = [x for x in lines if x is not None] if special else lines
            if kept:
                self.handle.write(end.join(kept) + end)  # type: ignore[union-attr,arg-type]
        else:
            keep = [i for i in range(n) if special.get(i, True) is not None]
            for c, col, out in zip(self.columns, columns, self.parquet_columns, strict=True):
                for i, record in special.items():
                    if record is not None:
                        col[i] = record[c]
                out.extend(col if len(keep) == n else [col[i] for i in keep])

    def _csv_cells(self, record: dict[str, Any]) -> list[Any]:
        return ["" if record[c] is None else _cell(record[c]) for c in self.columns]

    def _csv_line(self, record: dict[str, Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(self._csv_cells(record))
        return buffer.getvalue()

    def close(self, path: Path) -> None:
        if self.handle is not None:
            self.handle.close()
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = []
        for c in self.columns:
            kind = self.kinds.get(c)
            if c == "row":
                fields.append(pa.field(c, pa.int64()))
            elif kind == "money":
                fields.append(pa.field(c, pa.decimal128(20, 2)))
            elif kind == "boolean":
                fields.append(pa.field(c, pa.bool_()))
            elif kind == "integer":
                fields.append(pa.field(c, pa.int64()))
            elif kind == "date":
                fields.append(pa.field(c, pa.date32()))
            else:
                fields.append(pa.field(c, pa.string()))
        schema = pa.schema(fields)
        columns = {
            c: [_parquet_out(v, self.kinds.get(c)) for v in col]
            for c, col in zip(self.columns, self.parquet_columns, strict=True)
        }
        pq.write_table(pa.table(columns, schema=schema), path)


_CSV_CELL = {None: "", True: "true", False: "false"}  # looked up for these three only


_NONE_EMPTY = {None: ""}
_CSV_SPECIAL = (",", '"', "\r", "\n")  # a field with one of these is quoted


def _csv_texts(values: list[Any]) -> list[str] | None:
    """The fields the csv module writes for these values (as ``write`` converts them),
    when none needs quoting; else None."""
    types = set(map(type, values))
    if types <= {str}:
        texts = values
    elif types <= {str, type(None)}:
        texts = list(map(_NONE_EMPTY.get, values, values))
    elif types <= {bool, type(None)}:
        texts = list(map(_CSV_CELL.__getitem__, values))
    elif types <= {str, int, bool, type(None)}:
        texts = [_CSV_CELL[x] if x is None or x is True or x is False else str(x) for x in values]
    else:
        return None
    joined = "".join(texts)
    if any(c in joined for c in _CSV_SPECIAL):
        return None
    return texts


def _json_texts(values: list[Any]) -> list[str]:
    """``_json_text`` of each value."""
    types = set(map(type, values))
    if types == {str}:
        return list(map(encode_basestring, values))
    if types == {int}:
        return list(map(int.__repr__, values))
    return [_json_text(x) for x in values]


def _json_text(value: Any) -> str:
    """``value`` as ``json.dumps(..., ensure_ascii=False)`` writes it inside an object."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


def _cell(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def _parquet_out(value: Any, kind: str | None) -> Any:
    if value is None:
        return None
    if kind == "money":
        return Decimal(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "number":
        return str(value)
    return value


# ----------------------------------------------------------------------- running


@dataclass
class _Run:
    """What every stage of one batch shares: the policy and date, the outputs and their
    kinds, where accepted rows go, where rejected rows go, and the running counts."""

    program: Program
    policy: Policy
    on: dt.date
    outputs: list[str]
    kinds: dict[str, str]
    writer: _Writer
    reject: Callable[[RowError], None]
    summary: BatchSummary

    def write_rows(
        self,
        rows: Sequence[tuple[int, int | None]],
        results: Sequence[dict[str, Any] | PolicyError],
    ) -> None:
        for (number, line), result in zip(rows, results, strict=True):
            record = self.record(number, line, result)
            if record is not None:
                self.summary.ok += 1
                self.writer.write(record)

    def record(
        self, number: int, line: int | None, result: dict[str, Any] | PolicyError
    ) -> dict[str, Any] | None:
        """One row's output record, or None when the row is rejected."""
        if isinstance(result, PolicyError):
            field_name = getattr(result, "fact", None)
            self.reject(RowError(number, line, field_name, result.message))
            return None
        try:
            kinds = self.kinds
            return {"row": number, **{k: to_json(result[k], kinds[k]) for k in self.outputs}}
        except ArithmeticError as exc:  # an output beyond Decimal's 28 digits
            self.reject(RowError(number, line, None, _too_large(exc).message))
            return None


def evaluate_file(
    program: Program,
    source: Path,
    out: Path,
    on: dt.date,
    *,
    errors_path: Path | None = None,
    progress: bool | None = None,
    columnar: bool = True,
) -> BatchSummary:
    """Evaluate every row of ``source``; write outputs to ``out`` and the rejected rows
    to ``errors_path`` (default: ``OUT.errors.jsonl``), both atomically."""
    policy = program.policy
    out_fmt = file_format(out)
    file_format(source)
    policy.check_in_force(on)
    errors_path = errors_path or out.with_name(out.name + ".errors.jsonl")
    if out.resolve() == source.resolve() or errors_path.resolve() == source.resolve():
        raise BatchFileError(f"{out}: the output would overwrite the input")
    outputs = list(policy.outputs)
    kinds = {name: policy.outputs[name].type.kind for name in outputs}
    summary = BatchSummary()
    bar = _progress(source, progress)
    with atomic_path(out) as tmp_out, atomic_path(errors_path) as tmp_err:
        writer = _Writer(tmp_out, out_fmt, ["row", *outputs], kinds)
        with tmp_err.open("w", encoding="utf-8") as err_handle:
            pending: list[RowError] = []

            def reject(error: RowError) -> None:
                summary.errors.append(error)
                pending.append(error)

            def flush_errors() -> None:  # in row order, whichever stage found them
                for error in sorted(pending, key=lambda e: e.row):
                    err_handle.write(json.dumps(error.as_dict(), ensure_ascii=False) + "\n")
                pending.clear()

            plan = _columnar_plan(program) if columnar else None
            batch = _Run(program, policy, on, outputs, kinds, writer, reject, summary)
            if plan is not None and _Codec.supports(policy):
                run = _by_column(batch, plan, source)
            else:
                run = _by_row(batch, source, columnar)
            for _ in run:  # after each chunk
                flush_errors()
                bar(summary.rows)
            flush_errors()
            bar(summary.rows, done=True)
        writer.close(tmp_out)
    return summary


def _by_row(batch: _Run, source: Path, columnar: bool) -> Iterator[None]:
    """Row by row: each row's facts parsed into a dict, chunks evaluated (the path when
    numpy is absent, and the reference the columnar path must equal)."""
    policy, summary, reject = batch.policy, batch.summary, batch.reject
    chunk: list[tuple[int, int | None, dict[str, Any]]] = []
    for number, line, raw in read_rows(policy, source):
        summary.rows += 1
        if isinstance(raw, RowError):
            reject(raw)
            continue
        try:
            chunk.append((number, line, parse_facts(policy, raw)))
        except FactError as exc:
            reject(RowError(number, line, exc.fact, exc.message))
        except ArithmeticError as exc:  # a number beyond Decimal's 28 digits
            reject(RowError(number, line, None, _too_large(exc).message))
        if len(chunk) >= CHUNK:
            _run_chunk(batch, chunk, columnar)
            yield
            chunk = []
    _run_chunk(batch, chunk, columnar)


def _run_chunk(
    batch: _Run, chunk: list[tuple[int, int | None, dict[str, Any]]], columnar: bool
) -> None:
    if not chunk:
        return
    results, scalar = evaluate_parsed_rows(batch.program, [c[2] for c in chunk], batch.on, columnar)
    batch.summary.scalar_rows += scalar
    batch.write_rows([(c[0], c[1]) for c in chunk], results)


def evaluate_parsed_rows(
    program: Program, facts: list[dict[str, Any]], on: dt.date, columnar: bool = True
) -> tuple[list[dict[str, Any] | PolicyError], int]:
    """Outputs (or the error) of each row of parsed facts, and how many rows the scalar
    engine did: through the columnar engine when numpy is there, else the scalar engine."""
    if columnar:
        try:
            from ..columnar.engine import evaluate_rows
        except ImportError:  # numpy absent: the scalar engine does the batch
            columnar = False
    if columnar:
        result = evaluate_rows(program, facts, on)
        return _result_rows(result, len(facts)), len(result.scalar)
    from ..runtime.engine import evaluate_parsed

    out = []
    for values in facts:
        try:
            out.append(evaluate_parsed(program, dict(values), on, trace=False).outputs)
        except PolicyError as exc:
            out.append(exc)
        except ArithmeticError as exc:
            out.append(_too_large(exc))
    return out, len(facts)


def _result_rows(result: Any, n: int) -> list[dict[str, Any] | PolicyError]:
    out: list[dict[str, Any] | PolicyError] = []
    for i in range(n):
        try:
            out.append(result.row(i))
        except PolicyError as exc:
            out.append(exc)
    return out


def _columnar_plan(program: Program) -> Any:
    """The program's columnar plan (built once, kept in the program), or None without numpy."""
    try:
        from ..columnar.engine import columnar_plan
    except ImportError:  # numpy absent: the scalar engine does the batch
        return None
    return columnar_plan(program)


# ------------------------------------------------------------ the columnar path

MISS = object()  # a value the quick readers do not take: the row is parsed exactly
SCALAR = object()  # a number the columns cannot hold: the row goes to the scalar engine
_CACHE_LIMIT = 100_000  # distinct texts remembered per fact


class _Codec:
    """One fact read from batch values straight to the columnar engine's representation
    (what ``ColumnarPlan.pack`` makes of the value ``parse_facts`` gives): money and
    integers as whole numbers (fen, units) or ``SCALAR``; other numbers as
    (coefficient, exponent), or the parsed Decimal; dates as days since 1970-01-01;
    booleans; enums as codes; text as itself; an absent optional fact as None. ``MISS``
    when only ``parse_facts`` can say (an error, or a form the quick readers skip)."""

    KINDS = frozenset({"money", "number", "integer", "boolean", "date", "enum", "text"})

    @classmethod
    def supports(cls, policy: Policy) -> bool:
        return all(
            f.type.kind in cls.KINDS and (f.type.kind != "enum" or f.type.values)
            for f in policy.facts.values()
        )

    def __init__(self, fact: Any, plan: Any) -> None:
        from ..columnar.engine import EPOCH_ORDINAL

        self.fact = fact
        self.name = fact.name
        self.kind = kind = fact.type.kind
        self.epoch = EPOCH_ORDINAL
        self.vocab = plan.base_vocab
        self.number = QuickNumber(fact) if kind in ("money", "number", "integer") else None
        if fact.default is not None:
            self.absent: Any = self.packed(fact.default)
        elif fact.required:
            self.absent = MISS
        else:
            self.absent = None
        self.texts: dict[str, Any] = {}  # text (a JSON or Parquet string) -> packed
        self.cells: dict[str, Any] = {"": self.absent}  # CSV cell -> packed
        if kind == "enum":
            for value in fact.type.values:
                self.texts[value] = self.cells[value] = self.vocab[value]

    def packed(self, value: Any) -> Any:
        """A parsed value (``parse_facts``) as ``ColumnarPlan.pack`` holds it."""
        if value is None:
            return None
        kind = self.kind
        if kind in ("money", "integer"):
            x = value.scaleb(2 if kind == "money" else 0)
            if x != x.to_integral_value() or abs(x) >= _SAFE:
                return SCALAR
            return int(x)
        if kind == "number":
            return value  # packed with its chunk's scale
        if kind == "boolean":
            return bool(value)
        if kind == "date":
            return value.toordinal() - self.epoch
        if kind == "enum":
            return self.vocab[value]
        return value

    def text(self, text: str) -> Any:
        """A string value (JSON, Parquet; a CSV cell once converted) read quickly."""
        kind = self.kind
        if self.number is not None:
            read = self.number(text)
            if read is None:
                return MISS
            coef, exp = read
            if kind == "money":
                return coef * 10 ** (2 + exp)
            return coef if kind == "integer" else read
        if kind == "date":
            day = quick_date(text)
            return MISS if day is None else day.toordinal() - self.epoch
        if kind == "text":
            return text
        return MISS  # a boolean given as text; an enum value that is not one

    def read_cells(self, cells: Sequence[str]) -> list[Any]:
        """A CSV column (an empty cell is an absent fact)."""
        if self.number is not None:
            return self._number_cells(cells)
        cache = self.cells
        get = cache.get
        out = list(map(get, cells, itertools.repeat(MISS)))
        if MISS in out:
            boolean = self.kind == "boolean"
            for i, x in enumerate(out):
                if x is MISS:
                    c = cells[i]
                    x = get(c, MISS)
                    if x is MISS:
                        if boolean:
                            v = _csv_value(c, "boolean")
                            x = v if v is True or v is False else MISS
                        else:
                            x = self.text(c)
                        if x is not MISS and len(cache) < _CACHE_LIMIT:
                            cache[c] = x
                    out[i] = x
        return out

    def _number_cells(self, cells: Sequence[str]) -> list[Any]:
        """A numeric CSV column: the texts seen before from the cache, the others read
        together."""
        cache = self.cells
        out = list(map(cache.get, cells, itertools.repeat(MISS)))
        if MISS not in out:
            return out
        where = [i for i, x in enumerate(out) if x is MISS]
        texts = list(dict.fromkeys([cells[i] for i in where]))  # each once
        read = dict(zip(texts, self.read_numbers(texts), strict=True))
        for i in where:
            out[i] = read[cells[i]]
        room = _CACHE_LIMIT - len(cache)
        if room > 0:
            cache.update(itertools.islice(((t, x) for t, x in read.items() if x is not MISS), room))
        return out

    def read_numbers(self, texts: Sequence[str]) -> list[Any]:
        """``[self.text(t) for t in texts]`` for a numeric fact, a column at a time: the
        plain texts (``QuickNumber``) read with numpy, bounds checked per exponent."""
        import numpy as np

        quick = self.number
        assert quick is not None
        if not texts:
            return []
        plain = [quick.match(t) is not None and len(t) <= _INT64_TEXT for t in texts]
        if all(plain):
            chosen, which = texts, None
        else:
            which = [i for i, ok in enumerate(plain) if ok]
            chosen = [texts[i] for i in which]
        if not chosen:
            return [self.text(t) for t in texts]
        a = np.array(chosen)
        dot = np.strings.find(a, ".")
        exp = np.where(dot < 0, 0, dot + 1 - np.strings.str_len(a))
        coef = np.strings.replace(a, ".", "").astype(np.int64)
        good = np.ones(len(chosen), dtype=bool)
        for e in np.unique(exp).tolist():
            lo, above, hi = quick.limits_at(e)
            at = exp == e
            if lo is not None:
                good &= ~(at & _below(coef, lo))
            if above is not None:
                good &= ~(at & ~_above(coef, above))
            if hi is not None:
                good &= ~(at & _above(coef, hi))
        if self.kind == "money":
            vals = (coef * np.power(10, 2 + exp)).tolist()
        elif self.kind == "integer":
            vals = coef.tolist()
        else:
            vals = list(zip(coef.tolist(), exp.tolist(), strict=True))
        if not good.all():
            for i in np.flatnonzero(~good).tolist():
                vals[i] = MISS
        if which is None:
            return vals
        out = [MISS if ok else self.text(t) for t, ok in zip(texts, plain, strict=True)]
        for i, x in zip(which, vals, strict=True):
            out[i] = x
        return out

    def read_values(self, values: Sequence[Any]) -> list[Any]:
        """A column of JSON or Parquet values (None: absent)."""
        kind = self.kind
        cache = self.texts
        numeric = self.number is not None
        out = []
        for v in values:
            t = type(v)
            if v is None:
                x = self.absent
            elif t is str:
                x = cache.get(v, MISS)
                if x is MISS:
                    x = self.text(v)
                    if x is not MISS and len(cache) < _CACHE_LIMIT:
                        cache[v] = x
            elif t is bool:
                x = v if kind == "boolean" else MISS
            elif numeric and (t is int or t is Decimal):
                x = self.text(str(v))  # the same digits: the same Decimal
            elif t is dt.date and kind == "date":
                x = v.toordinal() - self.epoch
            else:
                x = MISS
            out.append(x)
        return out


_SAFE = 2**62  # columnar.SAFE (without importing numpy here)
_INT64_TEXT = 19  # a plain number text this long has at most 18 digits: an int64


def _below(data: Any, bound: int) -> Any:
    """data < bound, for an int64 array and any whole number."""
    import numpy as np

    if bound > 2**63 - 1:
        return np.ones(data.shape, dtype=bool)
    if bound < -(2**63):
        return np.zeros(data.shape, dtype=bool)
    return data < bound


def _above(data: Any, bound: int) -> Any:
    """data > bound, for an int64 array and any whole number."""
    import numpy as np

    if bound > 2**63 - 1:
        return np.zeros(data.shape, dtype=bool)
    if bound < -(2**63):
        return np.ones(data.shape, dtype=bool)
    return data > bound


@dataclass
class _Pending:
    """Rows of good facts waiting for their chunk: where they came from, and their
    columns (one list per fact, in ``policy.facts`` order)."""

    width: int
    rows: list[tuple[int, int | None]] = field(default_factory=list)
    raws: list[Any] = field(default_factory=list)
    columns: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.columns = [[] for _ in range(self.width)]

    def add(
        self,
        rows: list[tuple[int, int | None]],
        raws: list[Any],
        columns: list[list[Any]],
        keep: list[int] | None,
    ) -> None:
        if keep is None:
            self.rows += rows
            self.raws += raws
            for out, col in zip(self.columns, columns, strict=True):
                out += col
            return
        self.rows += [rows[i] for i in keep]
        self.raws += [raws[i] for i in keep]
        for out, col in zip(self.columns, columns, strict=True):
            out += [col[i] for i in keep]


def _by_column(batch: _Run, plan: Any, source: Path) -> Iterator[None]:
    """As ``_by_row``, a block of rows at a time: the same chunks, errors and outputs."""
    policy, summary, reject = batch.policy, batch.summary, batch.reject
    codecs = [_Codec(fact, plan) for fact in policy.facts.values()]
    names = frozenset(policy.facts)
    if file_format(source) == ".csv":
        if not source.is_file():
            raise BatchFileError(f"{source}: no such file")
        header, blocks = _csv_blocks(policy, source)
        csv_kinds = [policy.facts[name].type.kind for name in header]
        take: Callable[[int], tuple[list[Any], list[Any], list[RowError]]] = blocks.take

        def to_facts(cells: Any) -> dict[str, Any]:
            return parse_facts(policy, _csv_facts(header, csv_kinds, cells))

        def columns_of(raws: list[Any]) -> tuple[list[list[Any]], list[int]]:
            by_name = dict(zip(header, zip(*raws, strict=True), strict=True)) if raws else {}
            cols = [
                c.read_cells(by_name[c.name]) if c.name in by_name else [c.absent] * len(raws)
                for c in codecs
            ]
            return cols, []

    else:
        rows = read_rows(policy, source)

        def take(count: int) -> tuple[list[Any], list[Any], list[RowError]]:
            block = list(itertools.islice(rows, count))
            errors = [raw for _n, _l, raw in block if isinstance(raw, RowError)]
            if errors:
                block = [b for b in block if not isinstance(b[2], RowError)]
            return [(n, line) for n, line, _raw in block], [b[2] for b in block], errors

        def to_facts(raw: Any) -> dict[str, Any]:
            return parse_facts(policy, raw)

        def columns_of(raws: list[Any]) -> tuple[list[list[Any]], list[int]]:
            odd = [i for i, r in enumerate(raws) if type(r) is not dict or not r.keys() <= names]
            if odd:
                skip = set(odd)
                raws = [{} if i in skip else r for i, r in enumerate(raws)]
            return [c.read_values([r.get(c.name) for r in raws]) for c in codecs], odd

    pending = _Pending(len(codecs))
    while True:
        where, raws, errors = take(CHUNK - len(pending.rows))
        if not where and not errors:
            break
        summary.rows += len(where) + len(errors)
        columns, odd = columns_of(raws)
        slow = set(odd)
        for col in columns:
            if MISS in col:
                slow.update(i for i, x in enumerate(col) if x is MISS)
        dropped = []
        for i in sorted(slow):  # parsed exactly: the error, or the values
            number, line = where[i]
            try:
                facts = to_facts(raws[i])
            except FactError as exc:
                errors.append(RowError(number, line, exc.fact, exc.message))
                dropped.append(i)
                continue
            except ArithmeticError as exc:  # a number beyond Decimal's 28 digits
                errors.append(RowError(number, line, None, _too_large(exc).message))
                dropped.append(i)
                continue
            for codec, col in zip(codecs, columns, strict=True):
                col[i] = codec.packed(facts[codec.name])
        for error in sorted(errors, key=lambda e: e.row):
            reject(error)
        keep = None
        if dropped:
            gone = set(dropped)
            keep = [i for i in range(len(raws)) if i not in gone]
        pending.add(where, raws, columns, keep)
        if len(pending.rows) >= CHUNK:
            _run_columns(batch, plan, codecs, pending, to_facts)
            pending = _Pending(len(codecs))
            yield
    _run_columns(batch, plan, codecs, pending, to_facts)


def _pack(codecs: list[_Codec], columns: list[list[Any]], n: int) -> tuple[dict[str, Any], Any]:
    """The chunk's input columns and rows for the scalar engine, as ``ColumnarPlan.pack``
    makes them from the parsed facts."""
    import numpy as np

    from ..columnar.engine import MAX_SCALE, Column

    out: dict[str, Any] = {}
    to_scalar = np.zeros(n, dtype=bool)
    for codec, vals in zip(codecs, columns, strict=True):
        kind = codec.kind
        has_null = None in vals
        null = _is(vals, None) if has_null else None
        if kind in ("money", "integer"):
            if has_null or SCALAR in vals:
                to_scalar |= _is(vals, SCALAR)
                vals = [v if type(v) is int else 0 for v in vals]
            data = np.array(vals, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
            out[codec.name] = Column(kind, data, 2 if kind == "money" else 0, null)
        elif kind == "number":
            exps = [
                -v[1] if type(v) is tuple else -v.as_tuple().exponent for v in vals if v is not None
            ]
            scale = max(0, min(MAX_SCALE, max(exps, default=0)))
            data = np.zeros(n, dtype=np.int64)
            for i, v in enumerate(vals):
                if v is None:
                    continue
                if type(v) is tuple:
                    coef, exp = v
                    shift = exp + scale
                    if shift >= 0:
                        x = coef * 10**shift
                    else:  # only a default can have more decimals than the scale
                        x, rest = divmod(coef, 10**-shift)
                        if rest:
                            to_scalar[i] = True
                            continue
                    if abs(x) >= _SAFE:
                        to_scalar[i] = True
                        continue
                    data[i] = x
                else:
                    d = v.scaleb(scale)
                    if d != d.to_integral_value() or abs(d) >= _SAFE:
                        to_scalar[i] = True
                        continue
                    data[i] = int(d)
            out[codec.name] = Column(kind, data, scale, null)
        elif kind == "boolean":
            data = _is(vals, True)
            out[codec.name] = Column(kind, data, 0, null)
        elif kind in ("date", "enum"):
            if has_null:
                empty = 0 if kind == "date" else -1
                vals = [empty if v is None else v for v in vals]
            data = np.array(vals, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
            out[codec.name] = Column(kind, data, 0, null)
        else:
            out[codec.name] = Column(kind, np.array(vals, dtype=object), 0, None)
    return out, to_scalar


def _is(values: list[Any], what: Any) -> Any:
    """A bool array: which values are ``what``."""
    import numpy as np

    return np.fromiter(map(operator.is_, values, itertools.repeat(what)), bool, len(values))


def _run_columns(
    batch: _Run,
    plan: Any,
    codecs: list[_Codec],
    pending: _Pending,
    to_facts: Callable[[Any], dict[str, Any]],
) -> None:
    n = len(pending.rows)
    if not n:
        return
    columns, to_scalar = _pack(codecs, pending.columns, n)
    raws = pending.raws
    result = plan.evaluate(
        columns, batch.on, to_scalar=to_scalar, row_facts=lambda i: to_facts(raws[i])
    )
    batch.summary.scalar_rows += len(result.scalar)
    values = [result.json_column(name) for name in batch.outputs]
    if any(col is None for col in values):  # a value with no quick form: row by row
        batch.write_rows(pending.rows, _result_rows(result, n))
        return
    special: dict[int, dict[str, Any] | None] = {}
    for i in sorted(result.scalar):
        number, line = pending.rows[i]
        done = result.scalar[i]
        outs = done if isinstance(done, PolicyError) else dict(done.outputs)
        special[i] = batch.record(number, line, outs)
    batch.summary.ok += n - sum(1 for r in special.values() if r is None)
    batch.writer.write_columns([[number for number, _line in pending.rows], *values], special)


def _too_large(exc: ArithmeticError) -> PolicyError:
    from ..language.errors import EvaluationError

    return EvaluationError(
        f"a value is too large to compute exactly ({type(exc).__name__}); check the facts' magnitudes"
    )


def _progress(source: Path, enabled: bool | None) -> Callable[..., None]:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return lambda n, done=False: None
    bar = tqdm(
        desc=f"evaluating {source.name}",
        unit=" rows",
        disable=None if enabled is None else not enabled,
        leave=True,
    )

    def update(n: int, done: bool = False) -> None:
        bar.update(n - bar.n)
        if done:
            bar.close()

    return update
