"""Text-generation engines behind one small interface (transformers, vLLM, OpenAI-compatible).

    from formalize.models import load_engine, GenerationParams
    engine = load_engine("hf:./tiny-model?dtype=float32&device=cpu", cache=store.cache)
    outputs = engine.generate([[{"role": "user", "content": "..."}]], GenerationParams(n=2))
    outputs[0][1].text, outputs[0][1].finish_reason, outputs[0][1].provenance
    engine.close()

Specs: ``hf:PATH_OR_ID[?gguf_file=&dtype=&device=&batch_size=&revision=]``,
``vllm:PATH_OR_ID[?tp=&dp=&max_model_len=&gpu_memory_utilization=&dtype=...]``,
``openai:MODEL@BASE_URL[?api=chat|completions&n=auto|native|emulate&concurrency=&timeout=...]``;
any of them takes ``profile=NAME`` (see ``formalize.models.profiles``). Importing this package
imports neither torch nor vLLM nor openai; building an engine does.
"""

from formalize.models.base import (
    Completion,
    Engine,
    EngineSpec,
    EngineStats,
    FinishReason,
    GenerationError,
    GenerationParams,
    generate_tolerantly,
)
from formalize.models.profiles import ModelProfile, get_profile, profile_for, register_profile
from formalize.models.spec import engine_names, load_engine, parse_spec, register_engine

__all__ = [
    "Completion",
    "Engine",
    "EngineSpec",
    "EngineStats",
    "FinishReason",
    "GenerationError",
    "GenerationParams",
    "ModelProfile",
    "engine_names",
    "generate_tolerantly",
    "get_profile",
    "load_engine",
    "parse_spec",
    "profile_for",
    "register_engine",
    "register_profile",
]
