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
representation (fen, day numbers, codes: ``facts.QuickNumber``/``values.read_date``) without a
Decimal, and the outputs are formatted per column from the engine's integer columns. A
row with any value the quick readers do not accept is parsed exactly as before, so its
error (or its value) is the one ``parse_facts`` gives; outputs are what ``to_json`` gives.
The rows and their chunks (``CHUNK`` rows of good facts) are the same as row by row.

This module runs a batch (row by row, or a block of columns at a time); ``readers`` reads
the file, ``columns`` reads values straight to the engine's columns, ``writers`` writes
the outputs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..language.errors import FactError, PolicyError, TooLargeError
from ..language.values import Kind, to_json
from ..policy.files import atomic_paths
from ..policy.model import Policy
from ..runtime.facts import parse_facts
from ..runtime.program import Program
from .columns import MISS, _Codec, _pack
from .readers import (
    CHUNK,
    BatchFileError,
    RowError,
    _csv_blocks,
    _csv_facts,
    file_format,
    read_rows,
)
from .writers import _Writer


@dataclass
class BatchSummary:
    rows: int = 0
    ok: int = 0
    errors: list[RowError] = field(default_factory=list)
    scalar_rows: int = 0  # rows the columnar engine handed to the scalar engine


@dataclass
class _Run:
    """What every stage of one batch shares: the policy and date, the outputs and their
    kinds, where accepted rows go, where rejected rows go, and the running counts."""

    program: Program
    policy: Policy
    on: dt.date
    outputs: list[str]
    kinds: dict[str, Kind]
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
            self.reject(RowError(number, line, None, TooLargeError(exc).message))
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
    _check_targets(source, out, errors_path)
    outputs = list(policy.outputs)
    kinds = {name: policy.outputs[name].type.kind for name in outputs}
    summary = BatchSummary()
    bar = _progress(source, progress)
    try:
        with atomic_paths(out, errors_path) as (tmp_out, tmp_err):
            writer = _Writer(tmp_out, out_fmt, ["row", *outputs], kinds)
            try:
                with tmp_err.open("w", encoding="utf-8") as err_handle:
                    _write_batch(program, source, on, columnar, writer, err_handle, summary, bar)
            except BaseException:
                writer.discard()
                raise
            writer.close(tmp_out)
    except OSError as exc:  # a file that cannot be written (or read): nothing is written
        where = exc.filename or out
        raise BatchFileError(f"{where}: {exc.strerror or exc}") from None
    return summary


def _check_targets(source: Path, out: Path, errors_path: Path) -> None:
    """Refuse, before anything is written, outputs that would overwrite the input or each
    other, or that are folders."""
    for target in (out, errors_path):
        if _same_file(target, source):
            raise BatchFileError(f"{target}: the output would overwrite the input")
    if _same_file(errors_path, out):
        raise BatchFileError(
            f"{errors_path}: the errors file would overwrite the outputs (--out); "
            "give --errors another file"
        )
    for target in (out, errors_path):
        if target.is_dir():
            raise BatchFileError(f"{target}: is a folder; give a file to write")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:  # one of them does not exist (yet)
        return False


def _write_batch(
    program: Program,
    source: Path,
    on: dt.date,
    columnar: bool,
    writer: _Writer,
    err_handle: TextIO,
    summary: BatchSummary,
    bar: Callable[..., None],
) -> None:
    """Every row of ``source``: its outputs to ``writer``, or its error to ``err_handle``."""
    policy = program.policy
    outputs = writer.columns[1:]
    pending: list[RowError] = []

    def reject(error: RowError) -> None:
        summary.errors.append(error)
        pending.append(error)

    def flush_errors() -> None:  # in row order, whichever stage found them
        for error in sorted(pending, key=lambda e: e.row):
            err_handle.write(json.dumps(error.as_dict(), ensure_ascii=False) + "\n")
        pending.clear()

    plan = _columnar_plan(program) if columnar else None
    batch = _Run(program, policy, on, outputs, writer.kinds, writer, reject, summary)
    if plan is not None and _Codec.supports(policy):
        run = _by_column(batch, plan, source)
    else:
        run = _by_row(batch, source, columnar)
    for _ in run:  # after each chunk
        flush_errors()
        bar(summary.rows)
    flush_errors()
    bar(summary.rows, done=True)


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
            reject(RowError(number, line, None, TooLargeError(exc).message))
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

    out: list[dict[str, Any] | PolicyError] = []
    for values in facts:
        try:
            out.append(evaluate_parsed(program, dict(values), on, trace=False).outputs)
        except PolicyError as exc:
            out.append(exc)
        except ArithmeticError as exc:
            out.append(TooLargeError(exc))
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

        def to_facts(raw: Any) -> dict[str, Any]:
            return parse_facts(policy, _csv_facts(header, csv_kinds, raw))

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
                errors.append(RowError(number, line, None, TooLargeError(exc).message))
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
