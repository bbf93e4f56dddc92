"""``formalize bench calibrate``: choose an acceptance policy from several judges' bench runs."""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from formalize.cli.common import EXIT_CODES, HelpFormatter, format_table

if TYPE_CHECKING:
    from formalize.bench.calibrate import Scored
    from formalize.bench.judges import Joined

EXIT_NO_POLICY = 3

DESCRIPTION = """\
Join several `formalize bench critic` runs over the same suite (one run per judge: a critic,
or the back-translation check), search every policy they allow and write the best one as
policy.toml for `formalize run --config policy.toml`.

A policy is a subset of the judges, a combination rule and thresholds: `all` (every judge
accepts), `any`, `majority` (more than half; a tie rejects), each judge accepting when the
share of its samples that said faithful is at least its threshold (`min:X`, X one of the
shares it gave); or `weighted:T`, the mean of the judges' shares at least T.

The chosen policy has the highest TPR (faithful pairs accepted) among those whose false-accept
rate FP / (FP + TN) has a one-sided Clopper-Pearson upper bound at level --confidence of at most
--max-false-accept (ties: higher TNR, fewer judges, simpler rule). With --min-precision P
--base-rate R instead: the highest TPR whose precision at base rate R (the share of faithful
statements among those the policy will judge) has a lower bound of at least P, from a lower
bound on TPR and an upper bound on the false-accept rate, each at level (1 + C) / 2. See
docs/bench.md."""

EPILOG = """\
examples:
  # two critics benchmarked on the same suite, then calibrated to 5% false accepts:
  formalize bench critic --suite proofnet-dev --critic vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL \\
      --critic-samples 4 -o runs/8b
  formalize bench critic --suite proofnet-dev --critic vllm:m-a-p/CriticLeanGPT-Qwen3-14B-RL \\
      --critic-samples 4 -o runs/14b
  formalize bench calibrate runs/8b runs/14b --max-false-accept 0.05 -o runs/policy
  formalize run problems.jsonl --config runs/policy/policy.toml
  # at least 95% of the accepted statements right, when 60% of those judged are faithful:
  formalize bench calibrate runs/8b runs/14b --min-precision 0.95 --base-rate 0.6
  # the chosen policy on held-out items (the same judges run over another suite or split):
  formalize bench calibrate runs/test-8b runs/test-14b --max-false-accept 0.05 \\
      --policy runs/policy/policy.toml

Outputs in --output: policy.toml (only when a policy is feasible), report.md (the chosen
policy's TPR, TNR, false-accept rate and bound with their counts, the Pareto front as a table),
pareto.png, results.json (`policy`, `tpr`, `far`, `far_upper`, `tp`, `fn`, `fp`, `tn` at the
top level). Runs over different suites or data files are refused; items some run lacks are
left out, and the report says how many.

""" + EXIT_CODES.replace(
    "\n  130",
    f"\n  {EXIT_NO_POLICY}    no policy meets the goal (with --policy: that policy does not); "
    "no policy.toml\n       is written, and report.md and results.json show the closest\n  130",
)


def register_calibrate(group: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``bench calibrate`` to the ``bench`` group."""
    parser = group.add_parser(
        "calibrate",
        help="choose an acceptance policy (judges, rule, thresholds) for a false-accept budget",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN_DIR", help="`bench critic` output folders"
    )
    parser.add_argument(
        "--max-false-accept",
        type=float,
        metavar="A",
        help="the budget: upper bound on FP / (FP + TN), e.g. 0.05",
    )
    parser.add_argument(
        "--min-precision",
        type=float,
        metavar="P",
        help="instead of a budget: lower bound on precision at --base-rate, e.g. 0.95",
    )
    parser.add_argument(
        "--base-rate",
        type=float,
        metavar="R",
        help="with --min-precision: the share of faithful statements among those judged",
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="C",
        help="level of the one-sided bounds (default: 0.95)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="check this policy.toml on the runs (held-out items) instead of searching: its "
        "counts and bounds, and whether it meets the goal",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="DIR",
        help="output folder (default: <data home>/calibrate/<suite>/calibrate-<goal>-<runs "
        "hash>, check-... with --policy)",
    )
    parser.set_defaults(func=cmd_calibrate)


def command_line(args: argparse.Namespace) -> str:
    """The command as it could be typed again (recorded in the outputs)."""
    parts = ["formalize", "bench", "calibrate", *(str(p) for p in args.runs)]
    for flag, value in (
        ("--max-false-accept", args.max_false_accept),
        ("--min-precision", args.min_precision),
        ("--base-rate", args.base_rate),
        ("--confidence", args.confidence),
    ):
        if value is not None:
            parts += [flag, f"{value:g}"]
    if args.policy is not None:
        parts += ["--policy", str(args.policy)]
    if args.output is not None:
        parts += ["--output", str(args.output)]
    return shlex.join(parts)


def default_output(suite: str, runs: list[Path], goal: str) -> Path:
    """``<data home>/calibrate/<suite>/<goal>-<hash of the run folders>``: beside the bench
    runs, not among them (``bench compare <data home>/bench/<suite>/*`` stays valid)."""
    from formalize.home import data_home

    key = "\n".join(sorted(str(p.resolve()) for p in runs))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return data_home() / "calibrate" / suite / f"{goal}-{digest}"


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run ``bench calibrate``."""
    from formalize.bench.calibrate import Objective, calibrate, check, nothing_to_choose_from
    from formalize.bench.calibrate_report import POLICY, REPORT, write_outputs
    from formalize.bench.judges import join_runs, load_judge_run
    from formalize.bench.policy_file import read_policy
    from formalize.bench.report import pct

    objective = Objective(
        confidence=args.confidence,
        max_false_accept=args.max_false_accept,
        min_precision=args.min_precision,
        base_rate=args.base_rate,
    )
    joined = join_runs([load_judge_run(folder) for folder in args.runs])
    if joined.union > len(joined.ids):
        lacking = ", ".join(f"{name} lacks {n}" for name, n in joined.missing.items() if n)
        print(
            f"note: {joined.union - len(joined.ids)} of the {joined.union} items are not in every "
            f"run ({lacking}); calibrating on the {len(joined.ids)} all runs judged",
            file=sys.stderr,
        )
    goal = (
        f"prec{args.min_precision:g}-r{args.base_rate:g}"
        if objective.precision_form
        else f"far{args.max_false_accept:g}"
    )
    goal = ("check-" if args.policy else "calibrate-") + goal
    output = args.output or default_output(str(joined.suite["name"]), args.runs, goal)
    if args.policy is not None:
        result = check(joined, objective, read_policy(args.policy, joined))
    else:
        result = calibrate(joined, objective)
    write_outputs(result, output, command_line(args))
    headers = ("policy", "TPR", "TNR", "false accepts", "bound")
    if result.checked is not None:
        verdict = "meets" if result.chosen else "does not meet"
        print(format_table(headers, [_summary(result.checked, joined)]), file=sys.stderr)
        print(f"the policy {verdict} the goal here; report: {output / REPORT}", file=sys.stderr)
        return 0 if result.chosen else EXIT_NO_POLICY
    if result.chosen is None:
        why = nothing_to_choose_from(result.searched, joined)
        if why:
            print(f"no feasible policy: {why}", file=sys.stderr)
        else:
            print(
                f"no feasible policy: none of the {result.searched} policies meets the goal on "
                f"{len(joined.ids)} items ({joined.negatives} unfaithful). The closest:",
                file=sys.stderr,
            )
            rows = [_summary(s, joined) for s in result.closest]
            print(format_table(headers, rows), file=sys.stderr)
        print(f"report: {output / REPORT}", file=sys.stderr)
        return EXIT_NO_POLICY
    chosen = result.chosen
    print(format_table(headers, [_summary(chosen, joined)]), file=sys.stderr)
    if chosen.precision_lower is not None:
        print(f"precision lower bound: {pct(chosen.precision_lower)}%", file=sys.stderr)
    print(
        f"policy: {output / POLICY}  (formalize run ... --config {output / POLICY})\n"
        f"report: {output / REPORT}",
        file=sys.stderr,
    )
    return 0


def _summary(s: Scored, joined: Joined) -> tuple[str, str, str, str, str]:
    from formalize.bench.calibrate import describe
    from formalize.bench.report import pct

    return (
        describe(s.policy, joined),
        f"{pct(s.tpr)}% ({s.tp}/{s.tp + s.fn})",
        f"{pct(s.tnr)}%",
        f"{s.fp}/{s.fp + s.tn}",
        f"{pct(s.far_upper)}%",
    )
