"""Load a policy folder into the model, checking everything a reviewer would check.

Order of checks: YAML (safe, no duplicate keys) -> JSON Schema (no unknown keys) ->
semantics: citations against the source text, names defined, types agreeing, tables
without overlaps, no cycles, dates ordered, test cases naming real facts. All problems
are collected so `policy validate` can list them at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..language.conventions import Convention, convention_from
from ..language.errors import Location, PolicyError, PolicyFileError, ValidationErrors, did_you_mean
from ..language.expressions import ExpressionError, If, Literal, Node, names, number_literal, parse
from ..language.tables import (
    Cell,
    TableError,
    apply_top_band_ceiling,
    gaps,
    overlaps,
    parse_cell,
)
from ..language.typecheck import check
from ..language.values import FEN, Kind, Type, assignable, declared, iso_date, python_value_ok
from . import schema
from .article_coverage import citations_of, conflicts, load_manifest, source_coverage
from .citations import check_citation
from .loader import Document, load_yaml, value_at
from .model import (
    Case,
    Citation,
    Clause,
    Computation,
    DocumentInfo,
    Fact,
    InForce,
    Interpretation,
    Output,
    Parameter,
    ParameterValue,
    Policy,
    Row,
    Table,
)
from .obligations import ObligationChecks, text_of
from .sources import SourceError, SourceText, load_errata, load_source


def load_policy(directory: Path, display_root: Path | None = None) -> Policy:
    """Build one policy; raise ValidationErrors listing every problem found."""
    builder = _Builder(directory, display_root or directory.parent.parent)
    policy = builder.build()
    if builder.errors or policy is None:
        raise ValidationErrors(builder.errors or [PolicyError("policy could not be built")])
    return policy


def policy_files(directory: Path) -> list[Path]:
    """Every file that defines the policy, in a stable order (for the content hash)."""
    files = [directory / "policy.yaml"]
    for sub in ("clauses", "tests"):
        files += sorted((directory / sub).glob("*.yaml"))
    files += sorted(directory.glob("*.md"))
    files += [directory / "errata.yaml", directory / "coverage.yaml"]
    return [f for f in files if f.is_file()]


def content_hash(files: list[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(base).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


class _Builder(ObligationChecks):
    def __init__(self, directory: Path, display_root: Path) -> None:
        self.dir = directory
        self.display_root = display_root
        self.errors: list[PolicyError] = []
        self.convention: Convention = convention_from({"base": "civil-code-1259"})
        self.sources: dict[str, SourceText] = {}
        self.types: dict[str, Type] = {}
        self.defined_at: dict[str, Location] = {}

    # -- files -------------------------------------------------------------------------
    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.display_root).as_posix()
        except ValueError:
            return str(path)

    def load(self, path: Path, kind: str) -> Document | None:
        try:
            doc = load_yaml(path, self.display(path))
        except PolicyFileError as exc:
            self.errors.append(exc)
            return None
        problems = schema.validate(doc, kind)
        self.errors += problems
        return None if problems else doc

    def _load_all(self, folder: str, kind: str) -> list[Document]:
        files = sorted((self.dir / folder).glob("*.yaml"))
        return [doc for f in files if (doc := self.load(f, kind)) is not None]

    def _load_clauses(self) -> tuple[list[Document], list[Document]]:
        """clauses/*.yaml: rule clauses, and obligation files (``kind: obligations``),
        each validated against its own schema."""
        rules, obligations = [], []
        for path in sorted((self.dir / "clauses").glob("*.yaml")):
            try:
                doc = load_yaml(path, self.display(path))
            except PolicyFileError as exc:
                self.errors.append(exc)
                continue
            is_obligations = isinstance(doc.data, dict) and doc.data.get("kind") == "obligations"
            problems = schema.validate(doc, "obligations" if is_obligations else "clause")
            self.errors += problems
            if not problems:
                (obligations if is_obligations else rules).append(doc)
        return rules, obligations

    def build(self) -> Policy | None:
        policy_doc = self.load(self.dir / "policy.yaml", "policy")
        if policy_doc is None:
            return None
        data = policy_doc.data
        if data["id"] != self.dir.name:
            self.errors.append(
                PolicyFileError(
                    f"id {data['id']!r} differs from the folder name {self.dir.name!r}",
                    policy_doc.at(("id",)),
                )
            )
        clause_docs, obligation_docs = self._load_clauses()
        test_docs = self._load_all("tests", "tests")
        if self.errors:
            return None  # semantic checks on half-read files would only add noise
        self._load_sources(policy_doc)
        self.convention = convention_from(data["boundary_convention"])
        self._check_convention(policy_doc)
        facts = self._facts(policy_doc)
        parameters: dict[str, Parameter] = {}
        for doc in clause_docs:
            parameters.update(self._parameters(doc, facts))
        computations: dict[str, Computation] = {}
        clauses: dict[str, Clause] = {}
        declared_only = self._declare_computations(clause_docs, facts, parameters)
        for doc in clause_docs:
            clause = self._clause(doc, parameters, declared_only, computations)
            if clause.id in clauses:
                self.errors.append(
                    PolicyFileError(f"clause id {clause.id!r} is used twice", doc.at(("id",)))
                )
            clauses[clause.id] = clause
        self._check_cycles(computations)
        obligations, groups = self._obligations(obligation_docs, clauses)
        outputs = self._outputs(policy_doc, computations)
        in_force = self._in_force(policy_doc)
        cases = self._cases(test_docs, facts, outputs, declared_only, clauses)
        interpretations = tuple(self._interpretations(data.get("interpretations", [])))
        manifest, problems = load_manifest(
            self.dir, self.sources, self.display(self.dir / "coverage.yaml")
        )
        self.errors += problems
        files = policy_files(self.dir)
        conv_citation = None
        if "citation" in data["boundary_convention"]:
            conv_citation = self._citation(policy_doc, ("boundary_convention", "citation"))
        doc_info = data["document"]
        policy = Policy(
            id=data["id"],
            root=self.dir,
            title=text_of(data["title"]),
            summary=text_of(data["summary"]) if "summary" in data else None,
            document=DocumentInfo(
                doc_info["number"],
                doc_info["title"],
                tuple(doc_info["issuers"]),
                iso_date(doc_info["signed"]),
                iso_date(doc_info["published"]),
            ),
            in_force=in_force,
            convention=self.convention,
            convention_citation=conv_citation,
            facts=facts,
            outputs=outputs,
            parameters=parameters,
            computations=computations,
            clauses=clauses,
            cases=cases,
            sources=self.sources,
            interpretations=interpretations,
            content_hash=content_hash(files, self.dir),
            not_computable=manifest,
            obligations=obligations,
            obligation_groups=groups,
        )
        self.errors += [
            PolicyFileError(c, Location(self.display(self.dir / "coverage.yaml")))
            for c in conflicts(
                source_coverage(self.sources, citations_of(policy), manifest), manifest
            )
        ]
        return policy

    # -- sources -----------------------------------------------------------------------
    def _load_sources(self, doc: Document) -> None:
        number = doc.data["document"]["number"]
        entries = doc.data.get("sources") or [
            {"file": "source.md", "document": number, "role": "primary"}
        ]
        for i, entry in enumerate(entries):
            path = self.dir / entry["file"]
            try:
                source = load_source(path)
            except SourceError as exc:
                self.errors.append(
                    PolicyFileError(exc.message, Location(self.display(path), exc.line, exc.col))
                )
                continue
            except FileNotFoundError:
                self.errors.append(
                    PolicyFileError(
                        f"source file {entry['file']} is missing", doc.at(("sources", i))
                    )
                )
                continue
            printed = str(source.front_matter.get("document_number", "")).replace(" ", "")
            if entry["role"] == "primary" and printed != entry["document"].replace(" ", ""):
                self.errors.append(
                    PolicyFileError(
                        f"document number {entry['document']!r} differs from {entry['file']}'s "
                        f"front matter {printed!r}",
                        doc.at(("document", "number")),
                    )
                )
            self.sources[entry["document"]] = source
            errata = self.dir / "errata.yaml"
            if entry["role"] == "primary" and errata.is_file():
                try:
                    load_errata(errata, source)
                except SourceError as exc:
                    self.errors.append(
                        PolicyFileError(
                            exc.message, Location(self.display(errata), exc.line, exc.col)
                        )
                    )

    def _citation(self, doc: Document, path: tuple) -> Citation:
        raw = value_at(doc.data, path)
        citation = Citation(raw["document"], raw["article"], raw["quote"])
        cited, problems = check_citation(
            citation, self.sources, lambda key: doc.at((*path, key) if key else path)
        )
        self.errors += problems
        return cited

    def _check_convention(self, doc: Document) -> None:
        overrides = doc.data["boundary_convention"].get("overrides") or {}
        for word in overrides:
            if word not in self.convention.words or word in ("gte", "gt", "lte", "lt"):
                self.errors.append(
                    PolicyFileError(
                        f"{word!r} is not a threshold word",
                        doc.at(("boundary_convention", "overrides", word), key=True),
                    )
                )

    # -- facts and parameters ----------------------------------------------------------
    def _declare(self, name: str, t: Type, where: Location, what: str) -> bool:
        if name in self.types:
            self.errors.append(
                PolicyFileError(
                    f"{what} {name!r} is already defined at {self.defined_at[name]}", where
                )
            )
            return False
        self.types[name] = t
        self.defined_at[name] = where
        return True

    def _enum_values(self, spec: dict, where: Location, what: str) -> list[str] | None:
        if spec["type"] == Kind.ENUM and not spec.get("values"):
            self.errors.append(PolicyFileError(f"{what}: an enum needs its values", where))
        if spec["type"] != Kind.ENUM and spec.get("values"):
            self.errors.append(PolicyFileError(f"{what}: only an enum has values", where))
        return spec.get("values")

    def _facts(self, doc: Document) -> dict[str, Fact]:
        facts = {}
        for name, spec in (doc.data.get("facts") or {}).items():
            where = doc.at(("facts", name), key=True)
            values = self._enum_values(spec, where, f"fact {name}")
            required = spec.get("required", True)
            has_default = "default" in spec
            t = declared(spec["type"], values, nullable=not required and not has_default)
            default = None
            if has_default:
                default = self._literal_value(
                    spec["default"], t, doc.at(("facts", name, "default"))
                )
            for bound in ("minimum", "exclusive_minimum", "maximum"):
                if bound in spec and not t.numeric:
                    self.errors.append(
                        PolicyFileError(
                            f"{bound} applies to numbers only", doc.at(("facts", name, bound))
                        )
                    )
            self._declare(name, t, where, "fact")
            facts[name] = Fact(
                name,
                t,
                text_of(spec["description"]),
                required,
                default,
                spec.get("minimum"),
                spec.get("exclusive_minimum"),
                spec.get("maximum"),
                spec.get("unit"),
            )
        return facts

    def _literal_value(self, raw: Any, t: Type, where: Location) -> Any:
        """A value written in YAML (parameter value, default) as the runtime representation."""
        try:
            if t.kind == Kind.DATE:
                return iso_date(str(raw))
            if t.numeric:
                if isinstance(raw, bool):
                    raise ValueError
                value = number_literal(raw) if isinstance(raw, str) else Decimal(raw)
                if t.kind == Kind.INTEGER and value != value.to_integral_value():
                    raise ValueError
                if t.kind == Kind.MONEY and value != value.quantize(FEN):
                    raise ValueError
                return value
        except (ValueError, InvalidOperation):
            self.errors.append(PolicyFileError(f"{raw!r} is not a valid {t.kind}", where))
            return None
        if not python_value_ok(raw, t.kind):
            self.errors.append(PolicyFileError(f"{raw!r} is not a valid {t.kind}", where))
            return None
        if t.kind == Kind.ENUM and t.values and raw not in t.values:
            self.errors.append(
                PolicyFileError(f"{raw!r} is not one of {', '.join(sorted(t.values))}", where)
            )
        return raw

    def _parameters(self, doc: Document, facts: dict[str, Fact]) -> dict[str, Parameter]:
        out = {}
        clause_id = doc.data["id"]
        for name, spec in (doc.data.get("parameters") or {}).items():
            base = ("parameters", name)
            t = declared(spec["type"])
            if not self._declare(name, t, doc.at(base, key=True), "parameter"):
                continue
            values = []
            for i, entry in enumerate(spec["values"]):
                where = doc.at((*base, "values", i, "value"))
                value = self._literal_value(entry["value"], t, where)
                citation = self._citation(doc, (*base, "values", i, "citation"))
                values.append(ParameterValue(iso_date(entry["from"]), value, citation))
            starts = [v.start for v in values]
            if starts != sorted(set(starts)):
                self.errors.append(
                    PolicyFileError(
                        "dated values must be in strictly increasing order of 'from'",
                        doc.at((*base, "values")),
                    )
                )
            out[name] = Parameter(
                name, t, text_of(spec["description"]), tuple(values), clause_id, spec.get("unit")
            )
        return out

    # -- computations ------------------------------------------------------------------
    def _declare_computations(
        self, docs: list[Document], facts: dict[str, Fact], parameters: dict[str, Parameter]
    ) -> dict[str, Type]:
        """Declare every computed name first, so clauses may refer to each other."""
        declared_types = {}
        for doc in docs:
            for name, spec in doc.data["compute"].items():
                where = doc.at(("compute", name), key=True)
                values = self._enum_values(spec, where, f"value {name}")
                t = declared(spec["type"], values, spec.get("nullable", False))
                if self._declare(name, t, where, "computed value"):
                    declared_types[name] = t
        return declared_types

    def _clause(
        self,
        doc: Document,
        parameters: dict[str, Parameter],
        declared_types: dict[str, Type],
        computations: dict[str, Computation],
    ) -> Clause:
        data = doc.data
        stem = Path(doc.file).stem
        if data["id"] != stem:
            self.errors.append(
                PolicyFileError(
                    f"clause id {data['id']!r} differs from its file name {stem!r}", doc.at(("id",))
                )
            )
        citation = self._citation(doc, ("citation",))
        names_here = []
        for name, spec in data["compute"].items():
            if name not in declared_types:
                continue
            comp = self._computation(doc, name, spec, declared_types[name], citation)
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
            interpretations=tuple(self._interpretations(data.get("interpretations", []))),
            file=doc.file,
        )

    def _interpretations(self, items: list[dict]) -> list[Interpretation]:
        return [Interpretation(i["id"], text_of(i["topic"]), text_of(i["note"])) for i in items]

    def _expression(self, doc: Document, path: tuple, source: str) -> tuple[Node, Type] | None:
        try:
            node = parse(source)
            return node, check(node, self.types, self.convention)
        except ExpressionError as exc:
            self.errors.append(
                PolicyFileError(
                    f"{exc.message} (at {_caret(source, exc.pos)})",
                    _expr_location(doc, path, exc.pos),
                )
            )
            return None

    def _computation(
        self, doc: Document, name: str, spec: dict, t: Type, clause_citation: Citation
    ) -> Computation | None:
        base = ("compute", name)
        where = doc.at(base, key=True)
        citation = (
            self._citation(doc, (*base, "citation")) if "citation" in spec else clause_citation
        )
        has_expr, has_table = "expr" in spec, "table" in spec
        if has_expr == has_table:
            self.errors.append(PolicyFileError("write exactly one of 'expr' or 'table'", where))
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
            parsed = self._expression(doc, (*base, "expr"), spec["expr"])
            if parsed is None:
                return None
            node, actual = parsed
            if not assignable(actual, t):
                self.errors.append(
                    PolicyFileError(
                        f"the expression gives {actual} but {name} is declared {t}",
                        doc.at((*base, "expr")),
                    )
                )
                return None
            if not self._enum_results(doc, (*base, "expr"), node, t):
                return None
            return dataclasses.replace(
                comp,
                expr=node,
                deps=tuple(dict.fromkeys(n.name for n in names(node))),
            )
        return self._table(doc, comp, spec["table"], (*base, "table"))

    def _table(
        self, doc: Document, comp: Computation, spec: dict, base: tuple
    ) -> Computation | None:
        columns = tuple(spec["columns"])
        ok = True
        for i, column in enumerate(columns):
            if column not in self.types:
                hint = did_you_mean(column, self.types)
                self.errors.append(
                    PolicyFileError(
                        f"unknown column {column!r}{hint}", doc.at((*base, "columns", i))
                    )
                )
                ok = False
        if not ok:
            return None
        rows: list[Row] = []
        cell_rows: list[dict] = []
        thens = []
        for i, row in enumerate(spec["rows"]):
            rpath = (*base, "rows", i)
            cells = {}
            for column in row["when"]:
                if column not in columns:
                    self.errors.append(
                        PolicyFileError(
                            f"{column!r} is not a column of this table ({', '.join(columns)})",
                            doc.at((*rpath, "when", column), key=True),
                        )
                    )
                    ok = False
            for column in columns:
                if column not in row["when"]:
                    cells[column] = Cell()  # not mentioned: any value
                    continue
                try:
                    cells[column] = parse_cell(
                        row["when"][column],
                        column,
                        self.types[column],
                        self.convention,
                        (*rpath, "when", column),
                    )
                except TableError as exc:
                    self.errors.append(PolicyFileError(exc.message, doc.at(exc.path)))
                    ok = False
            then = self._then(doc, (*rpath, "then"), row["then"], comp.type)
            if then is None:
                ok = False
            if row.get("text") and not self._phrase_in_citation(row["text"], comp.citation):
                self.errors.append(
                    PolicyFileError(
                        f"row text {row['text']!r} does not occur in the cited article "
                        f"{comp.citation.article}",
                        doc.at((*rpath, "text")),
                    )
                )
            cell_rows.append(cells)
            thens.append(then)
            rows.append(Row(cells, then or Literal(None, "null"), row.get("text"), doc.at(rpath)))
        default = None
        if "default" in spec:
            default = self._then(doc, (*base, "default"), spec["default"], comp.type)
            ok = ok and default is not None
        if not ok:
            return None
        for column in columns:
            if self.convention.top_band_includes_ceiling:
                upper_words = {
                    w for w, b in self.convention.overridden().items() if b.side == "max"
                }
                fixed = apply_top_band_ceiling([r[column] for r in cell_rows], upper_words)
                for r, cell in zip(cell_rows, fixed, strict=True):
                    r[column] = cell
        if spec["hit_policy"] == "unique":
            for i, j in overlaps(cell_rows, columns):
                self.errors.append(
                    PolicyFileError(
                        f"rows {i} and {j} overlap (hit policy unique): an input matches both",
                        doc.at((*base, "rows", j)),
                    )
                )
        rows = [
            Row(cells, r.then, r.text, r.location) for cells, r in zip(cell_rows, rows, strict=True)
        ]
        table_gaps = gaps(cell_rows, columns, self.types)
        if table_gaps and default is None:
            self.errors.append(
                PolicyFileError(
                    "no row covers: " + "; ".join(table_gaps) + " (add rows or a default)",
                    doc.at(base),
                )
            )
        table = Table(spec["hit_policy"], columns, tuple(rows), default, tuple(table_gaps))
        deps = list(columns) + [n.name for t in thens if t for n in names(t)]
        if default is not None:
            deps += [n.name for n in names(default)]
        return dataclasses.replace(comp, table=table, deps=tuple(dict.fromkeys(deps)))

    def _enum_results(self, doc: Document, path: tuple, node: Node, t: Type) -> bool:
        """``expr: "'place_of_treatmnet'"`` must fail at load, not at the first comparison."""
        if t.kind != Kind.ENUM or not t.values:
            return True
        for literal in _result_literals(node):
            if isinstance(literal.value, str) and literal.value not in t.values:
                hint = did_you_mean(literal.value, t.values)
                allowed = ", ".join(sorted(t.values))
                self.errors.append(
                    PolicyFileError(
                        f"{literal.value!r} is not one of {allowed}{hint}",
                        _expr_location(doc, path, literal.pos),
                    )
                )
                return False
        return True

    def _then(self, doc: Document, path: tuple, raw: Any, t: Type) -> Node | None:
        """A table result: a literal, an enum value, null, or an expression."""
        if raw is None:
            if not t.nullable:
                self.errors.append(
                    PolicyFileError("null, but the value is not declared nullable", doc.at(path))
                )
                return None
            return Literal(None, "null")
        if (
            t.kind == Kind.ENUM
            and isinstance(raw, str)
            and raw.isidentifier()
            and raw not in (t.values or ())
            and raw not in self.types
        ):
            hint = did_you_mean(raw, t.values or ())
            allowed = ", ".join(sorted(t.values or ()))
            self.errors.append(
                PolicyFileError(f"{raw!r} is not one of {allowed}{hint}", doc.at(path))
            )
            return None
        if (
            t.kind in (Kind.ENUM, Kind.TEXT)
            and isinstance(raw, str)
            and (t.values is None or raw in t.values)
            and raw.isidentifier()
        ):
            return Literal(raw, repr(raw))
        if isinstance(raw, bool):
            node: Node = Literal(raw, "true" if raw else "false")
            actual = Type(Kind.BOOLEAN)
        elif isinstance(raw, int | Decimal):
            node = Literal(Decimal(raw), str(raw))
            actual = Type(Kind.INTEGER if isinstance(raw, int) else Kind.NUMBER, literal=True)
        else:
            parsed = self._expression(doc, path, str(raw))
            if parsed is None:
                return None
            node, actual = parsed
        if not assignable(actual, t):
            self.errors.append(
                PolicyFileError(f"gives {actual} but the value is declared {t}", doc.at(path))
            )
            return None
        return node

    def _phrase_in_citation(self, phrase: str, citation: Citation) -> bool:
        source = self.sources.get(citation.document)
        if source is None or citation.article not in source.anchors:
            return True  # the citation error is reported already
        return source.locate(phrase, citation.article)

    def _check_cycles(self, computations: dict[str, Computation]) -> None:
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2 or name not in computations:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                self.errors.append(
                    PolicyFileError(f"circular definition: {cycle}", computations[name].location)
                )
                return
            state[name] = 1
            for dep in computations[name].deps:
                visit(dep, [*trail, name])
            state[name] = 2

        for name in computations:
            visit(name, [])

    # -- policy-level ------------------------------------------------------------------
    def _outputs(self, doc: Document, computations: dict[str, Computation]) -> dict[str, Output]:
        outputs = {}
        for name, spec in (doc.data.get("outputs") or {}).items():
            where = doc.at(("outputs", name), key=True)
            values = self._enum_values(spec, where, f"output {name}")
            t = declared(spec["type"], values, spec.get("nullable", False))
            comp = computations.get(name)
            if comp is None:
                if name not in self.types:
                    hint = did_you_mean(name, computations)
                    self.errors.append(
                        PolicyFileError(f"output {name!r} is computed by no clause{hint}", where)
                    )
            elif comp.type != t:
                self.errors.append(
                    PolicyFileError(
                        f"output {name!r} is declared {t} here but computed as {comp.type} in "
                        f"clause {comp.clause}",
                        where,
                    )
                )
            outputs[name] = Output(name, t, text_of(spec["description"]), spec.get("unit"))
        return outputs

    def _in_force(self, doc: Document) -> InForce:
        spec = doc.data["in_force"]
        start = iso_date(spec["from"])
        until = iso_date(spec["until"]) if spec["until"] else None
        if until is not None and until < start:
            self.errors.append(
                PolicyFileError(
                    f"in force until {until} is before its start {start}",
                    doc.at(("in_force", "until")),
                )
            )
        for key in ("signed", "published"):
            iso_date(doc.data["document"][key])
        return InForce(start, until, self._citation(doc, ("in_force", "citation")))

    def _cases(
        self,
        docs: list[Document],
        facts: dict[str, Fact],
        outputs: dict[str, Output],
        computations: dict[str, Type],
        clauses: dict[str, Clause],
    ) -> list[Case]:
        """``computations``: every declared computed name, built or not (no cascades)."""
        cases = []
        for doc in docs:
            data = doc.data
            clause = data.get("clause")
            if clause is not None and clause not in clauses:
                hint = did_you_mean(clause, clauses)
                self.errors.append(
                    PolicyFileError(f"unknown clause {clause!r}{hint}", doc.at(("clause",)))
                )
            file_on = iso_date(data["on"]) if "on" in data else None
            common = data.get("common_facts") or {}
            self._known(common, facts, doc, ("common_facts",), "fact")
            for i, spec in enumerate(data["cases"]):
                base = ("cases", i)
                self._known(spec["facts"], facts, doc, (*base, "facts"), "fact")
                self._known(
                    spec.get("expect") or {},
                    {**computations, **outputs},
                    doc,
                    (*base, "expect"),
                    "output",
                )
                if ("expect" in spec) == ("expect_error" in spec):
                    self.errors.append(
                        PolicyFileError(
                            "a case needs exactly one of 'expect' or 'expect_error'", doc.at(base)
                        )
                    )
                on = iso_date(spec["on"]) if "on" in spec else file_on
                cases.append(
                    Case(
                        spec["name"],
                        on,
                        {**common, **spec["facts"]},
                        spec.get("expect") or {},
                        spec.get("expect_error"),
                        clause,
                        doc.at(base),
                    )
                )
        return cases

    def _known(self, given: dict, known: dict, doc: Document, path: tuple, what: str) -> None:
        for name in given:
            if name not in known:
                self.errors.append(
                    PolicyFileError(
                        f"unknown {what} {name!r}{did_you_mean(name, known)}",
                        doc.at((*path, name), key=True),
                    )
                )


def _result_literals(node: Node) -> list[Literal]:
    """The literals an expression can return as its value (through if/then/else)."""
    if isinstance(node, Literal):
        return [node]
    if isinstance(node, If):
        return _result_literals(node.then) + _result_literals(node.otherwise)
    return []


def _caret(source: str, pos: int) -> str:
    """``max(x, 15) + fo`` at 13 -> "...+ fo" with the offending place shown."""
    snippet = source[max(0, pos - 15) : pos + 15].replace("\n", " ")
    return f"character {pos + 1}: {snippet!r}"


def _expr_location(doc: Document, path: tuple, pos: int) -> Location:
    """The line:column of character ``pos`` of an expression written at ``path``."""
    loc = doc.at(path)
    if not loc.line:
        return loc
    expression = value_at(doc.data, path)
    before = str(expression)[:pos]
    if "\n" not in before and "\n" not in str(expression):
        return Location(loc.file, loc.line, loc.column + pos, loc.path)
    return Location(loc.file, loc.line + 1 + before.count("\n"), loc.column, loc.path)
