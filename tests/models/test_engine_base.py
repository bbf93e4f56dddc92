"""What every engine gets from the base class: input checks, order, the per-conversation cache,
greedy ``n``, stop strings, reasoning sections, provenance and failures (with a fake backend)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from formalize.cache import MemoryCache
from formalize.errors import InputError
from formalize.models import (
    Completion,
    Engine,
    FinishReason,
    GenerationError,
    GenerationParams,
    load_engine,
    register_engine,
)
from formalize.models.base import Failure, RawCompletion, sample_seed
from formalize.models.spec import _ENGINES


class FakeEngine(Engine):
    """Answers ``<last message> #<sample> @<seed>``; content ``FAIL`` fails."""

    name = "fake"
    OPTIONS: ClassVar[dict[str, tuple[Any, Any, str]]] = {"flavour": (str, "plain", "")}
    KEY_OPTIONS = ("flavour",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.backend_calls: list[tuple[list[list[dict[str, str]]], GenerationParams]] = []
        self.fail = {"FAIL"}

    def _generate(self, conversations: Any, params: GenerationParams) -> Any:
        self.backend_calls.append((conversations, params))
        out: list[Any] = []
        for messages in conversations:
            last = messages[-1]["content"]
            if last in self.fail:
                out.append(Failure("scripted failure"))
                continue
            key = self.conversation_key(messages)
            out.append(
                [
                    RawCompletion(
                        f"{last} #{s} @{sample_seed(params.seed, key, s) if params.seed else '-'}",
                        FinishReason.STOP,
                        len(messages),
                        3,
                    )
                    for s in range(params.n)
                ]
            )
        return out


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("formalize.models.spec._ENGINES", dict(_ENGINES))
    register_engine("fake", FakeEngine)
    yield


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def fake(spec: str = "fake:m", cache: MemoryCache | None = None) -> FakeEngine:
    engine = load_engine(spec, cache=cache)
    assert isinstance(engine, FakeEngine)
    return engine


def test_order_and_n_are_kept() -> None:
    engine = fake()
    out = engine.generate([user("a"), user("b"), user("c")], GenerationParams(n=2, temperature=1))
    assert [[c.text.split(" @")[0] for c in row] for row in out] == [
        ["a #0", "a #1"],
        ["b #0", "b #1"],
        ["c #0", "c #1"],
    ]


def test_greedy_n_generates_once_and_repeats() -> None:
    engine = fake()
    out = engine.generate([user("a")], GenerationParams(n=3))
    assert engine.backend_calls[0][1].n == 1
    assert [c.text for c in out[0]] == ["a #0 @-"] * 3


def test_cache_replays_and_generates_only_missing_conversations() -> None:
    cache = MemoryCache()
    engine = fake(cache=cache)
    params = GenerationParams(n=2, temperature=0.8, seed=3)
    first = engine.generate([user("a"), user("b")], params)
    assert len(cache) == 2
    again = engine.generate([user("c"), user("b"), user("a")], params)
    assert len(engine.backend_calls) == 2
    assert engine.backend_calls[1][0] == [user("c")]  # only the new conversation
    assert again[1] == first[1] and again[2] == first[0]
    assert all(c.cached for c in again[1] + again[2]) and not any(c.cached for c in again[0])
    assert engine.stats.cache_hits == 2 and engine.stats.generated == 3

    other = fake(cache=cache)  # a new engine over the same cache: a rerun
    replay = other.generate([user("a"), user("b")], params)
    assert replay == first and other.backend_calls == []


def test_cache_keys_depend_on_what_decides_the_output() -> None:
    cache = MemoryCache()
    engine = fake(cache=cache)
    engine.generate([user("a")], GenerationParams())
    engine.generate([user("a")], GenerationParams(seed=5))  # greedy: the seed changes nothing
    assert len(engine.backend_calls) == 1
    engine.generate([user("a")], GenerationParams(temperature=1.0, seed=5))
    engine.generate([user("a")], GenerationParams(temperature=1.0, seed=6))
    engine.generate([user("a")], GenerationParams(max_tokens=7))
    engine.generate([[{"role": "system", "content": "s"}, *user("a")]], GenerationParams())
    assert len(engine.backend_calls) == 5
    fake("fake:m?flavour=spicy", cache=cache).generate([user("a")], GenerationParams())
    fake("fake:other", cache=cache).generate([user("a")], GenerationParams())
    assert len(cache) == 7


def test_unseeded_samples_are_cached_too() -> None:
    cache = MemoryCache()
    params = GenerationParams(n=2, temperature=1.0)
    first = fake(cache=cache).generate([user("a")], params)
    rerun = fake(cache=cache)
    assert rerun.generate([user("a")], params) == first and rerun.backend_calls == []


def test_stop_strings_cut_the_text_and_set_the_finish_reason() -> None:
    engine = fake()
    out = engine.generate([user("alpha beta")], GenerationParams(stop=(" be", "zzz")))
    assert out[0][0].text == "alpha"
    assert out[0][0].finish_reason is FinishReason.STOP
    assert out[0][0].finish_reason == "stop"


def test_reasoning_is_split_by_the_profile() -> None:
    engine = fake("fake:m?profile=qwen3")
    out = engine.generate([user("<think>why</think>because")], GenerationParams())
    assert (out[0][0].text, out[0][0].reasoning) == ("because #0 @-", "why")


def test_provenance_and_describe() -> None:
    engine = fake("fake:org/Kimina-Autoformalizer-7B?flavour=x")
    params = GenerationParams(max_tokens=9)
    completion = engine.generate([user("a")], params)[0][0]
    assert completion.provenance == {
        "engine": "fake",
        "spec": "fake:org/Kimina-Autoformalizer-7B?flavour=x",
        "model": "org/Kimina-Autoformalizer-7B",
        "revision": None,
        "profile": "kimina-autoformalizer",
        "params": params.to_dict(),
    }
    # the profile's system prompt went to the backend
    assert engine.backend_calls[0][0][0][0]["role"] == "system"
    info = engine.describe()
    assert info["engine"] == "fake" and info["options"] == {"flavour": "x"}


def test_failures_raise_after_caching_the_rest() -> None:
    cache = MemoryCache()
    engine = fake(cache=cache)
    with pytest.raises(GenerationError, match="1 of 3 conversations failed") as info:
        engine.generate([user("a"), user("FAIL"), user("b")], GenerationParams())
    assert "conversation 1: scripted failure" in str(info.value)
    assert "a rerun only retries these" in str(info.value)
    engine.fail = set()
    out = engine.generate([user("a"), user("FAIL"), user("b")], GenerationParams())
    assert engine.backend_calls[-1][0] == [user("FAIL")]
    assert [c[0].cached for c in out] == [True, False, True]


@pytest.mark.parametrize(
    "conversations",
    [
        "a string",
        [[]],
        [user("x"), {"role": "user", "content": "not in a list"}],
        [[{"role": "robot", "content": "x"}]],
        [[{"role": "user", "content": 3}]],
    ],
)
def test_bad_conversations_are_input_errors(conversations: Any) -> None:
    with pytest.raises(InputError):
        fake().generate(conversations, GenerationParams())


def test_closed_engines_refuse_work() -> None:
    with fake() as engine:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        engine.generate([user("a")], GenerationParams())


def test_unreadable_cache_entries_are_regenerated() -> None:
    cache = MemoryCache()
    engine = fake(cache=cache)
    engine.generate([user("a")], GenerationParams())
    for key in list(cache._data):
        cache.put(key, "{not json")
    out = engine.generate([user("a")], GenerationParams())
    assert len(engine.backend_calls) == 2 and not out[0][0].cached
    assert json.loads(next(iter(cache._data.values())))[0]["text"] == "a #0 @-"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"temperature": -1},
        {"top_p": 0},
        {"top_p": 1.5},
        {"max_tokens": 0},
        {"stop": ("",)},
    ],
)
def test_generation_params_are_checked(kwargs: Mapping[str, Any]) -> None:
    with pytest.raises(ValueError):
        GenerationParams(**kwargs)


def test_generation_params_and_completions_round_trip() -> None:
    params = GenerationParams(n=2, temperature=0.5, stop="END", seed=1)  # type: ignore[arg-type]
    assert params.stop == ("END",)
    assert GenerationParams.from_json(params.to_json()) == params
    completion = Completion("t", FinishReason.LENGTH, 3, 4, "r", {"engine": "x"})
    assert Completion.from_json(completion.to_json()) == completion
    assert FinishReason.parse("max_tokens") is FinishReason.LENGTH
    assert FinishReason.parse("tool_calls") is FinishReason.OTHER
    assert FinishReason.parse(None) is FinishReason.STOP


def test_sample_seeds_depend_on_seed_conversation_and_index_only() -> None:
    assert sample_seed(1, "k", 0) == sample_seed(1, "k", 0)
    assert len({sample_seed(1, "k", 0), sample_seed(2, "k", 0), sample_seed(1, "j", 0)}) == 3
    assert sample_seed(1, "k", 0) != sample_seed(1, "k", 1)
    assert 0 <= sample_seed(None, "k", 0) < 2**63
