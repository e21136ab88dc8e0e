"""A readable account of an evaluation, in Chinese and English, article by article."""

from __future__ import annotations

from typing import Any

from ..language.values import to_json
from ..policy.model import Policy
from .engine import Result, TraceStep
from .program import Program


def explain(program: Program, result: Result) -> dict[str, list[str]]:
    """One line per value worked out, grouped under the article that says it."""
    policy = program.policy
    zh: list[str] = []
    en: list[str] = []
    current = None
    for step in result.steps:
        clause = policy.clauses[step.clause]
        article = step.citation.label or step.citation.article
        heading = (step.clause, article)
        if heading != current:
            current = heading
            zh.append(f"【{article}】{clause.title.zh}")
            en.append(f"[{article} ({step.citation.article})] {clause.title.en}")
        comp = policy.computations[step.name]
        value = _show(step.value, step.kind)
        because_zh, because_en = _because(policy, step)
        zh.append(f"  {comp.description.zh}：{step.name} = {value}{because_zh}")
        en.append(f"  {comp.description.en}: {step.name} = {value}{because_en}")
    outputs = ", ".join(f"{k} = {_show(v, result.kinds.get(k))}" for k, v in result.outputs.items())
    zh.append(f"结果：{outputs}")
    en.append(f"Result: {outputs}")
    return {"zh": zh, "en": en}


def _because(policy: Policy, step: TraceStep) -> tuple[str, str]:
    inputs = [f"{k}={_show(v, step.kinds.get(k))}" for k, v in step.inputs.items()]
    params = list(step.parameters.items())
    zh_reads = inputs + [f"{k}={p['value']}（{p['article']}，自{p['from']}起）" for k, p in params]
    en_reads = inputs + [f"{k}={p['value']} ({p['article']}, from {p['from']})" for k, p in params]
    zh = f"（依据：{'；'.join(zh_reads)}）" if zh_reads else ""
    en = f" (from {'; '.join(en_reads)})" if en_reads else ""
    table = policy.computations[step.name].table
    if table is not None:
        if step.row is None:
            zh += "；无适用行，取默认值"
            en += "; no row applies, the default is taken"
        else:
            text = table.rows[step.row].text or f"row {step.row + 1}"
            zh += f"；适用：“{text}”"
            en += f"; row {step.row + 1} applies: “{text}”"
    return zh, en


def _show(value: Any, kind: str | None = None) -> str:
    shown = to_json(value, kind)
    if shown is None:
        return "null"
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)
