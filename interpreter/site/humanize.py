"""Rules written for people: expression trees and table cells as readable zh/en text.

The docs site shows formulas in words (``if eligible then flat_amount else 0`` becomes
"属于本次调整范围时为 每人每月定额增加额（45元/月），否则为 0"), so a legal reviewer reads
the rule, not the syntax. Threshold words stay as the document writes them (``x 超过 15``
is "x 超过 15", never "x > 15"): their meaning is the document's convention, which the page
states once. Everything here is a pure function of the policy model.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..language.expressions import Binary, Call, If, ListLit, Literal, Name, Node, Unary
from ..language.tables import Cell
from ..language.values import FEN, Kind
from ..policy.model import Computation, Fact, Output, Policy

LANGS = ("zh", "en")

_TRAILING_NOTE = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")
_CUT = re.compile(r"[：:；;]")
_MEANING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=?\s*(.+)")

_OPS = {
    "zh": {"==": "为", "!=": "不为", "<": "<", "<=": "≤", ">": ">", ">=": "≥"},
    "en": {"==": "is", "!=": "is not", "<": "<", "<=": "≤", ">": ">", ">=": "≥"},
}
_ARITH = {"+": "+", "-": "−", "*": "×", "/": "÷"}
_NEUTRAL_WORDS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "=": ""}
_ROUNDING = {
    "zh": {
        "half_up": "四舍五入",
        "half_even": "四舍六入五成双",
        "down": "舍去",
        "up": "进一",
        "ceiling": "向上舍入",
        "floor": "向下舍入",
    },
    "en": {
        "half_up": "rounded half-up",
        "half_even": "rounded half-even",
        "down": "rounded down",
        "up": "rounded up",
        "ceiling": "rounded towards +∞",
        "floor": "rounded towards −∞",
    },
}
_PLACES = {
    "zh": {0: "到元", 1: "到角", 2: "到分"},
    "en": {0: "to the yuan", 1: "to the jiao", 2: "to the fen"},
}


@dataclass(frozen=True)
class Vocabulary:
    """How names read in one language: a label per fact/parameter/value, and the
    parameter values in effect (shown beside the label so a number is never hidden)."""

    lang: str
    labels: dict[str, str]
    values: dict[str, str]
    meanings: dict[str, str]

    def literal(self, text: str) -> str:
        """An enum value in code font, with its Chinese meaning where the text gives one."""
        meaning = self.meanings.get(text) if self.lang == "zh" else None
        return f"`{text}`（{meaning}）" if meaning else f"`{text}`"

    def name(self, name: str) -> str:
        label = self.labels.get(name, name)
        value = self.values.get(name)
        if value is None:
            return label
        return f"{label}（{value}）" if self.lang == "zh" else f"{label} ({value})"


def short_label(text: str, lang: str = "zh") -> str:
    """A description cut to its head: no trailing parenthetical remark, nothing after the
    first colon or semicolon (an enum's list of values), so formulas stay readable."""
    head = _CUT.split(text, maxsplit=1)[0].strip() or text
    stripped = _TRAILING_NOTE.sub("", head) or head
    if lang == "en" and len(stripped) > 1 and stripped[1].islower():
        stripped = stripped[0].lower() + stripped[1:]
    return stripped


def enum_meanings(policy: Policy) -> dict[str, str]:
    """value -> its Chinese meaning, read from enum descriptions written
    "参加的基本养老保险：enterprise 企业职工基本养老保险；public_institution ..."."""
    meanings: dict[str, str] = {}
    items: list[Fact | Computation | Output] = [
        *policy.facts.values(),
        *policy.computations.values(),
        *policy.outputs.values(),
    ]
    for item in items:
        if item.type.kind != Kind.ENUM or "：" not in item.description.zh:
            continue
        listing = item.description.zh.split("：", 1)[1]
        for part in re.split("[；;]", listing):
            match = _MEANING.match(part.strip())
            if match and match.group(1) in (item.type.values or ()):
                meanings.setdefault(match.group(1), match.group(2).strip())
    return meanings


def vocabulary(policy: Policy, lang: str, on: dt.date | None = None) -> Vocabulary:
    """Labels for every name of a policy; parameter values as in effect on ``on``
    (default: the first day in force), but only when a parameter has a single value."""
    labels: dict[str, str] = {}
    for group in (policy.facts, policy.parameters, policy.computations):
        for name, item in group.items():
            labels[name] = short_label(getattr(item.description, lang), lang)
    values: dict[str, str] = {}
    day = on or policy.in_force.start
    for name, parameter in policy.parameters.items():
        current = parameter.at(day)
        if current is not None and len(parameter.values) == 1:
            values[name] = show_value(current.value, parameter.type.kind, parameter.unit, lang)
    return Vocabulary(lang, labels, values, enum_meanings(policy))


_UNITS_EN = {"元/月": "yuan/month", "元": "yuan", "年": "years", "元/月/年": "yuan/month per year"}


def show_value(
    value: Any, kind: str | None = None, unit: str | None = None, lang: str = "zh"
) -> str:
    """A value as a reviewer writes it: 45元/月, 1.8%, 2020-12-31, 是/否."""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if value is None:
        return "空" if lang == "zh" else "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, Decimal):
        return str(value)
    if unit == "%":
        return f"{plain_number(value * 100)}%"
    text = plain_number(value)
    if kind == Kind.MONEY and value != value.to_integral_value():
        text = format(value.quantize(FEN), "f")
    if kind == Kind.MONEY and unit is None:
        unit = "元"
    if not unit:
        return text
    return f"{text}{unit}" if lang == "zh" else f"{text} {_UNITS_EN.get(unit, unit)}"


def plain_number(value: Decimal) -> str:
    """1.80 -> 1.8, 45.00 -> 45, 1E+2 -> 100: numbers as people write them."""
    return format(value.normalize(), "f")


def formula(node: Node, vocab: Vocabulary) -> str:
    """The whole expression in words."""
    return _Writer(vocab).write(node)


def cell_text(cell: Cell, lang: str = "zh") -> str:
    """A table cell as written: ``{年满: 70, 不满: 80}`` -> 年满70不满80; a value list -> a、b."""
    if cell.is_any:
        return "—"
    if cell.values is not None and all(word == "=" for word, _ in cell.written):
        sep = "、" if lang == "zh" else ", "
        return sep.join(_written_value(v, lang) for _, v in cell.written)
    parts = []
    for word, value in cell.written:
        symbol = _NEUTRAL_WORDS.get(word)
        parts.append(f"{symbol} {value}" if symbol else f"{word}{value}")
    sep = "" if lang == "zh" else " "
    return sep.join(parts)


def _written_value(value: str, lang: str) -> str:
    if value in ("True", "False"):
        return show_value(value == "True", lang=lang)
    return value


class _Writer:
    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.zh = vocab.lang == "zh"

    def write(self, node: Node) -> str:
        if isinstance(node, If):
            return self._if(node)
        return self.expr(node)

    def _if(self, node: If) -> str:
        """``if a then x else if b then y else z`` -> "a时为 x；b时为 y；否则为 z"."""
        arms: list[tuple[Node, Node]] = []
        rest: Node = node
        while isinstance(rest, If):
            arms.append((rest.cond, rest.then))
            rest = rest.otherwise
        if self.zh:
            parts = [f"{self.cond(c)}时为 {self.value(v)}" for c, v in arms]
            return "；".join(parts) + f"，否则为 {self.value(rest)}"
        parts = [f"{self.value(v)} if {self.cond(c)}" for c, v in arms]
        return "; ".join(parts) + f", otherwise {self.value(rest)}"

    def value(self, node: Node) -> str:
        if isinstance(node, If):
            return f"（{self._if(node)}）" if self.zh else f"({self._if(node)})"
        return self.expr(node)

    def cond(self, node: Node) -> str:
        return self.expr(node)

    def expr(self, node: Node, above: int = 0) -> str:
        text, level = self._node(node)
        if level <= above:
            return f"（{text}）" if self.zh else f"({text})"
        return text

    def _node(self, node: Node) -> tuple[str, int]:
        if isinstance(node, Literal):
            return self._literal(node), 9
        if isinstance(node, Name):
            return self.vocab.name(node.name), 9
        if isinstance(node, If):
            return self._if(node), 0
        if isinstance(node, ListLit):
            sep = "、" if self.zh else ", "
            return "[" + sep.join(self.expr(i) for i in node.items) + "]", 9
        if isinstance(node, Call):
            return self._call(node), 8
        if isinstance(node, Unary):
            if node.op == "not":
                inner = self.expr(node.operand, 3)
                return (f"并非{inner}" if self.zh else f"not {inner}"), 3
            return f"−{self.expr(node.operand, 7)}", 7
        return self._binary(node)

    def _literal(self, node: Literal) -> str:
        value = node.value
        if isinstance(value, bool) or value is None:
            return show_value(value, lang=self.vocab.lang)
        if isinstance(value, str):
            return self.vocab.literal(value)
        return node.text

    def _binary(self, node: Binary) -> tuple[str, int]:
        if node.op in ("and", "or"):
            level = 2 if node.op == "and" else 1
            if self.zh:
                word = "，且" if node.op == "and" else "，或"
            else:
                word = " and " if node.op == "and" else " or "
            return (
                f"{self.expr(node.left, level - 1)}{word}{self.expr(node.right, level - 1)}",
                level,
            )
        if node.op in ("in", "not in"):
            if self.zh:
                word = " 属于 " if node.op == "in" else " 不属于 "
            else:
                word = " is one of " if node.op == "in" else " is none of "
            return f"{self.expr(node.left, 4)}{word}{self.expr(node.right, 4)}", 4
        if node.word is not None:  # the threshold word as the document writes it
            return f"{self.expr(node.left, 4)} {node.word} {self.expr(node.right, 4)}", 4
        if node.op in _OPS["zh"]:
            op = _OPS[self.vocab.lang][node.op]
            return f"{self.expr(node.left, 4)} {op} {self.expr(node.right, 4)}", 4
        level = 5 if node.op in "+-" else 6
        right_above = level if node.op in "-/" else level - 1
        text = f"{self.expr(node.left, level - 1)} {_ARITH[node.op]} {self.expr(node.right, right_above)}"
        return text, level

    def _call(self, node: Call) -> str:
        writer = _CALLS.get(node.func)
        args = [self.expr(a, 7) for a in node.args]
        if writer is not None:
            return writer(self, node, args)
        return f"{node.func}({', '.join(args)})"


def _literal_arg(node: Call, i: int, default: Decimal | str) -> Decimal | bool | str | None:
    """The value of argument ``i`` of ``round``, which the type checker requires to be
    written as a literal; ``default`` when it is left out."""
    if len(node.args) <= i:
        return default
    arg = node.args[i]
    if not isinstance(arg, Literal):
        raise TypeError(f"{node.func}: argument {i + 1} is not written as a literal")
    return arg.value


def _round(w: _Writer, node: Call, args: list[str]) -> str:
    places = _literal_arg(node, 1, Decimal(2))  # round's default: to the fen
    mode = _literal_arg(node, 2, "half_up")
    lang = w.vocab.lang
    args = [w.expr(node.args[0], 4), *args[1:]]
    mode_text = _ROUNDING[lang].get(str(mode), str(mode))
    if isinstance(places, Decimal) and int(places) in _PLACES[lang]:
        where = _PLACES[lang][int(places)]
    elif lang == "zh":
        where = f"保留{args[1]}位小数"
    else:
        where = f"to {args[1]} places"
    return (
        f"{args[0]}（{mode_text}{where}）" if lang == "zh" else f"{args[0]} ({mode_text} {where})"
    )


def _pair(zh: str, en: str) -> Callable[[_Writer, Call, list[str]], str]:
    def write(w: _Writer, _node: Call, args: list[str]) -> str:
        template = zh if w.zh else en
        return template.format(*args, all=("、" if w.zh else ", ").join(args))

    return write


_CALLS: dict[str, Callable[[_Writer, Call, list[str]], str]] = {
    "round": _round,
    "min": _pair("{all}中的较小者", "the smaller of {all}"),
    "max": _pair("{all}中的较大者", "the larger of {all}"),
    "abs": _pair("|{0}|", "|{0}|"),
    "ceil": _pair("{0}（不满1按1计）", "{0} rounded up to a whole number"),
    "floor": _pair("{0}（只计满数）", "{0} rounded down to a whole number"),
    "age_on": _pair("{0}至{1}的周岁", "age in completed years on {1} (born {0})"),
    "years_between": _pair("{0}至{1}的整年数", "completed years from {0} to {1}"),
    "months_between": _pair("{0}至{1}的整月数", "completed months from {0} to {1}"),
    "days_between": _pair("{0}至{1}的天数", "days from {0} to {1}"),
    "add_days": _pair("{0}加{1}日", "{0} plus {1} days"),
    "add_months": _pair("{0}加{1}个月", "{0} plus {1} months"),
    "add_years": _pair("{0}加{1}年", "{0} plus {1} years"),
    "add_working_days": _pair("{0}后第{1}个工作日", "the {1}th working day after {0}"),
    "working_days_between": _pair("{0}至{1}的工作日数", "working days after {0} up to {1}"),
    "is_working_day": _pair("{0}为工作日", "{0} is a working day"),
    "year": _pair("{0}的年份", "the year of {0}"),
    "month": _pair("{0}的月份", "the month of {0}"),
    "day": _pair("{0}的日", "the day of the month of {0}"),
    "given": _pair("已提供{0}", "{0} is given"),
    "date": lambda _w, node, _args: str(getattr(node.args[0], "value", "")),
}
