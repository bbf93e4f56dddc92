"""``formalize run``: the main job, problems in, a corpus of faithful Lean statements out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from formalize.cli.common import (
    EXIT_CODES,
    HelpFormatter,
    add_db_option,
    format_table,
    report_issues,
)
from formalize.config import field_default
from formalize.executors import EXECUTORS
from formalize.stopping import EXIT_INTERRUPTED

EPILOG = f"""\
examples:
  # on a GPU box, with the released models (the defaults):
  formalize run problems.jsonl
  # any OpenAI-compatible server for both models, 8 samples, 4 rounds:
  formalize run problems.jsonl --translator openai:kimina@http://127.0.0.1:8000/v1 \\
      --critic openai:criticlean@http://127.0.0.1:8001/v1 --samples 8 --rounds 4
  # settings from a file (CLI flags win):
  formalize run problems.jsonl --config run.toml

Before anything loads, the run checks what it needs (settings, input, Lean, each engine's
package, a GPU where vLLM needs one, the weights in the Hugging Face cache) and lists
everything missing at once, each with how to get it.

INPUT is JSONL, JSON, CSV or parquet. Field names are picked automatically (id/name,
informal_statement/problem/informal_prefix, answer, ...) and printed; override with
--id-field, --text-field, --answer-field. Rerunning the same command resumes: finished problems
are skipped and model calls and Lean checks replay from the corpus's cache.

Ctrl-C or SIGTERM (what Slurm, Kubernetes and preemptible instances send) stops the run.
Nothing new starts, queued model requests and Lean checks are cancelled, what finished is
saved, the run is marked interrupted and the summary says how to resume (exit 130 after
Ctrl-C, 143 after SIGTERM). A second Ctrl-C stops at once. After SIGTERM the process is gone
within --grace-period seconds.

{EXIT_CODES}"""


def _default(name: str) -> str:
    return str(field_default(name))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``run`` command."""
    p = sub.add_parser(
        "run",
        help="formalize a file of problems into the corpus (the main job)",
        description="Translate each problem into Lean 4 candidates, keep those that compile, "
        "ask the critic whether they are faithful, feed failures back for up to --rounds "
        "rounds, and store every attempt and each accepted pair in the corpus.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    p.add_argument("input", nargs="?", help="problems file (default: the config's `input`)")
    p.add_argument(
        "--config", type=Path, metavar="FILE", help="TOML file with any of these options"
    )
    models = p.add_argument_group("models")
    models.add_argument(
        "--translator",
        metavar="SPEC",
        help=f"translator engine spec (default: {_default('translator')})",
    )
    models.add_argument(
        "--critic",
        metavar="SPEC",
        action="append",
        help=f"critic engine spec (default: {_default('critic')}); give it several times for a "
        "panel of critics, combined by --combine (judges with their own samples and vote rules, "
        "or a back-translation judge: [[judges]] tables in --config, e.g. the policy.toml of "
        "`formalize bench calibrate`)",
    )
    models.add_argument(
        "--combine",
        metavar="RULE",
        help="how several judges' decisions combine: all (every judge accepts), any, majority, "
        f"or weighted:T (mean faithful share >= T) (default: {_default('combine')})",
    )
    models.add_argument(
        "--translator-temperature",
        type=float,
        metavar="T",
        help=f"translator sampling temperature (default: {_default('translator_temperature')})",
    )
    models.add_argument(
        "--translator-max-tokens",
        type=int,
        metavar="N",
        help=f"longest translator answer (default: {_default('translator_max_tokens')})",
    )
    models.add_argument(
        "--critic-temperature",
        type=float,
        metavar="T",
        help="critic sampling temperature (default: 0 for one critic sample, 0.6 for several)",
    )
    from formalize.critic import DEFAULT_MAX_TOKENS

    models.add_argument(
        "--critic-max-tokens",
        type=int,
        metavar="N",
        help=f"longest critic answer, thinking included (default: {DEFAULT_MAX_TOKENS})",
    )
    models.add_argument(
        "--seed", type=int, help=f"sampling seed for both models (default: {_default('seed')})"
    )
    loop = p.add_argument_group("the loop")
    loop.add_argument(
        "--samples",
        type=int,
        metavar="K",
        help=f"candidates per problem per round (default: {_default('samples')})",
    )
    loop.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help=f"translate/refine rounds per problem (default: {_default('rounds')})",
    )
    loop.add_argument(
        "--critic-samples",
        type=int,
        metavar="M",
        help=f"critic samples per candidate (default: {_default('critic_samples')})",
    )
    loop.add_argument(
        "--vote",
        metavar="RULE",
        help=f"majority | unanimous | min:X, e.g. min:0.6 or min:2/3 (default: {_default('vote')})",
    )
    loop.add_argument(
        "--retry-exhausted",
        action="store_true",
        default=None,
        help="continue problems exhausted in earlier runs, up to --rounds rounds in all, with "
        "this run's settings (raise --rounds to give them more); problems whose faithful "
        "statement duplicates another problem's entry are not retried",
    )
    filters = p.add_argument_group(
        "Lean-verified filters",
        "after a statement compiles, Lean probes it before the critic sees it: vacuous "
        "(its hypotheses prove False), refuted (Lean proves its negation), trivial "
        "(automation proves it outright), reference (equivalent to the row's reference "
        "statement); a rejection goes back to the translator with Lean's proof "
        "(docs/filters.md)",
    )
    filters.add_argument(
        "--filters",
        metavar="NAMES",
        help="comma-separated filters to run, or none (default: vacuous,refuted,trivial, "
        "plus reference when the rows carry reference statements)",
    )
    filters.add_argument(
        "--reject-trivial",
        action="store_true",
        default=None,
        help="reject statements automation proves outright (default: record it only; a "
        "correct 'compute the value' statement is often closed by norm_num)",
    )
    filters.add_argument(
        "--require-reference",
        action="store_true",
        default=None,
        help="accept only statements Lean proves equivalent to the row's reference",
    )
    filters.add_argument(
        "--judge-all",
        action="store_true",
        default=None,
        help="ask the critic about filter-rejected statements too (their status stays the "
        "filter's; for studying the critic, costs critic calls)",
    )
    filters.add_argument(
        "--probe-timeout",
        dest="probe_timeout_s",
        type=float,
        metavar="S",
        help="wall-clock backstop per probe, in seconds; Lean's heartbeat bound on each "
        f"alternative stops a probe first (default: {_default('probe_timeout_s')})",
    )
    grounding = p.add_argument_group(
        "Mathlib grounding",
        "with the Lean project's declaration index (`formalize lean index`): declarations "
        "retrieved for each problem go into the translator's prompt, the critic sees the "
        "definitions of the constants a statement uses, and names are checked before Lean "
        "(docs/retrieval.md)",
    )
    grounding.add_argument(
        "--retrieval",
        choices=("bm25", "embedding", "none"),
        help="how declarations are retrieved for the translator; none: today's prompts "
        "(default: bm25 where an index exists, else none, said once)",
    )
    grounding.add_argument(
        "--retrieval-k",
        type=int,
        metavar="K",
        help=f"declarations retrieved per problem (default: {_default('retrieval_k')})",
    )
    grounding.add_argument(
        "--names",
        choices=("advise", "precheck", "off"),
        help="the name check: advise (Lean decides; did-you-mean joins its unknown-name "
        "errors), precheck (unknown names go back without a Lean call), off "
        f"(default: {_default('names')})",
    )
    inputs = p.add_argument_group("input")
    inputs.add_argument(
        "--limit", type=int, metavar="N", help="only the first N problems (default: all)"
    )
    inputs.add_argument(
        "--id-field",
        metavar="NAME",
        help="field holding the problem id (default: picked: id, name, ...)",
    )
    inputs.add_argument(
        "--text-field",
        metavar="NAME",
        help="field holding the statement (default: picked: informal_statement, problem, ...)",
    )
    inputs.add_argument(
        "--answer-field",
        metavar="NAME",
        help="field holding the answer (default: picked: answer, ...)",
    )
    run = p.add_argument_group("running")
    add_db_option(run)
    run.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help=f"problems per engine batch (default: {_default('batch_size')})",
    )
    run.add_argument(
        "--max-in-flight",
        type=int,
        metavar="N",
        help="batches moving through translate/check/judge at once "
        f"(default: {_default('max_in_flight')})",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: on)",
    )
    run.add_argument(
        "--progress-interval",
        type=float,
        metavar="S",
        help="when stderr is not a terminal, a progress line every S seconds "
        f"(default: {_default('progress_interval')})",
    )
    run.add_argument(
        "--grace-period",
        dest="grace_period_s",
        type=float,
        metavar="S",
        help="after SIGTERM, seconds until the process has exited; the work in flight gets "
        f"all but a few of them (default: {_default('grace_period_s')}, under Slurm's 30)",
    )
    cluster = p.add_argument_group(
        "executor",
        "where the translator, Lean and critic run: here (local) or on Ray actor pools (ray), "
        "sized in the config's [ray] table (docs/cluster.md)",
    )
    cluster.add_argument(
        "--executor",
        choices=EXECUTORS,
        help=f"local: in this process; ray: on a Ray cluster (default: {_default('executor')})",
    )
    cluster.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join: auto (this node's, from `ray start`) or HOST:PORT "
        "(default: start a local Ray cluster for the run and stop it at its end)",
    )
    for pool in ("translator", "lean", "critic"):
        cluster.add_argument(
            f"--{pool}-actors",
            type=int,
            metavar="N",
            help=f"{pool} actors with --executor ray (default: [ray.{pool}] actors, else 1)",
        )
    from formalize.cli.check import add_lean_options

    add_lean_options(p)
    p.set_defaults(func=cmd_run)


def resolve_config(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The run's ``RunConfig`` from defaults, ``--config`` and flags, and the settings that
    could not be used (left at their defaults, for the preflight to list)."""
    from formalize.cli.check import lean_overrides
    from formalize.config import config_keys, load_toml, resolve_leniently

    file_values = load_toml(args.config) if args.config else {}
    if getattr(args, "critic", None):  # flags win: --critic replaces the file's judges
        file_values.pop("judges", None)
    # each flag's dest is the config field it sets; fields without a flag come out None
    cli = {key: getattr(args, key, None) for key in config_keys()}
    critics = cli.get("critic")
    if isinstance(critics, list) and len(critics) == 1:
        cli["critic"] = critics[0]
    cli["db"] = str(args.db) if args.db else None
    cli["lean"] = lean_overrides(args)
    cli["ray"] = {
        pool: {"actors": getattr(args, f"{pool}_actors", None)}
        for pool in ("translator", "lean", "critic")
    }
    return resolve_leniently(file_values, cli, source=str(args.config or "the config file"))


def cmd_run(args: argparse.Namespace) -> int:
    """Run the pipeline."""
    from formalize.runner import run_job

    config, setting_issues = resolve_config(args)
    started = time.monotonic()
    codes: list[int] = []  # the summary is printed before Lean and the engines are closed
    outcome = run_job(
        config,
        setting_issues=setting_issues,
        issue_reporter=report_issues,
        notice=lambda text: print(text, file=sys.stderr),
        exit_on_abort=True,
        on_outcome=lambda done: codes.append(report_outcome(done, config, started)),
    )
    return codes[0] if codes else report_outcome(outcome, config, started)


def report_outcome(outcome: Any, config: Any, started: float) -> int:
    """Print a run's summary (its funnel, notes, how it ended) on stderr; its exit code."""
    c = outcome.counters
    rows = [
        ("problems", c.problems),
        ("  finished earlier (skipped)", c.skipped),
        ("input lines skipped", outcome.skipped_lines),
        ("candidates", c.candidates),
        ("  no Lean code in the answer", c.no_code),
        *((("  translator engine failed", c.generation_failed),) if c.generation_failed else ()),
        ("  refused by the safety gate", c.rejected_by_gate),
        ("  Lean errors", c.lean_errors),
        *(
            (("  checker failed (timeout, crash, memory)", c.check_failed),)
            if c.check_failed
            else ()
        ),
        ("  compiled", c.compiled),
        ("  rejected by Lean-verified filters", c.rejected_by_filters),
        ("  critic calls saved by the filters", c.critic_calls_saved),
        ("  judged faithful", c.faithful),
        ("accepted this run", c.accepted),
        ("problems with an accepted pair", c.done),
        ("problems exhausted (no accepted pair)", c.exhausted),
        ("problems duplicating another problem's entry", c.duplicates),
    ]
    if config.retry_exhausted:
        rows.insert(2, ("  exhausted earlier, retried", c.retried))
    if c.names_unresolved:  # the name check (docs/retrieval.md)
        at = rows.index(("  compiled", c.compiled))
        rows[at:at] = [
            ("  with names not in the index", c.names_unresolved),
            ("    sent back without a Lean call (--names precheck)", c.names_prechecked),
            ("    compiled all the same (stale index)", c.names_stale),
        ]
    print(format_table(("", "count"), rows), file=sys.stderr)
    if c.retry_capped:
        print(
            f"note: {c.retry_capped} exhausted problems already had {config.rounds} rounds and "
            "were not retried; raise --rounds to give them more",
            file=sys.stderr,
        )
    for note in outcome.notes:
        print(note, file=sys.stderr)
    minutes = (time.monotonic() - started) / 60
    if outcome.stopped:
        cause = f" by {outcome.signal}" if outcome.signal else ""
        state = (
            f"interrupted{cause} after {minutes:.1f} min of work; what finished is saved. "
            "To resume, rerun the same command"
        )
    else:
        state = f"complete in {minutes:.1f} min"
    print(f"run {outcome.run_id} {state}", file=sys.stderr)
    print(f"corpus: {outcome.db}  (formalize corpus stats --db {outcome.db})", file=sys.stderr)
    if outcome.stopped:
        return outcome.exit_code or EXIT_INTERRUPTED
    return 1 if outcome.skipped_lines else 0
