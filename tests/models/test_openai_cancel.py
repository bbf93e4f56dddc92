"""A run that stops cancels the openai engine's queued requests: those on the wire finish and
are kept (cached), the queued ones never reach the server."""

from __future__ import annotations

import threading
from typing import Any

from support.openai_server import ScriptedOpenAIServer

from formalize.cache import MemoryCache
from formalize.models import GenerationError, GenerationParams, load_engine


def sent(server: ScriptedOpenAIServer) -> list[str]:
    """The prompts the server was asked, in order."""
    return [r.body["messages"][-1]["content"] for r in server.completion_requests if r.body]


def test_cancel_pending_drops_queued_requests_and_keeps_the_finished_ones() -> None:
    on_wire = threading.Event()
    release = threading.Event()

    def slow_first(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        text = messages[-1]["content"]
        if text == "q0":
            on_wire.set()
            release.wait(60)
        return f"re: {text}"

    cache = MemoryCache()
    with ScriptedOpenAIServer(slow_first, model="m") as server:
        engine = load_engine(f"openai:m@{server.base_url}?concurrency=1&backoff=0.01", cache=cache)
        prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(5)]
        raised: list[BaseException] = []

        def generate() -> None:
            try:
                engine.generate(prompts, GenerationParams(temperature=0, seed=0))
            except BaseException as exc:
                raised.append(exc)

        thread = threading.Thread(target=generate)
        thread.start()
        assert on_wire.wait(60)
        engine.cancel_pending()  # q1..q4 wait behind q0 (one request at a time)
        release.set()
        thread.join(60)
        asked = sent(server)
        engine.close()
    (error,) = raised
    assert isinstance(error, GenerationError)
    assert sorted(error.failed) == [1, 2, 3, 4]
    assert all("cancelled" in reason for reason in error.failed.values())
    assert asked == ["q0"]
    assert error.partial[0] is not None and error.partial[0][0].text == "re: q0"

    # a later batch is not affected, and q0 comes from the cache
    with ScriptedOpenAIServer(slow_first, model="m") as server:
        engine = load_engine(f"openai:m@{server.base_url}", cache=cache)
        out = engine.generate(prompts[:2], GenerationParams(temperature=0, seed=0))
        assert [o[0].text for o in out] == ["re: q0", "re: q1"]
        assert sent(server) == ["q1"]
        engine.close()
