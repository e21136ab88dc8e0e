"""What the decision log costs an HTTP batch: the same 10,000-row batch sent to three
`policy serve` processes (no decision log, a JSONL log, a SQLite log), interleaved rounds,
the median wall time of each, and the ratio to the server without a log.

Starts the servers (uvicorn, one worker each) on 127.0.0.1 on free ports in subprocesses;
traffic goes to 127.0.0.1 only and the run stops by itself. Each logged batch must come
back 200 with a decision id on every answered row, and the log must grow by exactly one
entry per answered row.

    python benchmarks/http_batch_log.py [--rows 10000] [--rounds 7]

Client and servers share this machine's cores; the servers are idle but for the one batch
in flight.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import POLICY, free_port  # noqa: E402
from pension_per_case import random_facts  # noqa: E402


def start(log: Path | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "interpreter.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)] + (["--decision-log", str(log)] if log else [])
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("server did not start")
        time.sleep(0.1)


def entries(log: Path) -> int:
    if not log.exists():
        return 0
    if log.suffix == ".sqlite":
        with sqlite3.connect(log) as db:
            return int(db.execute("SELECT count(*) FROM decisions").fetchone()[0])
    with log.open("rb") as handle:
        return sum(1 for _ in handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(11)
    body = json.dumps([random_facts(rng) for _ in range(args.rows)]).encode()
    tmp = Path(tempfile.mkdtemp(prefix="http-batch-log-"))
    logs: dict[str, Path | None] = {
        "no decision log": None,
        "JSONL decision log": tmp / "decisions.jsonl",
        "SQLite decision log": tmp / "decisions.sqlite",
    }
    servers = {name: start(log) for name, log in logs.items()}
    times: dict[str, list[float]] = {name: [] for name in logs}
    refused = dict.fromkeys(logs, 0)
    try:
        with httpx.Client(timeout=120) as client:
            for round_ in range(args.rounds + 1):  # the first round warms up
                for name, (_server, base) in servers.items():
                    log = logs[name]
                    before = entries(log) if log else 0
                    url = f"{base}/policies/{POLICY}/evaluate/batch?on=2021-01-01"
                    t0 = time.perf_counter()
                    r = client.post(url, content=body, headers={"content-type": "application/json"})
                    wall = time.perf_counter() - t0
                    if round_:
                        times[name].append(wall)
                    if r.status_code != 200:  # a 503 (time limit) or a 413: counted, and said
                        refused[name] += 1 if round_ else 0
                        continue
                    answered = [x for x in r.json()["results"] if "outputs" in x]
                    if log:
                        assert all("decision_id" in x for x in answered)
                        assert entries(log) - before == len(answered), name
    finally:
        for server, _base in servers.values():
            server.terminate()
            server.wait(timeout=10)
    base_time = statistics.median(times["no decision log"])
    print(
        f"{args.rows:,}-row batch, JSON array, {args.rounds} interleaved rounds, median wall time"
    )
    for name, walls in times.items():
        median = statistics.median(walls)
        note = f"  ({refused[name]} not 200)" if refused[name] else ""
        print(f"{name:20} {median * 1000:8.0f} ms  {median / base_time:.2f}×{note}")


if __name__ == "__main__":
    main()
