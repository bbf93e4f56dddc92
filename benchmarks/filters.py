"""What the Lean-verified filters save and cost: critic calls saved per problem, and the wall
time they add.

    python benchmarks/filters.py [--problems 64] [--samples 4] [--vacuous-share 0.25]
                                 [--lean-ms 20] [--critic-ms 0] [--repeat 3]

A stand-in where a known share of the compiled candidates is vacuous: an instant engine writes
each problem's candidates (``--samples`` distinct statements per problem); for a
``--vacuous-share`` of the problems they carry contradictory hypotheses, which the fake REPL
proves ``False`` from (its ``--prove`` rule), at ``--lean-ms`` per request like every other
check. The critic is the same instant engine, plus ``--critic-ms`` of sleep per statement
judged (a stand-in for a critic's cost, 0: the filters' overhead alone). The same problems run
with ``--filters none`` and with the defaults (vacuous, refuted, trivial), interleaved
``--repeat`` times, best wall time of each; one round, so every rejected problem ends there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE = REPO / "tests" / "lean" / "fake_repl.py"
PYTHON = os.path.realpath(sys.executable)  # the sandbox shows the interpreter, not a venv link
VERDICT = '{"reasons": "All parts match.", "is_assistant_correct": "Correct"}'
RULES = [{"probe": "vacuous", "when": r"\(h₁ : x > "}]


def statement(k: int, sample: int, vacuous: bool) -> str:
    """Problem ``k``'s candidate ``sample``: distinct per sample, vacuous when asked."""
    if vacuous:
        hyps = f"(h₀ : x < {k}) (h₁ : x > {k + sample + 1})"
    else:
        hyps = f"(h₀ : x = {k}) (h₂ : {sample} ≤ {sample})"
    return f"```lean4\nimport Mathlib\ntheorem t{k} (x : ℕ) {hyps} : x + 0 = {k} := by\n```"


@dataclass
class StandIn:
    """The instant engine: statements for translator prompts (problem ``k`` is vacuous when
    ``k`` falls in the vacuous share), verdicts for critic prompts after ``critic_ms``."""

    vacuous_every: int
    critic_ms: float
    judged: int = 0

    def generate(self, conversations: list[Any], params: Any) -> list[list[Any]]:
        from formalize.models import Completion

        out = []
        for conv in conversations:
            prompt = conv[-1]["content"]
            if "is_assistant_correct" in prompt or "Lean4Code" in prompt:
                self.judged += 1
                time.sleep(self.critic_ms / 1000)
                out.append([Completion(text=VERDICT, finish_reason="stop")] * params.n)
                continue
            k = int(prompt.split("Problem ", 1)[1].split(":", 1)[0])
            vacuous = self.vacuous_every > 0 and k % self.vacuous_every == 0
            out.append(
                [
                    Completion(text=statement(k, j, vacuous), finish_reason="stop")
                    for j in range(params.n)
                ]
            )
        return out

    def describe(self) -> dict[str, Any]:
        return {"engine": "stand-in"}

    def close(self) -> None:
        pass


def run(checker: Any, engine: StandIn, problems: list[Any], samples: int, filters: bool) -> Any:
    """One run; (wall seconds, counters, critic statements judged)."""
    from formalize.corpus import Store
    from formalize.critic import Critic
    from formalize.filters import DEFAULT_FILTERS, build_filters
    from formalize.models import GenerationParams
    from formalize.pipeline import Pipeline
    from formalize.translate import Translator

    engine.judged = 0
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        translator = Translator(engine, samples=samples, params=GenerationParams(n=samples))
        critic = Critic(engine, samples=1, params=GenerationParams())
        pipeline = Pipeline(
            translator,
            checker,
            critic,
            store,
            rounds=1,
            batch_size=16,
            filters=build_filters(DEFAULT_FILTERS, checker) if filters else (),
        )
        run_id = store.start_run({"bench": True}, "bench")
        begin = time.perf_counter()
        counters = pipeline.run(problems, run_id)
        wall = time.perf_counter() - begin
    return wall, counters, engine.judged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=64)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--vacuous-share", type=float, default=0.25)
    parser.add_argument("--lean-ms", type=float, default=20.0, help="fake Lean per request")
    parser.add_argument("--critic-ms", type=float, default=0.0, help="sleep per judgement")
    parser.add_argument("--workers", type=int, default=1, help="Lean workers")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    from formalize.lean import LeanChecker, LeanConfig
    from formalize.records import Problem

    every = round(1 / args.vacuous_share) if args.vacuous_share > 0 else 0
    problems = [
        Problem(f"p{k}", f"Problem {k}: show that x + 0 = {k} when x = {k}.")
        for k in range(args.problems)
    ]
    engine = StandIn(every, args.critic_ms)
    walls: dict[bool, list[float]] = {False: [], True: []}
    seen: dict[bool, tuple[Any, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = LeanConfig(
            repl_cmd=(
                PYTHON, str(FAKE), "--latency-ms", str(args.lean_ms), "--prove", json.dumps(RULES)
            ),
            lean_project=Path(tmp),
            workers=args.workers,
            toolchain="fake",
            sandbox_paths=(sys.base_prefix,),
        )  # fmt: skip
        with LeanChecker(config) as checker:
            checker.check(["theorem warm : True := by sorry"])  # start and import once
            for _ in range(args.repeat):  # interleaved: load drifts hit both alike
                for filters in (False, True):
                    wall, counters, judged = run(checker, engine, problems, args.samples, filters)
                    walls[filters].append(wall)
                    seen[filters] = (counters, judged)
    (off, judged_off), (on, judged_on) = seen[False], seen[True]
    compiled = on.compiled
    share = on.rejected_by_filters / compiled if compiled else 0.0
    results = {
        "problems": args.problems,
        "samples": args.samples,
        "compiled": compiled,
        "vacuous_share_of_compiled": share,
        "critic_judgements_without_filters": judged_off,
        "critic_judgements_with_filters": judged_on,
        "critic_calls_saved_per_problem": (judged_off - judged_on) / args.problems,
        "critic_calls_saved_counter": on.critic_calls_saved,
        "accepted_without_filters": off.accepted,
        "accepted_with_filters": on.accepted,
        "wall_s_without_filters": min(walls[False]),
        "wall_s_with_filters": min(walls[True]),
    }
    overhead = results["wall_s_with_filters"] - results["wall_s_without_filters"]
    results["filter_overhead_ms_per_problem"] = 1000 * overhead / args.problems
    results["wall_ratio_with_over_without"] = (
        results["wall_s_with_filters"] / results["wall_s_without_filters"]
    )
    print(
        f"{args.problems} problems x {args.samples} samples, {compiled} compiled, "
        f"{share:.0%} of them vacuous; 1 round; fake Lean {args.lean_ms:g} ms per request, "
        f"{args.workers} worker(s); critic {args.critic_ms:g} ms per judgement"
    )
    print(
        f"critic judgements: {judged_off} without filters, {judged_on} with "
        f"({results['critic_calls_saved_per_problem']:.2f} saved per problem; the pipeline's "
        f"counter says {on.critic_calls_saved}); accepted: {off.accepted} vs {on.accepted}"
    )
    print(
        f"wall: {results['wall_s_without_filters']:.2f} s without filters, "
        f"{results['wall_s_with_filters']:.2f} s with (best of {args.repeat}); "
        f"ratio {results['wall_ratio_with_over_without']:.2f}, "
        f"{results['filter_overhead_ms_per_problem']:+.1f} ms per problem"
    )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
