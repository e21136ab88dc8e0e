"""``policy diff BASE [HEAD]``: two versions of the policy files compared, then the answers
of the changed policies evaluated under both, as one report (``report.DiffReport``)."""

from __future__ import annotations

import time
from pathlib import Path

from ..language.errors import PolicyError
from ..runtime.versions import ENGINE_VERSION
from .compare import compare_versions
from .impact import impact
from .report import DiffReport, PolicyReport
from .revisions import Version, version


def diff(repo_root: Path, base: str, head: str | None = None) -> DiffReport:
    """The report of what changed from ``base`` to ``head`` (None: the working tree)."""
    started = time.perf_counter()
    with version(repo_root, base) as old, version(repo_root, head) as new:
        policies = [_with_impact(old, new, report) for report in compare_versions(old, new)]
        return DiffReport(
            base=old.label,
            head=new.label,
            base_commit=old.commit,
            head_commit=new.commit,
            policies=policies,
            engine_version=ENGINE_VERSION,
            seconds=round(time.perf_counter() - started, 2),
        )


def _with_impact(old: Version, new: Version, report: PolicyReport) -> PolicyReport:
    """Answers under both versions, for a policy that changed and loads on both sides."""
    if report.status != "changed" or report.problems_before or report.problems_after:
        return report
    try:
        before = old.repository.program(report.id)
        after = new.repository.program(report.id)
    except PolicyError:  # compare reported the problems already
        return report
    return impact(before, after, report)
