"""The `policy` command: validate, eval, test, list, coverage, obligations, docs, fmt, diff.

Exit codes: 0 ok; 1 failing tests or unaccounted coverage; 2 bad input (a one-line
message on stderr naming the file:line:column or the fact at fault, never a traceback);
3 an internal error (a bug: please report it); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .api import Repository
from .language.errors import (
    FactError,
    PolicyError,
    UnknownPolicyError,
    ValidationErrors,
    did_you_mean,
)
from .language.values import parse_date

if TYPE_CHECKING:
    from .site.render import ApiItem, Reference

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by SIGINT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is 2 as well
        self.exit(EXIT_BAD_INPUT, f"policy: error: {message}\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: use 1-65535")
    return port


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: use a positive number")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        help="the policies folder (default: the checkout's or the package's)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="schema and semantic checks; lists every problem")
    p.add_argument("paths", nargs="*", type=Path, help="policy folders (default: all)")

    p = sub.add_parser("eval", help="evaluate one case; prints one JSON object")
    p.add_argument("policy_id")
    p.add_argument("--facts", help="a JSON or YAML file of facts, or - for stdin")
    p.add_argument("--on", help="evaluation date YYYY-MM-DD (default: today)")
    p.add_argument("--explain", action="store_true", help="add a zh/en account, article by article")
    p.add_argument("--batch", type=Path, help="instead of --facts: a .csv, .jsonl or .parquet")
    p.add_argument("--out", type=Path, help="with --batch: the outputs file (.csv/.jsonl/.parquet)")
    p.add_argument("--errors", type=Path, help="with --batch: rejected rows (OUT.errors.jsonl)")

    p = sub.add_parser("schema", help="JSON Schemas of a policy's facts, outputs and trace.v1")
    p.add_argument("policy_id")

    p = sub.add_parser("serve", help="the HTTP service (needs the 'service' extra)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000, help="1-65535 (default: 8000)")
    p.add_argument("--decision-log", type=Path, help="append decisions to a .jsonl or .sqlite file")
    # Limits, hidden: the defaults are documented (README, Limits); tests make them small.
    for name, kind in (
        ("--header-timeout", float),
        ("--body-timeout", float),
        ("--keep-alive", int),
        ("--max-connections", int),
    ):
        p.add_argument(name, type=_positive(kind), help=argparse.SUPPRESS)

    p = sub.add_parser("test", help="run the YAML test cases")
    p.add_argument("policy_id", nargs="?")
    p.add_argument(
        "--coverage", action="store_true", help="also report the table rows and branches reached"
    )

    sub.add_parser("list", help="the policies, their documents and in-force windows")

    p = sub.add_parser("coverage", help="source coverage per document; exit 1 if unaccounted")
    p.add_argument("policy_id", nargs="?")

    p = sub.add_parser(
        "obligations",
        help="obligations and targets of a policy: who must do what, by when",
        description="Obligations and targets of a policy (kind: obligations files): who must "
        "do what, by when, toward which target, each with its article and verbatim quote.",
    )
    p.add_argument("policy_id")
    p.add_argument(
        "--responsible", metavar="NAME", help="only items naming NAME (as the text writes it)"
    )
    p.add_argument(
        "--due-by",
        metavar="DATE",
        help="only items due (deadline or target date) on or before DATE, YYYY-MM-DD",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array of the items")

    p = sub.add_parser("docs", help="render generated_docs/ from the policy files")
    p.add_argument("--check", action="store_true", help="exit 1 if the committed docs are stale")
    p.add_argument("--today", help="the day statuses are computed for, YYYY-MM-DD (default: today)")

    p = sub.add_parser(
        "fmt",
        help="rewrite policy YAML in the one canonical style",
        description="Rewrite policy YAML files in the one canonical style (comments, anchors "
        "and key order kept; numbers, dates and quotes as written; no line folded), so that "
        "changing one value changes one line. Atomic; a formatted file is left as it is.",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files that would change and exit 1 if any",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="YAML files, folders (searched for *.yaml) or policy ids (default: all policies)",
    )

    p = sub.add_parser("matrix", help="the test matrix snapshot of a policy (tests/matrices/)")
    p.add_argument("policy_id")
    p.add_argument("--update", action="store_true", help="rewrite the snapshot instead of checking")

    p = sub.add_parser(
        "diff",
        help="what a rule change means: the rules before and after, whose answers change",
        description="Compare the policy files at git revision BASE with HEAD (default: the "
        "working tree): rules, parameters, tables, contract, citations, quotes, notes, "
        "errata, source text and coverage, in the document's words; then the hand-written "
        "cases, the test matrices and a synthetic population evaluated under both.",
    )
    p.add_argument("base", metavar="BASE", help="a git revision (branch, tag, commit)")
    p.add_argument("head", metavar="HEAD", nargs="?", help="a git revision (default: working tree)")
    p.add_argument(
        "--format", choices=("markdown", "json"), default="markdown", help="default: markdown"
    )
    p.add_argument("--fail-on-change", action="store_true", help="exit 1 when some answer changes")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback (files are cleaned up)
        print("policy: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    repo = Repository(args.root)
    try:
        return COMMANDS[args.command](repo, args)
    except ValidationErrors as exc:
        for error in exc.errors:
            print(f"policy: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PolicyError as exc:
        print(f"policy: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        print(f"policy: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _ids(repo: Repository, policy_id: str | None) -> list[str]:
    if policy_id is None:
        return repo.ids()
    repo.policy(policy_id)  # unknown id -> UnknownPolicyError with a suggestion
    return [policy_id]


def _policy_folder(repo: Repository, given: Path) -> Path:
    """A policy id, its folder, or any file inside it (a clause, a test file)."""
    path = given if given.exists() else repo.root / given
    if not path.exists():
        hint = did_you_mean(str(given), repo.ids())
        raise UnknownPolicyError(f"{given}: no such file, folder or policy id{hint}")
    folder = path.resolve()
    if folder.is_file():
        folder = folder.parent
    while folder != folder.parent and not (folder / "source.md").is_file():
        folder = folder.parent
    if not (folder / "source.md").is_file():
        raise PolicyError(f"{given}: not inside a policy folder (one with a source.md)")
    return folder


def cmd_validate(repo: Repository, args: argparse.Namespace) -> int:
    from .policy.folder_check import check_source_folder

    folders = [_policy_folder(repo, p) for p in args.paths] or sorted(
        p for p in repo.root.iterdir() if p.is_dir() and (p / "source.md").is_file()
    )
    problems = 0
    for folder in folders:
        if not (folder / "policy.yaml").is_file():
            errors = check_source_folder(folder, repo.root.parent)
            for error in errors:
                print(f"policy: error: {error}", file=sys.stderr)
            problems += len(errors)
            if not errors:
                print(f"ok: {folder.name} (source text only, not yet encoded)")
            continue
        try:
            policy = Repository(folder.parent).policy(folder.name)
        except ValidationErrors as exc:
            for error in exc.errors:
                print(f"policy: error: {error}", file=sys.stderr)
            problems += len(exc.errors)
            continue
        obligations = (
            f", {len(policy.obligations)} obligations and targets" if policy.obligations else ""
        )
        print(
            f"ok: {policy.id} ({len(policy.clauses)} clauses, {len(policy.computations)} "
            f"values, {len(policy.parameters)} parameters, {len(policy.cases)} cases"
            f"{obligations})"
        )
        for comp in policy.computations.values():
            if comp.table is not None and comp.table.gaps:
                print(
                    f"  note: {comp.location.file}: {comp.name}: no row covers "
                    f"{'; '.join(comp.table.gaps)} -> default"
                )
    if problems:
        print(f"{problems} problem(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def read_facts(name: str) -> dict[str, Any]:
    """Facts from a JSON (or YAML) file or stdin: exact decimals, duplicate keys refused."""
    from .policy.loader import load_yaml_text

    label = "<stdin>" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise FactError(f"cannot read facts file {label}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FactError(f"{label}: not UTF-8 text") from None
    if name.endswith((".yaml", ".yml")):
        data = load_yaml_text(text, label).data
    else:
        data = parse_json(text, label)
    if not isinstance(data, dict):
        raise FactError(f"{label}: facts must be a JSON object of name: value")
    return data


def parse_json(text: str, label: str) -> Any:
    from .policy.loader import loads_json

    try:
        return loads_json(text)
    except json.JSONDecodeError as exc:
        raise FactError(f"{label}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise FactError(f"{label}: {exc}") from None


def cmd_eval(repo: Repository, args: argparse.Namespace) -> int:
    from .runtime.explain import explain

    if (args.facts is None) == (args.batch is None):
        raise FactError("give exactly one of --facts FILE or --batch FILE")
    if args.batch is not None:
        return _eval_batch(repo, args)
    if args.out or args.errors:
        raise FactError("--out and --errors go with --batch")
    policy = repo.policy(args.policy_id)
    _computable(policy)
    facts = read_facts(args.facts)
    result = repo.evaluate(args.policy_id, facts, args.on)
    from .runtime.json_schemas import trace_document

    out = trace_document(result)
    if args.explain:
        out["explanation"] = explain(repo.program(args.policy_id), result)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def _eval_batch(repo: Repository, args: argparse.Namespace) -> int:
    from .batch.run import evaluate_file
    from .runtime.facts import parse_on

    if args.out is None:
        raise FactError("--batch needs --out FILE")
    if args.explain:
        raise FactError("--explain is for one case (--facts), not --batch")
    policy = repo.policy(args.policy_id)
    _computable(policy)
    on = dt.date.today() if args.on is None else parse_on(args.on)
    program = repo.program(args.policy_id)
    summary = evaluate_file(program, args.batch, args.out, on, errors_path=args.errors)
    errors = args.errors or args.out.with_name(args.out.name + ".errors.jsonl")
    print(
        f"{summary.rows} rows: {summary.ok} evaluated -> {args.out}; "
        f"{len(summary.errors)} rejected -> {errors}",
        file=sys.stderr,
    )
    return EXIT_FAILED if summary.errors else EXIT_OK


def _computable(policy: Any) -> None:
    """An obligations-only policy has nothing to evaluate: say so in one line."""
    if not policy.outputs:
        raise PolicyError(
            f"policy {policy.id!r} has no computable rules (obligations and targets only); "
            f"see: policy obligations {policy.id}"
        )


def cmd_schema(repo: Repository, args: argparse.Namespace) -> int:
    from .runtime.json_schemas import policy_schemas, trace_schema

    out = policy_schemas(repo.policy(args.policy_id))
    out["result"] = trace_schema()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_serve(repo: Repository, args: argparse.Namespace) -> int:
    try:
        from .service.app import BODY_TIMEOUT, create_app
        from .service.server import ServerLimits, serve
    except ImportError as exc:
        raise PolicyError(
            f"the service needs its extra: pip install 'gd-gazette-policy[service]' ({exc})"
        ) from None
    body_timeout = args.body_timeout or BODY_TIMEOUT
    app = create_app(repo, decision_log=args.decision_log, body_timeout=body_timeout)
    given = {
        "header_timeout": args.header_timeout,
        "keep_alive": args.keep_alive,
        "max_connections": args.max_connections,
    }
    limits = ServerLimits(**{k: v for k, v in given.items() if v is not None})
    serve(app, args.host, args.port, limits)
    return EXIT_OK


def cmd_test(repo: Repository, args: argparse.Namespace) -> int:
    from .runtime.cases import run_cases

    passed = failed = 0
    for policy_id in _ids(repo, args.policy_id):
        for result in run_cases(repo.program(policy_id)):
            if result.passed:
                passed += 1
                continue
            failed += 1
            print(f"FAIL {result.case.location}: {result.case.name}")
            for problem in result.problems:
                print(f"     {problem}")
    if args.coverage:
        from .runtime.case_coverage import case_coverage, report_lines

        for policy_id in _ids(repo, args.policy_id):
            print("\n".join(report_lines(case_coverage(repo.program(policy_id)))))
    print(f"{passed} passed, {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_list(repo: Repository, args: argparse.Namespace) -> int:
    from .policy.resources import describe

    print(f"policies: {describe(repo.root)}", file=sys.stderr)
    today = dt.date.today()
    for policy_id in repo.ids():
        policy = repo.policy(policy_id)
        status = (
            "in force"
            if policy.in_force.covers(today)
            else ("not yet in force" if today < policy.in_force.start else "expired")
        )
        print(
            f"{policy.id}\t{policy.document.number}\t{policy.in_force.describe()}\t{status}\t"
            f"{policy.title.zh}"
        )
    return EXIT_OK


def cmd_coverage(repo: Repository, args: argparse.Namespace) -> int:
    from .policy.folder_check import folder_coverage

    folders = (
        [repo.root / args.policy_id]
        if args.policy_id
        else sorted(p for p in repo.root.iterdir() if (p / "source.md").is_file())
    )
    if args.policy_id and not (folders[0] / "source.md").is_file():
        repo.policy(args.policy_id)  # raises the unknown-policy error with a suggestion
    unaccounted = 0
    for folder in folders:
        policy = repo.policy(folder.name) if (folder / "policy.yaml").is_file() else None
        for report in folder_coverage(folder, repo.root.parent, policy):
            missing = report.unaccounted
            unaccounted += len(missing)
            print(
                f"{folder.name}/{report.file} ({report.document}): "
                f"{report.count('encoded')} encoded, "
                f"{report.count('not_computable')} declared not computable, "
                f"{report.count('container')} containers, {len(missing)} unaccounted"
            )
            if missing:
                print(f"  unaccounted: {', '.join(missing)}")
    return EXIT_FAILED if unaccounted else EXIT_OK


def cmd_obligations(repo: Repository, args: argparse.Namespace) -> int:
    from .api import select_obligations

    policy = repo.policy(args.policy_id)
    due_by = None if args.due_by is None else parse_date(args.due_by, "--due-by")
    items = select_obligations(policy, responsible=args.responsible, due_by=due_by)
    if args.json:
        print(json.dumps([item.as_dict() for item in items], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not policy.obligations:
        print(f"{policy.id}: no obligations or targets encoded", file=sys.stderr)
    for item in items:
        by = item.deadline or (item.target.by if item.target else None)
        when = f"{by.date.isoformat()} ({by.wording})" if by else "-"
        target = ""
        if item.target is not None:
            t = item.target
            target = f"\ttarget: {t.metric.zh} {t.as_written()}"
        who = "、".join(item.responsible) or "(not named)"
        print(
            f"{item.id}\t{who}\t{when}\t{item.duty.zh}\t"
            f"{item.citation.label or item.citation.article}{target}"
        )
    print(f"{len(items)} of {len(policy.obligations)} item(s)", file=sys.stderr)
    return EXIT_OK


def cmd_docs(repo: Repository, args: argparse.Namespace) -> int:
    from .review.history import policy_history
    from .site.render import run_docs

    return run_docs(repo, args.check, args.today, reference(), policy_history(repo))


def reference() -> Reference:
    """What the site's reference pages document: the commands' --help and the public API."""
    from .site.render import Reference

    return Reference(_cli_help(), _api_items())


def _cli_help() -> list[dict[str, str]]:
    """Each subcommand's --help, at a fixed width so the page does not depend on the terminal."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = build_parser()
        out = [{"name": "policy", "help": parser.format_help()}]
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in actions:
            for name, sub in action.choices.items():
                out.append({"name": name, "help": sub.format_help()})
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return out


def _api_items() -> list[ApiItem]:
    """The public API (``interpreter.__all__``): signature and docstring of each name."""
    import interpreter

    items: list[ApiItem] = []
    for name in interpreter.__all__:
        obj = getattr(interpreter, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            items.append({"name": name, "signature": f"{name} = {obj!r}", "doc": "", "methods": []})
            continue
        try:
            signature = f"{name}{inspect.signature(obj)}"
        except (TypeError, ValueError):
            signature = name
        kind = "class" if inspect.isclass(obj) else "def"
        doc = inspect.getdoc(obj) or ""
        methods = []
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in sorted(vars(obj).items()):
                if attr.startswith("_") or not inspect.isfunction(member):
                    continue
                summary = (inspect.getdoc(member) or "").split("\n")[0]
                methods.append(
                    f"{attr}{inspect.signature(member)}" + (f" — {summary}" if summary else "")
                )
        items.append(
            {"name": name, "signature": f"{kind} {signature}", "doc": doc, "methods": methods}
        )
    return items


def cmd_diff(repo: Repository, args: argparse.Namespace) -> int:
    from .review.diff import diff
    from .review.render import as_json, markdown, summary_line

    report = diff(repo.root.parent, args.base, args.head)
    if args.format == "json":
        print(json.dumps(as_json(report), ensure_ascii=False, indent=1))
    else:
        print(markdown(report))
    print(summary_line(report), file=sys.stderr)
    return EXIT_FAILED if args.fail_on_change and report.behaviour_changed else EXIT_OK


def _yaml_files(repo: Repository, given: list[Path]) -> list[Path]:
    """The YAML files named: a file, every *.yaml/*.yml under a folder, or a policy id."""
    files: list[Path] = []
    for path in given or [repo.root]:
        if not path.exists() and not path.is_absolute() and (repo.root / path).is_dir():
            path = repo.root / path  # a policy id
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            hint = did_you_mean(str(path), repo.ids())
            raise PolicyError(f"{path}: no such file, folder or policy id{hint}")
    return list(dict.fromkeys(files))


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cmd_fmt(repo: Repository, args: argparse.Namespace) -> int:
    from .policy.canonical import format_yaml
    from .policy.files import write_atomic

    changed = errors = 0
    files = _yaml_files(repo, args.paths)
    for path in files:
        name = _shown(path)
        try:
            text = path.read_bytes().decode("utf-8")
            formatted = format_yaml(text, name)
        except OSError as exc:
            print(f"policy: error: {name}: cannot read: {exc.strerror}", file=sys.stderr)
            errors += 1
            continue
        except UnicodeDecodeError:
            print(f"policy: error: {name}: not UTF-8 text", file=sys.stderr)
            errors += 1
            continue
        except PolicyError as exc:
            print(f"policy: error: {exc}", file=sys.stderr)
            errors += 1
            continue
        if formatted == text:
            continue
        changed += 1
        if not args.check:
            write_atomic(path, formatted.encode("utf-8"))
        print(name)
    verb = "would be reformatted" if args.check else "reformatted"
    print(
        f"{changed} file(s) {verb}, {len(files) - changed - errors} unchanged"
        + (f", {errors} not readable as YAML" if errors else ""),
        file=sys.stderr,
    )
    if errors:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if changed and args.check else EXIT_OK


def cmd_matrix(repo: Repository, args: argparse.Namespace) -> int:
    from .site.matrix import run_matrix

    return run_matrix(repo, args.policy_id, args.update)


COMMANDS = {
    "validate": cmd_validate,
    "eval": cmd_eval,
    "schema": cmd_schema,
    "serve": cmd_serve,
    "test": cmd_test,
    "list": cmd_list,
    "coverage": cmd_coverage,
    "obligations": cmd_obligations,
    "docs": cmd_docs,
    "matrix": cmd_matrix,
    "diff": cmd_diff,
    "fmt": cmd_fmt,
}


if __name__ == "__main__":
    sys.exit(main())
