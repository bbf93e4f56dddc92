"""``formalize corpus stats|export|path``: inspect and export the corpus store."""

from __future__ import annotations

import argparse
from pathlib import Path

from formalize.cli.common import add_db_option, db_path, format_table
from formalize.errors import FormalizeError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``corpus`` command group."""
    parser = sub.add_parser(
        "corpus",
        help="inspect and export the corpus of accepted pairs",
        description="Inspect and export the SQLite corpus that `formalize run` writes.",
    )
    group = parser.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)

    stats = group.add_parser("stats", help="print the funnel: problems -> candidates -> accepted")
    add_db_option(stats)
    stats.set_defaults(func=cmd_stats)

    export = group.add_parser(
        "export",
        help="write accepted pairs (and optionally every rejected attempt) to a file",
        description="Write accepted pairs with provenance columns to JSONL or parquet. "
        "With --include-rejected, every non-accepted attempt is a row too (column `status` "
        "says how it ended), which is training and benchmark data for critics.",
    )
    add_db_option(export)
    export.add_argument(
        "--format",
        choices=("jsonl", "parquet"),
        default=None,
        help="output format (default: from the --output suffix, else jsonl)",
    )
    export.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        metavar="PATH",
        help="file to write (.jsonl or .parquet), - for stdout",
    )
    export.add_argument(
        "--include-rejected",
        action="store_true",
        help="also export every attempt that was not accepted, with its reason",
    )
    export.set_defaults(func=cmd_export)

    path = group.add_parser("path", help="print the default corpus path (or --db's)")
    add_db_option(path)
    path.set_defaults(func=cmd_path)


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from formalize.corpus import Store

    path = db_path(args)
    if not path.exists():
        raise FormalizeError(f"no corpus at {path}; run `formalize run ...` first or pass --db")
    return Store(path)


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the funnel table."""
    with _open(args) as store:
        f = store.funnel()
        print(f"corpus: {store.path}")
        rows = [
            ("problems", f.problems),
            ("  done (accepted)", f.problems_done),
            ("  exhausted (no accepted pair)", f.problems_exhausted),
            ("  duplicates of another problem's entry", f.problems_duplicate),
            ("candidates", f.candidates),
            ("  rejected by the safety gate", f.rejected),
            ("  compiled", f.compiled),
            ("  judged faithful", f.judged_faithful),
            ("  duplicates of an entry", f.duplicates),
            ("accepted pairs", f.accepted),
            ("attempts per accepted pair", f.attempts_per_accepted),
            ("runs", f.runs),
        ]
        print(format_table(("stage", "count"), rows))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the corpus."""
    from formalize.export import export_corpus

    fmt = args.format or ("parquet" if args.output.suffix == ".parquet" else "jsonl")
    with _open(args) as store:
        count = export_corpus(store, args.output, fmt, include_rejected=args.include_rejected)
    print(f"wrote {count} rows to {args.output} ({fmt})")
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    """Print the corpus path."""
    print(db_path(args))
    return 0
