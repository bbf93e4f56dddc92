"""``formalize corpus stats|export|path``: inspect and export the corpus store."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
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
  formalize corpus export --for critic-sft -o critic-sft      # training data (docs/training.md)
  formalize corpus export --for translator-dpo -o dpo --include-critic-labels

Parquet columns `provenance` and `check_messages` are nested; the file's metadata (key
`formalize`) holds each run's config, counts and provenance. The suffix of --output decides
the format; an unknown suffix, or one that disagrees with --format, is an error. An existing
--output is replaced only with --force. A datasets folder (--format hf, --for, --push-to-hub)
leaves out the model servers' hosts (`openai:MODEL@http://<host>/v1`): it is meant for sharing.
Exit status 141: the reader of stdout went away (`| head`); what it read is complete rows."""


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
    export.add_argument(
        "--force",
        action="store_true",
        help="replace --output if it exists (a file, or an earlier export's folder)",
    )
    _add_training_options(export)
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
            ("  no Lean code in the answer", f.statuses.get("no_code", 0)),
            *_if_any("  translator engine failed", f.statuses.get("generation_failed", 0)),
            ("  rejected by the safety gate", f.rejected),
            ("  Lean errors", f.statuses.get("lean_error", 0)),
            *_if_any(
                "  checker failed (timeout, crash, memory)", f.statuses.get("check_failed", 0)
            ),
            ("  names not in the index (name check, precheck)", f.names_unknown),
            ("  compiled", f.compiled),
            ("    rejected by Lean-verified filters", sum(f.filter_rejected.values())),
            *((f"      {status}", n) for status, n in f.filter_rejected.items()),
            ("    names Lean accepts that the index lacks (stale index)", f.names_stale),
            ("  judged faithful", f.judged_faithful),
            ("  duplicates of an entry", f.duplicates),
            ("accepted pairs", f.accepted),
            ("attempts per accepted pair", f.attempts_per_accepted),
            ("runs", f.runs),
        ]
        # by status; a run whose process is gone (killed, a lost node) shows as interrupted
        rows += sorted(Counter(f"  {r['status']}" for r in store.runs()).items())
        print(format_table(("stage", "count"), rows))
        if f.signal_counts:
            from formalize.corpus import PROBE_ERRORS

            outcomes = ("failed", "passed", "inconclusive", PROBE_ERRORS)
            table = [
                (name, *(counts.get(o, 0) for o in outcomes))
                for name, counts in f.signal_counts.items()
            ]
            print(
                "\nsignals per filter and judge "
                "(failed: Lean proved the flaw, or the judge objected; probe error: of the "
                "inconclusive, probes that did not elaborate; names: the name check, failed: "
                "names not in the index, inconclusive: Lean accepted them)"
            )
            print(format_table(("signal", *outcomes), table))
    return 0


def _if_any(label: str, n: int) -> tuple[tuple[str, int], ...]:
    """A table row only when ``n`` is not zero (rare outcomes)."""
    return ((label, n),) if n else ()


def _add_training_options(export: argparse.ArgumentParser) -> None:
    from formalize.export_training import KINDS

    group = export.add_argument_group(
        "training data (--for)", "a datasets folder for `formalize train`; see docs/training.md"
    )
    group.add_argument(
        "--for",
        dest="for_kind",
        choices=KINDS,
        metavar="KIND",
        help=f"write training data instead: {', '.join(KINDS)}",
    )
    group.add_argument(
        "--include-critic-labels",
        action="store_true",
        help="let critic verdicts label pairs that have no human label or Lean signal",
    )
    group.add_argument(
        "--balance",
        action="store_true",
        help="downsample the majority label in each split (critic data)",
    )
    group.add_argument(
        "--seed", type=int, default=0, help="seed of the split and of --balance (default: 0)"
    )
    group.add_argument(
        "--split",
        default="0.9,0.05,0.05",
        metavar="TRAIN,VALIDATION,TEST",
        help="shares of problems per split (default: 0.9,0.05,0.05)",
    )
    group.add_argument(
        "--critic-template",
        default=None,
        metavar="NAME|PATH",
        help="critic prompt template of the critic data (default: the pipeline's, critic_v1)",
    )


def _export_training(args: argparse.Namespace) -> int:
    """``export --for KIND``: training data as a datasets folder."""
    import tempfile

    from formalize.critic import DEFAULT_TEMPLATE
    from formalize.export_training import (
        TrainingExport,
        describe_summary,
        write_training_export,
    )

    for flag, given in (
        ("--include-rejected", args.include_rejected),
        ("--critic-raw", args.critic_raw),
        ("--format " + str(args.format), args.format not in (None, "hf")),
    ):
        if given:
            raise FormalizeError(f"--for writes a datasets folder of its own: drop {flag}")
    if args.output is None and not args.push_to_hub:
        raise FormalizeError("give --output DIR (a folder), or --push-to-hub REPO")
    if args.output == "-" or Path(args.output or "x").suffix.lower() in (".jsonl", ".parquet"):
        raise FormalizeError(f"--for writes a folder: give -o DIR, not {args.output}")
    try:
        shares = tuple(float(x) for x in args.split.split(","))
    except ValueError:
        shares = ()
    if len(shares) != 3:
        raise FormalizeError(f"--split {args.split}: give three shares, e.g. 0.9,0.05,0.05")
    options = TrainingExport(
        args.for_kind,
        include_critic_labels=args.include_critic_labels,
        balance=args.balance,
        seed=args.seed,
        shares=shares,  # type: ignore[arg-type]
        critic_template=args.critic_template or DEFAULT_TEMPLATE,
    )
    with contextlib.ExitStack() as stack:
        output = args.output
        if output is None:
            output = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "dataset")
        store = stack.enter_context(_open(args))
        summary = write_training_export(store, Path(output), options)
        print(f"{args.for_kind}: wrote {describe_summary(summary)} to {output}", file=sys.stderr)
        if args.push_to_hub:
            from formalize.export_hub import push_to_hub

            url = push_to_hub(Path(output), args.push_to_hub, private=args.private)
            print(
                f"pushed {args.for_kind} to the hub dataset {args.push_to_hub}: {url}",
                file=sys.stderr,
            )
    return 0


def _refuse_overwrite(output: str | None, force: bool) -> None:
    """Refuse (``FormalizeError``) when ``output`` exists and ``--force`` was not given."""
    if output is None or output == "-" or force:
        return
    path = Path(output)
    if path.is_dir() and not any(path.iterdir()):
        return  # an empty folder is a place to write, not something to lose
    if path.exists():
        what = "folder" if path.is_dir() else "file"
        raise FormalizeError(f"{output} exists ({what}); pass --force to replace it")


def cmd_export(args: argparse.Namespace) -> int:
    """Export the corpus."""
    import tempfile

    from formalize.export import choose_format, export_corpus

    _refuse_overwrite(args.output, args.force)
    if args.for_kind:
        return _export_training(args)
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
