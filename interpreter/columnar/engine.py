"""Columnar evaluation: a policy's core definitions (``language.core``, from
``policy.lowering.lower_policy``) compiled to numpy over whole columns, with the scalar
engine's meaning, and the rows the columns cannot answer exactly sent to the scalar
engine.

The engine is split by job; this module gathers what callers use:

- ``values``: the column representations (``Num``, ``Rat``, ``Bool``, ``Date``, ``Cat``,
  ``Val``) and the integer kernels (exact fixed point, rounding, choice by arithmetic);
- ``operations``: the core language's operations over them;
- ``kernels``: the column forms of the registry's functions (``language.functions``);
- ``tables``: decision tables (first hit in row order, constant tables as lookups);
- ``compiler``: the core tree compiled to closures over a batch, by ``match``;
- ``plan``: ``ColumnarPlan`` (packing, evaluation, the scalar fallback) and its result.
"""

from __future__ import annotations

from .kernels import KERNELS, SCALAR_ONLY
from .plan import (
    ColumnarPlan,
    ColumnarResult,
    EvaluationError,
    columnar_plan,
    evaluate_rows,
    fen_text,
    fen_texts,
)
from .values import EPOCH_ORDINAL, MAX_SCALE, SAFE, Column, Unsupported

__all__ = [
    "EPOCH_ORDINAL",
    "KERNELS",
    "MAX_SCALE",
    "SAFE",
    "SCALAR_ONLY",
    "Column",
    "ColumnarPlan",
    "ColumnarResult",
    "EvaluationError",
    "Unsupported",
    "columnar_plan",
    "evaluate_rows",
    "fen_text",
    "fen_texts",
]
