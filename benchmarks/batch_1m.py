"""Batch speed on 1,000,000 pension cases, measured side by side in one run:

- our columnar engine (interpreter/columnar/: the policy's core tree compiled to numpy),
- a hand-written numpy version of the same rule (the floor for numpy code),
- OpenFisca (openfisca-core) with the same rule written as OpenFisca variables in
  benchmarks/openfisca_pension/.

All three read the same generated cases (integer fen for money, days for dates, exact
integer rounding) and must agree on every output before their times are shown.

    python benchmarks/batch_1m.py [--cases 1000000] [--openfisca-cases N] [--repeat 3]

OpenFisca is optional: `pip install -e '.[bench]'` (or `pip install openfisca-core`).
Without it the script says so and skips that column.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from interpreter import Repository  # noqa: E402
from interpreter.columnar.engine import EPOCH_ORDINAL, Column, ColumnarPlan  # noqa: E402

POLICY = "pension-adjustment-2021"
ON = dt.date(2021, 1, 1)
SCHEMES = ["enterprise", "public_institution", "other"]


def day(d: dt.date) -> int:
    return d.toordinal() - EPOCH_ORDINAL


def generate(n: int, seed: int = 2021) -> dict[str, np.ndarray]:
    """Cases like benchmarks/pension_per_case.py's random_facts, as typed arrays."""
    rng = np.random.default_rng(seed)
    start = day(dt.date(2000, 1, 1)) + rng.integers(0, 8100, n)
    cadre = rng.random(n) < 0.1
    split = rng.random(n) < 0.5
    return {
        "pension_start_date": start,
        "retirement_approved_date": start - rng.integers(0, 40, n),
        "pension_base_year": rng.choice(np.array([2019, 2020, 2021]), n),
        "monthly_pension": rng.integers(100000, 1500000, n),  # fen
        "contribution_years_tenths": rng.integers(0, 450, n),  # tenths of a year
        "birth_date": day(dt.date(1915, 1, 1)) + rng.integers(0, 16000, n),
        "scheme": rng.integers(0, 3, n),  # index into SCHEMES
        "military_transfer_cadre": cadre,
        "city_average_enterprise_pension": np.where(cadre, 350000, 0),
        "city_average_null": ~cadre,
        "personal_account_balance": np.where(split, rng.choice([0, 1200000], n), 0),
        "split_null": ~split,
        "personal_account_pension_at_retirement": np.where(split, 60000, 0),
        "initial_pension_at_retirement": np.where(split, 240000, 0),
    }


def columns_for(plan: ColumnarPlan, g: dict[str, np.ndarray]) -> dict[str, Column]:
    vocab = plan.base_vocab
    codes = np.array([vocab[s] for s in SCHEMES], dtype=np.int64)
    return {
        "pension_start_date": Column("date", g["pension_start_date"]),
        "retirement_approved_date": Column("date", g["retirement_approved_date"]),
        "pension_base_year": Column("integer", g["pension_base_year"]),
        "monthly_pension": Column("money", g["monthly_pension"], 2),
        "contribution_years": Column("number", g["contribution_years_tenths"], 1),
        "birth_date": Column("date", g["birth_date"]),
        "scheme": Column("enum", codes[g["scheme"]]),
        "military_transfer_cadre": Column("boolean", g["military_transfer_cadre"]),
        "city_average_enterprise_pension": Column(
            "money", g["city_average_enterprise_pension"], 2, g["city_average_null"]
        ),
        "personal_account_pension_at_retirement": Column(
            "money", g["personal_account_pension_at_retirement"], 2, g["split_null"]
        ),
        "initial_pension_at_retirement": Column(
            "money", g["initial_pension_at_retirement"], 2, g["split_null"]
        ),
        "personal_account_balance": Column(
            "money", g["personal_account_balance"], 2, g["split_null"]
        ),
    }


def hand_numpy(g: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """粤人社规〔2021〕13号 written directly in numpy (integer fen), the baseline."""
    cutoff = day(dt.date(2020, 12, 31))
    start, approved = g["pension_start_date"], g["retirement_approved_date"]
    eligible = (start <= cutoff) | (
        (approved >= day(dt.date(2020, 12, 1)))
        & (approved <= cutoff)
        & (g["pension_base_year"] == 2020)
    )
    pension = g["monthly_pension"]
    flat = np.where(eligible, 4500, 0)
    prop = np.where(eligible, (pension * 18 + 500) // 1000, 0)  # x 1.8%, half-up to the fen
    years = -(-g["contribution_years_tenths"] // 10)  # ceil
    amount = years + np.maximum(years - 15, 0)
    seniority = np.where(eligible, np.maximum(amount, 15) * 100, 0)
    birth_year = g["birth_date"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    age = 2020 - (birth_year + 1970)  # on 31 December every birthday of the year has passed
    band = np.select([age >= 100, age >= 90, age >= 80, age >= 70], [30000, 10000, 5000, 3000], 0)
    age_inc = np.where(eligible, band, 0)
    regular = pension + flat + prop + seniority + age_inc
    cadre = eligible & g["military_transfer_cadre"] & (g["scheme"] == 0)
    city = g["city_average_enterprise_pension"]
    new = np.where(cadre & ~g["city_average_null"] & (regular < city), city, regular)
    total = new - pension
    split = ~g["split_null"]
    p, q = g["personal_account_pension_at_retirement"], g["initial_pension_at_retirement"]
    personal = np.where(
        g["personal_account_balance"] == 0, 0, (2 * total * p + q) // np.maximum(2 * q, 1)
    )
    personal = np.where(split, personal, 0)
    pooled = np.where(split, total - personal, 0)
    return {
        "eligible": eligible,
        "flat_increase": flat,
        "proportional_increase": prop,
        "seniority_increase": seniority,
        "age_increase": age_inc,
        "total_increase": total,
        "new_monthly_pension": new,
        "from_personal_account": personal,
        "from_pooled_fund": pooled,
        "funding_source": g["scheme"],
    }


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--openfisca-cases", type=int, default=None, help="default: --cases")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.cases

    program = Repository(ROOT / "policies").program(POLICY)
    t0 = time.perf_counter()
    plan = ColumnarPlan(program)
    compile_s = time.perf_counter() - t0
    g = generate(n)
    cols = columns_for(plan, g)

    # Interleaved rounds, best of each: on a shared machine, drift between two sequential
    # measurements would show up as a false ratio.
    ours_s = hand_s = float("inf")
    for _ in range(args.repeat):
        t, ours = timed(lambda: plan.evaluate(cols, ON), 1)
        ours_s = min(ours_s, t)
        t, hand = timed(lambda: hand_numpy(g), 1)
        hand_s = min(hand_s, t)
    check_same(ours, hand, n)  # type: ignore[arg-type]

    print(f"cases: {n:,}  (cpu cores: {os.cpu_count()}; best of {args.repeat})")
    print(f"columnar engine compile (once per policy): {compile_s * 1000:.1f} ms")
    print(f"columnar engine (our rules, numpy):  {ours_s:7.3f} s")
    print(
        f"hand-written numpy:                  {hand_s:7.3f} s   ours/hand = {ours_s / hand_s:.2f}x"
    )
    print(f"rows sent to the scalar engine: {len(ours.scalar_rows)}")  # type: ignore[union-attr]
    print("outputs identical on every row: columnar == hand-written numpy")

    try:
        from openfisca_pension import run_openfisca
    except ImportError as exc:
        print(f"OpenFisca: skipped ({exc}); install with: pip install -e '.[bench]'")
        return
    m = args.openfisca_cases or n
    sub = {k: v[:m] for k, v in g.items()}
    of_s, of = timed(lambda: run_openfisca(sub, ON), 1)
    check_openfisca(of, hand, m)
    scaled = of_s * n / m
    note = "" if m == n else f" (run on {m:,} cases, scaled x{n / m:g} to {n:,})"
    print(
        f"OpenFisca {openfisca_version()}:            {scaled:7.3f} s{note}   "
        f"OpenFisca/ours = {scaled / ours_s:.2f}x"
    )
    print("outputs identical on every row: OpenFisca == hand-written numpy")


def openfisca_version() -> str:
    from importlib.metadata import version

    return version("openfisca-core")


def check_same(ours, hand: dict[str, np.ndarray], n: int) -> None:
    for name, expected in hand.items():
        val = ours.outputs[name]
        if name == "eligible":
            got = np.broadcast_to(val.v.data, (n,))
        elif name == "funding_source":
            got = np.broadcast_to(val.v.data, (n,))
            want = [
                ours.vocab.index(s)
                for s in (
                    "enterprise_pension_fund",
                    "public_institution_pension_fund",
                    "original_channel",
                )
            ]
            expected = np.array(want)[expected]
        else:
            got = ours.fen(name)
        if not np.array_equal(np.asarray(got), np.asarray(expected)):
            bad = np.flatnonzero(np.asarray(got) != np.asarray(expected))[:5]
            raise SystemExit(f"MISMATCH in {name} at rows {bad.tolist()}")


def check_openfisca(of: dict[str, np.ndarray], hand: dict[str, np.ndarray], m: int) -> None:
    for name, got in of.items():
        expected = np.asarray(hand[name])[:m]
        if not np.array_equal(np.asarray(got), expected):
            bad = np.flatnonzero(np.asarray(got) != expected)[:5]
            raise SystemExit(f"OpenFisca MISMATCH in {name} at rows {bad.tolist()}")


if __name__ == "__main__":
    main()
