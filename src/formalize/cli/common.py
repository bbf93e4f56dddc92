"""Small helpers shared by the command modules: the ``--db`` option, tables, issue reporting."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

# The exit codes every command keeps to (printed in `run`, `check` and `bench` help).
EXIT_CODES = """\
exit codes:
  0    done: every input line was read and processed
  1    done, but some input lines were skipped (each is reported as `skipped: FILE:LINE: why`)
       or, for `lean doctor`, a test check came out wrong
  2    nothing done: bad usage, bad settings or input, or something the run needs is missing
  130  interrupted (Ctrl-C); what finished is saved, and rerunning the same command resumes
  141  stdout's reader went away (`... -o - | head`); what it read was whole rows
  143  stopped by SIGTERM (Slurm, Kubernetes, preemption; `run` within --grace-period);
       as for 130"""


class HelpFormatter(argparse.HelpFormatter):
    """Fills prose paragraphs to the terminal width, keeps indented blocks (examples, tables)
    as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        out = []
        for para in paragraphs:
            lines = para.splitlines()
            if any(line.startswith(" ") for line in lines) or lines[0].endswith(":"):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(super()._fill_text(" ".join(lines), width, indent))
        return "\n\n".join(out)


def add_db_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
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
    """Print input rows that were skipped or changed (``skipped: FILE:LINE: why``), at most
    ``limit`` of them, then how many lines were skipped in all (to stderr). ``issues`` are
    ``InputIssue`` records or plain strings (always skipped lines)."""
    stream = stream or sys.stderr  # looked up per call: tests and tools swap sys.stderr
    for issue in issues[:limit]:
        skipped = getattr(issue, "skipped", True)
        print(f"{'skipped' if skipped else 'note'}: {issue}", file=stream)
    if len(issues) > limit:
        print(f"... and {len(issues) - limit} more input issues", file=stream)
    count = sum(getattr(issue, "skipped", True) for issue in issues)
    if count:
        print(f"{count} input line{'s' if count != 1 else ''} skipped", file=stream)


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
