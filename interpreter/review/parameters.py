"""Parameter changes: old → new value with its unit, effective date and citation; a
period in working days (or days) also gives the last day it now sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from ..language.workdays import add_working_days
from ..policy.model import Parameter, ParameterValue
from ..site import humanize
from .changes import change, headed, label_of, pair
from .readable import Side
from .report import Change, Text


def value_text(parameter: Parameter, value: ParameterValue | None) -> Text | None:
    if value is None:
        return None
    kind, unit = parameter.type.kind, parameter.unit
    zh = humanize.show_value(value.value, kind, unit, "zh")
    en = humanize.show_value(value.value, kind, unit, "en")
    zh, en = f"{zh}（自{value.start.isoformat()}起）", f"{en} (from {value.start.isoformat()})"
    period = period_end(parameter, value)
    if period is not None:
        zh += f"，即自{value.start.isoformat()}起算至{period.isoformat()}"
        en += f", i.e. counted from {value.start.isoformat()} it ends on {period.isoformat()}"
    return Text(zh, en)


def period_end(parameter: Parameter, value: ParameterValue) -> dt.date | None:
    """The concrete last day a period gives when counted from its first day in force
    (working days on the official calendar; calendar days otherwise)."""
    if not isinstance(value.value, int | Decimal) or isinstance(value.value, bool):
        return None
    try:
        if parameter.unit == "工作日":
            return add_working_days(value.start, value.value)
        if parameter.unit in ("日", "天", "自然日"):
            return value.start + dt.timedelta(days=int(value.value))
    except (ValueError, ArithmeticError, LookupError):  # a year the calendar does not know
        return None
    return None


def parameter_changes(old: Side, new: Side, names: Mapping[str, str]) -> list[Change]:
    out: list[Change] = []
    renamed = {n: o for o, n in names.items() if o in old.policy.parameters}
    for name, p in new.policy.parameters.items():
        old_name = renamed.get(name)
        before = old.policy.parameters.get(old_name) if old_name else None
        if before is None:
            first = p.values[0] if p.values else None
            out.append(_parameter(new, name, p.clause, p, None, first, "added"))
            continue
        if old_name != name:
            out.append(_parameter(new, name, p.clause, p, None, None, "renamed", old_name))
        starts = sorted({v.start for v in (*before.values, *p.values)})
        for start in starts:
            b = next((v for v in before.values if v.start == start), None)
            a = next((v for v in p.values if v.start == start), None)
            if b is not None and a is not None and b.value == a.value and before.unit == p.unit:
                continue
            out.append(_parameter(new, name, p.clause, p, b, a, "value", prior=before))
        if before.type != p.type:
            out.append(_parameter(new, name, p.clause, p, None, None, "type", prior=before))
    for old_name, p in old.policy.parameters.items():
        if old_name not in names:
            last = p.values[-1] if p.values else None
            out.append(_parameter(old, old_name, p.clause, p, last, None, "removed"))
    return out


def _parameter(
    side: Side,
    name: str,
    clause: str,
    p: Parameter,
    before: ParameterValue | None,
    after: ParameterValue | None,
    what: str,
    old_name: str | None = None,
    prior: Parameter | None = None,
) -> Change:
    cited = after or before or (p.values[-1] if p.values else None)
    citation = cited.citation if cited else None
    label = label_of(side.policy, citation)
    b_text = value_text(prior or p, before)
    a_text = value_text(p, after)
    if what == "renamed":
        zh, en = (
            f"参数 {old_name} 更名为 {name}（取值不变）",
            f"parameter {old_name} renamed {name} (same values)",
        )
    elif what == "type" and prior is not None:
        zh = en = f"parameter {name}: {prior.type} → {p.type}"
        zh = f"参数 {name} 类型：{prior.type} → {p.type}"
    elif what == "added":
        zh, en = (
            f"新增参数 {name}：{a_text.zh if a_text else ''}",
            f"new parameter {name}: {a_text.en if a_text else ''}",
        )
    elif what == "removed":
        zh, en = (
            f"删除参数 {name}：{b_text.zh if b_text else ''}",
            f"parameter {name} removed: {b_text.en if b_text else ''}",
        )
    elif before is not None and after is not None and before.start == after.start:
        q = prior or p
        day = after.start.isoformat()
        bz, az = (humanize.show_value(v.value, q.type.kind, q.unit, "zh") for v in (before, after))
        be, ae = (humanize.show_value(v.value, q.type.kind, q.unit, "en") for v in (before, after))
        zh, en = (
            f"参数 {name}：{bz} → {az}（自{day}起）",
            f"parameter {name}: {be} → {ae} (from {day})",
        )
    else:
        shown = pair(b_text, a_text)
        zh, en = f"参数 {name}：{shown.zh}", f"parameter {name}: {shown.en}"
    return change(
        "parameter",
        name,
        headed(label, zh, en),
        clause=clause,
        citation=citation,
        policy=side.policy,
        before=b_text,
        after=a_text,
        meaning=what != "renamed",
        location=citation.location if citation else None,
        label=label,
    )
