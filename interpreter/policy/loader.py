"""Safe YAML loading that remembers where every value was written.

Policy files are read with PyYAML's safe composer only (no arbitrary tags). We build the
Python values ourselves from the node tree so that:

* a duplicate key is an error instead of a silent overwrite;
* numbers become ``Decimal`` (never float) so money and rates stay exact;
* dates stay ISO strings (the model parses them), so JSON Schema sees what the author wrote;
* every value's ``(line, column)`` is kept by its path, for error messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..language.errors import Location, PolicyFileError, shown

try:  # the C composer is much faster; both are safe (no Python tags are constructed)
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # fullmatch: "$" would match before a final newline

MAX_DEPTH = 100
"""Collections nested deeper than this are refused: no policy or facts file needs more,
and the readers (and every engine after them) recurse once per level."""

MAX_ALIASED = 10_000
"""Values an alias may copy, in all, in one file: each alias to a collection builds the
anchored collection again, so a few nested aliases (a "billion laughs") would expand to
billions of values."""


@dataclass
class Document:
    """A loaded YAML file: its data and where each path was written."""

    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    digest: str = ""  # sha256 of the text, so a check of unchanged text can be remembered

    def at(self, path: Path_ | list, *, key: bool = False) -> Location:
        """The location of ``path`` (or of its key), falling back to the nearest parent."""
        p = tuple(path)
        table = self.key_marks if key else self.marks
        while p and p not in table and p not in self.marks:
            p = p[:-1]
        line, col = table.get(p) or self.marks.get(p, (0, 0))
        return Location(self.file, line, col, dotted(tuple(path)))


def dotted(path: Path_) -> str:
    """``('parameters', 'minimum', 'value')`` -> ``parameters.minimum.value``; ``x[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_yaml(path: Path, display: str | None = None) -> Document:
    """Load one YAML file safely; raise PolicyFileError naming file:line:column."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileError(f"cannot read: {exc.strerror}", Location(name)) from None
    except UnicodeDecodeError:
        raise PolicyFileError("not UTF-8 text", Location(name)) from None
    return load_yaml_text(text, name)


def load_yaml_text(text: str, name: str) -> Document:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        _check_depth(text, name)  # libyaml stops at 1000 levels; the pure parser recurses
        node = _compose_for_error(text, name, exc)
    except RecursionError:  # the composer recurses once per level: find the place
        _check_depth(text, name)
        raise PolicyFileError(f"nested more than {MAX_DEPTH} deep", Location(name)) from None
    doc = Document(name, None, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if node is not None:
        doc.data = _Builder(doc).build(node, (), 0)
    return doc


def _check_depth(text: str, name: str) -> None:
    """Raise PolicyFileError where the collections first nest deeper than MAX_DEPTH (the
    event stream is read without recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
                    raise PolicyFileError(f"nested more than {MAX_DEPTH} deep", loc)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # not too deep before the syntax error: _compose_for_error reports it


def _compose_for_error(text: str, name: str, first: yaml.YAMLError) -> yaml.Node | None:
    """Parse again with the pure-Python parser: its marks point at the faulty line, where
    libyaml's often point at the end of the input (``first``: libyaml's error)."""
    try:
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except RecursionError:
            raise first from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        raise PolicyFileError(f"invalid YAML: {exc.problem or exc.context}", loc) from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"invalid YAML: {exc}", Location(name)) from None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Python values from the node tree, refusing what would not end: nesting beyond
    MAX_DEPTH, aliases copying more than MAX_ALIASED values in all."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.built: set[int] = set()  # ids of the collections built once already
        self.aliased = 0

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        doc = self.doc
        doc.marks[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node, path, doc)
        if depth >= MAX_DEPTH:
            loc = Location(doc.file, *_mark(node), _short_path(path))
            raise PolicyFileError(f"nested more than {MAX_DEPTH} deep", loc)
        if id(node) in self.built:  # an alias: the anchored collection is built again
            self.aliased += _size(node, MAX_ALIASED)
            if self.aliased > MAX_ALIASED:
                line, col = doc.key_marks.get(path) or _mark(node)
                loc = Location(doc.file, line, col, _short_path(path))
                raise PolicyFileError(
                    f"aliases copy more than {MAX_ALIASED} values: write the values out", loc
                )
        else:
            self.built.add(id(node))
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    loc = Location(doc.file, *_mark(key_node), dotted(path))
                    raise PolicyFileError("a key must be a plain scalar", loc)
                key = key_node.value
                if key_node.tag == "tag:yaml.org,2002:merge":
                    loc = Location(doc.file, *_mark(key_node), dotted(path))
                    raise PolicyFileError("YAML merge keys (<<) are not allowed", loc)
                if key in out:
                    first = doc.key_marks.get((*path, key), (0, 0))
                    loc = Location(doc.file, *_mark(key_node), _short_path((*path, key)))
                    raise PolicyFileError(
                        f"duplicate key {shown(key)} (first written at line {first[0]})", loc
                    )
                doc.key_marks[(*path, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        assert isinstance(node, yaml.SequenceNode)  # a node is a mapping, a sequence or a scalar
        return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]


def _size(node: yaml.Node, limit: int) -> int:
    """The number of values under ``node`` (aliases counted as often as they are
    written), counting no further than just past ``limit``."""
    count, pending = 0, [node]
    while pending and count <= limit:
        item = pending.pop()
        count += 1
        if isinstance(item, yaml.MappingNode):
            pending += [value for _, value in item.value]
        elif isinstance(item, yaml.SequenceNode):
            pending += item.value
    return count


def _short_path(path: Path_) -> str:
    return shown(dotted(path), quote=False)


def _scalar(node: yaml.ScalarNode, path: Path_, doc: Document) -> Any:
    tag, value = node.tag, node.value
    if tag == _STR or node.style in ("'", '"', "|", ">"):
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() in ("true", "yes", "on")
    if tag in (_INT, _FLOAT):
        try:
            number = Decimal(value.replace("_", ""))
        except InvalidOperation:
            loc = Location(doc.file, *_mark(node), dotted(path))
            raise PolicyFileError(f"{shown(value)} is not a decimal number", loc) from None
        if tag == _INT and number == number.to_integral_value() and number.adjusted() < _INT_DIGITS:
            return int(number)
        return number
    if tag == _TIMESTAMP:
        if not _DATE.fullmatch(value):
            loc = Location(doc.file, *_mark(node), dotted(path))
            raise PolicyFileError(f"{shown(value)}: write dates as YYYY-MM-DD", loc)
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            loc = Location(doc.file, *_mark(node), dotted(path))
            raise PolicyFileError(f"{value!r} is not a date (YYYY-MM-DD)", loc) from None
        return value
    loc = Location(doc.file, *_mark(node), dotted(path))
    raise PolicyFileError(f"unsupported YAML tag {tag}", loc)


_INT_DIGITS = 4000
"""Integers with more digits stay Decimal: Python refuses to print an int of more than
4300 digits (sys.int_info.str_digits_check_threshold) and would say so in an error
message; such a number is refused as too large wherever it is used."""


def loads_json(text: str) -> Any:
    """JSON as every entry point accepts it: decimals exact (never float), a duplicate key
    or NaN/Infinity refused with ValueError; syntax errors are json.JSONDecodeError."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate key {shown(key)}")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number")

    def integer(text: str) -> int | Decimal:
        return int(text) if len(text) <= _INT_DIGITS else Decimal(text)

    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=integer,
            object_pairs_hook=no_duplicates,
            parse_constant=constant,
        )
    except RecursionError:  # the decoder recurses once per level: find the place
        raise _too_deep(text) from None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str) -> json.JSONDecodeError:
    """The error for JSON nested deeper than the decoder goes, at the first bracket
    deeper than MAX_DEPTH."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return json.JSONDecodeError(
                    f"nested more than {MAX_DEPTH} deep", text, match.start()
                )
        elif token in "]}":
            depth -= 1
    return json.JSONDecodeError(f"nested more than {MAX_DEPTH} deep", text, 0)


def value_at(data: Any, path: tuple) -> Any:
    """The value at a path of keys and indices in loaded YAML (a Document's ``data``)."""
    for part in path:
        data = data[part]
    return data
