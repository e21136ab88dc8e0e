"""POST /policies/{id}/evaluate/batch: a JSON array of facts objects, or JSONL, evaluated
by the columnar engine; one result or error per row, none lost (``batch.v1``).

JSONL is one row per non-blank line, a line ending at ``\\n`` (or ``\\r\\n``) only, never at
a U+2028, U+0085, ``\\x0b`` or ``\\x0c`` inside it, and each line decoded strictly: a line
that is not UTF-8 is that row's error, so that row numbers are the input's.

The rows are evaluated in chunks, the time limit checked between rows and chunks: a batch
answered 503 stops. Its decisions are logged only when the batch is answered, in one
write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..language.errors import FactError, PolicyError, TooLargeError
from ..language.values import to_json
from ..runtime.facts import parse_facts, parse_on
from ..runtime.program import Program
from ..runtime.versions import CALENDAR_VERSION, ENGINE_VERSION
from .catalog import HASH_HEADER, Catalog
from .decision_log import Decision, DecisionLog
from .limits import Job, Slots, in_thread, run_limited
from .problems import Problem
from .request_body import parse_json, read_body

JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
CHUNK = 2048  # rows per call of the columnar engine; the time limit is checked between


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
    slots: Slots,
    *,
    max_batch_body: int,
    max_batch_rows: int,
    time_limit: float,
    body_timeout: float,
) -> Callable[[Request], Awaitable[Response]]:
    """The batch endpoint of an app: its catalog, decision log, limits and time limit."""

    async def evaluate_batch(request: Request) -> Response:
        program = catalog.program(request.path_params["id"])
        job = slots.enter()  # before the body is read: a busy server reads nothing
        try:
            return await evaluate_rows(request, program, job)
        finally:
            job.close()

    async def evaluate_rows(request: Request, program: Program, job: Job) -> Response:
        policy = program.policy
        ctype = (
            request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        )
        raw = await read_body(request, max_batch_body, body_timeout)
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
        del raw
        if len(rows) > max_batch_rows:
            raise Problem(
                413,
                "too-many-rows",
                "Too many rows",
                f"at most {max_batch_rows} rows per request",
                "",
            )
        kinds = {n: o.type.kind for n, o in policy.outputs.items()}

        def work(job: Job) -> tuple[dict[str, Any], list[Decision]]:
            from ..batch import run

            results: list[dict[str, Any] | None] = [None] * len(rows)
            decisions: list[Decision] = []
            for start in range(0, len(rows), CHUNK):
                parsed: list[dict[str, Any]] = []
                where: list[int] = []
                for i in range(start, min(start + CHUNK, len(rows))):
                    job.check()
                    if i in bad_lines:
                        p = bad_lines[i]
                        results[i] = {"row": i + 1, "error": {"field": None, "detail": p.detail}}
                        continue
                    try:
                        parsed.append(parse_facts(policy, rows[i]))
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
                if not parsed:
                    continue
                outs, _scalar = run.evaluate_parsed_rows(program, parsed, on)
                job.check()
                answered: list[dict[str, Any]] = []
                for i, out in zip(where, outs, strict=True):
                    record = results[i] = answer(i, out)
                    if "outputs" in record:
                        answered.append(record)
                if log is not None and answered:
                    chunk = [(rows[r["row"] - 1], r["outputs"]) for r in answered]
                    for record, decision in zip(
                        answered, log.prepare_many(policy, on, chunk), strict=True
                    ):
                        record["decision_id"] = decision.decision_id
                        decisions.append(decision)
            errors = sum(1 for r in results if r is not None and "error" in r)
            doc = {
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
            return doc, decisions

        def answer(i: int, out: dict[str, Any] | PolicyError) -> dict[str, Any]:
            """Row i's entry: its outputs, or its error."""
            if isinstance(out, PolicyError):
                return {"row": i + 1, "error": {"field": "facts", "detail": out.message}}
            try:
                outputs = {k: to_json(out[k], kinds[k]) for k in policy.outputs}
            except ArithmeticError as exc:  # an output beyond Decimal's 28 digits
                detail = TooLargeError(exc).message
                return {"row": i + 1, "error": {"field": "facts", "detail": detail}}
            return {"row": i + 1, "outputs": outputs}

        doc, decisions = await run_limited(job, work, time_limit)
        if log is not None:  # answered: now, and only now, the decisions are logged
            await in_thread(log.write, decisions)
        return JSONResponse(doc, headers={HASH_HEADER: policy.content_hash})

    return evaluate_batch
