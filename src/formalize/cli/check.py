"""``formalize check INPUT``: compile-check Lean statements, one JSONL result per input.

Also home of the Lean options every command that checks statements shares
(``add_lean_options`` / ``lean_overrides``, used by ``formalize run`` too).
"""

from __future__ import annotations

import argparse
import collections
import json
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from formalize.cli.common import EXIT_CODES, HelpFormatter
from formalize.errors import InputError

STATEMENT_FIELDS = ("lean", "formal_statement", "lean4_code", "lean4_file")
ID_FIELDS = ("id", "name", "problem_id", "custom_id")


def add_lean_options(parser: argparse.ArgumentParser) -> None:
    """The options that say how Lean runs (``formalize check``, ``run``, ``lean doctor``)."""
    g = parser.add_argument_group("Lean")
    g.add_argument("--backend", choices=("repl", "file", "kimina"), help="how to run Lean (repl)")
    g.add_argument(
        "--repl-cmd",
        metavar="CMD",
        help="command starting a REPL (default: `lake env` + the REPL built in --lean-project)",
    )
    g.add_argument(
        "--lean-project",
        metavar="DIR",
        help="the Lake project (default: $FORMALIZE_LEAN_PROJECT, else <data home>/lean_project)",
    )
    g.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="parallel Lean workers (default: as many as the cores but one and the "
        "memory available take)",
    )
    g.add_argument("--timeout", type=float, metavar="S", help="seconds per check (60)")
    g.add_argument("--import-timeout", type=float, metavar="S", help="seconds per import (600)")
    g.add_argument("--memory-mb", type=int, metavar="N", help="private-memory cap, MB (8192)")
    g.add_argument("--recycle-after", type=int, metavar="N", help="checks per REPL process (200)")
    g.add_argument("--kimina-url", metavar="URL", help="kimina-lean-server for --backend kimina")
    g.add_argument(
        "--sandbox",
        choices=("auto", "on", "off"),
        help="run Lean under bubblewrap: auto (where bwrap works, the default), on (required), "
        "off (unconfined; warns)",
    )
    g.add_argument(
        "--sandbox-path",
        action="append",
        metavar="PATH",
        help="another path the sandbox shows read-only (what a custom --repl-cmd needs); repeat",
    )


def lean_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``LeanConfig`` fields set by the flags above (None where a flag was not given)."""
    repl_cmd = getattr(args, "repl_cmd", None)
    return {
        "backend": getattr(args, "backend", None),
        "repl_cmd": shlex.split(repl_cmd) if repl_cmd else None,
        "lean_project": getattr(args, "lean_project", None),
        "workers": getattr(args, "workers", None),
        "timeout_s": getattr(args, "timeout", None),
        "import_timeout_s": getattr(args, "import_timeout", None),
        "memory_mb": getattr(args, "memory_mb", None),
        "recycle_after": getattr(args, "recycle_after", None),
        "kimina_url": getattr(args, "kimina_url", None),
        "sandbox": getattr(args, "sandbox", None),
        "sandbox_paths": getattr(args, "sandbox_path", None),
    }


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``check`` command."""
    p = sub.add_parser(
        "check",
        help="compile-check Lean statements",
        description="Check Lean statements: the safety gate, then Lean. INPUT is JSONL (`id` "
        "and `lean`, or the `name`/`formal_statement`/`header` rows of a translation file; a "
        "statement ending in `:=` or `:= by` gets ` sorry`), a .lean file (one statement), or "
        "`-` for stdin. Writes one JSON line per input, in input order: id, status (ok, "
        "lean_error, rejected, timeout, out_of_memory, crashed, protocol_error), messages "
        "(positions relative to the statement given), elapsed_s. A summary goes to stderr. "
        "With --filters, compiled statements also go through the Lean-verified filters and "
        "each line gets `signals` (one per filter: name, version, outcome, reason, evidence); "
        "a row's `reference` field is what the reference filter compares with. "
        "A statement that does not compile is a result like any other: it does not change the "
        "exit code.",
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("input", metavar="INPUT", help="JSONL file, .lean file, or - for stdin")
    p.add_argument(
        "--header",
        metavar="TEXT",
        help="header for statements without their own imports or header field (import Mathlib)",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write results here (default: stdout)")
    p.add_argument(
        "--filters",
        metavar="NAMES",
        help="also run these Lean-verified filters on compiled statements: comma-separated "
        "names (vacuous, refuted, trivial, reference) or `default` (vacuous,refuted,trivial, "
        "plus reference when rows carry one); default: none",
    )
    p.add_argument(
        "--probe-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="wall-clock backstop per filter probe, in seconds; Lean's heartbeat bound on each "
        "alternative stops a probe first (default: 60)",
    )
    p.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=True,
        help="no progress bar on stderr",
    )
    add_lean_options(p)
    p.set_defaults(func=cmd_check)


@dataclass(frozen=True)
class Item:
    """One statement to check, with where it came from."""

    id: str
    lean: str
    header: str | None = None
    reference: str | None = None  # a reference statement, for the reference filter


def complete_statement(text: str) -> str:
    """Append `` sorry`` to a statement that stops at ``:=`` or ``:= by`` (translation files)."""
    stripped = text.rstrip()
    if stripped.endswith(":= by") or stripped.endswith(":="):
        return stripped + " sorry"
    return text


def read_items(path: str, stdin: TextIO | None = None) -> tuple[list[Item], list[str]]:
    """Statements in ``path`` and the problems of the lines that could not be read."""
    # Bytes, split at b"\n" and decoded line by line: a JSON line ends at "\n" only (a row
    # holding a lone CR or U+2028 stays one row), and a line that is not UTF-8 is one bad row.
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        raw = buffer.read() if buffer is not None else stream.read().encode("utf-8")
        if raw.lstrip().startswith(b"{"):
            return _jsonl("<stdin>", raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"<stdin>: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        return ([Item("stdin", text)], []) if text.strip() else ([], ["<stdin>: empty input"])
    file = Path(path)
    if file.is_dir():
        raise InputError(f"{path} is a directory; give a .jsonl or .lean file, or - for stdin")
    if not file.is_file():
        raise InputError(f"{path} does not exist (give a .jsonl or .lean file, or - for stdin)")
    raw = file.read_bytes()
    if file.suffix != ".lean":
        return _jsonl(path, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return ([Item(file.stem, text)], []) if text.strip() else ([], [f"{path}: empty file"])


def _jsonl(name: str, raw: bytes) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    issues: list[str] = []
    for n, data in enumerate(raw.split(b"\n"), start=1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(f"{name}:{n}: not UTF-8 text ({exc.reason} at byte {exc.start})")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(f"{name}:{n}: not JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            issues.append(f"{name}:{n}: expected a JSON object")
            continue
        field = next((f for f in STATEMENT_FIELDS if isinstance(row.get(f), str)), None)
        if field is None or not row[field].strip():
            issues.append(f"{name}:{n}: no statement (one of {', '.join(STATEMENT_FIELDS)})")
            continue
        rid = next((row[f] for f in ID_FIELDS if row.get(f) not in (None, "")), n)
        header = row.get("header") if isinstance(row.get("header"), str) else None
        reference = row.get("reference") if isinstance(row.get("reference"), str) else None
        items.append(Item(str(rid), complete_statement(row[field]), header, reference))
    return items, issues


def result_line(item: Item, result: Any, signals: Sequence[Any] | None = None) -> str:
    """The output JSON line of one result (with its filters' signals, when they ran)."""
    row: dict[str, Any] = {
        "id": item.id,
        "status": result.status.value,
        "messages": [
            {
                "severity": m.severity.value,
                "line": m.line,
                "column": m.column,
                "end_line": m.end_line,
                "end_column": m.end_column,
                "text": m.text,
            }
            for m in result.messages
        ],
        "elapsed_s": round(result.elapsed_s, 4),
    }
    if result.reason:
        row["reason"] = result.reason
    if result.toolchain:
        row["toolchain"] = result.toolchain
    if signals is not None:
        row["signals"] = [s.to_dict() for s in signals]
    return json.dumps(row, ensure_ascii=False)


def _groups(items: list[Item]) -> Iterator[tuple[str | None, list[int]]]:
    groups: dict[str | None, list[int]] = collections.defaultdict(list)
    for i, item in enumerate(items):
        groups[item.header].append(i)
    yield from groups.items()


def _filter_names(args: argparse.Namespace, items: Sequence[Item]) -> tuple[str, ...]:
    """The filters ``--filters`` names (none without it); ``InputError`` for a bad name."""
    if not args.filters:
        return ()
    from formalize.filters import filter_names

    spec = None if args.filters == "default" else args.filters
    return filter_names(spec, has_reference=any(item.reference for item in items))


def _filter(
    args: argparse.Namespace,
    names: Sequence[str],
    items: Sequence[Item],
    results: Sequence[Any],
    checker: Any,
    truth: Any = None,
) -> dict[int, tuple[Any, ...]]:
    """Each compiled statement's signals (by item index); a filter the Lean's self-test found
    wrong (``truth``) is switched off."""
    if not names:
        return {}
    from formalize.filters import FilterItem, FilterSettings, build_filters, run_filters
    from formalize.records import Problem
    from formalize.truth import apply

    settings = FilterSettings(probe_timeout_s=args.probe_timeout)
    filters = apply(truth, build_filters(names, checker, settings), _say)
    compiled = [i for i, r in enumerate(results) if r.ok]
    batch = []
    for i in compiled:
        item = items[i]
        meta = {"reference": item.reference} if item.reference else {}
        problem = Problem(id=item.id, informal="(formalize check)", metadata=meta)
        header = item.header if item.header is not None else checker.config.header
        batch.append(FilterItem.of(problem, item.lean, header))
    return dict(zip(compiled, run_filters(filters, batch), strict=True))


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _lean_answers(args: argparse.Namespace, checker: Any) -> Any:
    """Before the first check: the Lean's tokens added to the gate and its self-test
    (``formalize.truth``; measured once per Lean revision)."""
    from formalize.filters import FilterSettings
    from formalize.truth import answers

    return answers(checker, FilterSettings(probe_timeout_s=args.probe_timeout), _say)


def cmd_check(args: argparse.Namespace) -> int:
    """Run ``formalize check``."""
    from formalize.cli.common import format_table, report_issues
    from formalize.inputs import directory_message
    from formalize.lean import LeanChecker, LeanConfig

    if args.input != "-" and Path(args.input).is_dir():
        wanted = "a statements file"
        raise InputError(directory_message(Path(args.input), wanted, (".jsonl", ".lean")))
    items, issues = read_items(args.input)
    report_issues(issues)
    names = _filter_names(args, items)
    overrides = lean_overrides(args)
    overrides["header"] = args.header
    try:
        config = LeanConfig().with_overrides(**overrides)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    results: list[Any] = [None] * len(items)
    begin = time.monotonic()
    truth = None
    with LeanChecker(config) as checker:
        if items:
            checker.preflight()
            truth = _lean_answers(args, checker)
        for header, idx in _groups(items):
            out = checker.check([items[i].lean for i in idx], header=header, progress=args.progress)
            for i, result in zip(idx, out, strict=True):
                results[i] = result
        signals = _filter(args, names, items, results, checker, truth)
    wall = time.monotonic() - begin
    lines = [
        result_line(item, r, signals.get(i, ()) if names else None)
        for i, (item, r) in enumerate(zip(items, results, strict=True))
    ]
    if args.output:
        Path(args.output).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    else:
        for line in lines:
            print(line)
    counts = collections.Counter(r.status.value for r in results)
    rows = [(status, n) for status, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    rows.append(("total", len(results)))
    print(format_table(("status", "statements"), rows), file=sys.stderr)
    if signals:
        tally = collections.Counter(
            (s.name, s.outcome.value) for each in signals.values() for s in each
        )
        outcomes = ("failed", "passed", "inconclusive")
        table = [(name, *(tally[(name, o)] for o in outcomes)) for name in names]
        print(format_table(("filter", *outcomes), table), file=sys.stderr)
    print(
        f"{len(results)} checked in {wall:.1f} s; {len(issues)} input lines skipped",
        file=sys.stderr,
    )
    return 1 if issues else 0
