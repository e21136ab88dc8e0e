"""House rules for the files themselves: schema modelines, and JSON Schemas that are valid."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from .conftest import POLICIES, REPO

KIND_BY_FOLDER = {"clauses": "clause", "tests": "tests"}
KIND_BY_NAME = {"policy.yaml": "policy", "errata.yaml": "errata", "coverage.yaml": "coverage"}


def _yaml_files():
    return sorted(POLICIES.glob("*/*.yaml")) + sorted(POLICIES.glob("*/*/*.yaml"))


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(POLICIES)))
def test_every_yaml_file_names_its_schema(path) -> None:
    kind = KIND_BY_NAME.get(path.name) or KIND_BY_FOLDER[path.parent.name]
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), f"{path}: first line must be the schema modeline"
    target = (path.parent / first[len(prefix) :]).resolve()
    assert target == REPO / "schema" / f"{kind}.schema.json"


@pytest.mark.parametrize("path", sorted((REPO / "schema").glob("*.json")), ids=lambda p: p.name)
def test_schemas_are_valid_draft_2020_12(path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
