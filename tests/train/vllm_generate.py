"""Load a checkpoint with the vllm engine and print one greedy answer as JSON (last line).

vLLM spawns worker processes, so this runs as its own script with a ``__main__`` guard.
Usage: python vllm_generate.py MODEL_FOLDER
"""

from __future__ import annotations

import json
import sys


def main(folder: str) -> list[list[str]]:
    from formalize.models import GenerationParams, load_engine

    spec = f"vllm:{folder}?dtype=float32&max_model_len=512&enforce_eager=true&kv_cache_gb=1"
    engine = load_engine(spec)
    try:
        chats = [[{"role": "user", "content": "Is x + 0 = x?"}]]
        outputs = engine.generate(chats, GenerationParams(max_tokens=8))
    finally:
        engine.close()
    return [[c.text for c in row] for row in outputs]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
