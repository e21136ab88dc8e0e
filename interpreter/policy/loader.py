"""Safe YAML loading that remembers where every value was written.

Policy files are read with PyYAML's safe composer only (no arbitrary tags). We build the
Python values ourselves from the node tree so that:

* a duplicate key is an error instead of a silent overwrite;
* numbers become ``Decimal`` (never float) so money and rates stay exact;
* dates stay ISO strings (the model parses them), so JSON Schema sees what the author wrote;
* every value's ``(line, column)`` is kept by its path, for error messages.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ..language.errors import Location, PolicyFileError

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
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    except yaml.YAMLError:
        node = _compose_for_error(text, name)
    doc = Document(name, None, digest=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if node is not None:
        doc.data = _build(node, (), doc)
    return doc


def _compose_for_error(text: str, name: str) -> yaml.Node | None:
    """Parse again with the pure-Python parser: its marks point at the faulty line, where
    libyaml's often point at the end of the input."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        raise PolicyFileError(f"invalid YAML: {exc.problem or exc.context}", loc) from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"invalid YAML: {exc}", Location(name)) from None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path_, doc: Document) -> Any:
    doc.marks[path] = _mark(node)
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
                loc = Location(doc.file, *_mark(key_node), dotted((*path, key)))
                raise PolicyFileError(
                    f"duplicate key {key!r} (first written at line {first[0]})", loc
                )
            doc.key_marks[(*path, key)] = _mark(key_node)
            out[key] = _build(value_node, (*path, key), doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)  # a node is a mapping, a sequence or a scalar
    return _scalar(node, path, doc)


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
            raise PolicyFileError(f"{value!r} is not a decimal number", loc) from None
        return int(number) if tag == _INT and number == number.to_integral_value() else number
    if tag == _TIMESTAMP:
        if not _DATE.match(value):
            loc = Location(doc.file, *_mark(node), dotted(path))
            raise PolicyFileError(f"{value!r}: write dates as YYYY-MM-DD", loc)
        return value
    loc = Location(doc.file, *_mark(node), dotted(path))
    raise PolicyFileError(f"unsupported YAML tag {tag}", loc)


def loads_json(text: str) -> Any:
    """JSON as every entry point accepts it: decimals exact (never float), a duplicate key
    or NaN/Infinity refused with ValueError; syntax errors are json.JSONDecodeError."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number")

    return json.loads(
        text, parse_float=Decimal, object_pairs_hook=no_duplicates, parse_constant=constant
    )


def value_at(data: Any, path: tuple) -> Any:
    """The value at a path of keys and indices in loaded YAML (a Document's ``data``)."""
    for part in path:
        data = data[part]
    return data
