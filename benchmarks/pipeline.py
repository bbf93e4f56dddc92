"""The pipeline's own cost, and how busy it keeps the engine.

    python benchmarks/pipeline.py [--problems 48] [--samples 4] [--lean-ms 10] [--max-tokens 96]

Two measurements, side by side in one run:

1. **Overhead per problem**: an instant engine (answers at once with a valid statement or a
   critic verdict) and an instant checker (the real statement gate, then ``ok``), so all that
   is left is the pipeline's own work: prompts, extraction, scheduling, the SQLite writes.

2. **Engine utilisation**: a real engine (the tiny packaged model through ``hf``, generating
   real tokens on the CPU; its text is replaced by a valid statement or verdict so that every
   stage has work) and the real Lean pool against the fake REPL at ``--lean-ms`` per check.
   The same conversations are first sent straight to the engine in the same batches: that is
   the engine's raw time. Utilisation = raw engine time / pipeline wall time (1.0: the pipeline
   adds nothing to what the engine needs). Run with the stages overlapped (``max_in_flight``
   3) and, for comparison, strictly one chunk at a time (``max_in_flight`` 1).

On a CPU-only machine the engine shares the cores with the pipeline and the Lean driver; with
as many torch threads as cores, any other runnable thread stalls torch's parallel kernels and
the engine's own time doubles (measured on 2 cores). The engine therefore gets cores - 1
threads (``--torch-threads``), the CPU stand-in for a GPU engine that leaves the cores free.
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
sys.path.insert(0, str(REPO / "tests"))
FAKE = REPO / "tests" / "lean" / "fake_repl.py"
# The fake REPL runs in the Lean sandbox where bwrap works: the interpreter itself (a venv's
# `python` is a symlink into a venv the sandbox does not show) and its installation, read-only.
PYTHON = os.path.realpath(sys.executable)

MAX_TOKENS = 96  # set from --max-tokens
VERDICT = '{"reasons": "All parts match.", "is_assistant_correct": "Correct"}'


def answer_for(messages: list[dict[str, str]]) -> str:
    """A valid statement for translator prompts, a faithful verdict for critic prompts."""
    prompt = messages[-1]["content"]
    if "Lean4Code" in prompt or "is_assistant_correct" in prompt:
        return VERDICT
    tag = abs(hash(prompt)) % 10**8
    return f"```lean4\nimport Mathlib\ntheorem t (x : ℕ) (h : x = {tag}) : x + 0 = {tag} := by\n```"


@dataclass
class Timed:
    """Wraps an engine: rewrites answers (see ``answer_for``) and adds up the time in generate."""

    inner: Any
    busy: float = 0.0
    calls: int = 0

    def generate(self, conversations: list[Any], params: Any) -> list[list[Any]]:
        import dataclasses

        begin = time.perf_counter()
        outs = self.inner.generate(conversations, params) if self.inner is not None else None
        self.busy += time.perf_counter() - begin
        self.calls += 1
        from formalize.models import Completion

        result = []
        for i, conv in enumerate(conversations):
            text = answer_for(conv)
            if outs is None:
                result.append([Completion(text=text, finish_reason="stop")] * params.n)
            else:
                result.append([dataclasses.replace(c, text=text) for c in outs[i]])
        return result

    def describe(self) -> dict[str, Any]:
        return {"engine": "bench", "inner": None if self.inner is None else self.inner.spec}

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


class InstantChecker:
    """The real statement gate, then ``ok`` at once: Lean's cost taken out."""

    def check(self, statements: list[str], header: str | None = None) -> list[Any]:
        from formalize.lean.statement import check_statement
        from formalize.records import CheckResult, CheckStatus

        out = []
        for text in statements:
            report = check_statement(text)
            status = CheckStatus.OK if report.ok else CheckStatus.REJECTED
            out.append(CheckResult(status, (), 0.0, "instant", reason=report.reason))
        return out


def problems(n: int) -> list[Any]:
    from formalize.records import Problem

    return [Problem(f"p{k}", f"Problem {k}: show that x + 0 = {k} when x = {k}.") for k in range(n)]


def run_pipeline(
    engine: Any, checker: Any, probs: list[Any], samples: int, batch: int, in_flight: int
) -> tuple[float, Any]:
    from formalize.corpus import Store
    from formalize.critic import Critic
    from formalize.models import GenerationParams
    from formalize.pipeline import Pipeline
    from formalize.translate import Translator

    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        translator = Translator(
            engine, samples=samples, params=GenerationParams(max_tokens=MAX_TOKENS, temperature=0.0)
        )
        critic = Critic(engine, samples=1, params=GenerationParams(max_tokens=MAX_TOKENS))
        pipeline = Pipeline(
            translator,
            checker,  # type: ignore[arg-type]
            critic,
            store,
            rounds=1,
            batch_size=batch,
            max_in_flight=in_flight,
        )
        run_id = store.start_run({"bench": True}, "bench")
        begin = time.perf_counter()
        counters = pipeline.run(probs, run_id)
        wall = time.perf_counter() - begin
    assert counters.accepted == len(probs), counters
    return wall, translator


def raw_engine_time(engine: Any, probs: list[Any], samples: int, batch: int) -> float:
    """The same conversations in the same batches, straight to the engine."""
    from formalize.critic import Critic
    from formalize.models import GenerationParams
    from formalize.translate import TranslationRequest, Translator

    translator = Translator(
        engine, samples=samples, params=GenerationParams(max_tokens=MAX_TOKENS, temperature=0.0)
    )
    critic = Critic(engine, samples=1, params=GenerationParams(max_tokens=MAX_TOKENS))
    begin = engine.busy
    for start in range(0, len(probs), batch):
        chunk = probs[start : start + batch]
        candidates = translator.translate([TranslationRequest(p) for p in chunk])
        critic.judge([(p, cands[0].lean) for p, cands in zip(chunk, candidates, strict=True)])
    return engine.busy - begin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=48)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lean-ms", type=float, default=10.0)
    parser.add_argument("--max-tokens", type=int, default=96, help="tokens per completion")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="CPU threads for the engine (default: cores - 1, leaving one for the pipeline)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        metavar="MS",
        help="Python's GIL switch interval (default: Python's 5 ms; see the README)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.torch_threads)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    global MAX_TOKENS
    MAX_TOKENS = args.max_tokens
    probs = problems(args.problems)
    results: dict[str, Any] = {}

    # 1. overhead: nothing but the pipeline
    instant = Timed(None)
    wall, _ = run_pipeline(instant, InstantChecker(), probs, args.samples, args.batch, 3)
    results["overhead_ms_per_problem"] = 1000 * (wall - instant.busy) / len(probs)
    print(
        f"overhead: {results['overhead_ms_per_problem']:.2f} ms per problem "
        f"({args.problems} problems, {args.samples} samples, 1 round, SQLite store, gate)"
    )

    # 2. utilisation with a real engine and the real Lean pool
    from support.tiny_models import tinycoder_spec

    from formalize.lean import LeanChecker, LeanConfig
    from formalize.models import load_engine

    engine = Timed(load_engine(tinycoder_spec()))
    raw_engine_time(engine, probs[: args.batch], args.samples, args.batch)  # warm-up
    raws: list[float] = []
    walls: dict[int, list[tuple[float, float]]] = {1: [], 3: []}
    with tempfile.TemporaryDirectory() as tmp:
        config = LeanConfig(
            repl_cmd=(PYTHON, str(FAKE), "--latency-ms", str(args.lean_ms)),
            lean_project=Path(tmp),
            workers=1,
            toolchain="fake",
            sandbox_paths=(sys.base_prefix,),
        )
        with LeanChecker(config) as checker:
            checker.check(["theorem warm : True := by sorry"])  # start and import once
            for _ in range(args.repeat):  # interleaved, so drifts in load hit all three alike
                raws.append(raw_engine_time(engine, probs, args.samples, args.batch))
                for in_flight in (1, 3):
                    engine.busy = 0.0
                    wall, _ = run_pipeline(
                        engine, checker, probs, args.samples, args.batch, in_flight
                    )
                    walls[in_flight].append((wall, engine.busy))
    raw = min(raws)
    results["raw_engine_s"] = raw
    shown = ", ".join(f"{r:.2f}" for r in raws)
    print(f"engine alone (same conversations, same batches): {raw:.2f} s (best of {shown})")
    for in_flight in (1, 3):
        wall, busy = min(walls[in_flight])
        util = raw / wall
        results[f"utilisation_in_flight_{in_flight}"] = util
        results[f"wall_s_in_flight_{in_flight}"] = wall
        results[f"engine_busy_share_in_flight_{in_flight}"] = busy / wall
        print(
            f"pipeline, max_in_flight={in_flight}: {wall:.2f} s wall (best of {args.repeat}), "
            f"engine busy {busy:.2f} s ({busy / wall:.0%} of the wall time), "
            f"utilisation (raw engine time / wall) {util:.2f}"
        )
    switch_ms = sys.getswitchinterval() * 1000
    print(
        f"(Lean: fake REPL at {args.lean_ms:.0f} ms per check, 1 worker; engine: tinycoder, "
        f"{args.torch_threads} torch thread(s); switch interval {switch_ms:g} ms)"
    )
    engine.close()
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
