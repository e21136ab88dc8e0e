"""Writing a batch's outputs (CSV, JSONL, Parquet): a record at a time, or a chunk's
columns at once with the same bytes."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TextIO, cast

from ..language.values import Kind, iso_date


class _Writer:
    def __init__(self, path: Path, fmt: str, columns: list[str], kinds: dict[str, Kind]) -> None:
        self.fmt = fmt
        self.columns = columns
        self.kinds = kinds
        self.parquet_columns: list[list[Any]] = [[] for _ in columns]
        self.handle: TextIO | None = None  # None for Parquet, written at close
        if fmt != ".parquet":
            # ``text`` is set for CSV and JSONL only, as ``csv`` is for CSV only
            self.text = self.handle = path.open("w", encoding="utf-8", newline="")
            if fmt == ".csv":
                self.csv = csv.writer(self.handle)
                self.csv.writerow(columns)

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == ".csv":
            self.csv.writerow(self._csv_cells(record))
        elif self.fmt == ".jsonl":
            self.text.write(json.dumps(record, ensure_ascii=False) + "\n")
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
            # None marks a special row left out: with no special row there is none
            kept = [x for x in lines if x is not None] if special else cast("list[str]", lines)
            if kept:
                self.text.write(end.join(kept) + end)
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

    def discard(self) -> None:
        """Stop writing: the file is to be thrown away."""
        if self.handle is not None:
            self.handle.close()

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
            elif kind == Kind.MONEY:
                fields.append(pa.field(c, pa.decimal128(20, 2)))
            elif kind == Kind.BOOLEAN:
                fields.append(pa.field(c, pa.bool_()))
            elif kind == Kind.INTEGER:
                fields.append(pa.field(c, pa.int64()))
            elif kind == Kind.DATE:
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


def _parquet_out(value: Any, kind: Kind | None) -> Any:
    if value is None:
        return None
    if kind == Kind.MONEY:
        return Decimal(value)
    if kind == Kind.DATE:
        return iso_date(value)
    if kind == Kind.NUMBER:
        return str(value)
    return value
