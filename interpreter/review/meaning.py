"""Whether two rules mean the same: their lowered core trees compared without positions,
with intermediate names mapped consistently.

Two definitions have the same meaning when their normalised core trees are equal: every
``Origin`` dropped (where a node was written, and the clause it sits in), and every name an
old rule reads mapped through the renames found so far. A renamed intermediate (renamed in
its definition and in every reader) is found by ``match_names``: an unpaired old value and
an unpaired new one with the same normalised body are the same value under two names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from ..language import core
from ..policy.model import Policy

Shape = Any  # a hashable, position-free image of a core tree


def shape(node: object, names: Mapping[str, str]) -> Shape:
    """The node without origins, every read name mapped through ``names``."""
    if isinstance(node, Struct):
        if isinstance(node, core.Origin):
            return None
        out: list[Any] = [type(node).__name__]
        for field_name in node.__struct_fields__:
            if field_name == "at":
                continue
            value = getattr(node, field_name)
            if field_name in ("name", "column") and isinstance(value, str):
                value = names.get(value, value)
            out.append(shape(value, names))
        return tuple(out)
    if isinstance(node, tuple | list):
        return tuple(shape(item, names) for item in node)
    return node  # scalars, frozensets of scalars, Type (a frozen dataclass)


def definition_shape(d: core.Definition, names: Mapping[str, str]) -> Shape:
    return (str(d.type), d.type, shape(d.body, names))


def match_names(
    old: Policy,
    new: Policy,
    old_defs: Mapping[str, core.Definition],
    new_defs: Mapping[str, core.Definition],
) -> dict[str, str]:
    """old name -> new name for every computation and parameter present on both sides:
    the same name, or a renamed intermediate (not an output: outputs are the contract)
    whose definition (or, for a parameter, whose dated values) is the same."""
    names = {n: n for n in old_defs if n in new_defs}
    names.update({n: n for n in old.parameters if n in new.parameters})
    _match_parameters(old, new, names)
    lost = [n for n in old_defs if n not in names and n not in old.outputs]
    taken = set(names.values())
    order = new.dependency_order(tuple(new_defs))
    found = [n for n in order if n not in taken and n not in new.outputs]
    changed = True
    while changed and lost and found:
        changed = False
        for new_name in list(found):
            target = definition_shape(new_defs[new_name], {})
            for old_name in lost:
                trial = {**names, old_name: new_name}
                if definition_shape(old_defs[old_name], trial) == target:
                    names[old_name] = new_name
                    lost.remove(old_name)
                    found.remove(new_name)
                    changed = True
                    break
    return names


def _parameter_key(policy: Policy, name: str) -> Shape:
    p = policy.parameters[name]
    return (p.type, p.unit, tuple((v.start, v.value) for v in p.values))


def _match_parameters(old: Policy, new: Policy, names: dict[str, str]) -> None:
    lost = [n for n in old.parameters if n not in new.parameters]
    found = [n for n in new.parameters if n not in old.parameters]
    for old_name in lost:
        key = _parameter_key(old, old_name)
        hits = [n for n in found if _parameter_key(new, n) == key]
        if len(hits) == 1:
            names[old_name] = hits[0]
            found.remove(hits[0])


def same_meaning(
    old_def: core.Definition, new_def: core.Definition, names: Mapping[str, str]
) -> bool:
    return definition_shape(old_def, names) == definition_shape(new_def, {})
