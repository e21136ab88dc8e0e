"""The engine's outputs on every hand-written YAML case of every policy, as one digest.

``tests/engine_outputs.json`` records the engine version and this digest;
``tests/test_versions.py`` fails when the outputs change and the version did not. After a
deliberate change: bump ``version`` in pyproject.toml, then record the new digest with

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


def case_outputs(root: Path = POLICIES) -> list[dict[str, Any]]:
    """Each case's outputs through the public API (an expected refusal: its error class)."""
    out = []
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
            out.append({"policy": policy_id, "case": case.name, "outputs": outputs})
    return out


def digest(root: Path = POLICIES) -> str:
    text = json.dumps(case_outputs(root), ensure_ascii=False, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def recorded() -> dict[str, str]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def problem(current: str) -> str | None:
    """Why the record does not fit the engine and its outputs, or None."""
    record = recorded()
    if record == {"engine_version": ENGINE_VERSION, "digest": current}:
        return None
    if record["engine_version"] == ENGINE_VERSION:
        return (
            "outputs changed: bump the version in pyproject.toml and update the digest with "
            + UPDATE
        )
    return (
        f"engine version {ENGINE_VERSION} (recorded: {record['engine_version']}): "
        f"record its digest with {UPDATE}"
    )


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(f"usage: {UPDATE}", file=sys.stderr)
        return 2
    current = digest()
    if RECORD.exists():
        record = recorded()
        if record["engine_version"] == ENGINE_VERSION and record["digest"] != current:
            print("outputs changed: bump the version in pyproject.toml first", file=sys.stderr)
            return 1
    text = json.dumps({"engine_version": ENGINE_VERSION, "digest": current}, indent=2)
    RECORD.write_text(text + "\n", encoding="utf-8")
    print(f"recorded {ENGINE_VERSION} {current} in {RECORD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
