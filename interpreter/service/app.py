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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import jsonschema
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..api import Repository
from ..language.errors import (
    EvaluationError,
    FactError,
    NotInForceError,
    PolicyError,
    UnknownPolicyError,
    did_you_mean,
)
from ..policy.loader import loads_json
from ..policy.model import Policy
from ..runtime.engine import ENGINE_VERSION, evaluate_parsed, to_json
from ..runtime.facts import parse_facts, parse_on
from ..runtime.json_schemas import (
    facts_schema,
    outputs_schema,
    policy_metadata,
    policy_summary,
    trace_document,
    trace_schema,
)
from ..runtime.versions import CALENDAR_VERSION

PROBLEM = "application/problem+json"
HASH_HEADER = "X-Policy-Content-Hash"
PROBLEM_BASE = "https://gd-gazette-policy.example/problems/"
MAX_BODY = 1_000_000  # bytes, single evaluation
MAX_BATCH_BODY = 20_000_000  # bytes, batch
MAX_BATCH_ROWS = 100_000
TIME_LIMIT = 10.0  # seconds per request
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")


class Problem(Exception):
    """An RFC 9457 problem: status, a type slug, a title, the detail and the field."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.field = field
        self.extra = extra
        self.headers: dict[str, str] = {}

    def response(self, instance: str = "") -> Response:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
            body["pointer"] = "/" + self.field.replace(".", "/") if self.field else ""
        body.update(self.extra)
        return JSONResponse(body, self.status, headers=self.headers, media_type=PROBLEM)


# ------------------------------------------------------------------ decision log


class DecisionLog:
    """Append-only record of decisions: id, policy hash, input, output, timestamp.
    A ``.sqlite``/``.db`` path is a SQLite table ``decisions``; anything else is JSONL."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        self.sqlite = self.path.suffix.lower() in (".sqlite", ".sqlite3", ".db")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.sqlite:
            self.db = sqlite3.connect(str(self.path), check_same_thread=False)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS decisions (decision_id TEXT PRIMARY KEY, "
                "timestamp TEXT, policy TEXT, policy_hash TEXT, engine_version TEXT, "
                "on_date TEXT, input TEXT, output TEXT, calendar_version TEXT)"
            )
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(decisions)")}
            if "calendar_version" not in columns:  # a log begun before the column existed
                self.db.execute("ALTER TABLE decisions ADD COLUMN calendar_version TEXT")
            self.db.commit()
        else:
            self.handle = self.path.open("a", encoding="utf-8")

    def record(self, policy: Policy, on: dt.date, facts: Any, outputs: dict[str, Any]) -> str:
        decision_id = str(uuid.uuid4())
        entry = {
            "decision_id": decision_id,
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "policy": policy.id,
            "policy_hash": policy.content_hash,
            "engine_version": ENGINE_VERSION,
            "calendar_version": CALENDAR_VERSION,
            "on": on.isoformat(),
            "input": facts,
            "output": outputs,
        }
        with self.lock:
            if self.sqlite:
                self.db.execute(
                    "INSERT INTO decisions (decision_id, timestamp, policy, policy_hash, "
                    "engine_version, on_date, input, output, calendar_version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        decision_id,
                        entry["timestamp"],
                        policy.id,
                        policy.content_hash,
                        ENGINE_VERSION,
                        entry["on"],
                        _dumps(facts),
                        _dumps(outputs),
                        CALENDAR_VERSION,
                    ),
                )
                self.db.commit()
            else:
                self.handle.write(_dumps(entry) + "\n")
                self.handle.flush()
        return decision_id

    def close(self) -> None:
        if self.sqlite:
            self.db.close()
        else:
            self.handle.close()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


# --------------------------------------------------------------------- the state


class Catalog:
    """The app's policies: loaded on first use; a policy that fails to load is an error
    for that policy only, remembered so it is not reloaded on every request."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.failed: dict[str, str] = {}
        self.validators: dict[str, jsonschema.Draft202012Validator] = {}
        self.lock = threading.Lock()

    def ids(self) -> list[str]:
        return self.repo.ids()

    def get(self, policy_id: str) -> Policy:
        if policy_id in self.failed:
            raise Problem(
                503,
                "policy-unavailable",
                "Policy unavailable",
                f"policy {policy_id!r} failed to load: {self.failed[policy_id]}",
                "id",
            )
        try:
            with self.lock:
                return self.repo.policy(policy_id)
        except UnknownPolicyError as exc:
            raise Problem(404, "unknown-policy", "Unknown policy", exc.message, "id") from None
        except PolicyError as exc:
            self.failed[policy_id] = str(exc)
            return self.get(policy_id)
        except Exception as exc:  # a policy file the loader itself trips on
            self.failed[policy_id] = f"{type(exc).__name__}: {exc}"
            return self.get(policy_id)

    def loaded(self) -> list[Policy]:
        out = []
        for policy_id in self.ids():
            with contextlib.suppress(Problem):
                out.append(self.get(policy_id))
        return out

    def validator(self, policy: Policy) -> jsonschema.Draft202012Validator:
        v = self.validators.get(policy.id)
        if v is None:
            v = jsonschema.Draft202012Validator(
                request_schema(policy), format_checker=jsonschema.FormatChecker()
            )
            self.validators[policy.id] = v
        return v


def request_schema(policy: Policy) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "facts": facts_schema(policy),
            "on": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "explain": {"type": "boolean"},
            "trace": {"type": "boolean"},
        },
        "required": ["facts"],
        "additionalProperties": False,
    }


# ------------------------------------------------------------------------- body


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise Problem(400, "bad-request", "Bad request", "invalid Content-Length") from None
        if size > limit:
            raise _too_large(limit)
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "body-too-large", "Body too large", f"the body is over {limit} bytes", "")


def parse_json(raw: bytes, what: str = "body") -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(
            400, "malformed-json", "Malformed JSON", f"the {what} is not UTF-8", ""
        ) from None
    if not text.strip():
        raise Problem(400, "malformed-json", "Malformed JSON", f"the {what} is empty", "")

    try:
        return loads_json(text)
    except json.JSONDecodeError as exc:
        detail = f"invalid JSON in the {what} at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise Problem(400, "malformed-json", "Malformed JSON", detail, "") from None
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", f"invalid JSON: {exc}", "") from None


def _field_of(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        if extra:
            path.append(str(extra[0]))
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        if missing:
            path.append(missing)
    return ".".join(path)


def schema_problem(policy: Policy, error: jsonschema.ValidationError, prefix: str = "") -> Problem:
    field = _field_of(error)
    leaf = field.rsplit(".", 1)[-1]
    detail = error.message
    if error.validator == "additionalProperties" and field.startswith("facts."):
        hint = did_you_mean(leaf, policy.facts)
        detail = f"unknown fact {leaf!r} for policy {policy.id}{hint}"
    elif error.validator == "additionalProperties":
        detail = f"unknown field {leaf!r}"
    elif error.validator == "required":
        detail = f"{leaf!r} is required"
    elif field:
        detail = f"{field}: {_short(error)}"
    full = f"{prefix}{field}" if field else prefix.rstrip(".")
    return Problem(422, "invalid-request", "Invalid request", detail, full)


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf"):
        return f"{_show(error.instance)} is not a valid value (see the facts schema)"
    return error.message if len(error.message) < 300 else error.message[:300] + "..."


def _show(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) < 80 else text[:80] + "..."


def _best_error(
    validator: jsonschema.Draft202012Validator, body: Any
) -> jsonschema.ValidationError | None:
    return jsonschema.exceptions.best_match(validator.iter_errors(body))


def policy_error_problem(exc: PolicyError, field_prefix: str = "facts.") -> Problem:
    if isinstance(exc, FactError):
        field = exc.fact
        if field == "on":
            return Problem(422, "invalid-date", "Invalid date", exc.message, "on")
        return Problem(
            422,
            "invalid-facts",
            "Invalid facts",
            exc.message,
            f"{field_prefix}{field}" if field else field_prefix.rstrip("."),
        )
    if isinstance(exc, NotInForceError):
        return Problem(422, "not-in-force", "Policy not in force", exc.message, "on")
    if isinstance(exc, EvaluationError):
        return Problem(
            422, "evaluation-failed", "Cannot evaluate these facts", exc.message, "facts"
        )
    if isinstance(exc, UnknownPolicyError):
        return Problem(404, "unknown-policy", "Unknown policy", exc.message, "id")
    return Problem(422, "invalid-request", "Invalid request", str(exc), "")


# ------------------------------------------------------------------------- app


def create_app(
    repo: Repository | None = None,
    *,
    decision_log: Path | str | None = None,
    max_body: int = MAX_BODY,
    max_batch_body: int = MAX_BATCH_BODY,
    max_batch_rows: int = MAX_BATCH_ROWS,
    time_limit: float = TIME_LIMIT,
) -> Starlette:
    """The ASGI app. It holds its Repository (no global state)."""
    catalog = Catalog(repo or Repository())
    log = DecisionLog(Path(decision_log)) if decision_log else None

    async def run_limited(fn: Callable[[], Any]) -> Any:
        """Run CPU work in a worker thread, answering 503 if it outlasts the time limit."""
        try:
            with anyio.fail_after(time_limit):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
        except TimeoutError:
            raise Problem(
                503,
                "time-limit",
                "Time limit exceeded",
                f"the request took longer than {time_limit:g} s",
                "",
            ) from None

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
        policy = catalog.get(request.path_params["id"])
        _json_content_type(request)
        body = parse_json(await read_body(request, max_body))
        if not isinstance(body, dict):
            raise Problem(
                422, "invalid-request", "Invalid request", "the body must be a JSON object", ""
            )
        error = _best_error(catalog.validator(policy), body)
        if error is not None:
            raise schema_problem(policy, error)
        on = parse_on(body["on"]) if "on" in body else dt.date.today()
        explain = body.get("explain", False)
        with_trace = body.get("trace", True) or explain

        def work() -> dict[str, Any]:
            policy.check_in_force(on)
            values = parse_facts(policy, body["facts"])
            result = evaluate_parsed(policy, values, on, trace=with_trace)
            doc = trace_document(result)
            if explain:
                from ..runtime.explain import explain as account

                doc["explanation"] = account(policy, result)
            if log is not None:
                doc["decision_id"] = log.record(policy, on, body["facts"], doc["outputs"])
            return doc

        try:
            doc = await run_limited(work)
        except ArithmeticError as exc:  # Decimal's 28 digits exceeded: the facts are too large
            detail = f"a value is too large to compute exactly ({type(exc).__name__})"
            problem = Problem(
                422, "evaluation-failed", "Cannot evaluate these facts", detail, "facts"
            )
            problem.headers[HASH_HEADER] = policy.content_hash
            raise problem from None
        except PolicyError as exc:
            problem = policy_error_problem(exc)
            problem.headers[HASH_HEADER] = policy.content_hash
            raise problem from None
        headers = {HASH_HEADER: policy.content_hash}
        if "decision_id" in doc:
            headers["X-Decision-Id"] = doc["decision_id"]
        return JSONResponse(doc, headers=headers)

    async def evaluate_batch(request: Request) -> Response:
        policy = catalog.get(request.path_params["id"])
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
            rows: list[Any] = []
            bad_lines: dict[int, Problem] = {}
            text = raw.decode("utf-8", errors="replace")
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    rows.append(parse_json(line.encode("utf-8"), f"line {len(rows) + 1}"))
                except Problem as problem:
                    bad_lines[len(rows)] = problem
                    rows.append(None)
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
                    detail = f"a number is too large to handle exactly ({type(exc).__name__})"
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": detail}}
            outs, _scalar = evaluate_parsed_rows(policy, parsed, on)
            kinds = {n: o.type.kind for n, o in policy.outputs.items()}
            for i, out in zip(where, outs, strict=True):
                if isinstance(out, PolicyError):
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": out.message}}
                    continue
                try:
                    outputs = {k: to_json(out[k], kinds[k]) for k in policy.outputs}
                except ArithmeticError as exc:  # an output beyond Decimal's 28 digits
                    detail = f"a value is too large to compute exactly ({type(exc).__name__})"
                    results[i] = {"row": i + 1, "error": {"field": "facts", "detail": detail}}
                    continue
                results[i] = {"row": i + 1, "outputs": outputs}
                if log is not None:
                    results[i]["decision_id"] = log.record(policy, on, rows[i], outputs)
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

    def _json_content_type(request: Request) -> None:
        ctype = (
            request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        )
        if ctype and ctype != "application/json" and not ctype.endswith("+json"):
            raise Problem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send application/json, not {ctype}",
                "",
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
    return app


# --------------------------------------------------------------------- OpenAPI


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def openapi_document(catalog: Catalog) -> dict[str, Any]:
    """OpenAPI 3.1: generic paths, plus each loadable policy's paths with its own facts
    and outputs schemas (so clients and schemathesis know the exact payloads)."""
    problems = {
        "400": _problem_response("Malformed JSON"),
        "404": _problem_response("Unknown policy"),
        "413": _problem_response("Body too large"),
        "415": _problem_response("Unsupported media type"),
        "422": _problem_response("Invalid request, facts, date, or facts that cannot be evaluated"),
        "503": _problem_response("Policy unavailable (fails to load) or time limit exceeded"),
    }
    hash_header = {
        HASH_HEADER: {"schema": {"type": "string"}, "description": "the policy's content hash"}
    }
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    on_param = {
        "name": "on",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
    }
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "responses": {
                    "200": {
                        "description": "alive",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/policies": {
            "get": {
                "operationId": "listPolicies",
                "responses": {
                    "200": {
                        "description": "the policies",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PolicyList"}
                            }
                        },
                    }
                },
            }
        },
        "/policies/{id}": {
            "get": {
                "operationId": "getPolicy",
                "parameters": [id_param],
                "responses": {
                    "200": {
                        "description": "metadata, facts, outputs, in-force window",
                        "headers": hash_header,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **problems,
                },
            }
        },
        "/policies/{id}/evaluate": {
            "post": {
                "operationId": "evaluate",
                "parameters": [id_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/EvaluateRequest"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "trace.v1",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/TraceV1"}}
                        },
                    },
                    **problems,
                },
            }
        },
        "/policies/{id}/evaluate/batch": {
            "post": {
                "operationId": "evaluateBatch",
                "parameters": [id_param, on_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"type": "object"}}
                        },
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                "responses": {
                    "200": {
                        "description": "one result or error per row",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/BatchV1"}}
                        },
                    },
                    **problems,
                },
            }
        },
    }
    trace = dict(trace_schema())
    trace.pop("$schema", None)
    trace.pop("$id", None)
    defs = trace.pop("$defs")
    trace = json.loads(json.dumps(trace).replace("#/$defs/", "#/components/schemas/"))
    defs = json.loads(json.dumps(defs).replace("#/$defs/", "#/components/schemas/"))
    schemas: dict[str, Any] = {
        **defs,
        "TraceV1": trace,
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "field": {
                    "type": "string",
                    "description": "the request field at fault, dotted (facts.monthly_pension)",
                },
                "pointer": {"type": "string", "description": "the same as a JSON Pointer"},
            },
        },
        "EvaluateRequest": {
            "type": "object",
            "required": ["facts"],
            "properties": {
                "facts": {"type": "object"},
                "on": {"type": "string", "format": "date"},
                "explain": {"type": "boolean"},
                "trace": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "PolicyList": {
            "type": "object",
            "properties": {"policies": {"type": "array", "items": {"type": "object"}}},
        },
        "BatchV1": {
            "type": "object",
            "required": ["format", "policy", "on", "content_hash", "count", "errors", "results"],
            "properties": {
                "format": {"const": "batch.v1"},
                "policy": {"type": "string"},
                "on": {"type": "string"},
                "content_hash": {"type": "string"},
                "engine_version": {"type": "string"},
                "calendar_version": {"type": "string"},
                "count": {"type": "integer"},
                "errors": {"type": "integer"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["row"],
                        "properties": {
                            "row": {"type": "integer"},
                            "outputs": {"type": "object"},
                            "error": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": ["string", "null"]},
                                    "detail": {"type": "string"},
                                },
                            },
                            "decision_id": {"type": "string"},
                        },
                    },
                },
            },
        },
    }
    for policy in catalog.loaded():
        key = "".join(part.capitalize() for part in policy.id.replace("_", "-").split("-"))
        facts = dict(facts_schema(policy))
        facts.pop("$schema", None)
        outputs = dict(outputs_schema(policy))
        outputs.pop("$schema", None)
        schemas[f"{key}Facts"] = facts
        schemas[f"{key}Outputs"] = outputs
        schemas[f"{key}Request"] = {
            "type": "object",
            "required": ["facts"],
            "properties": {
                "facts": {"$ref": f"#/components/schemas/{key}Facts"},
                "on": {
                    "type": "string",
                    "format": "date",
                    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                },
                "explain": {"type": "boolean"},
                "trace": {"type": "boolean"},
            },
            "additionalProperties": False,
        }
        schemas[f"{key}Result"] = {
            "allOf": [
                {"$ref": "#/components/schemas/TraceV1"},
                {
                    "type": "object",
                    "properties": {"outputs": {"$ref": f"#/components/schemas/{key}Outputs"}},
                },
            ]
        }
        base = f"/policies/{policy.id}"
        paths[base] = {
            "get": {
                "operationId": f"get{key}",
                "responses": {
                    "200": {
                        "description": policy.title.en,
                        "headers": hash_header,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **problems,
                },
            }
        }
        paths[f"{base}/evaluate"] = {
            "post": {
                "operationId": f"evaluate{key}",
                "summary": f"{policy.document.number} {policy.title.zh}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{key}Request"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "trace.v1",
                        "headers": hash_header,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{key}Result"}
                            }
                        },
                    },
                    **problems,
                },
            }
        }
        paths[f"{base}/evaluate/batch"] = {
            "post": {
                "operationId": f"evaluateBatch{key}",
                "parameters": [on_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": f"#/components/schemas/{key}Facts"},
                            }
                        },
                    },
                },
                "responses": {
                    "200": {
                        "description": "one result or error per row",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/BatchV1"}}
                        },
                    },
                    **problems,
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guangdong gazette 2021-07-15 policy interpreter",
            "version": ENGINE_VERSION,
            "description": "Evaluate encoded policies. Errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
