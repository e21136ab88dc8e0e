"""HTTP latency, throughput and memory of `policy serve`, under a bounded loopback load.

Starts the service (uvicorn, one worker) on 127.0.0.1 on a free port in a subprocess, sends
a fixed number of single evaluations (POST /policies/pension-adjustment-2021/evaluate,
random valid facts, full trace) with a small fixed concurrency, and prints p50/p99
latency, throughput, and the server's resident memory after warm-up and at the end.
Traffic goes to 127.0.0.1 only; the run stops by itself.

    python benchmarks/http_load.py [--requests 5000] [--concurrency 8]
    python benchmarks/http_load.py --requests 100000      # the memory-flatness run

Client and server share this machine's cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pension_per_case import random_facts  # noqa: E402

POLICY = "pension-adjustment-2021"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], float, int]:
    """A minimal keep-alive HTTP/1.1 client on raw asyncio streams: a heavier client
    (httpx) would spend more CPU than the server on this shared 2-core machine."""
    host, port_path = url.split("//", 1)[1].split(":", 1)
    port, path = port_path.split("/", 1)
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        ).encode()
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if b" 200 " not in status_line:
                failures += 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - t0, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interpreter.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(
                    f"server did not start: {server.stderr.read().decode() if server.stderr else ''}"
                )
            time.sleep(0.1)
        rng = random.Random(7)
        pool = [
            json.dumps({"facts": random_facts(rng), "on": "2021-01-01"}).encode()
            for _ in range(2000)
        ]
        url = f"{base}/policies/{POLICY}/evaluate"
        asyncio.run(load(url, [pool[i % len(pool)] for i in range(args.warmup)], args.concurrency))
        rss_before = rss_mib(server.pid)
        bodies = [pool[i % len(pool)] for i in range(args.requests)]
        latencies, wall, failures = asyncio.run(load(url, bodies, args.concurrency))
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"requests: {args.requests:,} (after {args.warmup} warm-up), concurrency {args.concurrency}, loopback, 1 uvicorn worker"
    )
    print(f"latency p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"throughput {args.requests / wall:,.0f} requests/s over {wall:.1f} s; non-200: {failures}"
    )
    print(
        f"server RSS after warm-up {rss_before:.1f} MiB, after the run {rss_after:.1f} MiB "
        f"(change {rss_after - rss_before:+.1f} MiB)"
    )


if __name__ == "__main__":
    main()
