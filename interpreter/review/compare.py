"""Two versions of a policy compared in the document's words, for a legal reviewer.

``compare_policy`` compares two frozen models (either may be absent, or fail to validate)
and fills a ``PolicyReport``'s changes: the document and its in-force window, the boundary
convention, the contract callers code against (facts and outputs, each flagged breaking or
not), clauses, parameters, rules and decision tables (``rules``), duties, deadlines and
targets (``duties``), citations, quotes, notes, errata, the source text and its coverage
(``texts``), and the hand-written cases. ``compare_versions`` runs it over every policy of
two ``revisions.Version``s. Regions, cases, population and examples are left empty: the
impact helper fills them from the two versions' programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..language.errors import UnknownPolicyError, ValidationErrors
from ..policy.article_coverage import citations_of, source_coverage
from ..policy.model import Fact, Output, Policy
from ..site import humanize
from .changes import change, pair, said
from .duties import case_changes, obligation_changes
from .report import Change, PolicyReport, Text
from .revisions import Version
from .rules import compare_rules
from .texts import (
    Texts,
    citation_changes,
    errata_changes,
    note_changes,
    source_changes,
    texts_of_folder,
    texts_of_policy,
)


def compare_policy(
    old: Policy | None,
    new: Policy | None,
    problems_before: Sequence[str] = (),
    problems_after: Sequence[str] = (),
    *,
    texts_before: Texts | None = None,
    texts_after: Texts | None = None,
    policy_id: str | None = None,
) -> PolicyReport:
    """What changed from ``old`` to ``new``. A side that did not validate is None with its
    problems; its texts (``texts_*``: the source files and errata as far as they read) are
    still compared. ``policy_id`` names a policy neither side could load."""
    existed_before = old is not None or bool(problems_before)
    exists_after = new is not None or bool(problems_after)
    either = new or old
    pid = either.id if either is not None else policy_id or "?"
    title = _title(either, pid)
    changes: list[Change] = []
    if not existed_before and exists_after:
        status = "added"
        changes.append(_whole("policy-added", pid, new, "新增政策", "policy added"))
    elif existed_before and not exists_after:
        status = "removed"
        changes.append(_whole("policy-removed", pid, old, "删除政策", "policy removed"))
    else:
        status = "changed"
    if old is not None and new is not None:
        changes += document_changes(old, new)
        changes += contract_changes(old, new)
        rule_list, clauses = compare_rules(old, new)
        changes += rule_list
        changes += obligation_changes(old, new)
        changes += citation_changes(old, new, clauses)
        changes += note_changes(old, new, clauses)
        changes += coverage_changes(old, new)
        changes += case_changes(old, new)
    if status == "changed":
        a = texts_before or (texts_of_policy(old) if old else Texts())
        b = texts_after or (texts_of_policy(new) if new else Texts())
        changes += source_changes(a, b)
        changes += errata_changes(a, b)
    if status == "changed" and not changes and list(problems_before) == list(problems_after):
        status = "unchanged"
    return PolicyReport(
        id=pid,
        title=title,
        status=status,
        problems_before=list(problems_before),
        problems_after=list(problems_after),
        changes=changes,
    )


def compare_versions(base: Version, head: Version) -> list[PolicyReport]:
    """Every policy of either version, compared (ids in order)."""
    reports = []
    for pid in sorted(set(base.repository.ids()) | set(head.repository.ids())):
        old, problems_before, texts_before = _load(base, pid)
        new, problems_after, texts_after = _load(head, pid)
        reports.append(
            compare_policy(
                old,
                new,
                problems_before,
                problems_after,
                texts_before=texts_before,
                texts_after=texts_after,
                policy_id=pid,
            )
        )
    return reports


def _load(version: Version, pid: str) -> tuple[Policy | None, list[str], Texts | None]:
    """The policy, or the problems that keep it from loading and the texts still read."""
    if pid not in version.repository.ids():
        return None, [], None
    try:
        return version.repository.policy(pid), [], None
    except UnknownPolicyError:
        return None, [], None
    except ValidationErrors as exc:
        folder = version.repository.root / pid
        return None, [str(e) for e in exc.errors], texts_of_folder(folder)


def _title(policy: Policy | None, pid: str) -> Text:
    if policy is None:
        return Text(pid, pid)
    return Text(policy.title.zh, policy.title.en)


def _whole(kind: str, pid: str, policy: Policy | None, zh: str, en: str) -> Change:
    name = f"{policy.document.number} {policy.title.zh}" if policy else pid
    name_en = f"{policy.document.number} {policy.title.en}" if policy else pid
    shown = Text(name, name_en)
    return change(
        kind,
        pid,
        Text(f"{zh}：{name}", f"{en}: {name_en}"),
        before=shown if kind == "policy-removed" else None,
        after=shown if kind == "policy-added" else None,
        location=f"policies/{pid}/policy.yaml",
    )


# -- the document, its window and its convention ------------------------------------------


def document_changes(old: Policy, new: Policy) -> list[Change]:
    out: list[Change] = []
    where = f"policies/{new.id}/policy.yaml"
    a, b = old.document, new.document
    fields: list[tuple[str, str, Any, Any]] = [
        ("文号", "number", a.number, b.number),
        ("标题", "title", a.title, b.title),
        ("发文机关", "issuers", "、".join(a.issuers), "、".join(b.issuers)),
        ("成文日期", "signed", a.signed.isoformat(), b.signed.isoformat()),
        ("发布日期", "published", a.published.isoformat(), b.published.isoformat()),
        ("简称", "short title", old.title.zh, new.title.zh),
        (
            "摘要",
            "summary",
            old.summary.zh if old.summary else "",
            new.summary.zh if new.summary else "",
        ),
    ]
    for zh, en, before, after in fields:
        if before != after:
            out.append(
                change(
                    "document",
                    en,
                    Text(f"{zh}：{before} → {after}", f"{en}: {before} → {after}"),
                    before=said(before),
                    after=said(after),
                    location=where,
                )
            )
    if (old.in_force.start, old.in_force.until) != (new.in_force.start, new.in_force.until):

        def window(p: Policy) -> Text:
            f = p.in_force
            until = f.until.isoformat() if f.until else None
            return Text(
                f"自{f.start.isoformat()}起" + (f"至{until}" if until else "，未设截止日"),
                f"from {f.start.isoformat()}" + (f" until {until}" if until else ", open-ended"),
            )

        shown = pair(window(old), window(new))
        out.append(
            change(
                "in-force",
                "in_force",
                Text(f"施行期间：{shown.zh}", f"in force: {shown.en}"),
                citation=new.in_force.citation,
                policy=new,
                before=window(old),
                after=window(new),
                breaking=new.in_force.start > old.in_force.start
                or (
                    new.in_force.until is not None
                    and (old.in_force.until is None or new.in_force.until < old.in_force.until)
                ),
                location=new.in_force.citation.location or where,
            )
        )
    if old.convention != new.convention:

        def convention(p: Policy) -> Text:
            c = p.convention
            words = "，".join(
                f"{w}{'含本数' if b.inclusive else '不含本数'}" for w, b in c.overridden().items()
            )
            ceiling = "；最高档含上限" if c.top_band_includes_ceiling else ""
            en_words = ", ".join(
                f"{w} {'includes' if b.inclusive else 'excludes'} the number"
                for w, b in c.overridden().items()
            )
            return Text(
                f"{c.base}{('：' + words) if words else ''}{ceiling}",
                f"{c.base}{(': ' + en_words) if en_words else ''}{'; top band includes its ceiling' if ceiling else ''}",
            )

        shown = pair(convention(old), convention(new))
        out.append(
            change(
                "convention",
                "boundary_convention",
                Text(f"界限用语的含义：{shown.zh}", f"boundary convention: {shown.en}"),
                citation=new.convention_citation or old.convention_citation,
                policy=new,
                before=convention(old),
                after=convention(new),
                location=where,
            )
        )
    return out


# -- the contract ---------------------------------------------------------------------------


def _fact_text(f: Fact) -> Text:
    zh = [str(f.type), "必填" if f.required and f.default is None else "可选"]
    en = [str(f.type), "required" if f.required and f.default is None else "optional"]
    if f.default is not None:
        zh.append(f"默认 {humanize.show_value(f.default, f.type.kind, f.unit, 'zh')}")
        en.append(f"default {humanize.show_value(f.default, f.type.kind, f.unit, 'en')}")
    bounds = [("≥", f.minimum), (">", f.exclusive_minimum), ("≤", f.maximum)]
    for sign, value in bounds:
        if value is not None:
            zh.append(f"{sign}{value}")
            en.append(f"{sign}{value}")
    if f.unit:
        zh.append(f.unit)
        en.append(f.unit)
    return Text(f"{f.description.zh}（{'，'.join(zh)}）", f"{f.description.en} ({', '.join(en)})")


def _output_text(o: Output) -> Text:
    unit = f"，{o.unit}" if o.unit else ""
    return Text(
        f"{o.description.zh}（{o.type}{unit}）",
        f"{o.description.en} ({o.type}{', ' + o.unit if o.unit else ''})",
    )


def _needed(f: Fact) -> bool:
    return f.required and f.default is None


def _fact_breaking(a: Fact, b: Fact) -> tuple[bool, list[str]]:
    """Whether a request valid before may now fail, and what changed."""
    what = []
    breaking = False
    if a.type != b.type:
        what.append("retyped")
        widened = (
            a.type.kind == b.type.kind
            and a.type.values is not None
            and b.type.values is not None
            and a.type.values <= b.type.values
            and a.type.nullable <= b.type.nullable
        )
        breaking |= not widened
    if _needed(b) and not _needed(a):
        what.append("made required")
        breaking = True
    elif _needed(a) and not _needed(b):
        what.append("made optional")
    if a.default != b.default and b.default is not None and a.default is not None:
        what.append("new default")
    if (a.minimum, a.exclusive_minimum, a.maximum) != (b.minimum, b.exclusive_minimum, b.maximum):
        what.append("bounds")
        breaking |= _tighter(a, b)
    if a.unit != b.unit:
        what.append("unit")
        breaking = True
    if a.description != b.description:
        what.append("described")
    return breaking, what


def _tighter(a: Fact, b: Fact) -> bool:
    def low(f: Fact) -> tuple[Any, bool] | None:
        if f.exclusive_minimum is not None:
            return (f.exclusive_minimum, True)
        if f.minimum is not None:
            return (f.minimum, False)
        return None

    la, lb = low(a), low(b)
    if lb is not None and (la is None or lb > la):
        return True
    return b.maximum is not None and (a.maximum is None or b.maximum < a.maximum)


_WHAT = {
    "retyped": "类型改变",
    "made required": "改为必填",
    "made optional": "改为可选",
    "new default": "默认值改变",
    "bounds": "取值范围改变",
    "unit": "单位改变",
    "described": "说明改写",
}


def contract_changes(old: Policy, new: Policy) -> list[Change]:
    out: list[Change] = []
    where = f"policies/{new.id}/policy.yaml"

    def add(
        subject: str,
        zh: str,
        en: str,
        before: Text | None,
        after: Text | None,
        breaking: bool,
        meaning: bool = True,
    ) -> None:
        flag = ("（不兼容）", " (breaking)") if breaking else ("", "")
        out.append(
            change(
                "contract",
                subject,
                Text(f"{zh}{flag[0]}", f"{en}{flag[1]}"),
                before=before,
                after=after,
                breaking=breaking,
                meaning=meaning,
                location=where,
            )
        )

    for name, f in new.facts.items():
        a = old.facts.get(name)
        if a is None:
            need = _needed(f)
            add(
                name,
                f"新增{'必填' if need else '可选'}事实 {name}",
                f"new {'required' if need else 'optional'} fact {name}",
                None,
                _fact_text(f),
                need,
            )
            continue
        breaking, what = _fact_breaking(a, f)
        if what:
            zh = "、".join(_WHAT[w] for w in what)
            add(
                name,
                f"事实 {name}：{zh}",
                f"fact {name}: {', '.join(what)}",
                _fact_text(a),
                _fact_text(f),
                breaking,
                what != ["described"],
            )
    for name, f in old.facts.items():
        if name not in new.facts:
            add(name, f"删除事实 {name}", f"fact {name} removed", _fact_text(f), None, True)
    for name, o in new.outputs.items():
        b = old.outputs.get(name)
        if b is None:
            add(name, f"新增输出 {name}", f"new output {name}", None, _output_text(o), False)
            continue
        what = []
        if b.type != o.type:
            what.append("retyped")
        if b.unit != o.unit:
            what.append("unit")
        if b.description != o.description:
            what.append("described")
        if what:
            zh = "、".join(_WHAT[w] for w in what)
            add(
                name,
                f"输出 {name}：{zh}",
                f"output {name}: {', '.join(what)}",
                _output_text(b),
                _output_text(o),
                what != ["described"],
                what != ["described"],
            )
    for name, o in old.outputs.items():
        if name not in new.outputs:
            add(name, f"删除输出 {name}", f"output {name} removed", _output_text(o), None, True)
    return out


# -- coverage -------------------------------------------------------------------------------

_STATUS = {
    "encoded": ("已编码", "encoded"),
    "not_computable": ("声明不可计算", "declared not computable"),
    "container": ("由下级条目覆盖", "covered by its items"),
    "unaccounted": ("未覆盖", "unaccounted"),
}


def coverage_changes(old: Policy, new: Policy) -> list[Change]:
    def statuses(p: Policy) -> dict[tuple[str, str], tuple[str, Any]]:
        out = {}
        for report in source_coverage(p.sources, citations_of(p), p.not_computable):
            source = p.sources[report.document]
            for anchor, status in report.status.items():
                out[(report.file, anchor)] = (status, source)
        return out

    a, b = statuses(old), statuses(new)
    changes = []
    for key, (status, source) in b.items():
        before = a.get(key, (None, None))[0]
        if before is None or before == status:
            continue
        file, anchor = key
        label = source.label_path(anchor)
        lost = before == "encoded" and status != "encoded"
        zh_b, en_b = _STATUS[before]
        zh_a, en_a = _STATUS[status]
        head = ("失去编码：", "lost its encoding: ") if lost else ("", "")
        changes.append(
            change(
                "coverage",
                f"{file}#{anchor}",
                Text(f"{label} {head[0]}{zh_b} → {zh_a}", f"{label} {head[1]}{en_b} → {en_a}"),
                article=anchor,
                label=label,
                before=Text(zh_b, en_b),
                after=Text(zh_a, en_a),
                location=f"policies/{new.id}/{file}:{source.anchors[anchor].line}:1",
            )
        )
    return changes
