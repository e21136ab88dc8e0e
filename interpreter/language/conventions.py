"""How a document counts its thresholds: 以上/以下/不满/超过 as inclusive or exclusive bounds.

The general rule is 《中华人民共和国民法典》第一千二百五十九条: "民法所称的'以上'、'以下'、
'以内'、'届满'，包括本数；所称的'不满'、'超过'、'以外'，不包括本数。" A document may set
its own (the transport measure's 第二十二条 does), declared in its policy.yaml as overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bound:
    """A threshold word read as a bound: ``x 以上 70`` is side "min", inclusive."""

    side: str  # "min": the value is at least/above the number; "max": at most/below
    inclusive: bool

    @property
    def operator(self) -> str:
        if self.side == "min":
            return ">=" if self.inclusive else ">"
        return "<=" if self.inclusive else "<"


# 民法典第一千二百五十九条, plus words whose meaning does not depend on a convention:
# 年满/已满/届满 (has reached), 未满/不满/不足/少于/低于/未达到 (has not reached),
# 多于/高于/超过 (above), 不超过/未超过 (at most), 不低于/不少于/至少 (at least).
CIVIL_CODE_1259: dict[str, Bound] = {
    "以上": Bound("min", True),
    "以下": Bound("max", True),
    "以内": Bound("max", True),
    "届满": Bound("min", True),
    "不满": Bound("max", False),
    "超过": Bound("min", False),
    "以外": Bound("min", False),
    "年满": Bound("min", True),
    "未满": Bound("max", False),
    "少于": Bound("max", False),
    "多于": Bound("min", False),
    "低于": Bound("max", False),
    "高于": Bound("min", False),
    "不足": Bound("max", False),
    "未达到": Bound("max", False),
    "已满": Bound("min", True),
    "不超过": Bound("max", True),
    "未超过": Bound("max", True),
    # 不低于 (not lower than) and 不少于 (not fewer than) include the number: "不低于50亩"
    # is 50 mu or more. Used by 粤办函〔2021〕207号 (单个县域……不低于总规模20%、不低于50亩/园).
    "不低于": Bound("min", True),
    "不少于": Bound("min", True),
    # 至少 (at least) includes the number: "至少对接一个专家服务团队" is one team or more.
    "至少": Bound("min", True),
}

# Neutral spellings for tables written without a legal word.
NEUTRAL: dict[str, Bound] = {
    "gte": Bound("min", True),
    "gt": Bound("min", False),
    "lte": Bound("max", True),
    "lt": Bound("max", False),
}

BASES = {"civil-code-1259": CIVIL_CODE_1259}


@dataclass(frozen=True)
class Convention:
    """One document's reading of threshold words."""

    base: str
    words: dict[str, Bound] = field(default_factory=dict)
    top_band_includes_ceiling: bool = False

    def bound(self, word: str) -> Bound | None:
        return self.words.get(word) or NEUTRAL.get(word)

    def overridden(self) -> dict[str, Bound]:
        """The words this document reads differently from its base."""
        base = BASES[self.base]
        return {w: b for w, b in self.words.items() if base.get(w) != b}


def convention_from(spec: dict) -> Convention:
    """Build a document's convention from its policy.yaml ``boundary_convention``."""
    words = dict(BASES[spec["base"]])
    for word, bound in (spec.get("overrides") or {}).items():
        words[word] = Bound(bound["side"], bound["inclusive"])
    return Convention(spec["base"], words, bool(spec.get("top_band_includes_ceiling", False)))
