"""The openai engine against a scripted OpenAI-compatible server on 127.0.0.1: requests, order,
bounded concurrency, retries on 429/5xx/timeouts/broken bodies, ``n`` native or emulated."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.openai_server import Reply, ScriptedOpenAIServer

from formalize.cache import MemoryCache
from formalize.errors import SetupError
from formalize.models import Engine, FinishReason, GenerationError, GenerationParams, load_engine

FAST = "backoff=0.01&max_backoff=0.05"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def answer(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    return f"re: {messages[-1]['content']} #{params['index']}"


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(answer, model="critic") as running:
        yield running


def engine_for(server: ScriptedOpenAIServer, options: str = "", **kwargs: Any) -> Engine:
    query = "&".join(part for part in (FAST, options) if part)
    return load_engine(f"openai:{server.model}@{server.base_url}?{query}", **kwargs)


def test_chat_request_carries_messages_and_parameters(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server, "profile=kimina-autoformalizer")
    params = GenerationParams(temperature=0.6, top_p=0.95, max_tokens=40, stop=("QED",), seed=3)
    out = engine.generate([user("Prove it.")], params)
    assert out[0][0].text == "re: Prove it. #0"
    assert out[0][0].finish_reason is FinishReason.STOP
    (request,) = server.completion_requests
    body = request.body or {}
    assert request.path == "/v1/chat/completions"
    assert body["messages"] == [
        {"role": "system", "content": "You are an expert in mathematics and Lean 4."},
        {"role": "user", "content": "Prove it."},
    ]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.6, 0.95, 40)
    assert body["stop"] == ["QED"] and isinstance(body["seed"], int) and "n" not in body
    assert request.headers["authorization"] == "Bearer EMPTY"
    assert out[0][0].prompt_tokens == 11 and out[0][0].completion_tokens == 4  # words here


def test_api_key_comes_from_the_environment(
    server: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "fallback")
    monkeypatch.setenv("FORMALIZE_OPENAI_API_KEY", "sk-test")
    engine_for(server).generate([user("x")], GenerationParams())
    monkeypatch.setenv("MY_KEY", "mine")
    engine_for(server, "api_key_env=MY_KEY").generate([user("y")], GenerationParams())
    keys = [r.headers["authorization"] for r in server.completion_requests]
    assert keys == ["Bearer sk-test", "Bearer mine"]
    with pytest.raises(SetupError, match="NOT_SET"):
        engine_for(server, "api_key_env=NOT_SET")


def test_order_is_kept_and_concurrency_is_bounded() -> None:
    rng = random.Random(0)

    def slow_answer(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        time.sleep(rng.uniform(0.0, 0.05))  # answers finish out of order
        return messages[-1]["content"].upper()

    with ScriptedOpenAIServer(slow_answer, model="m") as server:
        engine = engine_for(server, "concurrency=3")
        prompts = [f"p{i}" for i in range(12)]
        out = engine.generate([user(p) for p in prompts], GenerationParams())
        assert [row[0].text for row in out] == [p.upper() for p in prompts]
        assert 1 < server.in_flight_max <= 3


def test_429_is_retried_after_retry_after(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server, "max_backoff=1")
    server.inject("status", status=429, retry_after=0.3)
    started = time.monotonic()
    out = engine.generate([user("x")], GenerationParams())
    assert time.monotonic() - started >= 0.3
    assert out[0][0].text == "re: x #0"
    assert [r.status for r in server.completion_requests] == [429, 200]


def test_500_until_retries_run_out_is_a_clear_error(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server, "retries=2")
    server.inject("status", status=500, times=3, message="model crashed")
    with pytest.raises(GenerationError) as info:
        engine.generate([user("x")], GenerationParams())
    message = str(info.value)
    assert "model crashed" in message and "gave up after 3 attempts" in message
    assert [r.status for r in server.completion_requests] == [500, 500, 500]


def test_client_errors_are_not_retried(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server)
    server.inject("status", status=422, message="prompt too long")
    with pytest.raises(GenerationError, match="prompt too long"):
        engine.generate([user("x")], GenerationParams())
    assert len(server.completion_requests) == 1


@pytest.mark.parametrize("fault", ["truncate", "malformed", "disconnect"])
def test_broken_responses_are_retried(server: ScriptedOpenAIServer, fault: str) -> None:
    engine = engine_for(server)
    server.inject(fault)
    out = engine.generate([user("x")], GenerationParams())
    assert out[0][0].text == "re: x #0"
    assert [r.fault for r in server.completion_requests] == [fault, None]


def test_timeouts_are_retried_then_reported(server: ScriptedOpenAIServer) -> None:
    # the timeout is long enough for an answer on a loaded machine; a slow answer comes only
    # after the test has moved on (its handler sleeps on in a daemon thread), so an engine that
    # waited for it would get it and send no retry
    engine = engine_for(server, "timeout=2&retries=1")
    server.inject("slow", delay=30.0)
    assert engine.generate([user("x")], GenerationParams())[0][0].text == "re: x #0"
    slow, retried = server.completion_requests
    assert (slow.fault, retried.fault, retried.status) == ("slow", None, 200)
    assert slow.finished is None  # the timeout cut the wait short: the slow answer never came
    server.inject("slow", delay=30.0)
    with pytest.raises(GenerationError, match=r"no response within 2 s"):
        engine_for(server, "timeout=2&retries=0").generate([user("y")], GenerationParams())


def test_native_n_is_one_request_per_conversation(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server)
    out = engine.generate([user("a"), user("b")], GenerationParams(n=3, temperature=1.0))
    assert [[c.text for c in row] for row in out] == [
        ["re: a #0", "re: a #1", "re: a #2"],
        ["re: b #0", "re: b #1", "re: b #2"],
    ]
    assert [(r.body or {}).get("n") for r in server.completion_requests] == [3, 3]
    assert out[0][0].completion_tokens is None  # the server reports totals only


@pytest.mark.parametrize("n_mode", ["ignore", "reject"])
def test_n_is_emulated_where_the_server_does_not_honour_it(n_mode: str) -> None:
    with ScriptedOpenAIServer(answer, model="m", n_mode=n_mode) as server:
        engine = engine_for(server)
        params = GenerationParams(n=3, temperature=1.0, seed=7)
        out = engine.generate([user("a"), user("b")], params)
        assert [len(row) for row in out] == [3, 3]
        assert all(row[0].text.startswith("re: a") for row in out[:1])
        seeds = [(r.body or {}).get("seed") for r in server.completion_requests]
        assert len(set(seeds)) == 6  # one seed per sample (the probe repeats the first)
        probe = 1 if n_mode == "reject" else 0
        assert len(server.completion_requests) == 6 + probe
        assert engine.describe()["n_native"] is False
        before = len(server.completion_requests)
        engine.generate([user("c")], params)  # no more probing once known
        assert len(server.completion_requests) == before + 3
        assert all("n" not in (r.body or {}) for r in server.completion_requests[before:])


def test_emulate_option_never_sends_n(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server, "n=emulate")
    out = engine.generate([user("a")], GenerationParams(n=2, temperature=1.0))
    assert len(out[0]) == 2 and len(server.completion_requests) == 2
    assert all("n" not in (r.body or {}) for r in server.completion_requests)


def test_completions_api_sends_a_plain_prompt(server: ScriptedOpenAIServer) -> None:
    engine = engine_for(server, "api=completions")
    out = engine.generate(
        [[{"role": "system", "content": "S"}, *user("U")]], GenerationParams(max_tokens=2)
    )
    (request,) = server.completion_requests
    assert request.path == "/v1/completions" and (request.body or {})["prompt"] == "S\n\nU"
    assert out[0][0].text == "re: S" and out[0][0].finish_reason is FinishReason.LENGTH


def test_reasoning_from_the_server_or_the_text() -> None:
    script = [Reply("Correct.", reasoning="server-side thoughts"), "<think>mine</think>Wrong."]
    with ScriptedOpenAIServer(script=script, model="critic") as server:
        engine = engine_for(server, "profile=criticleangpt-qwen3")
        out = engine.generate([user("a"), user("b")], GenerationParams())
        body = server.completion_requests[0].body or {}
        assert body["chat_template_kwargs"] == {"enable_thinking": True}
    pairs = sorted((row[0].text, row[0].reasoning) for row in out)
    assert pairs == [("Correct.", "server-side thoughts"), ("Wrong.", "mine")]


def test_cache_replays_without_requests(server: ScriptedOpenAIServer) -> None:
    cache = MemoryCache()
    params = GenerationParams(n=2, temperature=0.7)
    first = engine_for(server, cache=cache).generate([user("a"), user("b")], params)
    again = engine_for(server, cache=cache).generate([user("b"), user("a")], params)
    assert again == first[::-1] and len(server.completion_requests) == 2


def test_one_failing_conversation_does_not_lose_the_others(server: ScriptedOpenAIServer) -> None:
    broken = {"bad"}

    def flaky(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        if messages[-1]["content"] in broken:
            raise RuntimeError("cannot answer this one")
        return "ok"

    server.responder = flaky
    cache = MemoryCache()
    engine = engine_for(server, "retries=1", cache=cache)
    with pytest.raises(GenerationError, match="1 of 3 conversations failed"):
        engine.generate([user("a"), user("bad"), user("c")], GenerationParams())
    broken.clear()
    before = len(server.completion_requests)
    out = engine.generate([user("a"), user("bad"), user("c")], GenerationParams())
    assert [row[0].text for row in out] == ["ok", "ok", "ok"]
    assert len(server.completion_requests) == before + 1


def test_unknown_model_is_a_setup_error_listing_served_models(
    server: ScriptedOpenAIServer,
) -> None:
    with pytest.raises(SetupError, match="it serves: critic"):
        load_engine(f"openai:other@{server.base_url}")
    engine = load_engine(f"openai:other@{server.base_url}?check=false&{FAST}")
    with pytest.raises(SetupError, match="does not exist"):
        engine.generate([user("x")], GenerationParams())


def test_no_server_is_a_setup_error_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    tried: list[object] = []  # at once: one attempt, no retry (counted, not timed)
    connect = socket.socket.connect

    def counted(self: socket.socket, address: Any) -> None:
        tried.append(address)
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    with pytest.raises(SetupError, match="no OpenAI-compatible server answers"):
        load_engine(f"openai:m@http://127.0.0.1:{port}/v1")
    assert [a for a in tried if a[1] == port] == [("127.0.0.1", port)]
