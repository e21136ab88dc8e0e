"""POST /policies/{id}/evaluate/batch: a JSON array of facts objects, or JSONL, evaluated
by the columnar engine; one result or error per row, none lost (``batch.v1``).

JSONL is one row per non-blank line, a line ending at ``\\n`` (or ``\\r\\n``) only, never at
a U+2028, U+0085, ``\\x0b`` or ``\\x0c`` inside it, and each line decoded strictly: a line
that is not UTF-8 is that row's error, so that row numbers are the input's."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..language.errors import FactError, PolicyError, TooLargeError
from ..language.values import to_json
from ..runtime.facts import parse_facts, parse_on
from ..runtime.versions import CALENDAR_VERSION, ENGINE_VERSION
from .catalog import HASH_HEADER, Catalog
from .decision_log import DecisionLog
from .problems import Problem
from .request_body import parse_json, read_body

JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")


def jsonl_rows(raw: bytes) -> tuple[list[Any], dict[int, Problem]]:
    """The rows of a JSONL body, and the problem of each row that is not a JSON value
    (by index). A line ends at ``\\n``, a ``\\r`` before it dropped; ``str.splitlines``
    would also break inside a string at U+2028, U+0085, ``\\x0b``, ``\\x0c`` and others.
    ``\\n`` is never part of a multi-byte UTF-8 character, so the bytes split safely before
    each line is decoded, strictly. A blank line is no row, as in ``policy eval --batch``."""
    rows: list[Any] = []
    bad_lines: dict[int, Problem] = {}
    for line in raw.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            if not line.decode("utf-8").strip():
                continue
        except UnicodeDecodeError:
            pass  # not blank: parse_json says the line is not UTF-8
        try:
            rows.append(parse_json(line, f"line {len(rows) + 1}"))
        except Problem as problem:
            bad_lines[len(rows)] = problem
            rows.append(None)
    return rows, bad_lines


def batch_endpoint(
    catalog: Catalog,
    log: DecisionLog | None,
    run_limited: Callable[[Callable[[], Any]], Awaitable[Any]],
    *,
    max_batch_body: int,
    max_batch_rows: int,
    time_limit: float,
) -> Callable[[Request], Awaitable[Response]]:
    """The batch endpoint of an app: its catalog, decision log, limits and time limit."""

    async def evaluate_batch(request: Request) -> Response:
        program = catalog.program(request.path_params["id"])
        policy = program.policy
        ctype = (
            request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        )
        raw = await read_body(request, max_batch_body)
        on_text = request.query_params.get("on")
        try:
            on = parse_on(on_text) if on_text is not None else dt.date.today()
        except FactError as exc:
            raise Problem(422, "invalid-date", "Invalid date", exc.message, "on") from None
        policy.check_in_force(on)
        if ctype in JSONL_TYPES:
            rows, bad_lines = jsonl_rows(raw)
        elif ctype in ("application/json", "") or ctype.endswith("+json"):
            rows = parse_json(raw)
            bad_lines = {}
            if not isinstance(rows, list):
                raise Problem(
                    422,
                    "invalid-request",
                    "Invalid request",
                    "the body must be a JSON array of facts objects (or JSONL)",
                    "",
                )
        else:
            raise Problem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send application/json or application/x-ndjson, not {ctype}",
                "",
            )
        if len(rows) > max_batch_rows:
            raise Problem(
                413,
                "too-many-rows",
                "Too many rows",
                f"at most {max_batch_rows} rows per request",
                "",
            )
        deadline = time.monotonic() + time_limit

        def work() -> dict[str, Any]:
            from ..batch.run import evaluate_parsed_rows

            results: list[dict[str, Any] | None] = [None] * len(rows)
            parsed: list[dict[str, Any]] = []
            where: list[int] = []
            for i, raw_facts in enumerate(rows):
                if time.monotonic() > deadline:
                    raise TimeoutError
                if i in bad_lines:
                    p = bad_lines[i]
                    results[i] = {"row": i + 1, "error": {"field": None, "detail": p.detail}}
                    continue
                try:
                    parsed.append(parse_facts(policy, raw_facts))
                    where.append(i)
                except FactError as exc:
                    results[i] = {
                        "row": i + 1,
                        "error": {
                            "field": f"facts.{exc.fact}" if exc.fact else "facts",
                            "detail": exc.message,
                        },
                    }
                except ArithmeticError as exc:  # a number beyond Decimal's 28 digits
                    detail = TooLargeError(exc).message
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": detail}}
            outs, _scalar = evaluate_parsed_rows(program, parsed, on)
            kinds = {n: o.type.kind for n, o in policy.outputs.items()}
            for i, out in zip(where, outs, strict=True):
                if isinstance(out, PolicyError):
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": out.message}}
                    continue
                try:
                    outputs = {k: to_json(out[k], kinds[k]) for k in policy.outputs}
                except ArithmeticError as exc:  # an output beyond Decimal's 28 digits
                    detail = TooLargeError(exc).message
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": detail}}
                    continue
                record: dict[str, Any] = {"row": i + 1, "outputs": outputs}
                if log is not None:
                    record["decision_id"] = log.record(policy, on, rows[i], outputs)
                results[i] = record
            errors = sum(1 for r in results if r is not None and "error" in r)
            return {
                "format": "batch.v1",
                "policy": policy.id,
                "on": on.isoformat(),
                "content_hash": policy.content_hash,
                "engine_version": ENGINE_VERSION,
                "calendar_version": CALENDAR_VERSION,
                "count": len(rows),
                "errors": errors,
                "results": results,
            }

        try:
            doc = await run_limited(work)
        except TimeoutError:
            raise Problem(
                503,
                "time-limit",
                "Time limit exceeded",
                f"the batch took longer than {time_limit:g} s",
                "",
            ) from None
        return JSONResponse(doc, headers={HASH_HEADER: policy.content_hash})

    return evaluate_batch
