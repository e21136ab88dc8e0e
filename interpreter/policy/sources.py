"""Parse ``policies/<id>/source.md``: the gazette text with stable anchors.

A source file is YAML front matter followed by the document's text exactly as printed
(only page-break splits are joined). Units (articles, sections, items) start on a line
that begins with ``<a id="..."></a>``; citations in clauses point at these ids and quote
the text, so this module gives every anchor its span of text and checks quotes against
it. Parsing uses plain string operations: sources are read on every validation run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..language.errors import PolicyFileError
from . import schema
from .loader import load_yaml, load_yaml_text

# One grammar for every id, so a reviewer can read an id without the file open:
#   optional prefix  notice- (the covering notice) | attN- (Nth attached text, N >= 2)
#   a head           art-N | ch-N | sN | qN | pN | preamble | closing | final
#   then any number of  -N (numbered sub-unit) | -pN (Nth paragraph) | -boxN (专栏 N)
ANCHOR_ID_RE = re.compile(
    r"^(?:(?:notice|att[2-9])-)?"
    r"(?:art-[1-9]\d*|ch-[1-9]\d*|s[1-9]\d*|q[1-9]\d*|p[1-9]\d*|preamble|closing|final)"
    r"(?:-(?:[1-9]\d*|p[1-9]\d*|box[1-9]\d*))*$"
)
_ANCHOR_TAG = re.compile(r'<a id="([^"]*)"></a>')
_ANY_TAG = re.compile(r"</?a\b", re.IGNORECASE)
_NAMED = {"preamble": "序言", "closing": "文末", "final": "结尾"}
_MARKUP_PREFIX = re.compile(r"^(?:[-|]\s*|\*\*)+")
_NUMERALS = "〇一二三四五六七八九"
_CN = "〇零一二三四五六七八九十百"
_LABELS = (
    re.compile(rf"^第[{_CN}]+[条章]"),
    re.compile(rf"^[{_CN}]+、"),
    re.compile(rf"^[（(][{_CN}]+[）)]"),
    re.compile(r"^\d+\."),
    re.compile(rf"^[{_CN}]+是"),
    re.compile(r"^专栏\s*\d+"),
)


class SourceError(Exception):
    """A source file is malformed; the message starts with ``path:line:col: ``."""

    def __init__(self, path: Path | str, line: int, col: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path = Path(path)
        self.line = line
        self.col = col
        self.message = message


@dataclass(frozen=True)
class Anchor:
    """One citable unit: its id, printed number, place and text (descendants included)."""

    id: str
    label: str
    line: int
    text: str
    parent: str | None


@dataclass(frozen=True)
class SourceText:
    """A parsed source.md: front matter, body without anchor tags, anchors in order."""

    path: Path
    front_matter: dict[str, Any]
    body: str
    anchors: dict[str, Anchor] = field(default_factory=dict)

    def locate(self, quote: str, anchor_id: str | None = None) -> bool:
        """Whether ``quote`` occurs in the anchor's span (or the body), ignoring
        whitespace and ``**``: line breaks and layout spaces are not part of the law."""
        needle = normalize_quote(quote)
        if not needle:
            return False
        if anchor_id is None:
            haystack = self.body
        else:
            if anchor_id not in self.anchors:
                raise KeyError(f"{self.path}: no anchor {anchor_id!r}")
            haystack = self.anchors[anchor_id].text
        return needle in normalize_quote(haystack)

    def label_path(self, anchor_id: str) -> str:
        """A locator a lawyer can read, e.g. ``三、（二）2.`` or ``第十条第二款``."""
        chain = [*ancestors(anchor_id, self.anchors), anchor_id]
        in_article = anchor_id.startswith("art-")
        steps = (_describe(self.anchors[a], in_article) for a in chain)
        return _document_prefix(anchor_id, self.anchors) + "".join(steps)


def normalize_quote(text: str) -> str:
    """Drop ``**`` and every Unicode whitespace: quotes must survive re-wrapping."""
    text = unicodedata.normalize("NFC", text).replace("**", "")
    return "".join(ch for ch in text if not ch.isspace())


def is_descendant(child: str, parent: str) -> bool:
    """Ids nest by prefix: ``s3-2-1`` is inside ``s3``; ``art-10`` is not inside ``art-1``."""
    return child.startswith(parent + "-")


def ancestors(anchor_id: str, present: Container[str]) -> list[str]:
    """Ids of the anchors present that contain ``anchor_id``, outermost first."""
    parts = anchor_id.split("-")
    found = ["-".join(parts[:n]) for n in range(1, len(parts))]
    return [a for a in found if a in present]


def chinese_number(text: str) -> int | None:
    """Value of a Chinese numeral up to 999 (一, 十二, 二十五, 一百零三); None if not one."""
    if not text or any(ch not in _CN for ch in text):
        return None
    total, digit = 0, 0
    for ch in text:
        if ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            digit = 0 if ch in "〇零" else _NUMERALS.index(ch)
    return total + digit


def chinese_numeral(n: int) -> str:
    """Inverse of chinese_number for 1..99, used to write 第二款 in locators."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens] + "十")
    return head + (_NUMERALS[ones] if ones or not head else "")


def unit_label(text: str) -> str:
    """The number a unit line starts with, as printed (Markdown list/table markers skipped)."""
    stripped = _MARKUP_PREFIX.sub("", text.lstrip())
    for pattern in _LABELS:
        match = pattern.match(stripped)
        if match:
            return match.group(0)
    return ""


def label_number(label: str) -> int | None:
    """The number in a label: 第二十二条 -> 22, （三） -> 3, 11. -> 11, 专栏 4 -> 4."""
    digits = re.search(r"\d+", label)
    if digits:
        return int(digits.group(0))
    core = re.sub(r"^第|[条章、是（）()]", "", label)
    return chinese_number(core)


def expected_number(anchor_id: str) -> int | None:
    """The printed number an id promises (its last segment), or None for paragraphs etc."""
    match = re.fullmatch(r"(?:s|q|box)?(\d+)", anchor_id.split("-")[-1])
    return int(match.group(1)) if match else None


def _describe(anchor: Anchor, in_article: bool) -> str:
    """One step of a locator: the printed label, or a name for unnumbered units."""
    if anchor.label:
        return anchor.label
    last = anchor.id.split("-")[-1]
    if last in _NAMED:
        return _NAMED[last]
    if re.fullmatch(r"p\d+", last):
        return f"第{chinese_numeral(int(last[1:]))}{'款' if in_article else '段'}"
    return last


def _document_prefix(anchor_id: str, present: dict[str, Anchor]) -> str:
    """Which text of the file a locator is in (covering notice, attached text), plus the
    name of an unanchored head such as ``final`` in ``final-p2``."""
    parts = anchor_id.split("-")
    prefix = ""
    if parts[0] == "notice":
        prefix, parts = "通知", parts[1:]
    elif re.fullmatch(r"att\d+", parts[0]):
        prefix, parts = f"附文{parts[0][3:]}", parts[1:]
    head = anchor_id[: len(anchor_id) - len("-".join(parts))] + parts[0]
    if len(parts) > 1 and parts[0] in _NAMED and head not in present:
        prefix += _NAMED[parts[0]]
    return prefix


def _first_problem(path: Path, problems: list[PolicyFileError], line_offset: int) -> SourceError:
    """The loader's and schema's errors, in the SourceError form (path:line:col)."""
    first = problems[0]
    loc = first.location
    line = (loc.line + line_offset) if loc and loc.line else 1
    where = f"{loc.path}: " if loc and loc.path else ""
    return SourceError(path, line, loc.column if loc and loc.column else 1, where + first.message)


def parse_front_matter(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
    """Front matter dict and the index of the first body line; errors name the line."""
    if not lines or lines[0].rstrip() != "---":
        raise SourceError(path, 1, 1, "missing front matter: file must start with '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    except StopIteration:
        raise SourceError(path, 1, 1, "front matter is not closed by a '---' line") from None
    fm_lines = lines[1:end]
    try:
        doc = load_yaml_text("\n".join(fm_lines), str(path))
    except PolicyFileError as error:
        raise _first_problem(path, [error], 1) from None
    data = doc.data
    if not isinstance(data, dict):
        raise SourceError(path, 2, 1, "front matter must be a mapping")
    problems = schema.validate(doc, "source")
    if problems:
        raise _first_problem(path, problems, 1)
    first, last = data["seed"]["lines"]
    if first > last:
        raise SourceError(
            path, doc.at(("seed", "lines")).line + 1, 1, "seed.lines must be [first, last]"
        )
    return data, end + 1


def _scan_anchor(path: Path, number: int, text: str) -> tuple[str | None, str]:
    """(id or None, line without its tag); any other use of <a> is an error."""
    match = _ANCHOR_TAG.match(text)
    rest = text[match.end() :] if match else text
    stray = _ANY_TAG.search(rest)
    if stray:
        raise SourceError(
            path,
            number,
            stray.start() + 1 + (len(text) - len(rest)),
            "malformed or misplaced anchor tag; expected '<a id=\"...\"></a>' "
            "at the very start of a line",
        )
    if not match:
        return None, text
    anchor_id = match.group(1)
    if not ANCHOR_ID_RE.match(anchor_id):
        raise SourceError(path, number, 8, f"anchor id {anchor_id!r} does not follow the scheme")
    if not rest or rest[0].isspace():
        raise SourceError(path, number, match.end() + 1, "anchor must be followed by text")
    return anchor_id, rest


def _check_label(path: Path, number: int, anchor_id: str, label: str) -> None:
    """A numbered id must sit on a line printing that number (art-22 on 第二十二条)."""
    want = expected_number(anchor_id)
    if want is None:
        return
    got = label_number(label) if label else None
    if got != want:
        shown = label or "no number"
        raise SourceError(path, number, 1, f"anchor {anchor_id!r} is on a line starting {shown!r}")


def _spans(starts: list[tuple[str, int]], total: int) -> Iterator[tuple[str, int, int]]:
    """(id, first, end) body-line ranges: a span stops at the next non-descendant anchor."""
    for k, (anchor_id, first) in enumerate(starts):
        end = total
        for other_id, other_first in starts[k + 1 :]:
            if not is_descendant(other_id, anchor_id):
                end = other_first
                break
        yield anchor_id, first, end


def parse_source(path: Path, raw: str) -> SourceText:
    """Parse source text already read from ``path`` (split out for tests and tools)."""
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    front_matter, body_start = parse_front_matter(path, lines)
    clean: list[str] = []
    starts: list[tuple[str, int]] = []
    labels: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for index in range(body_start, len(lines)):
        number = index + 1
        anchor_id, text = _scan_anchor(path, number, lines[index])
        if anchor_id is not None:
            if anchor_id in first_line:
                raise SourceError(
                    path,
                    number,
                    1,
                    f"duplicate anchor id {anchor_id!r} (first on line {first_line[anchor_id]})",
                )
            label = unit_label(text) if expected_number(anchor_id) is not None else ""
            _check_label(path, number, anchor_id, label)
            first_line[anchor_id] = number
            labels[anchor_id] = label
            starts.append((anchor_id, len(clean)))
        clean.append(text)
    anchors: dict[str, Anchor] = {}
    for anchor_id, first, end in _spans(starts, len(clean)):
        parents = ancestors(anchor_id, first_line.keys())
        anchors[anchor_id] = Anchor(
            id=anchor_id,
            label=labels[anchor_id],
            line=first_line[anchor_id],
            text="\n".join(clean[first:end]).strip("\n"),
            parent=parents[-1] if parents else None,
        )
    return SourceText(path=path, front_matter=front_matter, body="\n".join(clean), anchors=anchors)


def load_source(path: Path) -> SourceText:
    """Read and parse one source.md or interpretation.md."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(path, 1, 1, f"cannot read: {error}") from None
    return parse_source(path, raw)


@dataclass(frozen=True)
class Erratum:
    """A suspected misprint, recorded beside the untouched text."""

    anchor: str
    printed: str
    probably_meant: str
    why: str
    line: int


def load_errata(path: Path, source: SourceText) -> list[Erratum]:
    """Read errata.yaml and check each entry against ``source``: the anchor must exist and
    the printed text must occur in its span, otherwise the erratum documents nothing."""
    path = Path(path)
    try:
        doc = load_yaml(path, str(path))
    except PolicyFileError as error:
        raise _first_problem(path, [error], 0) from None
    problems = schema.validate(doc, "errata")
    if problems:
        raise _first_problem(path, problems, 0)
    data = doc.data
    entries = [doc.at(("errata", i)).line for i in range(len(data["errata"]))]
    result = []
    for item, entry_line in zip(data["errata"], entries, strict=True):
        erratum = Erratum(line=entry_line, **item)
        if erratum.anchor not in source.anchors:
            raise SourceError(path, entry_line, 1, f"unknown anchor {erratum.anchor!r}")
        if not source.locate(erratum.printed, erratum.anchor):
            raise SourceError(path, entry_line, 1, f"printed text not in {erratum.anchor!r}")
        result.append(erratum)
    return result
