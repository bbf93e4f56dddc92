"""A scripted OpenAI-compatible HTTP server for tests: it plays any model you script.

    from tests.support.openai_server import ScriptedOpenAIServer, Reply

    def responder(messages, params):            # called once per choice
        return "faithful" if "x + 1" in messages[-1]["content"] else "unfaithful"

    with ScriptedOpenAIServer(responder, model="critic") as server:
        server.inject("status", status=429, retry_after=0.01)   # the next request gets a 429
        engine = load_engine(f"openai:critic@{server.base_url}?backoff=0.01")
        ...
        assert server.requests[-1].body["messages"][0]["role"] == "system"

It listens on 127.0.0.1 on an ephemeral port (or ``port``, e.g. to bring a stopped server
back where it was), in a daemon thread, and answers
``POST /v1/chat/completions``, ``POST /v1/completions`` and ``GET /v1/models`` the way vLLM does:
``n`` choices (or, with ``n_mode``, one choice only / a 400 for ``n`` > 1, as some servers do),
``stop`` strings cut and reported as ``finish_reason="stop"``, ``max_tokens`` counted in
whitespace-separated words (``finish_reason="length"``), ``usage`` in the same words.

Answers come from ``responder(messages, params) -> str | Reply`` (``params`` is the request body
plus ``index``, the choice number, and ``endpoint``; a completions request arrives as one user
message holding the prompt) or from a ``script`` list consumed in order (a 500 once exhausted).
``inject`` queues faults for the next requests: ``status`` (an HTTP error, with an optional
Retry-After), ``slow`` (answer after ``delay`` seconds), ``truncate`` (headers promise the whole
body, half is sent, then the connection closes), ``disconnect`` (close without answering),
``malformed`` (200 with a body that is not JSON). Every request is logged in ``requests``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("status", "slow", "truncate", "disconnect", "malformed")


@dataclass(frozen=True)
class Reply:
    """A scripted answer; ``finish_reason`` None means "stop" unless stop/max_tokens cut it."""

    text: str
    finish_reason: str | None = None
    reasoning: str | None = None


@dataclass(frozen=True)
class Fault:
    """A fault to inject into one request (see the module docstring)."""

    kind: str
    status: int = 500
    delay: float = 0.0
    retry_after: float | None = None
    message: str = "injected fault"
    path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {FAULTS}")


@dataclass
class LoggedRequest:
    """One request the server received and what it did with it."""

    method: str
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    fault: str | None = None
    status: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


Responder = Callable[[list[dict[str, Any]], dict[str, Any]], "str | Reply"]


def echo_responder(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """The default answer: ``echo: <last message>``."""
    return f"echo: {messages[-1]['content']}"


class ScriptedOpenAIServer:
    """An OpenAI-compatible server answering from a responder or a script (see module doc)."""

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        script: Sequence[str | Reply] | None = None,
        model: str = "test-model",
        n_mode: str = "native",
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        if responder is not None and script is not None:
            raise ValueError("give a responder or a script, not both")
        if n_mode not in ("native", "ignore", "reject"):
            raise ValueError("n_mode is native, ignore (one choice only) or reject (400)")
        self.responder: Responder = responder or echo_responder
        self.script = deque(script) if script is not None else None
        self.model = model
        self.n_mode = n_mode
        self.latency = latency
        self._port = port
        self.requests: list[LoggedRequest] = []
        self.in_flight_max = 0
        self._in_flight = 0
        self._faults: deque[Fault] = deque()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedOpenAIServer:
        """Start listening on 127.0.0.1 (ephemeral port) in a daemon thread."""
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = _QuietServer(("127.0.0.1", self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and drop its open connections, as a killed server would (waits for
        the accept loop, not for slow handlers)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what an OpenAI client takes as base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ scripting

    def inject(self, kind: str, *, times: int = 1, **fields: Any) -> None:
        """Queue ``times`` faults of ``kind`` for the next requests (FIFO; ``path`` to target
        one endpoint, e.g. ``"/v1/chat/completions"``)."""
        with self._lock:
            self._faults.extend(Fault(kind, **fields) for _ in range(times))

    @property
    def completion_requests(self) -> list[LoggedRequest]:
        """The logged POST requests (chat and completions)."""
        return [r for r in self.requests if r.method == "POST"]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path is None or fault.path == path:
                    self._faults.remove(fault)
                    return fault
        return None

    def _answer(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Reply:
        if self.script is not None:
            with self._lock:
                if not self.script:
                    raise LookupError("the server's script is exhausted")
                item = self.script.popleft()
        else:
            item = self.responder(messages, params)
        return item if isinstance(item, Reply) else Reply(str(item))

    def _choices(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        chat = path.endswith("/chat/completions")
        if chat:
            messages = body.get("messages") or []
        else:
            prompt = body.get("prompt", "")
            messages = [{"role": "user", "content": prompt if isinstance(prompt, str) else ""}]
        n = int(body.get("n") or 1)
        count = 1 if self.n_mode == "ignore" else n
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        choices, used = [], 0
        for index in range(count):
            reply = self._answer(messages, {**body, "index": index, "endpoint": path})
            text, finish = _cut(reply.text, stop, limit)
            used += len(text.split())
            choice: dict[str, Any] = {
                "index": index,
                "finish_reason": reply.finish_reason or finish,
            }
            if chat:
                message: dict[str, Any] = {"role": "assistant", "content": text}
                if reply.reasoning is not None:
                    message["reasoning_content"] = reply.reasoning
                choice["message"] = message
            else:
                choice["text"] = text
            choices.append(choice)
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in messages)
        return {
            "id": f"cmpl-{next(self._ids)}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": used,
                "total_tokens": prompt_words + used,
            },
        }


def _cut(text: str, stop: list[str], limit: int | None) -> tuple[str, str]:
    hits = [i for i in (text.find(s) for s in stop) if i >= 0]
    finish = "stop"
    if hits:
        text = text[: min(hits)]
    words = text.split()
    if limit is not None and len(words) > int(limit):
        text, finish = " ".join(words[: int(limit)]), "length"
    return text, finish


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-answer are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: ScriptedOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server_state._lock:
            self.server_state._connections.add(self.connection)

    def finish(self) -> None:
        with self.server_state._lock:
            self.server_state._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        state = self.server_state
        entry = LoggedRequest(
            "GET", self.path, None, {k.lower(): v for k, v in self.headers.items()}
        )
        with state._lock:
            state.requests.append(entry)
        if self.path.rstrip("/").endswith("/models"):
            data = {"object": "list", "data": [{"id": state.model, "object": "model"}]}
            self._send(entry, 200, json.dumps(data).encode())
        else:
            self._send(entry, 404, _error("not found", 404))

    def do_POST(self) -> None:
        state = self.server_state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        entry = LoggedRequest(
            "POST", self.path, body, {k.lower(): v for k, v in self.headers.items()}
        )
        with state._lock:
            state.requests.append(entry)
            state._in_flight += 1
            state.in_flight_max = max(state.in_flight_max, state._in_flight)
        try:
            self._post(state, entry, body)
        finally:
            with state._lock:
                state._in_flight -= 1

    def _post(self, state: ScriptedOpenAIServer, entry: LoggedRequest, body: Any) -> None:
        fault = state._next_fault(self.path)
        entry.fault = fault.kind if fault else None
        if state.latency:
            time.sleep(state.latency)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault is not None and fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            self._send(entry, fault.status, _error(fault.message, fault.status), headers)
            return
        elif fault is not None and fault.kind == "disconnect":
            entry.status = -1
            self._drop()
            return
        if not isinstance(body, dict):
            self._send(entry, 400, _error("request body is not JSON", 400))
            return
        if not self.path.endswith(("/chat/completions", "/completions")):
            self._send(entry, 404, _error(f"no route {self.path}", 404))
            return
        if body.get("model") != state.model:
            message = f"The model `{body.get('model')}` does not exist."
            self._send(entry, 404, _error(message, 404))
            return
        if state.n_mode == "reject" and int(body.get("n") or 1) > 1:
            self._send(entry, 400, _error("n > 1 is not supported by this server", 400))
            return
        try:
            payload = json.dumps(state._choices(self.path, body)).encode()
        except Exception as exc:  # a responder's bug becomes a 500, as on a real server
            self._send(entry, 500, _error(f"{type(exc).__name__}: {exc}", 500))
            return
        if fault is not None and fault.kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            entry.status = 200
            self._drop()
            return
        if fault is not None and fault.kind == "malformed":
            payload = payload[: len(payload) // 2]
        self._send(entry, 200, payload)

    def _send(
        self,
        entry: LoggedRequest,
        status: int,
        payload: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        entry.status = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client gave up (timed out) before the answer came
            self.close_connection = True
        entry.finished = time.monotonic()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _error(message: str, status: int) -> bytes:
    kind = "rate_limit_error" if status == 429 else "invalid_request_error"
    return json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()
