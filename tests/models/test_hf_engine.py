"""The hf engine generating for real with tiny offline models: tinycoder (GGUF Llama, no chat
template) and a random Qwen2 with the real Qwen3 tokenizer and chat template."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from support.tiny_models import ModelUnavailable, tiny_qwen_folder, tinycoder_spec

from formalize.cache import MemoryCache
from formalize.models import Engine, FinishReason, GenerationError, GenerationParams, load_engine

PROMPTS = [
    "def fibonacci(n):",
    "The theorem states that",
    "x",
    "import numpy as np\nimport torch\n\nclass Model:",
    "Once upon a time, in a land far away, there lived",
]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def texts(outputs: list[Any]) -> list[list[str]]:
    return [[c.text for c in row] for row in outputs]


@pytest.fixture(scope="module")
def tinycoder() -> Iterator[Engine]:
    try:
        spec = tinycoder_spec(batch_size=3)
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    engine = load_engine(spec)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def qwen() -> Iterator[Engine]:
    try:
        folder = tiny_qwen_folder()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    engine = load_engine(f"hf:{folder}?device=cpu&dtype=float32")
    yield engine
    engine.close()


# ----------------------------------------------------------------------------- tinycoder


def test_batched_greedy_equals_one_at_a_time_in_input_order(tinycoder: Engine) -> None:
    params = GenerationParams(max_tokens=12)
    batched = texts(tinycoder.generate([user(p) for p in PROMPTS], params))
    singles = [texts(tinycoder.generate([user(p)], params))[0] for p in PROMPTS]
    assert batched == singles
    assert len({row[0] for row in batched}) == len(PROMPTS)  # distinct: the order is visible


def test_lengths_and_token_counts(tinycoder: Engine) -> None:
    out = tinycoder.generate([user(p) for p in PROMPTS], GenerationParams(max_tokens=7))
    for prompt, (completion,) in zip(PROMPTS, out, strict=True):
        assert completion.finish_reason is FinishReason.LENGTH
        assert completion.completion_tokens == 7
        tokenizer: Any = tinycoder.tokenizer  # type: ignore[attr-defined]
        assert completion.prompt_tokens == len(tokenizer(prompt)["input_ids"])


def test_seeded_samples_repeat_whatever_the_batch(tinycoder: Engine) -> None:
    prompts = [user(p) for p in PROMPTS[:3]]
    params = GenerationParams(n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=11)
    first = texts(tinycoder.generate(prompts, params))
    assert all(len(set(row)) == 3 for row in first)  # three different samples each
    # Other order, other batch neighbours (batch_size=3 rows): the same samples.
    assert texts(tinycoder.generate(prompts[::-1], params))[::-1] == first
    assert texts(tinycoder.generate(prompts[1:2], params)) == first[1:2]
    other_seed = dataclasses.replace(params, seed=12)
    assert texts(tinycoder.generate(prompts[1:2], other_seed)) != first[1:2]


def test_unseeded_samples_differ_between_calls(tinycoder: Engine) -> None:
    params = GenerationParams(n=2, temperature=1.0, max_tokens=6)
    assert texts(tinycoder.generate([user("x")], params)) != texts(
        tinycoder.generate([user("x")], params)
    )


def test_greedy_n_gives_identical_samples(tinycoder: Engine) -> None:
    out = tinycoder.generate([user("x"), user("y")], GenerationParams(n=3, max_tokens=5))
    assert all(len(row) == 3 and len({c.text for c in row}) == 1 for row in out)


def test_stop_strings_end_their_row_only(tinycoder: Engine) -> None:
    params = GenerationParams(max_tokens=16)
    full = texts(tinycoder.generate([user(p) for p in PROMPTS], params))
    target = full[1][0]
    stop = target[len(target) // 2 : len(target) // 2 + 3]
    assert stop.strip(), target
    stopped = tinycoder.generate(
        [user(p) for p in PROMPTS], GenerationParams(max_tokens=16, stop=(stop,))
    )
    hit = stopped[1][0]
    assert hit.text == target[: target.index(stop)]
    assert hit.finish_reason is FinishReason.STOP
    assert hit.completion_tokens is not None and hit.completion_tokens < 16
    for i, row in enumerate(full):
        if stop not in row[0]:
            assert stopped[i][0].text == row[0]
            assert stopped[i][0].finish_reason is FinishReason.LENGTH


def test_cache_replay_makes_no_model_call(
    tinycoder: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tinycoder, "cache", MemoryCache())
    params = GenerationParams(n=2, temperature=0.7, max_tokens=6, seed=5)
    first = tinycoder.generate([user(p) for p in PROMPTS[:3]], params)
    model: Any = tinycoder._model  # type: ignore[attr-defined]
    rows: list[int] = []
    original = model.generate

    def counting(*args: Any, **kwargs: Any) -> Any:
        rows.append(int(kwargs["input_ids"].shape[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "generate", counting)
    replay = tinycoder.generate([user(p) for p in PROMPTS[:3]], params)
    assert replay == first and rows == []
    assert all(c.cached for row in replay for c in row)
    mixed = tinycoder.generate([user(p) for p in PROMPTS[:4]], params)
    assert rows == [2]  # one new conversation, two samples
    assert mixed[:3] == first and not mixed[3][0].cached


def test_provenance_names_the_engine_and_model(tinycoder: Engine) -> None:
    completion = tinycoder.generate([user("x")], GenerationParams(max_tokens=3))[0][0]
    assert completion.provenance["engine"] == "hf"
    assert completion.provenance["model"].endswith("tinycoder/models")
    assert completion.provenance["params"]["max_tokens"] == 3
    info = tinycoder.describe()
    assert info["options"]["gguf_file"] == "tiny.gguf"
    assert info["options"]["device"] == "cpu" and info["architecture"] == "LlamaForCausalLM"


# ----------------------------------------------------------------------------- chat template


CHATS = [
    user("What is 2 + 2?"),
    [{"role": "system", "content": "Answer briefly."}, *user("Name a prime number above 100.")],
    user("Hi"),
]


def test_chat_template_renders_the_prompt(qwen: Engine) -> None:
    tokenizer: Any = qwen.tokenizer  # type: ignore[attr-defined]
    out = qwen.generate(CHATS, GenerationParams(max_tokens=4))
    for chat, (completion,) in zip(CHATS, out, strict=True):
        ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        assert completion.prompt_tokens == len(
            tokenizer(ids, add_special_tokens=False)["input_ids"]
        )


def test_chat_greedy_matches_plain_transformers(qwen: Engine) -> None:
    """Left padding in a batch gives what a lone, unpadded transformers call gives."""
    import torch

    tokenizer: Any = qwen.tokenizer  # type: ignore[attr-defined]
    model: Any = qwen._model  # type: ignore[attr-defined]
    batched = texts(qwen.generate(CHATS, GenerationParams(max_tokens=8)))
    for chat, row in zip(CHATS, batched, strict=True):
        prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])
        with torch.inference_mode():
            out = model.generate(input_ids=ids, max_new_tokens=8, do_sample=False)
        reference = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        assert row[0] == reference
    assert len({row[0] for row in batched}) == len(CHATS)


def test_checkpoint_sampling_defaults_are_not_inherited(qwen: Engine) -> None:
    """The saved generation_config asks for sampling; greedy must stay greedy."""
    params = GenerationParams(max_tokens=8)
    assert texts(qwen.generate(CHATS, params)) == texts(qwen.generate(CHATS, params))


def test_chat_sampling_with_seeds(qwen: Engine) -> None:
    params = GenerationParams(n=2, temperature=0.9, max_tokens=6, seed=1)
    first = texts(qwen.generate(CHATS, params))
    assert texts(qwen.generate(CHATS[::-1], params))[::-1] == first
    assert all(len(set(row)) == 2 for row in first)


def test_a_profiles_system_prompt_reaches_the_model(qwen: Engine) -> None:
    folder = qwen.model
    kimina = load_engine(f"hf:{folder}?device=cpu&profile=kimina-autoformalizer")
    plain = qwen.generate([user("x")], GenerationParams(max_tokens=1))[0][0]
    with_system = kimina.generate([user("x")], GenerationParams(max_tokens=1))[0][0]
    tokenizer: Any = qwen.tokenizer  # type: ignore[attr-defined]
    system = "You are an expert in mathematics and Lean 4."
    assert plain.prompt_tokens is not None and with_system.prompt_tokens is not None
    extra = with_system.prompt_tokens - plain.prompt_tokens
    assert extra >= len(tokenizer(system, add_special_tokens=False)["input_ids"])
    kimina.close()


def test_a_prompt_longer_than_the_model_takes_fails_alone(qwen: Engine) -> None:
    too_long = user("lemma " * 1100)  # the tiny Qwen takes 1024 positions
    with pytest.raises(GenerationError, match="the model takes 1024") as info:
        qwen.generate([CHATS[0], too_long], GenerationParams(max_tokens=3))
    assert "1 of 2 conversations failed" in str(info.value)
    near = user("lemma " * 1010)  # fits, with room for fewer new tokens than asked
    out = qwen.generate([near], GenerationParams(max_tokens=50))
    completion = out[0][0]
    assert completion.prompt_tokens is not None and completion.completion_tokens is not None
    assert completion.prompt_tokens + completion.completion_tokens <= 1024
