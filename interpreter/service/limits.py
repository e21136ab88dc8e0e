"""How much evaluation the service takes on: a bounded number at once (beyond it, 503 with
``Retry-After`` at once, before the body is read), and each within the time limit, past
which the request is answered 503 and its worker stops at its next check, so that work
nobody will receive neither burns the CPU nor reaches the decision log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from .problems import Problem

T = TypeVar("T")

RETRY_AFTER = "1"  # seconds, on every 503 a client may retry (busy, time limit)


class Slots:
    """The evaluations in progress, at most ``limit``: thread-safe, since a slot is given
    back by whichever ends last, the request or its worker thread."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.used = 0
        self.lock = threading.Lock()

    def enter(self) -> Job:
        """A slot for one request, or a 503 ``busy`` problem when all are taken."""
        with self.lock:
            if self.used >= self.limit:
                problem = Problem(
                    503,
                    "busy",
                    "Server busy",
                    f"{self.limit} {self.what} are in progress, the most this server runs "
                    "at once; retry later",
                    "",
                )
                problem.headers["Retry-After"] = RETRY_AFTER
                raise problem
            self.used += 1
        return Job(self)

    def _give_back(self) -> None:
        with self.lock:
            self.used -= 1


class Job:
    """One request's evaluation: its slot (held until both the request and its worker
    thread are done) and its stop flag (set once the request is answered without it, or
    its deadline passes), which the worker checks between rows and chunks."""

    def __init__(self, slots: Slots) -> None:
        self.slots = slots
        self.lock = threading.Lock()
        self.cancelled = False
        self.running = False  # the worker thread is inside the work
        self.open = True  # the request is not answered yet
        self.released = False
        self.deadline = float("inf")

    def stopped(self) -> bool:
        return self.cancelled or time.monotonic() > self.deadline

    def check(self) -> None:
        """In the worker: stop (TimeoutError) once the request no longer wants the work."""
        if self.stopped():
            raise TimeoutError

    def run(self, fn: Callable[[Job], T]) -> T:
        """In the worker thread: the work, unless it was cancelled before it started."""
        with self.lock:
            if self.cancelled:
                raise TimeoutError
            self.running = True
        try:
            return fn(self)
        finally:
            with self.lock:
                self.running = False
            self._release_if_done()

    def close(self) -> None:
        """The request is answered (or failed): whatever work remains is for nobody."""
        with self.lock:
            self.cancelled = True
            self.open = False
        self._release_if_done()

    def _release_if_done(self) -> None:
        with self.lock:
            if self.running or self.open or self.released:
                return
            self.released = True
        self.slots._give_back()


async def run_limited(job: Job, fn: Callable[[Job], T], time_limit: float) -> T:
    """Run CPU work in a worker thread, answering 503 (with Retry-After) if it outlasts the
    time limit; the worker, told by ``job``, stops at its next check."""
    job.deadline = time.monotonic() + time_limit
    try:
        with anyio.fail_after(time_limit):
            return await anyio.to_thread.run_sync(job.run, fn, abandon_on_cancel=True)
    except TimeoutError:
        job.close()
        problem = Problem(
            503,
            "time-limit",
            "Time limit exceeded",
            f"the request took longer than {time_limit:g} s",
            "",
        )
        problem.headers["Retry-After"] = RETRY_AFTER
        raise problem from None


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Blocking I/O (the decision log) off the event loop, run to its end."""
    return await anyio.to_thread.run_sync(fn, *args)
