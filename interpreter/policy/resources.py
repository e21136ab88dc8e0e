"""Where the JSON Schemas and the policies come from: the one place that knows.

A *checkout* is a folder holding ``pyproject.toml`` (naming this project), ``policies/``
and ``schema/``. One is used, in this order, when ``POLICY_ROOT`` names it (or names a
policies folder: then that folder, with its checkout's schemas if it sits in one), when
the current folder is inside one, or when this package itself sits in one (an editable
install, or ``PYTHONPATH``). Otherwise the copies shipped inside the installed package
(``interpreter/_data/``, copied there at build time by ``setup.py``) are read through
``importlib.resources``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROJECT = "gd-gazette-policy"
PACKAGED = "_data"  # interpreter/_data/{policies,schema} in a built wheel

_PACKAGE_CHECKOUT = Path(__file__).resolve().parents[2]
_TABLE = re.compile(r"^\[project\][ \t]*$(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Home:
    """The policies folder in use, the schemas that go with it, and where they came from."""

    policies: Path
    schemas: Path
    checkout: Path | None  # the checkout's root, when the schemas come from one


def _project_field(checkout: Path, key: str) -> str | None:
    """A string of pyproject.toml's [project] table (``name``, ``version``), or None."""
    try:
        text = (checkout / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    table = _TABLE.search(text)
    if table is None:
        return None
    found = re.search(rf"^{key}\s*=\s*[\"']([^\"']+)[\"']", table.group(1), re.MULTILINE)
    return found.group(1) if found else None


@cache
def is_checkout(path: Path) -> bool:
    return (
        (path / "policies").is_dir()
        and (path / "schema").is_dir()
        and _project_field(path, "name") == PROJECT
    )


def _cwd_checkout() -> Path | None:
    try:
        here = Path.cwd()
    except OSError:  # the current folder was removed
        return None
    return next((p for p in (here, *here.parents) if is_checkout(p)), None)


@cache
def packaged() -> Path | None:
    """The installed package's copies (a folder holding policies/ and schema/), if any."""
    from importlib import resources  # ~8 ms to import: only when no checkout is in use

    data = resources.files("interpreter") / PACKAGED
    if not (data / "policies").is_dir():
        return None
    return Path(str(data))  # a wheel installs as plain files: the Traversable is a path


def home() -> Home:
    """The policies and schemas to use now (see the module's docstring for the order)."""
    env = os.environ.get("POLICY_ROOT")
    if env:
        given = Path(env)
        if is_checkout(given.resolve()):
            return _checkout_home(given.resolve())
        if is_checkout(given.resolve().parent):
            return Home(given, given.resolve().parent / "schema", given.resolve().parent)
        return Home(given, _default_home().schemas, None)
    return _default_home()


def _default_home() -> Home:
    checkout = _cwd_checkout()
    if checkout is None and is_checkout(_PACKAGE_CHECKOUT):
        checkout = _PACKAGE_CHECKOUT
    if checkout is not None:
        return _checkout_home(checkout)
    data = packaged()
    if data is not None:
        return Home(data / "policies", data / "schema", None)
    return Home(Path.cwd() / "policies", Path.cwd() / "schema", None)  # nothing installed


def _checkout_home(checkout: Path) -> Home:
    return Home(checkout / "policies", checkout / "schema", checkout)


def policies_dir() -> Path:
    return home().policies


def schema_dir() -> Path:
    return home().schemas


def package_version() -> str:
    """This package's version: pyproject.toml's when the package sits in a checkout (so an
    edit there counts at once), else the installed distribution's metadata."""
    if is_checkout(_PACKAGE_CHECKOUT):
        version = _project_field(_PACKAGE_CHECKOUT, "version")
        if version:
            return version
    from importlib import metadata  # slow to import (~40 ms): only when installed

    try:
        return metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def describe(policies: Path) -> str:
    """Which policies a folder holds, for ``policy list``: a checkout's, the installed
    package's, or some other folder's."""
    folder = policies.resolve()
    data = packaged()
    if data is not None and folder == (data / "policies").resolve():
        return f"installed package {PROJECT} {package_version()} ({folder})"
    if folder.name == "policies" and is_checkout(folder.parent):
        return f"checkout {folder}"
    return f"folder {folder}"
