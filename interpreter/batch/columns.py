"""Batch values read straight to the columnar engine's representation (the quick
readers, a column at a time), and a chunk's columns packed as the engine's input."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..language.values import NUMERIC, Kind, read_date
from ..policy.model import Policy
from ..runtime.facts import QuickNumber
from .readers import _csv_value

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

    KINDS = frozenset(Kind) - {Kind.LIST, Kind.NULL}

    @classmethod
    def supports(cls, policy: Policy) -> bool:
        return all(
            f.type.kind in cls.KINDS and (f.type.kind != Kind.ENUM or f.type.values)
            for f in policy.facts.values()
        )

    def __init__(self, fact: Any, plan: Any) -> None:
        from ..columnar.engine import EPOCH_ORDINAL

        self.fact = fact
        self.name = fact.name
        self.kind = kind = fact.type.kind
        self.epoch = EPOCH_ORDINAL
        self.vocab = plan.base_vocab
        self.number = QuickNumber(fact) if kind in NUMERIC else None
        if fact.default is not None:
            self.absent: Any = self.packed(fact.default)
        elif fact.required:
            self.absent = MISS
        else:
            self.absent = None
        self.texts: dict[str, Any] = {}  # text (a JSON or Parquet string) -> packed
        self.cells: dict[str, Any] = {"": self.absent}  # CSV cell -> packed
        if kind == Kind.ENUM:
            for value in fact.type.values:
                self.texts[value] = self.cells[value] = self.vocab[value]

    def packed(self, value: Any) -> Any:
        """A parsed value (``parse_facts``) as ``ColumnarPlan.pack`` holds it."""
        if value is None:
            return None
        kind = self.kind
        if kind in (Kind.MONEY, Kind.INTEGER):
            x = value.scaleb(2 if kind == Kind.MONEY else 0)
            if x != x.to_integral_value() or abs(x) >= _SAFE:
                return SCALAR
            return int(x)
        if kind == Kind.NUMBER:
            return value  # packed with its chunk's scale
        if kind == Kind.BOOLEAN:
            return bool(value)
        if kind == Kind.DATE:
            return value.toordinal() - self.epoch
        if kind == Kind.ENUM:
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
            if kind == Kind.MONEY:
                return coef * 10 ** (2 + exp)
            return coef if kind == Kind.INTEGER else read
        if kind == Kind.DATE:
            day = read_date(text)
            return MISS if day is None else day.toordinal() - self.epoch
        if kind == Kind.TEXT:
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
            boolean = self.kind == Kind.BOOLEAN
            for i, x in enumerate(out):
                if x is MISS:
                    c = cells[i]
                    x = get(c, MISS)
                    if x is MISS:
                        if boolean:
                            v = _csv_value(c, Kind.BOOLEAN)
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
        if self.kind == Kind.MONEY:
            vals = (coef * np.power(10, 2 + exp)).tolist()
        elif self.kind == Kind.INTEGER:
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
                x = v if kind == Kind.BOOLEAN else MISS
            elif numeric and (t is int or t is Decimal):
                x = self.text(str(v))  # the same digits: the same Decimal
            elif t is dt.date and kind == Kind.DATE:
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
        if kind in (Kind.MONEY, Kind.INTEGER):
            if has_null or SCALAR in vals:
                to_scalar |= _is(vals, SCALAR)
                vals = [v if type(v) is int else 0 for v in vals]
            data = np.array(vals, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
            out[codec.name] = Column(kind, data, 2 if kind == Kind.MONEY else 0, null)
        elif kind == Kind.NUMBER:
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
        elif kind == Kind.BOOLEAN:
            data = _is(vals, True)
            out[codec.name] = Column(kind, data, 0, null)
        elif kind in (Kind.DATE, Kind.ENUM):
            if has_null:
                empty = 0 if kind == Kind.DATE else -1
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
