"""The HTTP service: an ASGI app (Starlette) over a Repository of policies.

    policy serve [--host 127.0.0.1] [--port 8000] [--decision-log decisions.jsonl]

GET  /healthz                          liveness
GET  /openapi.json                     the contract (OpenAPI 3.1, facts schemas per policy)
GET  /policies                         every policy: loaded ones, and the ones that fail
GET  /policies/{id}                    metadata, facts, outputs, in-force window, schemas
POST /policies/{id}/evaluate           {"facts": {...}, "on": "YYYY-MM-DD", "explain": false}
POST /policies/{id}/evaluate/batch     a JSON array of facts objects, or JSONL; ?on=

Every error is application/problem+json (RFC 9457) naming the field at fault; bad input
is a 4xx, never a 500, never a stack trace. Bodies are limited in size, requests in time.
Responses about a policy carry its content hash (``X-Policy-Content-Hash``). No global
state: everything lives on the app (``app.state``).

Modules: ``app`` (this: the routes), ``problems`` (problem+json), ``request_body``
(size limits, strict JSON), ``catalog`` (the policies, request schemas),
``batch_endpoint``, ``decision_log``, ``limits`` (how many at once, the time limit),
``openapi`` (the document: ``openapi.json`` filled
per policy), ``server`` (uvicorn with limits on connections, head deadline and size).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..language.errors import PolicyError, TooLargeError
from ..runtime.engine import evaluate_parsed
from ..runtime.facts import parse_facts, parse_on
from ..runtime.json_schemas import policy_metadata, policy_summary, trace_document
from ..runtime.program import Program
from ..runtime.repository import Repository
from ..runtime.versions import CALENDAR_VERSION, ENGINE_VERSION
from .batch_endpoint import batch_endpoint
from .catalog import HASH_HEADER, Catalog, best_error
from .decision_log import Decision, DecisionLog
from .limits import Job, Slots, in_thread, run_limited
from .openapi import openapi_document
from .problems import PROBLEM, Problem, policy_error_problem, schema_problem
from .request_body import json_content_type, parse_json, read_body

__all__ = ["HASH_HEADER", "PROBLEM", "create_app"]

MAX_BODY = 1_000_000  # bytes, single evaluation
MAX_BATCH_BODY = 20_000_000  # bytes, batch
MAX_BATCH_ROWS = 100_000
TIME_LIMIT = 10.0  # seconds per request
BODY_TIMEOUT = 30.0  # seconds for a request's body to arrive, once its head has (else 408)
MAX_CONCURRENT = 32  # single evaluations at once (below anyio's 40 worker threads)
MAX_CONCURRENT_BATCHES = 2  # batches at once: each holds up to 20 MB of body and its rows


# ------------------------------------------------------------------------- app


def create_app(
    repo: Repository | None = None,
    *,
    decision_log: Path | str | None = None,
    max_body: int = MAX_BODY,
    max_batch_body: int = MAX_BATCH_BODY,
    max_batch_rows: int = MAX_BATCH_ROWS,
    time_limit: float = TIME_LIMIT,
    body_timeout: float = BODY_TIMEOUT,
    max_concurrent: int = MAX_CONCURRENT,
    max_concurrent_batches: int = MAX_CONCURRENT_BATCHES,
) -> Starlette:
    """The ASGI app. It holds its Repository (no global state).

    At most ``max_concurrent`` single evaluations and ``max_concurrent_batches`` batches
    run at once; beyond them a request is answered 503 with Retry-After at once, its body
    unread. A body that has not all arrived ``body_timeout`` seconds after the request's
    head is answered 408 and the connection closed. A request over ``time_limit`` seconds
    is answered 503 and its work stops."""
    catalog = Catalog(repo or Repository())
    log = DecisionLog(Path(decision_log)) if decision_log else None
    single_slots = Slots(max_concurrent, "evaluations")
    batch_slots = Slots(max_concurrent_batches, "batches")

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as problem:
                return problem.response(request.url.path)
            except PolicyError as exc:
                return policy_error_problem(exc).response(request.url.path)
            except Exception as exc:  # a bug: say so, without a stack trace
                return Problem(
                    500,
                    "internal-error",
                    "Internal error",
                    f"an internal error occurred ({type(exc).__name__}); please report it",
                ).response(request.url.path)

        return endpoint

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "engine_version": ENGINE_VERSION, "calendar_version": CALENDAR_VERSION}
        )

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(catalog))

    async def list_policies(request: Request) -> Response:
        items = []
        for policy_id in catalog.ids():
            try:
                policy = catalog.get(policy_id)
                summary = {**policy_summary(policy), "obligations": len(policy.obligations)}
                items.append({**summary, "status": "ok"})
            except Problem as problem:
                items.append({"id": policy_id, "status": "error", "error": problem.detail})
        return JSONResponse(
            {
                "policies": items,
                "engine_version": ENGINE_VERSION,
                "calendar_version": CALENDAR_VERSION,
            }
        )

    async def get_policy(request: Request) -> Response:
        policy = catalog.get(request.path_params["id"])
        meta = policy_metadata(policy)
        meta["obligations"] = [item.as_dict() for item in policy.obligations.values()]
        return JSONResponse(meta, headers={HASH_HEADER: policy.content_hash})

    async def evaluate(request: Request) -> Response:
        program = catalog.program(request.path_params["id"])
        job = single_slots.enter()
        try:
            return await evaluate_one(request, program, job)
        finally:
            job.close()

    async def evaluate_one(request: Request, program: Program, job: Job) -> Response:
        policy = program.policy
        json_content_type(request)
        body = parse_json(await read_body(request, max_body, body_timeout))
        if not isinstance(body, dict):
            raise Problem(
                422, "invalid-request", "Invalid request", "the body must be a JSON object", ""
            )
        error = best_error(catalog.validator(policy), body)
        if error is not None:
            raise schema_problem(policy, error)
        on = parse_on(body["on"]) if "on" in body else dt.date.today()
        explain = body.get("explain", False)
        with_trace = body.get("trace", True) or explain

        def work(job: Job) -> tuple[dict[str, Any], Decision | None]:
            policy.check_in_force(on)
            values = parse_facts(policy, body["facts"])
            result = evaluate_parsed(program, values, on, trace=with_trace)
            doc = trace_document(result)
            if explain:
                from ..runtime.explain import explain as account

                doc["explanation"] = account(program, result)
            decision = None
            if log is not None:
                decision = log.prepare(policy, on, body["facts"], doc["outputs"])
                doc["decision_id"] = decision.decision_id
            return doc, decision

        try:
            doc, decision = await run_limited(job, work, time_limit)
        except ArithmeticError as exc:  # Decimal's 28 digits exceeded: the facts are too large
            detail = TooLargeError(exc).message
            problem = Problem(
                422, "evaluation-failed", "Cannot evaluate these facts", detail, "facts"
            )
            problem.headers[HASH_HEADER] = policy.content_hash
            raise problem from None
        except PolicyError as exc:
            problem = policy_error_problem(exc)
            problem.headers[HASH_HEADER] = policy.content_hash
            raise problem from None
        if log is not None and decision is not None:  # answered: now, and only now, logged
            await in_thread(log.write, [decision])
        headers = {HASH_HEADER: policy.content_hash}
        if "decision_id" in doc:
            headers["X-Decision-Id"] = doc["decision_id"]
        return JSONResponse(doc, headers=headers)

    evaluate_batch = batch_endpoint(
        catalog,
        log,
        batch_slots,
        max_batch_body=max_batch_body,
        max_batch_rows=max_batch_rows,
        time_limit=time_limit,
        body_timeout=body_timeout,
    )

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        title = {404: "Not found", 405: "Method not allowed"}.get(status, "Error")
        slug = {404: "not-found", 405: "method-not-allowed"}.get(status, "error")
        problem = Problem(
            status, slug, title, f"{request.method} {request.url.path}: {title.lower()}"
        )
        if isinstance(exc, HTTPException) and exc.headers:
            problem.headers.update(exc.headers)
        return problem.response(request.url.path)

    async def server_error(request: Request, exc: Exception) -> Response:
        return Problem(
            500, "internal-error", "Internal error", "an internal error occurred; please report it"
        ).response()

    routes = [
        Route("/healthz", guarded(healthz), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/policies", guarded(list_policies), methods=["GET"]),
        Route("/policies/{id}", guarded(get_policy), methods=["GET"]),
        Route("/policies/{id}/evaluate", guarded(evaluate), methods=["POST"]),
        Route("/policies/{id}/evaluate/batch", guarded(evaluate_batch), methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: server_error},
    )
    app.state.catalog = catalog
    app.state.decision_log = log
    app.state.slots = {"evaluations": single_slots, "batches": batch_slots}
    return app
