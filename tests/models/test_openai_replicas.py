"""Several servers behind one openai engine (``openai:MODEL@URL1,URL2``): the server set's rules
with a fake clock and probe, then the engine against scripted servers that stop and come back."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest
from support.openai_server import ScriptedOpenAIServer

from formalize.cache import MemoryCache
from formalize.errors import InputError, SetupError
from formalize.models import GenerationError, GenerationParams, load_engine
from formalize.models.servers import Server, ServerSet
from formalize.models.spec import parse_spec, spec_without_url

FAST = "backoff=0.01&max_backoff=0.05"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def server_set(
    n: int, answers: dict[str, str | None] | None = None
) -> tuple[ServerSet, Clock, list[str]]:
    """``n`` servers a..; probes answer from ``answers`` (url -> problem, default None) and
    are logged."""
    clock, probed = Clock(), []
    answers = answers if answers is not None else {}

    def probe(url: str) -> str | None:
        probed.append(url)
        return answers.get(url)

    servers = [Server(chr(ord("a") + i)) for i in range(n)]
    return ServerSet(servers, probe=probe, backoff=1.0, max_backoff=4.0, clock=clock), clock, probed


def url(server: Server | None) -> str | None:
    return server.url if server else None


# ---------------------------------------------------------------- the rules


def test_least_outstanding_first_and_ties_in_turn() -> None:
    servers, _, _ = server_set(3)
    a, b, c = (servers.acquire() for _ in range(3))
    assert [url(a), url(b), url(c)] == ["a", "b", "c"]
    assert b is not None and c is not None
    servers.release(b)
    assert url(servers.acquire()) == "b"  # the only one with nothing outstanding
    servers.release(c)
    servers.release(b)
    # b and c tie at 0; the turn is after b, so c
    assert url(servers.acquire()) == "c"


def test_a_failed_server_is_skipped_then_probed_after_its_backoff() -> None:
    answers: dict[str, str | None] = {"b": "connection refused"}
    servers, clock, probed = server_set(2, answers)
    b = servers.servers[1]
    servers.failed(b, "connection refused")
    assert [url(servers.acquire()) for _ in range(3)] == ["a", "a", "a"]
    assert probed == []  # not before its back-off (1 s)
    clock.now = 1.0
    assert url(servers.acquire()) == "a" and probed == ["b"]  # probed, still refused
    clock.now = 2.5  # the back-off doubled to 2 s after the failed probe: not yet
    servers.acquire()
    assert probed == ["b"]
    answers["b"] = None  # it answers again
    clock.now = 3.0
    for server in list(servers.servers):
        while server.outstanding:
            servers.release(server)
    assert url(servers.acquire()) == "b" and probed == ["b", "b"]
    assert servers.down() == []


def test_backoff_is_capped_and_concurrent_failures_count_once() -> None:
    servers, clock, probed = server_set(1, {"a": "refused"})
    a = servers.servers[0]
    for _ in range(5):  # requests in flight when it went down
        servers.failed(a, "refused")
    assert a.down_until == 1.0 and a.failures == 1
    for now in (1.0, 3.0, 7.0, 11.0, 15.0):  # waits of 2, 4, then 4 (the cap)
        clock.now = now
        assert servers.acquire() is None
    assert probed == ["a"] * 5 and a.down_until == 19.0
    assert "a: refused" in servers.summary()


def test_a_server_that_just_failed_the_request_is_avoided_while_another_is_up() -> None:
    servers, _, _ = server_set(2)
    a = servers.servers[0]
    assert url(servers.acquire(avoid=[a])) == "b"
    assert url(servers.acquire(avoid=[a])) == "b"  # though b is busier
    assert url(servers.acquire(avoid=servers.servers)) in ("a", "b")  # none other: any


# ---------------------------------------------------------------- the spec


def test_a_spec_lists_several_servers() -> None:
    spec = parse_spec("openai:m@http://a:1/v1/, http://b:2/v1?concurrency=2")
    assert spec.base_urls == ("http://a:1/v1", "http://b:2/v1")
    assert spec.base_url == "http://a:1/v1" and spec.options == {"concurrency": "2"}
    assert spec_without_url(spec.text) == "openai:m?concurrency=2"
    assert parse_spec("openai:m@http://a:1/v1").base_urls == ("http://a:1/v1",)
    with pytest.raises(InputError, match="lists the server http://a:1/v1 twice"):
        parse_spec("openai:m@http://a:1/v1,http://a:1/v1/")


# ---------------------------------------------------------------- the engine


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def answer(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    return f"re: {messages[-1]['content']}"


def spec_for(*urls: str, options: str = "") -> str:
    query = "&".join(part for part in (FAST, "concurrency=1", options) if part)
    return f"openai:m@{','.join(urls)}?{query}"


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    return f"http://127.0.0.1:{port}/v1"


def texts(out: list[Any]) -> list[str]:
    return [row[0].text for row in out]


def test_requests_are_spread_over_both_servers() -> None:
    with (
        ScriptedOpenAIServer(answer, model="m") as one,
        ScriptedOpenAIServer(answer, model="m") as two,
    ):
        engine = load_engine(spec_for(one.base_url, two.base_url))
        prompts = [f"q{i}" for i in range(8)]
        out = engine.generate([user(p) for p in prompts], GenerationParams())
        assert texts(out) == [f"re: {p}" for p in prompts]  # input order kept
        counts = (len(one.completion_requests), len(two.completion_requests))
        assert min(counts) >= 1 and sum(counts) == 8
        assert engine.describe()["base_urls"] == [one.base_url, two.base_url]


def test_a_server_that_stops_is_skipped_and_used_again_when_it_comes_back() -> None:
    with (
        ScriptedOpenAIServer(answer, model="m") as one,
        ScriptedOpenAIServer(answer, model="m") as two,
    ):
        port, two_url = two.port, two.base_url
        engine = load_engine(spec_for(one.base_url, two.base_url))
        engine.generate([user(f"a{i}") for i in range(4)], GenerationParams())
        assert two.completion_requests, "the second server took no request before it stopped"
        two.stop()
        before = len(one.completion_requests)
        out = engine.generate([user(f"b{i}") for i in range(6)], GenerationParams())
        assert texts(out) == [f"re: b{i}" for i in range(6)]
        assert len(one.completion_requests) == before + 6  # every one answered by the first
        assert [s.url for s in engine.servers.down()] == [two_url]
        with ScriptedOpenAIServer(answer, model="m", port=port) as back:
            time.sleep(0.06)  # past the longest back-off (max_backoff=0.05): the next probe
            out = engine.generate([user(f"c{i}") for i in range(4)], GenerationParams())
            assert texts(out) == [f"re: c{i}" for i in range(4)]
            assert back.completion_requests, "the server that came back was not used again"
            assert engine.servers.down() == []


def test_every_server_down_mid_run_is_a_generation_error_naming_them() -> None:
    with (
        ScriptedOpenAIServer(answer, model="m") as one,
        ScriptedOpenAIServer(answer, model="m") as two,
    ):
        urls = (one.base_url, two.base_url)
        engine = load_engine(spec_for(*urls, options="retries=1"))
        engine.generate([user("x")], GenerationParams())
        one.stop()
        two.stop()
        with pytest.raises(GenerationError, match="no server answers") as info:
            engine.generate([user("y"), user("z")], GenerationParams())
        assert all(u in str(info.value) for u in urls) and "refused" in str(info.value)


def test_the_cache_key_does_not_depend_on_the_servers() -> None:
    cache = MemoryCache()
    with (
        ScriptedOpenAIServer(answer, model="m") as one,
        ScriptedOpenAIServer(answer, model="m") as two,
        ScriptedOpenAIServer(answer, model="m") as three,
    ):
        params = GenerationParams(n=2, temperature=0.7, seed=1)
        first = load_engine(spec_for(one.base_url, two.base_url), cache=cache)
        out = first.generate([user("a"), user("b")], params)
        again = load_engine(spec_for(three.base_url), cache=cache).generate(
            [user("b"), user("a")], params
        )
        assert again == out[::-1] and three.completion_requests == []
        other = load_engine(spec_for(three.base_url, options="revision=v2"), cache=cache)
        other.generate([user("a")], params)
        assert len(three.completion_requests) == 1  # other weights: not replayed


def test_start_up_needs_one_server_and_warns_about_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from formalize.preflight import engine_missing

    dead = dead_url()
    with ScriptedOpenAIServer(answer, model="m") as one:
        spec = spec_for(dead, one.base_url)
        with caplog.at_level(logging.WARNING):
            assert engine_missing(spec, "translator") == []
            engine = load_engine(spec)
        assert f"{dead} failed" in caplog.text and "skipping it" in caplog.text
        assert [s.url for s in engine.servers.down()] == [dead]
        out = engine.generate([user(f"q{i}") for i in range(3)], GenerationParams())
        assert texts(out) == ["re: q0", "re: q1", "re: q2"]
        assert len(one.completion_requests) == 3


def test_no_server_answering_is_a_clear_error() -> None:
    from formalize.preflight import engine_missing

    dead, other = dead_url(), dead_url()
    spec = spec_for(dead, other)
    (missing,) = engine_missing(spec, "translator")
    assert f"no server answers at {dead}" in missing.problem
    assert f"no server answers at {other}" in missing.problem
    with pytest.raises(SetupError, match="no OpenAI-compatible server answers at any of the 2"):
        load_engine(spec)
