"""The engine's answer to every hand-written YAML case, recorded per input.

``tests/engine_outputs.json`` records the engine version and, for each case's input
(policy, facts, date, as one digest), a digest of its outputs. ``tests/test_versions.py``
fails when the answer to a recorded input changes and the version did not: the version is
what a caller reads to know its decisions may differ. A new case is a new input, not a
change, so it needs no new version; it is recorded the next time the record is updated.
After a deliberate change of outputs: bump ``version`` in pyproject.toml, then record with

    python -m tests.engine_digest --update
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from interpreter import ENGINE_VERSION, PolicyError, Repository, evaluate

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
RECORD = Path(__file__).resolve().parent / "engine_outputs.json"
UPDATE = "python -m tests.engine_digest --update"


def _sha(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def answers(root: Path = POLICIES) -> dict[str, str]:
    """input digest -> outputs digest, for every case (an expected refusal: its error class)."""
    out = {}
    repo = Repository(root)
    for policy_id in repo.ids():
        policy = repo.policy(policy_id)
        for case in policy.cases:
            on = case.on or policy.in_force.start
            try:
                result = evaluate(policy_id, case.facts, on, root=root, trace=False)
                outputs: Any = result.as_dict()["outputs"]
            except PolicyError as exc:
                outputs = {"error": type(exc).__name__}
            out[_sha([policy_id, case.facts, on.isoformat()])] = _sha(outputs)
    return out


def recorded() -> dict[str, Any]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def changed(current: dict[str, str], record: dict[str, Any]) -> list[str]:
    """The recorded inputs whose answer is now different."""
    before = record["answers"]
    return sorted(key for key, answer in current.items() if before.get(key, answer) != answer)


def problem(current: dict[str, str]) -> str | None:
    """Why the record does not fit the engine and its answers, or None."""
    record = recorded()
    if record["engine_version"] != ENGINE_VERSION:
        return (
            f"engine version {ENGINE_VERSION} (recorded: {record['engine_version']}): "
            f"record its answers with {UPDATE}"
        )
    moved = changed(current, record)
    if moved:
        return (
            f"outputs changed for {len(moved)} recorded case input(s): bump the version in "
            f"pyproject.toml and record the answers with {UPDATE}"
        )
    return None


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(f"usage: {UPDATE}", file=sys.stderr)
        return 2
    current = answers()
    if RECORD.exists():
        record = recorded()
        if record["engine_version"] == ENGINE_VERSION and changed(current, record):
            print("outputs changed: bump the version in pyproject.toml first", file=sys.stderr)
            return 1
    text = json.dumps(
        {"engine_version": ENGINE_VERSION, "answers": dict(sorted(current.items()))}, indent=1
    )
    RECORD.write_text(text + "\n", encoding="utf-8")
    print(f"recorded {ENGINE_VERSION}: {len(current)} answers in {RECORD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
