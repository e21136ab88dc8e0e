"""Where policies and schemas come from: a checkout, POLICY_ROOT, or the installed package
(the installed case itself is exercised by tests/smoke_installed.sh, run by .ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.policy import resources

from .conftest import POLICIES, REPO, policy_cli


def test_inside_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICY_ROOT", raising=False)
    monkeypatch.chdir(REPO / "docs")
    home = resources.home()
    assert (home.policies, home.schemas, home.checkout) == (POLICIES, REPO / "schema", REPO)


def test_outside_any_checkout_the_package_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POLICY_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resources.home().checkout == Path(resources.__file__).resolve().parents[2]


def test_policy_root_a_folder_or_a_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICY_ROOT", str(tmp_path))
    assert resources.home().policies == tmp_path
    monkeypatch.setenv("POLICY_ROOT", str(REPO))
    assert resources.home().policies == POLICIES
    monkeypatch.setenv("POLICY_ROOT", str(POLICIES))
    assert resources.home().schemas == REPO / "schema"


def test_list_names_its_policies_on_stderr(tmp_path: Path) -> None:
    proc = policy_cli("list")
    assert proc.returncode == 0
    assert proc.stderr == f"policies: checkout {POLICIES}\n"
    assert not proc.stdout.startswith("policies:")
    proc = policy_cli("list", root=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", f"policies: folder {tmp_path}\n")
