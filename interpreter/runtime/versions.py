"""The versions that, with the policy's content hash, the facts and the date, pin a
decision: this engine's (the package version) and the holiday calendar's (the
``chinese-calendar`` library decides which days are working days)."""

from __future__ import annotations

import chinese_calendar

from ..policy.resources import package_version

ENGINE_VERSION = package_version()


def _calendar_version() -> str:
    # The library's own __version__ is its distribution's version (a test checks they
    # agree); importlib.metadata alone costs ~40 ms of import on every cold `policy eval`.
    version = getattr(chinese_calendar, "__version__", None)
    if isinstance(version, str) and version:
        return version
    from importlib import metadata

    try:
        return metadata.version("chinese-calendar")
    except metadata.PackageNotFoundError:
        return "unknown"


CALENDAR_VERSION = _calendar_version()
