"""The GitHub Actions workflows: actionlint finds nothing, and ci.yml runs what .ci/run runs.

GitHub itself is out of reach from here, so the workflows are checked the way actionlint
checks them (syntax, expressions, action inputs, untrusted input in scripts, shellcheck
when it is installed). The binary comes with the dev extra; without it the lint is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def _actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"  # the venv's, even when not on PATH
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def _run_steps(name: str) -> str:
    """Every `run:` script of a workflow, one after another."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return "\n".join(
        step["run"] for job in data["jobs"].values() for step in job["steps"] if "run" in step
    )


@pytest.mark.skipif(_actionlint() is None, reason="actionlint is not installed (dev extra)")
def test_actionlint_finds_nothing() -> None:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert files, "no workflow files"
    proc = subprocess.run(
        [str(_actionlint()), "-no-color", "-oneline", *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_workflow_runs_every_step_of_ci_run() -> None:
    """.ci/run is the reference; each of its commands is a step of ci.yml too."""
    scripts = _run_steps("ci.yml")
    commands = []
    for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines():
        command = line.split("  #")[0].strip()
        command = command.removeprefix("NO_MKDOCS_2_WARNING=1 ")  # ci.yml sets it for the job
        if command.startswith((".venv/bin/", "tests/")):
            commands.append(command)
    assert ".venv/bin/policy fmt --check" in commands
    missing = [command for command in commands if command not in scripts]
    assert not missing, f"in .ci/run but not in .github/workflows/ci.yml: {missing}"


def test_policy_diff_workflow_comments_once_and_keeps_the_json() -> None:
    text = (WORKFLOWS / "policy-diff.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert list(data[True]) == ["pull_request"]  # `on:` reads as True in YAML 1.1
    scripts = _run_steps("policy-diff.yml")
    assert '.venv/bin/policy diff "origin/$BASE_REF" --format markdown > diff.md' in scripts
    assert '.venv/bin/policy diff "origin/$BASE_REF" --format json > diff.json' in scripts
    steps = data["jobs"]["diff"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert "actions/upload-artifact" in uses and "actions/github-script" in uses
    assert "<!-- policy-diff -->" in text and "updateComment" in text
