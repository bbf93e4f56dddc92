"""``formalize corpus stats|export|path``: inspect and export the corpus store."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from formalize.cli.common import HelpFormatter, add_db_option, db_path, format_table
from formalize.errors import FormalizeError
from formalize.export import FORMATS

EXPORT_EPILOG = """\
examples:
  formalize corpus export -o corpus.jsonl
  formalize corpus export -o - | jq .lean                 # JSONL to stdout
  formalize corpus export -o all.parquet --include-rejected --critic-raw
  formalize corpus export --format hf -o corpus-dataset   # datasets.load_dataset("corpus-dataset")
  formalize corpus export --push-to-hub me/lean-statements --private

Parquet columns `provenance` and `check_messages` are nested; the file's metadata (key
`formalize`) holds each run's config, counts and provenance. The suffix of --output decides
the format; an unknown suffix, or one that disagrees with --format, is an error."""


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
        description="Write accepted pairs with provenance columns to JSONL, parquet or a "
        "Hugging Face datasets folder. With --include-rejected, every non-accepted attempt is "
        "a row too (column `status` says how it ended), which is training and benchmark data "
        "for critics.",
        epilog=EXPORT_EPILOG,
        formatter_class=HelpFormatter,
    )
    add_db_option(export)
    export.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="jsonl, parquet, or hf (a datasets folder with a card) (default: from the "
        "--output suffix; jsonl for -)",
    )
    export.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="file to write (.jsonl, .parquet), a folder for --format hf, or - for stdout",
    )
    export.add_argument(
        "--include-rejected",
        action="store_true",
        help="also export every attempt that was not accepted, with its reason",
    )
    export.add_argument(
        "--critic-raw",
        action="store_true",
        help="add a critic_answers column: every critic answer, its thinking included",
    )
    export.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="upload the datasets folder to the hub dataset REPO (implies --format hf; "
        "needs `hf auth login` or HF_TOKEN)",
    )
    export.add_argument(
        "--private", action="store_true", help="with --push-to-hub: create the repo private"
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
            ("    rejected by Lean-verified filters", sum(f.filter_rejected.values())),
            *((f"      {status}", n) for status, n in f.filter_rejected.items()),
            ("  judged faithful", f.judged_faithful),
            ("  duplicates of an entry", f.duplicates),
            ("accepted pairs", f.accepted),
            ("attempts per accepted pair", f.attempts_per_accepted),
            ("runs", f.runs),
        ]
        print(format_table(("stage", "count"), rows))
        if f.signal_counts:
            outcomes = ("failed", "passed", "inconclusive")
            table = [
                (name, *(counts.get(o, 0) for o in outcomes))
                for name, counts in f.signal_counts.items()
            ]
            print("\nsignals per filter (failed: Lean proved the flaw)")
            print(format_table(("filter", *outcomes), table))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the corpus."""
    import tempfile

    from formalize.export import choose_format, export_corpus

    fmt = args.format
    if args.push_to_hub:
        if args.output == "-" or (fmt is not None and fmt != "hf"):
            raise FormalizeError("--push-to-hub uploads a datasets folder: use --format hf")
        fmt = "hf"
    if args.output is None and not args.push_to_hub:
        raise FormalizeError("give --output PATH (or - for stdout), or --push-to-hub REPO")
    with contextlib.ExitStack() as stack:
        output = args.output
        if output is None:
            output = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "dataset")
        fmt = choose_format(output, fmt)
        store = stack.enter_context(_open(args))
        count = export_corpus(
            store,
            output,
            fmt,
            include_rejected=args.include_rejected,
            critic_raw=args.critic_raw,
        )
        where = "stdout" if output == "-" else output
        if args.output is not None:
            print(f"wrote {count} rows to {where} ({fmt})", file=sys.stderr)
        if args.push_to_hub:
            from formalize.export_hub import push_to_hub

            url = push_to_hub(Path(output), args.push_to_hub, private=args.private)
            print(
                f"pushed {count} rows to the hub dataset {args.push_to_hub}: {url}", file=sys.stderr
            )
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    """Print the corpus path."""
    print(db_path(args))
    return 0
