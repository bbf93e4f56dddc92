"""Small helpers shared by the command modules: the ``--db`` option, tables, issue reporting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """The ``--db PATH`` option every command that touches the corpus takes."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help="corpus file (default: $FORMALIZE_HOME/corpus.db; see `formalize corpus path`)",
    )


def db_path(args: argparse.Namespace) -> Path:
    """The corpus path chosen by ``--db`` or the default data home."""
    from formalize.corpus import default_db_path

    return Path(args.db) if getattr(args, "db", None) else default_db_path()


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers."""
    body = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [all(_is_number(r[i]) for r in body) and bool(body) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), rule, *(line(r) for r in body)])


def report_issues(issues: Sequence[Any], stream: TextIO | None = None, limit: int = 20) -> None:
    """Print skipped input rows (file:line: why), at most ``limit`` of them (to stderr)."""
    stream = stream or sys.stderr  # looked up per call: tests and tools swap sys.stderr
    for issue in issues[:limit]:
        print(f"{'skipped' if issue.skipped else 'note'}: {issue}", file=stream)
    if len(issues) > limit:
        print(f"... and {len(issues) - limit} more input issues", file=stream)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == "-"
    return True
