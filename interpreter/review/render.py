"""The report of a rule change, written for the people and tools that read it.

- ``markdown``: the pull-request comment. Chinese labels first, English beside them; a
  one-paragraph summary at the top; a box when callers' requests or readings may break;
  one collapsible section per policy with the rules before and after in the document's
  words, each with its article and verbatim quote, the input regions whose answer changes,
  the population impact, the hand-written cases that change and worked examples.
- ``as_json``: the same report for tools (``schema/diff.v1.schema.json``).
- ``summary_line``: one line for stderr.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .report import Change, DiffReport, Example, PolicyReport, Text

MARKER = "<!-- policy-diff -->"  # the workflow finds and updates its own comment by it
MAX_CASES = 20  # rows shown per policy; the rest are counted (the JSON has them all)
MAX_EXAMPLES = 1  # worked examples shown per policy (the JSON has them all)
SUMMARY_WITH_SIDES = 100  # characters of a change's summary when before/after follow it
_TEXT_KINDS = ("quote", "source")  # their summary is a character diff: the sides add nothing

_KIND_TITLES: dict[str, tuple[str, str]] = {
    "policy-added": ("新增政策", "Policy added"),
    "policy-removed": ("删除政策", "Policy removed"),
    "document": ("文件信息", "Document"),
    "in-force": ("施行期间", "In force"),
    "convention": ("数量界限的含义", "Boundary convention"),
    "contract": ("输入与输出（调用方接口）", "Inputs and outputs (the callers' contract)"),
    "parameter": ("参数", "Parameters"),
    "rule": ("规则", "Rules"),
    "table-row": ("决策表", "Decision tables"),
    "clause-added": ("新增条款", "Clauses added"),
    "clause-removed": ("删除条款", "Clauses removed"),
    "clause-renamed": ("条款改名", "Clauses renamed"),
    "citation": ("引用条文", "Citations"),
    "quote": ("原文引文", "Quotes"),
    "note": ("解释说明", "Interpretation notes"),
    "erratum": ("勘误", "Errata"),
    "source": ("公报原文", "Source text"),
    "coverage": ("条文覆盖", "Coverage of the text"),
    "obligation": ("职责任务", "Obligations"),
    "deadline": ("时限", "Deadlines"),
    "target": ("目标", "Targets"),
    "case": ("手写测试用例", "Hand-written cases"),
}


def as_json(report: DiffReport) -> dict[str, Any]:
    """The report as JSON-ready data (``diff.v1``), with the two verdicts tools key on."""
    data: dict[str, Any] = msgspec.to_builtins(report)
    data["behaviour_changed"] = report.behaviour_changed
    data["breaking"] = report.breaking
    return data


def summary_line(report: DiffReport) -> str:
    """One line: how many policies changed, whether answers change, whether it breaks."""
    changed = [p for p in report.policies if p.status != "unchanged"]
    answers = [p for p in changed if p.behaviour_changed]
    meaning = [p for p in changed if any(c.meaning for c in p.changes)]
    parts = [
        f"policy diff {report.base} → {report.head}: {len(changed)} of "
        f"{len(report.policies)} policies changed",
        f"{len(meaning)} in meaning",
        f"{len(answers)} with different answers",
    ]
    if report.breaking:
        parts.append("BREAKING for callers")
    return ", ".join(parts) + f" ({report.seconds:.1f} s)"


def markdown(report: DiffReport) -> str:
    """The pull-request comment."""
    lines = [MARKER, "## 规则变更报告 · Rule change report", ""]
    base = report.base + (f" (`{report.base_commit[:10]}`)" if report.base_commit else "")
    head = report.head + (f" (`{report.head_commit[:10]}`)" if report.head_commit else "")
    lines += [f"{base} → {head}", "", _summary(report), ""]
    breaking = [(p, c) for p in report.policies for c in p.changes if c.breaking]
    if breaking:
        lines += ["> [!WARNING]", "> **对调用方不兼容 · Breaking for callers**", ">"]
        lines += [f"> - `{p.id}`: {c.summary.zh} · {c.summary.en}" for p, c in breaking]
        lines.append("")
    for policy in report.policies:
        if policy.status != "unchanged":
            lines += _policy(policy)
    unchanged = [p.id for p in report.policies if p.status == "unchanged"]
    if unchanged:
        lines += ["", f"未变更 · Unchanged: {', '.join(f'`{u}`' for u in unchanged)}"]
    lines += ["", f"<sub>engine {report.engine_version} · {report.seconds:.1f} s</sub>", ""]
    return "\n".join(lines)


def _summary(report: DiffReport) -> str:
    changed = [p for p in report.policies if p.status != "unchanged"]
    if not changed:
        return "**摘要 · Summary:** 没有变更 · nothing changed."
    bits = []
    for p in changed:
        meaning = sum(1 for c in p.changes if c.meaning)
        wording = len(p.changes) - meaning
        what = f"`{p.id}` ({p.status}): {meaning} change(s) in meaning"
        if wording:
            what += f", {wording} without"
        if p.cases:
            what += f"; {len(p.cases)} of {p.cases_compared + p.matrix_rows_compared} cases/matrix rows answer differently"
        changed_rows = max((c.changed for c in p.population), default=0)
        if p.population_rows:
            what += f"; {changed_rows:,} of {p.population_rows:,} synthetic rows"
        if p.problems_after:
            what += f"; **does not validate** ({len(p.problems_after)} problem(s))"
        bits.append(what)
    verdict = (
        "答案有变化 · answers change"
        if report.behaviour_changed
        else "答案没有变化 · no answer changes"
    )
    return f"**摘要 · Summary:** {verdict}. " + "; ".join(bits) + "."


def _policy(policy: PolicyReport) -> list[str]:
    opened = " open" if policy.behaviour_changed or policy.problems_after else ""
    title = f"{policy.title.zh} · {policy.title.en}"
    lines = [
        f"<details{opened}><summary><b>{_escape(title)}</b> (<code>{policy.id}</code>) — "
        f"{policy.status}, {len(policy.changes)} change(s)</summary>",
        "",
    ]
    for side, problems in (
        ("之前 · before", policy.problems_before),
        ("之后 · after", policy.problems_after),
    ):
        if problems:
            lines += [f"**不能通过校验 · Does not validate ({side}):**", ""]
            lines += [f"- `{_escape(p)}`" for p in problems[:10]]
            lines.append("")
    quoted: set[str] = set()  # each article's quote is shown once
    for kind, (zh, en) in _KIND_TITLES.items():
        changes = [c for c in policy.changes if c.kind == kind]
        if changes:
            lines += [f"#### {zh} · {en}", ""]
            for change in changes:
                lines += _change(change, quoted)
            lines.append("")
    if policy.regions:
        lines += [
            "#### 答案变化的输入范围 · Where the answer changes",
            "",
            "| 输出 · output | 范围 · where | 之前 · before | 之后 · after |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{r.output}` | {_escape(r.where.zh)} · {_escape(r.where.en)} | {r.before} | {r.after} |"
            for r in policy.regions
        ]
        lines.append("")
    if policy.population:
        lines += [
            f"#### 人群影响 · Population impact ({policy.population_rows:,} synthetic rows)",
            "",
            "| 输出 · output | 变化行 · changed | ↑ | ↓ | 合计之前 · total before | 之后 · after | Δ |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| `{p.output}` | {p.changed:,} | {p.up:,} | {p.down:,} | {p.total_before or ''} "
            f"| {p.total_after or ''} | {p.delta or ''} |"
            for p in policy.population
            if p.changed
        ]
        unchanged = [p.output for p in policy.population if not p.changed]
        if unchanged:
            lines += ["", f"不变 · unchanged: {', '.join(f'`{u}`' for u in unchanged)}"]
        lines.append("")
    if policy.cases:
        lines += _cases(policy)
    for example in policy.examples[:MAX_EXAMPLES]:
        lines += _example(example)
    lines += ["</details>", ""]
    return lines


def _change(change: Change, quoted: set[str]) -> list[str]:
    where = change.label or change.article or ""
    head = f"- **{_escape(where)}** " if where else "- "
    sides = change.kind not in _TEXT_KINDS and (change.before or change.after)
    limit = SUMMARY_WITH_SIDES if sides else 10_000
    summary = Text(_unlabelled(change.summary.zh, where), _unlabelled(change.summary.en, where))
    head += f"{_escape(_short(summary.zh, limit))} · {_escape(_short(summary.en, limit))}"
    if not change.meaning:
        head += " — *含义不变 · no change in meaning*"
    if change.breaking:
        head += " — **不兼容 · breaking**"
    lines = [head]
    if change.quote and (change.article or change.quote) not in quoted:
        quoted.add(change.article or change.quote)
        lines.append(f"  > {_escape(_short(change.quote, 160))}")
    if sides and change.before is not None:
        lines.append(f"  - 之前 · before: {_pair(change.before)}")
    if sides and change.after is not None:
        lines.append(f"  - 之后 · after: {_pair(change.after)}")
    if change.location:
        lines.append(f"  - <sub>{_escape(change.location)}</sub>")
    return lines


def _cases(policy: PolicyReport) -> list[str]:
    lines = [
        f"<details><summary>答案变化的用例 · Cases whose answer changes: {len(policy.cases)}"
        "</summary>",
        "",
        "| 来源 · source | 用例 · case | 日期 · on | 输出 · output | 之前 · before | 之后 · after |",
        "|---|---|---|---|---|---|",
    ]
    for case in policy.cases[:MAX_CASES]:
        for out in case.outputs:
            before = out.before if out.error_before is None else f"error: {out.error_before}"
            after = out.after if out.error_after is None else f"error: {out.error_after}"
            lines.append(
                f"| {case.source} | {_escape(case.name)} | {case.on} | `{out.name}` "
                f"| {_escape(str(before))} | {_escape(str(after))} |"
            )
    if len(policy.cases) > MAX_CASES:
        lines.append(f"\n… {len(policy.cases) - MAX_CASES} more in the JSON report")
    return [*lines, "", "</details>", ""]


def _example(example: Example) -> list[str]:
    lines = [
        f"<details><summary>算例 · Worked example: {_escape(example.case)} ({example.on})"
        "</summary>",
        "",
        "| | 条款 · clause | 条文 · article | 值 · value |",
        "|---|---|---|---|",
    ]
    values = {s.name: s.value for s in example.before}
    moved = {s.name for s in example.after if values.get(s.name) != s.value}
    moved |= {s.name for s in example.before if s.name not in {a.name for a in example.after}}
    for side, steps in (("之前 · before", example.before), ("之后 · after", example.after)):
        for step in (s for s in steps if s.name in moved):  # the values that change
            lines.append(
                f"| {side} | `{step.clause}` | {_escape(step.label or step.article)} "
                f"| `{step.name}` = {_escape(step.value)} |"
            )
    return [*lines, "", "</details>", ""]


def _unlabelled(text: str, label: str) -> str:
    """The summary without the article label the bullet already shows in bold."""
    return text[len(label) :].lstrip() if label and text.startswith(label) else text


def _pair(text: Text) -> str:
    if text.zh == text.en:
        return _escape(text.zh)
    return f"{_escape(text.zh)} · {_escape(text.en)}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Table cells and HTML summaries: no raw pipes, angle brackets or line breaks."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
