"""What changed in the rules: parameters (old → new value with unit, date and citation),
computations (before and after in the site's readable form), decision-table rows (bounds
in the document's words), and clauses added, removed or renamed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ..language import core
from ..policy.model import Computation, Policy, Row
from ..site import humanize
from .changes import change, headed, label_of, pair
from .meaning import Shape, match_names, same_meaning, shape
from .parameters import parameter_changes
from .readable import Side, row_text
from .report import Change, Text

# -- computations and tables --------------------------------------------------------------


def rule_changes(old: Side, new: Side, names: Mapping[str, str]) -> list[Change]:
    out: list[Change] = []
    back = {n: o for o, n in names.items()}
    for name, comp in new.policy.computations.items():
        old_name = back.get(name)
        if old_name is None or old_name not in old.policy.computations:
            out.append(
                _rule(new, comp, None, new.rule_text(comp), f"新增计算 {name}", f"new value {name}")
            )
            continue
        prior = old.policy.computations[old_name]
        same = same_meaning(old.defs[old_name], new.defs[name], names)
        if old_name != name:
            out.append(
                _rule(
                    new,
                    comp,
                    old.rule_text(prior),
                    new.rule_text(comp),
                    f"中间值 {old_name} 更名为 {name}",
                    f"intermediate {old_name} renamed {name}",
                    meaning=not same,
                    subject=f"{old_name} → {name}",
                )
            )
            if same:
                continue
        if comp.table is not None and prior.table is not None:
            out += _table_changes(old, new, prior, comp, names, same)
            continue
        if same and old.rule_text(prior, bare=True) == new.rule_text(comp, bare=True):
            continue  # reformatted, or only a parameter's value changed (reported there)
        word = (
            ("改写（含义不变）", "reworded (same meaning)")
            if same
            else ("规则变更", "rule changed")
        )
        out.append(
            _rule(
                new,
                comp,
                old.rule_text(prior),
                new.rule_text(comp),
                f"{word[0]} {name}",
                f"{word[1]} {name}",
                meaning=not same,
            )
        )
    for old_name, comp in old.policy.computations.items():
        if old_name not in names:
            out.append(
                _rule(
                    old,
                    comp,
                    old.rule_text(comp),
                    None,
                    f"删除计算 {old_name}",
                    f"value {old_name} removed",
                )
            )
    return out


def _rule(
    side: Side,
    comp: Computation,
    before: Text | None,
    after: Text | None,
    zh: str,
    en: str,
    meaning: bool = True,
    subject: str | None = None,
) -> Change:
    label = label_of(side.policy, comp.citation)
    return change(
        "rule",
        subject or comp.name,
        headed(label, zh, en),
        clause=comp.clause,
        citation=comp.citation,
        policy=side.policy,
        before=before,
        after=after,
        meaning=meaning,
        location=comp.location,
        label=label,
    )


def _row_shapes(defn: core.Definition, names: Mapping[str, str]) -> list[Shape]:
    body = defn.body
    assert isinstance(body, core.Table)
    return [(shape(r.tests, names), shape(r.then, names)) for r in body.rows]


def _table_changes(
    old: Side,
    new: Side,
    prior: Computation,
    comp: Computation,
    names: Mapping[str, str],
    same: bool,
) -> list[Change]:
    assert prior.table is not None and comp.table is not None
    a = _row_shapes(old.defs[prior.name], names)
    b = _row_shapes(new.defs[comp.name], {})
    out: list[Change] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = prior.table.rows[i1:i2], comp.table.rows[j1:j2]
        if op == "equal":
            for r_old, r_new in zip(olds, news, strict=True):
                bt, at = row_text(old, prior, r_old, True), row_text(new, comp, r_new, True)
                if bt != at:  # the same bounds in other words
                    out.append(
                        _row(
                            new,
                            comp,
                            r_new,
                            row_text(old, prior, r_old),
                            row_text(new, comp, r_new),
                            "reworded",
                            False,
                        )
                    )
            continue
        for k in range(max(len(olds), len(news))):
            o_row = olds[k] if k < len(olds) else None
            n_row = news[k] if k < len(news) else None
            b_text = row_text(old, prior, o_row) if o_row else None
            a_text = row_text(new, comp, n_row) if n_row else None
            what = "changed" if o_row and n_row else ("added" if n_row else "removed")
            if n_row is not None:
                out.append(_row(new, comp, n_row, b_text, a_text, what, True))
            elif o_row is not None:
                out.append(_row(old, prior, o_row, b_text, a_text, what, True))
    default_old = (
        humanize.formula(prior.table.default, old.bare["zh"]) if prior.table.default else None
    )
    default_new = (
        humanize.formula(comp.table.default, new.bare["zh"]) if comp.table.default else None
    )
    if default_old != default_new or (prior.table.hit_policy != comp.table.hit_policy):

        def shown(side: Side, c: Computation) -> Text | None:
            t = c.table
            if t is None:
                return None
            d = {
                lang: humanize.formula(t.default, side.vocab[lang]) if t.default else "—"
                for lang in humanize.LANGS
            }
            return Text(
                f"其他情形为 {d['zh']}（{t.hit_policy}）", f"otherwise {d['en']} ({t.hit_policy})"
            )

        out.append(
            _rule(
                new,
                comp,
                shown(old, prior),
                shown(new, comp),
                f"决策表 {comp.name} 的默认值",
                f"default of table {comp.name}",
            )
        )
    if not out and not same:  # columns or types changed under the same rows
        out.append(
            _rule(
                new,
                comp,
                old.rule_text(prior),
                new.rule_text(comp),
                f"规则变更 {comp.name}",
                f"rule changed {comp.name}",
            )
        )
    return out


def _row(
    side: Side,
    comp: Computation,
    row: Row,
    before: Text | None,
    after: Text | None,
    what: str,
    meaning: bool,
) -> Change:
    label = label_of(side.policy, comp.citation)
    words = {
        "added": ("新增一行", "row added"),
        "removed": ("删除一行", "row removed"),
        "changed": ("一行变更", "row changed"),
        "reworded": ("一行改写（含义不变）", "row reworded (same meaning)"),
    }[what]
    shown = pair(before, after)
    return change(
        "table-row",
        comp.name,
        headed(
            label,
            f"决策表 {comp.name} {words[0]}：{shown.zh}",
            f"table {comp.name} {words[1]}: {shown.en}",
        ),
        clause=comp.clause,
        citation=comp.citation,
        policy=side.policy,
        before=before,
        after=after,
        meaning=meaning,
        location=row.location,
        label=label,
    )


# -- clauses ------------------------------------------------------------------------------


def _clause_key(policy: Policy, clause_id: str, names: Mapping[str, str] | None) -> Shape:
    clause = policy.clauses[clause_id]
    group = policy.obligation_groups.get(clause_id)
    m = names or {}
    comps = frozenset(m.get(n, n) if names is not None else n for n in clause.computations)
    params = frozenset(m.get(n, n) if names is not None else n for n in clause.parameters)
    items = frozenset(group.items) if group else frozenset()
    return (clause.kind, comps, params, items)


def clause_names(old: Policy, new: Policy, names: Mapping[str, str]) -> dict[str, str]:
    """old clause id -> new clause id: the same id, or a clause renamed whose
    computations, parameters and items are the same (mapped through ``names``)."""
    out = {c: c for c in old.clauses if c in new.clauses}
    lost = [c for c in old.clauses if c not in new.clauses]
    found = [c for c in new.clauses if c not in old.clauses]
    for old_id in lost:
        key = _clause_key(old, old_id, names)
        if not any(key[1:]):
            continue
        hits = [c for c in found if _clause_key(new, c, None) == key]
        if len(hits) == 1:
            out[old_id] = hits[0]
            found.remove(hits[0])
    return out


def clause_changes(
    old: Side, new: Side, clauses: Mapping[str, str], names: Mapping[str, str]
) -> list[Change]:
    out: list[Change] = []
    matched = set(clauses.values())
    for old_id, new_id in clauses.items():
        a, b = old.policy.clauses[old_id], new.policy.clauses[new_id]
        if old_id != new_id:
            same = all(
                names.get(n) in new.defs and same_meaning(old.defs[n], new.defs[names[n]], names)
                for n in a.computations
            )
            out.append(
                _clause_change(
                    "clause-renamed",
                    f"{old_id} → {new_id}",
                    new,
                    new_id,
                    f"条款 {old_id} 更名为 {new_id}{'（含义不变）' if same else ''}",
                    f"clause {old_id} renamed {new_id}{' (no change in meaning)' if same else ''}",
                    before=Text(f"{old_id}：{a.title.zh}", f"{old_id}: {a.title.en}"),
                    after=Text(f"{new_id}：{b.title.zh}", f"{new_id}: {b.title.en}"),
                    meaning=not same,
                )
            )
        if a.title != b.title and old_id == new_id:
            out.append(
                _clause_change(
                    "clause-renamed",
                    new_id,
                    new,
                    new_id,
                    f"条款 {new_id} 标题改为 {b.title.zh}",
                    f"clause {new_id} retitled {b.title.en}",
                    before=Text(a.title.zh, a.title.en),
                    after=Text(b.title.zh, b.title.en),
                    meaning=False,
                )
            )
    for side, ids, kind, zh, en in (
        (
            new,
            [c for c in new.policy.clauses if c not in matched],
            "clause-added",
            "新增条款",
            "clause added",
        ),
        (
            old,
            [c for c in old.policy.clauses if c not in clauses],
            "clause-removed",
            "删除条款",
            "clause removed",
        ),
    ):
        for clause_id in ids:
            c = side.policy.clauses[clause_id]
            title = Text(f"{clause_id}：{c.title.zh}", f"{clause_id}: {c.title.en}")
            out.append(
                _clause_change(
                    kind,
                    clause_id,
                    side,
                    clause_id,
                    f"{zh} {clause_id}（{c.title.zh}）",
                    f"{en} {clause_id} ({c.title.en})",
                    before=title if kind == "clause-removed" else None,
                    after=title if kind == "clause-added" else None,
                )
            )
    return out


def _clause_change(
    kind: str,
    subject: str,
    side: Side,
    clause_id: str,
    zh: str,
    en: str,
    *,
    before: Text | None,
    after: Text | None,
    meaning: bool = True,
) -> Change:
    """A change of a whole clause, cited by the clause's own citation on ``side``."""
    clause = side.policy.clauses[clause_id]
    return change(
        kind,
        subject,
        headed(label_of(side.policy, clause.citation), zh, en),
        clause=clause_id,
        citation=clause.citation,
        policy=side.policy,
        before=before,
        after=after,
        meaning=meaning,
        location=clause.citation.location or clause.file,
    )


def compare_rules(old: Policy, new: Policy) -> tuple[list[Change], dict[str, str]]:
    """Clause, parameter, rule and table changes, and the clause id map (old -> new)."""
    a, b = Side(old), Side(new)
    names = match_names(old, new, a.defs, b.defs)
    clauses = clause_names(old, new, names)
    changes = clause_changes(a, b, clauses, names)
    changes += parameter_changes(a, b, names)
    changes += rule_changes(a, b, names)
    return changes, clauses
