"""``formalize bench critic|compare|calibrate|suites``: measure critics on labelled benchmark
suites, and calibrate an acceptance policy on their runs."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

from formalize.cli.common import EXIT_CODES, HelpFormatter, add_db_option, db_path, format_table
from formalize.errors import InputError

CRITIC_EPILOG = (
    """\
examples:
  # the human-labelled ProofNet pairs, a released critic on a GPU:
  formalize bench critic --suite proofnet-dev --critic vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL
  # CriticLeanBench (download it first, see docs/bench.md), 4 samples, unanimous vote:
  formalize bench critic --suite criticleanbench --critic SPEC --critic-samples 4 \\
      --vote unanimous
  # your own pairs: a JSONL with informal, lean, label (+ optional header, error_type, id):
  formalize bench critic --suite pairs.jsonl --critic openai:MODEL@http://127.0.0.1:8000/v1

Rerunning the same command resumes from --output's predictions.jsonl; model calls also replay
from the cache in the corpus file (--db). Each pair is saved as soon as it is judged: Ctrl-C
(exit 130) or SIGTERM (exit 143) loses only the pairs in flight.

"""
    + EXIT_CODES
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``bench`` command group."""
    parser = sub.add_parser(
        "bench",
        help="measure a critic on labelled (problem, Lean) pairs",
        description="Benchmark critics on labelled suites with the CriticLean paper's metrics.",
    )
    group = parser.add_subparsers(dest="bench_command", metavar="ACTION", required=True)

    critic = group.add_parser(
        "critic",
        help="run a critic over a suite and write results.json, report.md and predictions",
        description="Judge every pair of a suite with the same Critic the pipeline uses\n"
        "(prompt, parsing, voting) and report TPR, TNR, the paper's ACC = (TPR + TNR) / 2,\n"
        "plain accuracy, precision, F1, unparsed answers, per-error-type detection and, with\n"
        "several samples, the vote-threshold curve. See docs/bench.md.",
        epilog=CRITIC_EPILOG,
        formatter_class=HelpFormatter,
    )
    critic.add_argument(
        "--suite",
        required=True,
        metavar="NAME|PATH",
        help="suite name (see `formalize bench suites`), a suite .toml, or a "
        ".jsonl/.json/.parquet file with the generic fields",
    )
    critic.add_argument("--critic", required=True, metavar="SPEC", help="critic engine spec")
    critic.add_argument(
        "--back-translation",
        action="store_true",
        help="benchmark the back-translation judge instead: the --critic model writes each "
        "Lean statement back in words, --comparer says whether that states the problem",
    )
    critic.add_argument(
        "--comparer",
        metavar="SPEC",
        help="with --back-translation: the engine that compares (default: the --critic one)",
    )
    critic.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="read the suite's data from this file instead of its `path`",
    )
    critic.add_argument(
        "--critic-samples",
        type=int,
        default=1,
        metavar="M",
        help="critic answers per pair (default: 1)",
    )
    critic.add_argument(
        "--vote",
        default="majority",
        metavar="RULE",
        help="majority | unanimous | min:X, e.g. min:0.6 or min:2/3 (default: majority)",
    )
    critic.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="a seeded sample of N pairs keeping the faithful/unfaithful ratio",
    )
    critic.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for --limit, sampling and the bootstrap (default: 0)",
    )
    critic.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="DIR",
        help="output folder (default: <data home>/bench/<suite>/<critic>)",
    )
    critic.add_argument(
        "--template",
        default=None,
        metavar="NAME|PATH",
        help="critic prompt template (default: critic_v1)",
    )
    critic.add_argument(
        "--temperature",
        type=float,
        metavar="T",
        help="sampling temperature (default: 0 for one sample, 0.6 for several)",
    )
    critic.add_argument(
        "--top-p", type=float, metavar="P", help="nucleus sampling (default: 1, 0.95 for several)"
    )
    critic.add_argument(
        "--max-tokens",
        type=int,
        metavar="N",
        help="longest critic answer, thinking included (default: 8192)",
    )
    critic.add_argument(
        "--batch-size",
        type=int,
        default=16,
        metavar="N",
        help="pairs per engine call; predictions are saved after each (16)",
    )
    critic.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="B",
        help="bootstrap replicates for the 95%% intervals (default: 1000)",
    )
    add_db_option(critic)
    critic.add_argument(
        "--no-cache", action="store_true", help="do not read or write the model-call cache"
    )
    critic.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    critic.set_defaults(func=cmd_critic)

    compare = group.add_parser(
        "compare",
        help="put several finished runs side by side",
        description="One row per run folder (or results.json): ACC with its interval, TPR, "
        "TNR, accuracy, precision, F1 and the unparsed share, in percent.",
    )
    compare.add_argument(
        "runs", nargs="+", type=Path, metavar="DIR", help="run folders or their results.json"
    )
    compare.add_argument("--markdown", action="store_true", help="print a Markdown table")
    compare.set_defaults(func=cmd_compare)

    from formalize.cli.bench_calibrate import register_calibrate

    register_calibrate(group)

    suites = group.add_parser("suites", help="list the benchmark suites that can be named")
    suites.set_defaults(func=cmd_suites)


def cmd_critic(args: argparse.Namespace) -> int:
    """Run ``bench critic``."""
    from formalize.bench import load_suite, run_critic_bench
    from formalize.bench.report import REPORT, RESULTS
    from formalize.critic import DEFAULT_TEMPLATE, Critic, VoteRule, critic_params

    if args.critic_samples < 1:
        raise InputError("--critic-samples must be at least 1")
    try:
        rule = VoteRule.parse(args.vote)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    suite = load_suite(args.suite)
    if args.data:
        suite = suite.with_data(args.data)
    params = critic_params(args.critic_samples)
    overrides: dict[str, Any] = {
        "temperature": args.temperature,
        "top_p": args.top_p,
        "max_tokens": args.max_tokens,
    }
    params = dataclasses.replace(params, **{k: v for k, v in overrides.items() if v is not None})
    if params.temperature > 0:
        params = dataclasses.replace(params, seed=args.seed)
    if args.comparer and not args.back_translation:
        raise InputError("--comparer is for --back-translation")
    output = args.output or default_output(
        suite.name, args.critic, args.critic_samples, rule, args.back_translation
    )

    from formalize.models import load_engine

    store = None
    if not args.no_cache:
        from formalize.corpus import Store

        store = Store(db_path(args))
    try:
        cache = store.cache if store else None
        engine = load_engine(args.critic, cache=cache)
        engines = [engine]
        try:
            critic: Any
            if args.back_translation:
                from formalize.judges.back_translation import BackTranslationJudge

                comparer = None
                if args.comparer and args.comparer != args.critic:
                    comparer = load_engine(args.comparer, cache=cache)
                    engines.append(comparer)
                critic = BackTranslationJudge(
                    engine, comparer, samples=args.critic_samples, rule=rule, params=params
                )
            else:
                critic = Critic(
                    engine,
                    samples=args.critic_samples,
                    rule=rule,
                    params=params,
                    template=args.template or DEFAULT_TEMPLATE,
                )
            results = run_critic_bench(
                suite,
                critic,
                output,
                critic_spec=args.critic,
                limit=args.limit,
                seed=args.seed,
                batch_size=args.batch_size,
                bootstrap=args.bootstrap,
                progress=args.progress,
            )
        finally:
            for each in engines:
                close = getattr(each, "close", None)
                if callable(close):
                    close()
    finally:
        if store is not None:
            store.close()
    print_summary(results)
    print(f"report: {Path(output) / REPORT}\nresults: {Path(output) / RESULTS}", file=sys.stderr)
    return 0


def default_output(
    suite: str, spec: str, samples: int, rule: Any, back_translation: bool = False
) -> Path:
    """``<data home>/bench/<suite>/<engine>_<model>-m<M>[-<rule>]``: the same command, the same
    folder. Named by the model, never by a server's address; a local path by its folder name
    and spec options by a short hash, so that different checkpoints stay apart."""
    from formalize.home import data_home
    from formalize.models.spec import spec_without_url

    named = spec_without_url(spec)
    base, _, query = named.partition("?")
    engine, colon, model = base.partition(":")
    local = model.startswith(("/", ".", "~")) or model.count("/") > 1
    label = f"{engine}_{Path(model.rstrip('/')).name if local else model}" if colon else base
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_.") or "critic"
    if query or local or len(slug) > 60:
        digest = hashlib.sha256(named.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[-60:].lstrip('_.')}-{digest}"
    rule_slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(rule))
    suffix = f"-m{samples}" + ("" if str(rule) == "majority" else f"-{rule_slug}")
    if back_translation:
        suffix += "-backtranslation"
    return data_home() / "bench" / suite / f"{slug}{suffix}"


def print_summary(results: dict[str, Any]) -> None:
    """The headline numbers of a run, on stderr."""
    from formalize.bench.metrics import metric_value
    from formalize.bench.report import MOSTLY_MARK, mostly_unparsed, pct, unparsed_warning

    m = results["metrics"]
    mark = f" {MOSTLY_MARK}" if mostly_unparsed(results) else ""
    rows = []
    for key, label in (
        ("acc", "ACC (TPR+TNR)/2"),
        ("tpr", "TPR"),
        ("tnr", "TNR"),
        ("accuracy", "accuracy"),
        ("precision", "precision"),
        ("f1", "F1"),
        ("unparsed_rate", "unparsed"),
    ):
        entry = m[key]
        ci = entry.get("ci") if isinstance(entry, dict) else None
        value = pct(metric_value(entry)) + ("" if key == "unparsed_rate" else mark)
        rows.append((label, value, f"[{pct(ci[0])}, {pct(ci[1])}]" if ci else ""))
    counts = results["counts"]
    print(
        f"{results['suite']['name']}: {counts['items']} pairs "
        f"({counts['faithful']} faithful, {counts['unfaithful']} unfaithful), "
        f"critic {results['critic']['spec']}",
        file=sys.stderr,
    )
    print(format_table(("metric (%)", "value", "95% CI"), rows), file=sys.stderr)
    warning = unparsed_warning(results)
    if warning:
        print(warning, file=sys.stderr)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run ``bench compare``."""
    from formalize.bench.report import COMPARE_HEADERS, compare_rows, load_results, markdown_table

    runs = [(_run_name(path, args.runs), load_results(path)) for path in args.runs]
    suites = {(r["suite"].get("name"), r["suite"].get("version")) for _, r in runs}
    if len(suites) > 1:
        print("note: these runs are on different suites; compare within a suite", file=sys.stderr)
    rows = compare_rows(runs)
    if args.markdown:
        print(markdown_table(COMPARE_HEADERS, rows))
    else:
        print(format_table(COMPARE_HEADERS, rows))
    return 0


def _run_name(path: Path, all_paths: list[Path]) -> str:
    folder = path.parent if path.name == "results.json" else path
    names = [(p.parent if p.name == "results.json" else p).name for p in all_paths]
    if names.count(folder.name) > 1:
        return f"{folder.parent.name}/{folder.name}"
    return folder.name


def cmd_suites(args: argparse.Namespace) -> int:
    """Run ``bench suites``."""
    from formalize.bench.suites import available_suites, parse_suite

    rows = []
    for name, path in sorted(available_suites().items()):
        suite = parse_suite(path)
        rows.append(
            (
                name,
                suite.version,
                suite.lean_version or "?",
                "yes" if suite.path.is_file() else "no",
                suite.description,
            )
        )
    if not rows:
        print(
            "no suites found (they live in critic/benchmarks/ of the repository)", file=sys.stderr
        )
        return 1
    print(format_table(("suite", "version", "lean", "data here", "description"), rows))
    return 0
