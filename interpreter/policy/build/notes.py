"""Bilingual texts and interpretation notes as model objects."""

from __future__ import annotations

from ..model import Interpretation, Text


def text_of(data: dict) -> Text:
    return Text(data["zh"], data["en"])


def interpretations(items: list[dict]) -> list[Interpretation]:
    return [Interpretation(i["id"], text_of(i["topic"]), text_of(i["note"])) for i in items]
