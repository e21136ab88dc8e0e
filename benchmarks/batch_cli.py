"""End-to-end wall time of `policy eval --batch`: CSV in, every row's facts checked as a
single evaluation checks them, columnar evaluation, CSV out written atomically.

    python benchmarks/batch_cli.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pension_per_case import POLICY, ROOT, random_facts

COLUMNS = [
    "pension_start_date",
    "retirement_approved_date",
    "pension_base_year",
    "monthly_pension",
    "contribution_years",
    "birth_date",
    "scheme",
    "military_transfer_cadre",
    "city_average_enterprise_pension",
    "personal_account_balance",
    "personal_account_pension_at_retirement",
    "initial_pension_at_retirement",
]


def write_cases(path: Path, rows: int) -> None:
    rng = random.Random(2021)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for _ in range(rows):
            facts = random_facts(rng)
            facts["military_transfer_cadre"] = str(facts["military_transfer_cadre"]).lower()
            writer.writerow(facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases, out = Path(tmp) / "cases.csv", Path(tmp) / "out.csv"
        write_cases(cases, args.rows)
        cmd = [sys.executable, "-m", "interpreter.cli", "eval", POLICY, "--batch", str(cases)]
        cmd += ["--out", str(out), "--on", "2021-01-01"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"batch failed ({proc.returncode}): {proc.stderr.strip()}")
        with out.open(encoding="utf-8") as handle:
            written = sum(1 for _ in handle) - 1
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rows: {args.rows:,} in, {written:,} out")
    print(f"wall: {wall:.1f} s ({wall / args.rows * 1e6:.0f} us a row), max RSS {rss:.0f} MiB")
    print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")


if __name__ == "__main__":
    main()
