"""``formalize run``: the main job, problems in, a corpus of faithful Lean statements out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from formalize.cli.common import add_db_option, format_table, report_issues
from formalize.errors import InputError

EPILOG = """\
examples:
  # on a GPU box, with the released models (the defaults):
  formalize run problems.jsonl
  # any OpenAI-compatible server for both models, 8 samples, 4 rounds:
  formalize run problems.jsonl --translator openai:kimina@http://127.0.0.1:8000/v1 \\
      --critic openai:criticlean@http://127.0.0.1:8001/v1 --samples 8 --rounds 4
  # settings from a file (CLI flags win):
  formalize run problems.jsonl --config run.toml

INPUT is JSONL, JSON, CSV or parquet. Field names are picked automatically (id/name,
informal_statement/problem/informal_prefix, answer, ...); override with --id-field,
--text-field, --answer-field. Rerunning the same command resumes: finished problems are
skipped and model calls and Lean checks replay from the corpus's cache. Ctrl-C stops after the
current step.
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``run`` command."""
    p = sub.add_parser(
        "run",
        help="formalize a file of problems into the corpus (the main job)",
        description="Translate each problem into Lean 4 candidates, keep those that compile, "
        "ask the critic whether they are faithful, feed failures back for up to --rounds "
        "rounds, and store every attempt and each accepted pair in the corpus.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", nargs="?", help="problems file (default: the config's `input`)")
    p.add_argument("--config", type=Path, help="TOML file with any of these options")
    p.add_argument("--translator", metavar="SPEC", help="engine spec (default: %(default)s)")
    p.add_argument("--critic", metavar="SPEC", help="engine spec")
    add_db_option(p)
    p.add_argument("--samples", type=int, metavar="K", help="candidates per problem per round (4)")
    p.add_argument("--rounds", type=int, metavar="N", help="translate/refine rounds (3)")
    p.add_argument(
        "--critic-samples", type=int, metavar="M", help="critic samples per candidate (1)"
    )
    p.add_argument("--vote", metavar="RULE", help="majority | unanimous | min:0.6 (majority)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument("--id-field", metavar="NAME")
    p.add_argument("--text-field", metavar="NAME")
    p.add_argument("--answer-field", metavar="NAME")
    p.add_argument("--batch-size", type=int, metavar="N", help="problems per engine batch (32)")
    p.add_argument("--seed", type=int, help="sampling seed (0)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    from formalize.cli.check import add_lean_options

    add_lean_options(p)
    p.set_defaults(func=cmd_run)


def resolve_config(args: argparse.Namespace) -> Any:
    """The run's ``RunConfig`` from defaults, ``--config`` and flags."""
    from formalize.cli.check import lean_overrides
    from formalize.config import config_keys, load_toml, resolve

    file_values = load_toml(args.config) if args.config else {}
    # each flag's dest is the config field it sets; fields without a flag come out None
    cli = {key: getattr(args, key, None) for key in config_keys()}
    cli["db"] = str(args.db) if args.db else None
    cli["lean"] = lean_overrides(args)
    return resolve(file_values, cli)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the pipeline."""
    from formalize.runner import run_job

    config = resolve_config(args)
    if not config.input:
        raise InputError("no input: give a problems file (or `input = ...` in --config)")
    started = time.monotonic()
    outcome = run_job(config, issue_reporter=report_issues)
    c = outcome.counters
    rows = [
        ("problems", c.problems),
        ("  finished earlier (skipped)", c.skipped),
        ("candidates", c.candidates),
        ("  compiled", c.compiled),
        ("  judged faithful", c.faithful),
        ("accepted this run", c.accepted),
        ("problems with an accepted pair", c.done),
        ("problems exhausted", c.exhausted),
    ]
    print(format_table(("", "count"), rows), file=sys.stderr)
    minutes = (time.monotonic() - started) / 60
    state = "stopped early; rerun the same command to resume" if outcome.stopped else "complete"
    print(f"run {outcome.run_id} {state} in {minutes:.1f} min", file=sys.stderr)
    print(f"corpus: {outcome.db}  (formalize corpus stats --db {outcome.db})", file=sys.stderr)
    return 130 if outcome.stopped else 0
