"""Error types shared by every entry point.

Every error a user can cause carries the place at fault (``file:line:column`` and the
path inside the file, or the name of a fact), so the CLI, the HTTP service and batch
jobs can print one line without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

SHOWN = 80
"""At most this many characters of what a caller wrote are echoed in a message."""


def shown(value: object, *, quote: bool = True) -> str:
    """``repr(value)`` (or ``str`` with ``quote=False``) for an error message, cut to
    SHOWN characters with an ellipsis: a message never echoes unbounded input."""
    try:
        text = repr(value) if quote else str(value)
    except ValueError:  # an int too long to print (sys.int_info.str_digits_check_threshold)
        return "a number of thousands of digits"
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


@dataclass(frozen=True)
class Location:
    """Where in a policy file something was written."""

    file: str
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        place = self.file
        if self.line:
            place += f":{self.line}:{self.column}"
        return f"{place}: {self.path}" if self.path else place


class PolicyError(Exception):
    """Bad input: a policy file, a fact, a date. Always exit code 2 on the CLI."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class PolicyFileError(PolicyError):
    """A policy, clause, parameter or test file is invalid."""


class FactError(PolicyError):
    """The facts given for an evaluation are invalid (unknown name, wrong type, missing)."""

    def __init__(self, message: str, fact: str | None = None) -> None:
        super().__init__(f"fact {shown(fact)}: {message}" if fact else message)
        self.fact = fact


class NotInForceError(PolicyError):
    """The evaluation date lies outside the policy's in-force window."""


class EvaluationError(PolicyError):
    """A rule could not be evaluated for these facts (a needed optional fact is absent,
    no table row matches, a date does not exist...). ``placed`` once the message names
    the clause and article at fault: an enclosing computation passes it on unchanged."""

    def __init__(
        self, message: str, location: Location | None = None, *, placed: bool = False
    ) -> None:
        super().__init__(message, location)
        self.placed = placed


class TooLargeError(EvaluationError):
    """A value beyond what Decimal's 28 significant digits (or int64 fen) hold exactly:
    the facts are too large. One message wherever it is met (columnar, batch, HTTP)."""

    def __init__(self, exc: ArithmeticError) -> None:
        super().__init__(
            f"a value is too large to compute exactly ({type(exc).__name__}); "
            "check the facts' magnitudes"
        )


class UnknownPolicyError(PolicyError):
    """No policy with that id."""


class ValidationErrors(PolicyError):
    """Several file problems at once: `policy validate` lists them all."""

    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__(f"{len(errors)} problem(s); first: {errors[0]}")
        self.errors = errors


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix, or '' when nothing is close."""
    if len(name) > SHOWN:  # nothing that long is close to a name
        return ""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
