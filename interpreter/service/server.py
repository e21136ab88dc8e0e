"""Running the app on uvicorn with explicit limits on connections, so that slow or idle
clients cannot hold the server: how many connections at once, how long a request's head
may take to arrive, how large it may be, how long an idle keep-alive connection is kept.
(The body's own deadline is the app's: ``request_body.read_body``.)

Beyond ``max_connections``, a new connection evicts the oldest one still waiting for its
request head (idle, or sending it slowly); if every connection is busy with a request, the
new one is answered 503 problem+json and closed. The cap is also kept below the process's
open-file limit, so that slow clients never exhaust the descriptors the server needs."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..language.errors import PolicyError
from .problems import PROBLEM, PROBLEM_BASE

HEADER_TIMEOUT = 10.0  # seconds for a request line and headers to arrive
KEEP_ALIVE = 5  # seconds an idle keep-alive connection is kept (uvicorn's timeout_keep_alive)
MAX_HEAD = 32 * 1024  # bytes of request line and headers
MAX_CONNECTIONS = 512  # connections at once (and below the open-file limit less FD_RESERVE)
FD_RESERVE = 64  # descriptors kept for the listening socket, logs, policy files
BACKLOG = 256  # connections the kernel queues before the server accepts them


@dataclass(frozen=True)
class ServerLimits:
    header_timeout: float = HEADER_TIMEOUT
    keep_alive: int = KEEP_ALIVE
    max_head: int = MAX_HEAD
    max_connections: int = MAX_CONNECTIONS
    backlog: int = BACKLOG

    def connection_cap(self) -> int:
        """``max_connections``, lowered to fit under the soft open-file limit."""
        try:
            import resource

            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        except (ImportError, OSError, ValueError):  # no such limit here (Windows)
            return self.max_connections
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft - FD_RESERVE))


def _busy_response() -> bytes:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "too-many-connections",
            "title": "Too many connections",
            "status": 503,
            "detail": "the server holds as many connections as it allows; retry later",
        }
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        f"content-type: {PROBLEM}\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 1\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class _Deadlines:
    """Mixed into uvicorn's HTTP protocols: a deadline for each request head (armed when
    the connection opens and after each response; a request whose head arrives in time
    disarms it), and the connection cap (evicting the oldest connection awaiting a head).

    Parser-independent: both of uvicorn's protocols set ``self.cycle`` anew once a
    request's head is parsed, so the head has arrived iff ``self.cycle`` changed."""

    limits: ServerLimits
    cap: int
    # set by uvicorn's protocols
    transport: asyncio.Transport
    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_cycle = self.cycle
        self._waiting_since = self.loop.time()
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.limits.header_timeout, self._head_deadline_passed
        )

    def _disarm_head_deadline(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        self._head_timer = None

    def _awaiting_head(self) -> bool:
        return getattr(self, "_head_timer", None) is not None and self.cycle is self._head_cycle

    def _head_deadline_passed(self) -> None:
        self._head_timer = None
        if self.cycle is self._head_cycle and not self.transport.is_closing():
            self.transport.close()  # the head did not arrive in time

    def connection_made(self, transport: Any) -> None:  # an asyncio.Transport
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_deadline()
        live = [c for c in self.connections if not c.transport.is_closing()]
        if len(live) <= self.cap:
            return
        idle = [c for c in live if c is not self and c._awaiting_head()]
        if idle:
            oldest = min(idle, key=lambda c: c._waiting_since)
            oldest._disarm_head_deadline()
            oldest.transport.close()
            self.connections.discard(oldest)  # now, not when its connection_lost runs
        else:
            self._disarm_head_deadline()
            transport.write(_busy_response())
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # no pipelined request
            self._arm_head_deadline()
        elif getattr(self, "_head_timer", None) is not None and self.cycle is not self._head_cycle:
            self._disarm_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if getattr(self, "_head_timer", None) is not None and self.cycle is not self._head_cycle:
            self._disarm_head_deadline()  # the head arrived


def protocol_class(limits: ServerLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol when installed (with a head size limit of its own),
    else its h11 protocol (limited by ``h11_max_incomplete_event_size``)."""
    cap = limits.connection_cap()
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:

        class LimitedH11(_Deadlines, H11Protocol):
            pass

        LimitedH11.limits, LimitedH11.cap = limits, cap
        return LimitedH11

    class LimitedHttpTools(_Deadlines, HttpToolsProtocol):
        _head_size = 0

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_size = 0

        def _count(self, size: int) -> None:
            self._head_size += size
            if self._head_size > limits.max_head:
                raise httptools.HttpParserError(f"request head over {limits.max_head} bytes")

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

    LimitedHttpTools.limits, LimitedHttpTools.cap = limits, cap
    return LimitedHttpTools


def server_config(app: Any, limits: ServerLimits | None = None, **kwargs: Any) -> uvicorn.Config:
    """The uvicorn configuration `policy serve` runs with (host, port, log_level, ... in
    ``kwargs``)."""
    limits = limits or ServerLimits()
    return uvicorn.Config(
        app,
        http=protocol_class(limits),
        # uvicorn's own 503 (text/plain) is only a backstop: the protocol keeps the
        # connections at most connection_cap(), evicting idle ones, so the app answers.
        limit_concurrency=limits.connection_cap() + 1,
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.max_head,
        backlog=limits.backlog,
        **kwargs,
    )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a PolicyError in one line (port in use, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PolicyError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise PolicyError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(app: Any, host: str, port: int, limits: ServerLimits | None = None) -> None:
    sock = bind(host, port)
    config = server_config(app, limits, host=host, port=port, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
