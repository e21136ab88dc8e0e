"""What changed in the duties a text sets: obligations added, removed or reworded, their
responsible bodies, deadlines (the text's words and the date they give) and targets (as
written: 50个以上, 超过3万家); and the hand-written cases."""

from __future__ import annotations

from ..policy.model import Case, Deadline, Obligation, Policy, Target
from .changes import change, headed, label_of, pair
from .report import Change, Text


def deadline_text(d: Deadline | None) -> Text | None:
    if d is None:
        return None
    return Text(f"{d.wording}（{d.date.isoformat()}）", f"{d.wording} (by {d.date.isoformat()})")


def target_text(t: Target | None) -> Text | None:
    if t is None:
        return None
    by = deadline_text(t.by)
    zh = f"{t.metric.zh} {t.as_written()}" + (f"，{by.zh}" if by else "")
    en = f"{t.metric.en}: {t.as_written()}" + (f", {by.en}" if by else "")
    return Text(zh, en)


def _duty_text(o: Obligation) -> Text:
    who = "、".join(o.responsible) or "—"
    return Text(f"{o.duty.zh}（{who}）", f"{o.duty.en} ({', '.join(o.responsible) or '—'})")


def _item(
    side: Policy,
    o: Obligation,
    kind: str,
    zh: str,
    en: str,
    before: Text | None,
    after: Text | None,
) -> Change:
    label = label_of(side, o.citation)
    shown = pair(before, after)
    return change(
        kind,
        o.id,
        headed(label, f"{zh} {o.id}：{shown.zh}", f"{en} {o.id}: {shown.en}"),
        clause=o.group,
        citation=o.citation,
        policy=side,
        before=before,
        after=after,
        location=o.location,
        label=label,
    )


def obligation_changes(old: Policy, new: Policy) -> list[Change]:
    out: list[Change] = []
    for item_id, b in new.obligations.items():
        a = old.obligations.get(item_id)
        if a is None:
            out.append(_item(new, b, "obligation", "新增事项", "duty added", None, _duty_text(b)))
            continue
        if (a.duty, a.responsible) != (b.duty, b.responsible):
            out.append(
                _item(
                    new, b, "obligation", "事项修改", "duty changed", _duty_text(a), _duty_text(b)
                )
            )
        da, db = deadline_text(a.deadline), deadline_text(b.deadline)
        if da != db:
            out.append(_item(new, b, "deadline", "期限", "deadline", da, db))
        ta, tb = target_text(a.target), target_text(b.target)
        if ta != tb:
            out.append(_item(new, b, "target", "目标", "target", ta, tb))
    for item_id, a in old.obligations.items():
        if item_id not in new.obligations:
            out.append(_item(old, a, "obligation", "删除事项", "duty removed", _duty_text(a), None))
    return out


def _case_key(c: Case) -> tuple:
    return (c.on, repr(sorted(c.facts.items())), repr(sorted(c.expect.items())), c.expect_error)


def _case_text(c: Case) -> Text:
    on = c.on.isoformat() if c.on else "—"
    expect = ", ".join(f"{k}={v}" for k, v in c.expect.items()) or (c.expect_error or "")
    return Text(f"{c.name}（{on}）：{expect}", f"{c.name} (on {on}): {expect}")


def case_changes(old: Policy, new: Policy) -> list[Change]:
    a = {c.name: c for c in old.cases}
    b = {c.name: c for c in new.cases}
    out = []
    for name in [*b, *(n for n in a if n not in b)]:
        before, after = a.get(name), b.get(name)
        if before and after and _case_key(before) == _case_key(after):
            continue
        c = after or before
        assert c is not None
        what = (
            ("新增案例", "case added")
            if before is None
            else ("删除案例", "case removed")
            if after is None
            else ("案例修改", "case changed")
        )
        out.append(
            change(
                "case",
                name,
                Text(f"{what[0]} {name}", f"{what[1]} {name}"),
                clause=c.clause,
                before=_case_text(before) if before else None,
                after=_case_text(after) if after else None,
                location=c.location,
            )
        )
    return out
