"""Run the vllm engine once on SmolLM2 and print what it generated as JSON (last stdout line).

vLLM spawns worker processes, so this runs as its own script with a ``__main__`` guard; the slow
test in ``test_vllm_engine.py`` starts it and checks the JSON.
Usage: python vllm_offline_run.py MODEL_FOLDER [dp2]  (dp2: two replica processes)
"""

from __future__ import annotations

import json
import sys
import time


def main(folder: str) -> dict[str, object]:
    from formalize.cache import MemoryCache
    from formalize.models import Completion, GenerationParams, load_engine

    cache = MemoryCache()
    started = time.monotonic()
    spec = f"vllm:{folder}?dtype=bfloat16&max_model_len=1024&enforce_eager=true&kv_cache_gb=1"
    engine = load_engine(spec, cache=cache)
    load_s = time.monotonic() - started
    chats = [
        [{"role": "user", "content": "What is 2 + 2?"}],
        [{"role": "user", "content": "Name a colour."}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}],
    ]

    def dump(outputs: list[list[Completion]]) -> list[list[dict[str, object]]]:
        return [[c.to_dict() for c in row] for row in outputs]

    greedy = engine.generate(chats, GenerationParams(max_tokens=16))
    sampled = GenerationParams(n=2, temperature=0.8, max_tokens=12, seed=1)
    samples = engine.generate(chats, sampled)
    engine.cache = None  # generate the same batch again, no cache: the seeds give the same
    samples_again = engine.generate(chats, sampled)
    engine.cache = cache
    replay = engine.generate(chats, GenerationParams(max_tokens=16))
    stop_word = greedy[0][0].text.split()[2] if len(greedy[0][0].text.split()) > 2 else "."
    stopped = engine.generate(chats[:1], GenerationParams(max_tokens=16, stop=(stop_word,)))
    too_long = [{"role": "user", "content": "word " * 1200}]
    try:
        engine.generate([too_long], GenerationParams(max_tokens=4))
        long_error = ""
    except Exception as exc:
        long_error = f"{type(exc).__name__}: {exc}"
    info = engine.describe()
    engine.close()
    return {
        "load_s": load_s,
        "describe": info,
        "greedy": dump(greedy),
        "samples": dump(samples),
        "samples_again": dump(samples_again),
        "replay": dump(replay),
        "stop_word": stop_word,
        "stopped": dump(stopped),
        "long_error": long_error,
        "stats": vars(engine.stats),
    }


def data_parallel(folder: str) -> dict[str, object]:
    """Two replicas: the same question at positions 0 and 3 lands on both of them."""
    import os

    from formalize.models import GenerationParams, load_engine

    spec = f"vllm:{folder}?dtype=bfloat16&max_model_len=1024&enforce_eager=true&kv_cache_gb=1&dp=2"
    engine = load_engine(spec)
    question = [{"role": "user", "content": "What is 2 + 2?"}]
    chats = [
        question,
        *([{"role": "user", "content": f"Say the word {w}."}] for w in "ab"),
        question,
    ]
    outputs = engine.generate(chats, GenerationParams(max_tokens=16))
    info = engine.describe()
    engine.close()
    return {
        "texts": [[c.text for c in row] for row in outputs],
        "replica_pids": info["replica_pids"],
        "pid": os.getpid(),
    }


if __name__ == "__main__":
    run = data_parallel if sys.argv[2:] == ["dp2"] else main
    print(json.dumps(run(sys.argv[1]), default=str))
