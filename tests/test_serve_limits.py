"""`policy serve` against slow and idle clients, on a loopback port, with small limits
(hidden CLI options) so that each test takes seconds: heads and bodies that arrive too
slowly are cut off, idle connections beyond the cap are evicted, /healthz stays reachable;
a bad or busy port is one line and exit 2."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[1]
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 8


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthz(port: int, timeout: float = 3.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()


def _start(*extra: str, preexec: object = None) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cmd = [sys.executable, "-m", "interpreter.cli", "serve", "--port", str(port), *extra]
    proc = subprocess.Popen(
        cmd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,  # type: ignore[arg-type]
    )
    deadline = time.monotonic() + 20
    for _ in range(400):  # bounded: at most 20 s
        if proc.poll() is not None or time.monotonic() > deadline:
            break
        try:
            if _healthz(port, 1.0) == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    _, err = proc.communicate(timeout=10)
    raise AssertionError(f"the server did not start: {err.decode()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def server() -> Iterator[int]:
    proc, port = _start(
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--body-timeout",
        str(BODY_TIMEOUT),
        "--keep-alive",
        "1",
        "--max-connections",
        str(MAX_CONNECTIONS),
    )
    try:
        yield port
    finally:
        _stop(proc)


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (EOF or reset), without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def _wait_closed(socks: list[socket.socket], within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        if all(_closed(s) for s in socks):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"connections still open after {within} s")


def test_slow_heads_are_closed_by_the_deadline_and_healthz_stays_reachable(server: int) -> None:
    socks = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(4)]
    try:
        start = time.monotonic()
        for i in range(30):  # a byte per socket every 0.1 s: never a whole head
            if time.monotonic() - start > HEADER_TIMEOUT + 2:
                break
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"GET /healthz HTTP/1.1\r\nX: "[i % 10 : i % 10 + 1])
            if i % 5 == 0:
                assert _healthz(server) == 200
            if all(_closed(s) for s in socks):
                break
            time.sleep(0.1)
        _wait_closed(socks, 1.0)
        assert time.monotonic() - start < HEADER_TIMEOUT + 2.5
        assert _healthz(server) == 200
    finally:
        for sock in socks:
            sock.close()


def test_idle_connections_are_closed(server: int) -> None:
    socks = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(3)]
    try:
        elapsed = _wait_closed(socks, HEADER_TIMEOUT + 2)
        assert elapsed >= HEADER_TIMEOUT - 0.3
    finally:
        for sock in socks:
            sock.close()


def test_idle_connections_beyond_the_cap_are_evicted(server: int) -> None:
    socks = [
        socket.create_connection(("127.0.0.1", server), timeout=5)
        for _ in range(MAX_CONNECTIONS * 3)
    ]
    try:
        for _ in range(3):  # at once, not after the deadline
            start = time.monotonic()
            assert _healthz(server) == 200
            assert time.monotonic() - start < HEADER_TIMEOUT
    finally:
        for sock in socks:
            sock.close()


def test_a_body_sent_too_slowly_is_a_408_problem(server: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    conn.request("GET", "/policies")
    ids = [p["id"] for p in json.loads(conn.getresponse().read())["policies"]]
    conn.close()
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        head = (
            f"POST /policies/{ids[0]}/evaluate HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"facts": ')
        start = time.monotonic()
        data = b""
        while time.monotonic() - start < BODY_TIMEOUT + 3:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - start
    status, _, rest = data.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408"), data
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in headers.lower()
    assert b"connection: close" in headers.lower()
    assert json.loads(body)["status"] == 408
    assert BODY_TIMEOUT - 0.3 <= elapsed < BODY_TIMEOUT + 3
    assert _healthz(server) == 200


def test_too_many_descriptors_for_the_ulimit_leave_healthz_reachable() -> None:
    resource = pytest.importorskip("resource")

    def low_ulimit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    proc, port = _start("--header-timeout", "30", preexec=low_ulimit)
    socks = []
    try:
        for _ in range(150):  # more than the server has descriptors for
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.2)
        for _ in range(3):
            assert _healthz(port) == 200
    finally:
        for sock in socks:
            sock.close()
        _stop(proc)


def _serve_fails(*args: str) -> tuple[int, list[str]]:
    run = subprocess.run(
        [sys.executable, "-m", "interpreter.cli", "serve", *args],
        env=_env(),
        capture_output=True,
        timeout=60,
    )
    return run.returncode, run.stderr.decode().splitlines()


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_one_line_and_exit_2(port: str) -> None:
    code, lines = _serve_fails("--port", port)
    assert code == 2
    assert len(lines) == 1 and "1-65535" in lines[0], lines


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, lines = _serve_fails("--port", str(port))
    assert code == 2
    assert len(lines) == 1 and "in use" in lines[0], lines


def test_the_server_config_carries_the_limits() -> None:
    from interpreter.service.app import create_app
    from interpreter.service.server import ServerLimits, server_config

    limits = ServerLimits(header_timeout=3, keep_alive=2, max_head=4096, max_connections=50)
    config = server_config(create_app(), limits, host="127.0.0.1", port=8000)
    assert config.timeout_keep_alive == 2
    assert config.h11_max_incomplete_event_size == 4096
    assert config.backlog == limits.backlog
    assert config.limit_concurrency == limits.connection_cap() + 1
    assert limits.connection_cap() <= 50
