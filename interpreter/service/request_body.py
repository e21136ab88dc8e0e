"""Reading a request body: its size limit (declared and while reading), its content type,
and strict JSON (line and column on an error; no duplicate keys, no NaN)."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.requests import Request

from ..policy.loader import loads_json
from .problems import Problem


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, whole within ``timeout`` seconds (else 408, and the connection closes:
    a slow client holds neither an evaluation slot nor its connection), at most ``limit``
    bytes (else 413)."""
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
    with anyio.move_on_after(timeout) as scope:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    if scope.cancelled_caught:
        problem = Problem(
            408,
            "request-timeout",
            "Request timeout",
            f"the body did not arrive within {timeout:g} seconds",
            "",
        )
        problem.headers["Connection"] = "close"
        raise problem
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


def json_content_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send application/json, not {ctype}",
            "",
        )
