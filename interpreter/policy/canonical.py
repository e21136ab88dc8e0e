"""The canonical style of a policy YAML file: text in, text out, no I/O.

``policy fmt`` rewrites every policy file through ruamel.yaml's round-trip loader and
dumper, so that comments (the ``$schema`` modeline included), anchors, aliases, key order,
flow mappings and block scalars survive, and everything else is written one way only:

* mappings indented by 2; a sequence under a key indented by 2 with its items' content at
  4 (``key:`` / ``  - item``), the way nearly every file was already written;
* no line is ever folded or wrapped (a verbatim quote stays on its line, however long);
* quotes are kept where the author wrote them (and added only where YAML needs them);
  Chinese text is written as it is, never escaped;
* a number, boolean or date keeps the exact characters it was written with (``0.018``,
  ``3000.00`` stay what they are: the loader reads them as exact decimals);
* null is written ``null``; the file ends with one newline.

After formatting, changing one value changes one line, and formatting a formatted text
returns it unchanged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter

from ..language.errors import Location, PolicyFileError
from .loader import load_yaml_text

# The indentation: mapping 2, sequence items' content at 4 with the dash at 2.
MAPPING_INDENT, SEQUENCE_INDENT, SEQUENCE_DASH_OFFSET = 2, 4, 2
WIDTH = 1_000_000_000  # never fold: long quotes stay on one line

_AS_WRITTEN = (
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
)


@dataclass(frozen=True)
class _Anchor:
    """An anchor as ruamel's serializer reads it (``value``, ``always_dump``)."""

    value: str
    always_dump: bool = True


class _AsWritten(str):
    """A plain number, boolean or date, kept as the characters it was written with."""

    tag: str
    anchor: _Anchor | None

    def __new__(cls, text: str, tag: str, anchor: str | None) -> _AsWritten:
        self = super().__new__(cls, text)
        self.tag = tag
        self.anchor = None if anchor is None else _Anchor(anchor)
        return self


class _Constructor(RoundTripConstructor):
    def construct_as_written(self, node: ScalarNode) -> Any:
        if node.style:  # a quoted or block scalar is a string: the default handles it
            return self.construct_scalar(node)
        return _AsWritten(node.value, str(node.tag), node.anchor)


for _tag in _AS_WRITTEN:
    _Constructor.add_constructor(_tag, _Constructor.construct_as_written)


class _Representer(RoundTripRepresenter):
    def represent_as_written(self, data: _AsWritten) -> ScalarNode:
        return self.represent_scalar(data.tag, str(data), anchor=data.anchor)

    def represent_null(self, data: None) -> ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:null", "null")


_Representer.add_representer(_AsWritten, _Representer.represent_as_written)
_Representer.add_representer(type(None), _Representer.represent_null)


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.Representer = _Representer
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    yaml.width = WIDTH
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_DASH_OFFSET)
    return yaml


def _keep_anchors(data: Any, seen: set[int]) -> None:
    """An anchor no alias refers to is still the author's: dump it (ruamel drops those)."""
    if id(data) in seen:
        return
    seen.add(id(data))
    anchor = getattr(data, "anchor", None)
    if isinstance(anchor, Anchor) and anchor.value is not None:
        anchor.always_dump = True
    if isinstance(data, dict):
        for value in data.values():
            _keep_anchors(value, seen)
    elif isinstance(data, list):
        for item in data:
            _keep_anchors(item, seen)


def format_yaml(text: str, name: str = "<text>") -> str:
    """The canonical form of one YAML document; PolicyFileError (file:line:column) if the
    text does not parse. The result is checked to mean what the text meant to the policy
    loader (AssertionError otherwise: a bug here, not in the file)."""
    before = meaning(text, name)  # the project's own loader first: its errors, its reading
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.problem and exc.problem.startswith("but "):
            problem = f"{exc.context}, {exc.problem}"
        problem = " ".join(str(problem).split())  # one line
        raise PolicyFileError(f"invalid YAML: {problem}", loc) from None
    except YAMLError as exc:
        raise PolicyFileError(
            f"invalid YAML: {' '.join(str(exc).split())}", Location(name)
        ) from None
    if data is None:  # no document (comments only): nothing to put in order
        return text
    _keep_anchors(data, set())
    out = io.StringIO()
    yaml.dump(data, out)
    formatted = out.getvalue()
    if meaning(formatted, name) != before:  # a bug in the style, never the author's fault
        raise AssertionError(f"{name}: formatting would change what the file means")
    return formatted


def meaning(text: str, name: str) -> str:
    """What the policy loader reads from ``text`` (exact decimals, dates as written, key
    order), as one string to compare."""
    return repr(load_yaml_text(text, name).data)
