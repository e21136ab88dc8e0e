"""Guangdong gazette 2021-07-15 as policy-as-code: the interpreter's public API."""

from .api import Repository, evaluate, load, obligations
from .language.errors import (
    EvaluationError,
    FactError,
    NotInForceError,
    PolicyError,
    UnknownPolicyError,
    ValidationErrors,
)
from .runtime.engine import ENGINE_VERSION, Result, TraceStep

__all__ = [
    "ENGINE_VERSION",
    "EvaluationError",
    "FactError",
    "NotInForceError",
    "PolicyError",
    "Repository",
    "Result",
    "TraceStep",
    "UnknownPolicyError",
    "ValidationErrors",
    "evaluate",
    "load",
    "obligations",
]
