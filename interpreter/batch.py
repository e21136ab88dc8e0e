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
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .engine import to_json
from .errors import FactError, PolicyError, did_you_mean
from .facts import parse_facts
from .files import atomic_path
from .loader import loads_json
from .model import Policy

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
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BatchFileError(f"{path}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BatchFileError(f"{path}:1: {exc}") from None
        for col, name in enumerate(header, start=1):
            if name not in policy.facts:
                hint = did_you_mean(name, policy.facts)
                raise BatchFileError(
                    f"{path}:1:{col}: unknown fact {name!r} for policy {policy.id}{hint}"
                )
        if len(set(header)) != len(header):
            raise BatchFileError(f"{path}:1: a column appears twice")
        kinds = [policy.facts[name].type.kind for name in header]
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                number += 1
                yield number, reader.line_num, RowError(number, reader.line_num, None, str(exc))
                continue
            number += 1
            line = reader.line_num
            if len(cells) != len(header):
                yield (
                    number,
                    line,
                    RowError(number, line, None, f"{len(cells)} cells for {len(header)} columns"),
                )
                continue
            yield (
                number,
                line,
                {
                    name: _csv_value(cell, kind)
                    for name, cell, kind in zip(header, cells, kinds, strict=True)
                    if cell != ""
                },
            )


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
        self.parquet_rows: list[dict[str, Any]] = []
        self.handle = None
        if fmt != ".parquet":
            self.handle = path.open("w", encoding="utf-8", newline="")
            if fmt == ".csv":
                self.csv = csv.writer(self.handle)
                self.csv.writerow(columns)

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == ".csv":
            self.csv.writerow(["" if record[c] is None else _cell(record[c]) for c in self.columns])
        elif self.fmt == ".jsonl":
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
        else:
            self.parquet_rows.append(record)

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
            c: [_parquet_out(r[c], self.kinds.get(c)) for r in self.parquet_rows]
            for c in self.columns
        }
        pq.write_table(pa.table(columns, schema=schema), path)


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


def evaluate_file(
    policy: Policy,
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
                    _run_chunk(policy, chunk, on, outputs, kinds, writer, reject, summary, columnar)
                    flush_errors()
                    bar(summary.rows)
                    chunk = []
            _run_chunk(policy, chunk, on, outputs, kinds, writer, reject, summary, columnar)
            flush_errors()
            bar(summary.rows, done=True)
        writer.close(tmp_out)
    return summary


def _run_chunk(
    policy: Policy,
    chunk: list[tuple[int, int | None, dict[str, Any]]],
    on: dt.date,
    outputs: list[str],
    kinds: dict[str, str],
    writer: _Writer,
    reject: Callable[[RowError], None],
    summary: BatchSummary,
    columnar: bool,
) -> None:
    if not chunk:
        return
    results, scalar = evaluate_parsed_rows(policy, [c[2] for c in chunk], on, columnar)
    summary.scalar_rows += scalar
    for (number, line, _facts), result in zip(chunk, results, strict=True):
        if isinstance(result, PolicyError):
            field_name = getattr(result, "fact", None)
            reject(RowError(number, line, field_name, result.message))
            continue
        try:
            record = {"row": number, **{k: to_json(result[k], kinds[k]) for k in outputs}}
        except ArithmeticError as exc:  # an output beyond Decimal's 28 digits
            reject(RowError(number, line, None, _too_large(exc).message))
            continue
        summary.ok += 1
        writer.write(record)


def evaluate_parsed_rows(
    policy: Policy, facts: list[dict[str, Any]], on: dt.date, columnar: bool = True
) -> tuple[list[dict[str, Any] | PolicyError], int]:
    """Outputs (or the error) of each row of parsed facts, and how many rows the scalar
    engine did: through the columnar engine when numpy is there, else the scalar engine."""
    if columnar:
        try:
            from .columnar import ColumnarPlan, evaluate_rows
        except ImportError:  # numpy absent: the scalar engine does the batch
            columnar = False
    if columnar:
        plan = _plans.get(id(policy))
        if plan is None or plan.policy is not policy:
            plan = _plans[id(policy)] = ColumnarPlan(policy)
        result = evaluate_rows(policy, facts, on, plan=plan)
        out: list[dict[str, Any] | PolicyError] = []
        for i in range(len(facts)):
            try:
                out.append(result.row(i))
            except PolicyError as exc:
                out.append(exc)
        return out, len(result.scalar)
    from .engine import evaluate_parsed

    out = []
    for values in facts:
        try:
            out.append(evaluate_parsed(policy, dict(values), on, trace=False).outputs)
        except PolicyError as exc:
            out.append(exc)
        except ArithmeticError as exc:
            out.append(_too_large(exc))
    return out, len(facts)


_plans: dict[int, Any] = {}


def _too_large(exc: ArithmeticError) -> PolicyError:
    from .errors import EvaluationError

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
