"""Rule clauses and their computations: every computed name declared first (so clauses may
refer to each other), then each built from its expression or decision table, then no
circular definitions."""

from __future__ import annotations

from pathlib import Path

from msgspec.structs import replace

from ...language.errors import PolicyFileError
from ...language.expressions import children, names
from ...language.values import Type, assignable, declared
from ..loader import Document
from ..model import Citation, Clause, Computation, Fact, Parameter
from .context import LoadContext
from .expressions import enum_results, typed_expression
from .notes import interpretations, text_of
from .source_texts import cite
from .tables import decision_table
from .values import enum_values


def declare_computations(
    ctx: LoadContext, docs: list[Document], facts: dict[str, Fact], parameters: dict[str, Parameter]
) -> dict[str, Type]:
    """Declare every computed name first, so clauses may refer to each other."""
    declared_types = {}
    for doc in docs:
        for name, spec in doc.data["compute"].items():
            where = doc.at(("compute", name), key=True)
            values = enum_values(ctx, spec, where, f"value {name}")
            t = declared(spec["type"], values, spec.get("nullable", False))
            if ctx.declare(name, t, where, "computed value"):
                declared_types[name] = t
    return declared_types


def clause_of(
    ctx: LoadContext,
    doc: Document,
    parameters: dict[str, Parameter],
    declared_types: dict[str, Type],
    computations: dict[str, Computation],
) -> Clause:
    data = doc.data
    stem = Path(doc.file).stem
    if data["id"] != stem:
        ctx.errors.append(
            PolicyFileError(
                f"clause id {data['id']!r} differs from its file name {stem!r}", doc.at(("id",))
            )
        )
    citation = cite(ctx, doc, ("citation",))
    names_here = []
    for name, spec in data["compute"].items():
        if name not in declared_types:
            continue
        comp = _computation(ctx, doc, name, spec, declared_types[name], citation)
        if comp is not None:
            computations[name] = comp
            names_here.append(name)
    return Clause(
        id=data["id"],
        title=text_of(data["title"]),
        kind=data.get("kind", "rule"),
        citation=citation,
        parameters=tuple(data.get("parameters") or ()),
        computations=tuple(names_here),
        interpretations=tuple(interpretations(data.get("interpretations", []))),
        file=doc.file,
    )


def _computation(
    ctx: LoadContext, doc: Document, name: str, spec: dict, t: Type, clause_citation: Citation
) -> Computation | None:
    base = ("compute", name)
    where = doc.at(base, key=True)
    citation = cite(ctx, doc, (*base, "citation")) if "citation" in spec else clause_citation
    has_expr, has_table = "expr" in spec, "table" in spec
    if has_expr == has_table:
        ctx.errors.append(PolicyFileError("write exactly one of 'expr' or 'table'", where))
        return None
    comp = Computation(
        name,
        t,
        text_of(spec["description"]),
        doc.data["id"],
        citation,
        spec.get("expr", ""),
        None,
        None,
        where,
    )
    if has_expr:
        parsed = typed_expression(ctx, doc, (*base, "expr"), spec["expr"])
        if parsed is None:
            return None
        node, actual = parsed
        if not assignable(actual, t):
            ctx.errors.append(
                PolicyFileError(
                    f"the expression gives {actual} but {name} is declared {t}",
                    doc.at((*base, "expr")),
                )
            )
            return None
        if not enum_results(ctx, doc, (*base, "expr"), node, t):
            return None
        return replace(
            comp,
            expr=node,
            deps=tuple(dict.fromkeys(n.name for n in names(node))),
        )
    return decision_table(ctx, doc, comp, spec["table"], (*base, "table"))


MAX_STACK = 600
"""How deep a computation's evaluation may go: the lazy engine works out what a value
reads when it reads it, so each level of a dependency chain costs a few Python frames
and each level of an expression tree one more. A chain deeper than this (a thousand
computations each reading the one before) is refused where it is defined."""


def check_cycles(ctx: LoadContext, computations: dict[str, Computation]) -> None:
    """No circular definitions, and no dependency chain deeper than MAX_STACK; walked
    with an explicit stack (a chain of thousands is read without recursion)."""
    state: dict[str, int] = {}
    cost: dict[str, int] = {}
    too_deep = False
    for root in computations:
        if root in state:
            continue
        state[root] = 1
        trail = [root]
        stack = [iter(computations[root].deps)]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                stack.pop()
                name = trail.pop()
                state[name] = 2
                cost[name] = (
                    _depth(computations[name])
                    + 2
                    + max((cost.get(d, 0) for d in computations[name].deps), default=0)
                )
                if cost[name] > MAX_STACK and not too_deep:
                    too_deep = True
                    ctx.errors.append(
                        PolicyFileError(
                            "depends on a chain of definitions too deep to evaluate "
                            f"(more than {MAX_STACK} levels: each definition counts 2 "
                            "and its expression's depth)",
                            computations[name].location,
                        )
                    )
                continue
            if dep not in computations or state.get(dep) == 2:
                continue
            if state.get(dep) == 1:
                cycle = " -> ".join([*trail[trail.index(dep) :], dep])
                ctx.errors.append(
                    PolicyFileError(f"circular definition: {cycle}", computations[dep].location)
                )
                continue
            state[dep] = 1
            trail.append(dep)
            stack.append(iter(computations[dep].deps))


def _depth(comp: Computation) -> int:
    """Levels of the computation's expression tree (a table counts a few)."""
    if comp.expr is None:
        return 4
    deepest, pending = 0, [(comp.expr, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending += [(child, depth + 1) for child in children(node)]
    return deepest
