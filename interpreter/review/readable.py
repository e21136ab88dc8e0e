"""Rules in readable form, in the document's words, for before/after: one version of a
policy with its lowered definitions and the site's vocabulary (``site.humanize``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from ..language import core
from ..policy.lowering import lower_policy
from ..policy.model import Computation, Policy, Row
from ..site import humanize
from .report import Text


class Side:
    """One version of a policy with what the comparison reads of it, computed once."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @cached_property
    def defs(self) -> Mapping[str, core.Definition]:
        return lower_policy(self.policy)

    @cached_property
    def vocab(self) -> dict[str, humanize.Vocabulary]:
        """Labels with the parameter values shown beside them, as the site writes rules."""
        return {lang: humanize.vocabulary(self.policy, lang) for lang in humanize.LANGS}

    @cached_property
    def bare(self) -> dict[str, humanize.Vocabulary]:
        """Labels alone: a rule whose only difference is a parameter's value is unchanged
        (the parameter's change is reported on its own)."""
        out = {}
        for lang, v in self.vocab.items():
            out[lang] = humanize.Vocabulary(v.lang, v.labels, {}, v.meanings)
        return out

    def rule_text(self, comp: Computation, bare: bool = False) -> Text:
        vocab = self.bare if bare else self.vocab
        if comp.expr is None:
            rows = (
                [row_text(self, comp, row, bare) for row in comp.table.rows] if comp.table else []
            )
            return Text("；".join(r.zh for r in rows), "; ".join(r.en for r in rows))
        return Text(
            humanize.formula(comp.expr, vocab["zh"]), humanize.formula(comp.expr, vocab["en"])
        )


def row_text(side: Side, comp: Computation, row: Row, bare: bool = False) -> Text:
    """A table row in the document's words: its bounds (年满80不满90), its value, and the
    sentence of the text it encodes."""
    vocab = side.bare if bare else side.vocab
    out = {}
    for lang in humanize.LANGS:
        cells = []
        for column, cell in row.cells.items():
            if cell.is_any:
                continue
            label = vocab[lang].labels.get(column, column)
            cells.append(f"{label} {humanize.cell_text(cell, lang)}")
        sep = "，" if lang == "zh" else ", "
        then = humanize.formula(row.then, vocab[lang])
        arrow = "时为 " if lang == "zh" else ": "
        text = f"{sep.join(cells) or ('其他' if lang == 'zh' else 'otherwise')}{arrow}{then}"
        if row.text:
            text += f"（“{row.text}”）" if lang == "zh" else f' ("{row.text}")'
        out[lang] = text
    return Text(out["zh"], out["en"])
