"""``openai:MODEL@BASE_URL`` — any OpenAI-compatible server (vLLM, SGLang, a hosted API).

``openai:MODEL@URL1,URL2,...`` spreads the requests over several servers serving the same model
(replicas): each goes to the one with the fewest requests outstanding, and a server that fails
(connection refused, timeout, 5xx) is skipped until a probe finds it answering again
(``formalize.models.servers``). The start-up check needs one server answering and warns about
the others. Which replica answered is not part of the cache key: a rerun with other URLs
replays the cache (``revision=TAG`` tells apart different weights served under one name).

Requests run on a bounded thread pool (``concurrency`` per server), each with a timeout, retried
with exponential back-off (honouring ``Retry-After``) on 408/409/429, 5xx, timeouts, dropped
connections and unreadable bodies; a request that fails for its server's sake is retried at once
on another healthy server. ``n`` is sent to servers that honour it and emulated with
one request per sample where they do not (``n=auto`` finds out on the first call). The API key
comes from ``$FORMALIZE_OPENAI_API_KEY``, then ``$OPENAI_API_KEY``, else ``EMPTY`` (what local
servers expect); ``api_key_env=NAME`` names another variable.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from formalize.cache import Cache
from formalize.errors import SetupError
from formalize.install import install_hint
from formalize.models.base import (
    Engine,
    EngineSpec,
    Failure,
    FinishReason,
    GenerationParams,
    Outcome,
    RawCompletion,
    Unmet,
    sample_seed,
)
from formalize.models.devices import has_package
from formalize.models.profiles import Message, ModelProfile, render_plain
from formalize.models.servers import Server, ServerSet
from formalize.models.spec import choice, non_negative_int, parse_bool, positive_float, positive_int

log = logging.getLogger(__name__)
T = TypeVar("T")

KEY_VARIABLES = ("FORMALIZE_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = (408, 409, 429)


def server_problem(base_url: str, timeout_s: float = 5.0) -> str | None:
    """Why nothing answers HTTP at ``base_url`` (None when a server answers, whatever it says)."""
    reason = _no_answer(base_url, timeout_s)
    return f"no server answers at {base_url} ({reason})" if reason else None


def _no_answer(base_url: str, timeout_s: float) -> str | None:
    """Why ``GET base_url/models`` got no HTTP answer (None when it got one)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout_s):
            return None
    except urllib.error.HTTPError:
        return None  # it answered: a missing route or a refused key is for the engine to say
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))


class _NotSupported(Exception):
    """The server refused ``n`` > 1 with a 400."""


class _GiveUp(Exception):
    """A request failed for good (message for the user)."""


class OpenAIEngine(Engine):
    """Chat or text completions from an OpenAI-compatible server."""

    name = "openai"
    OPTIONS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "api": (choice("chat", "completions"), "chat", "chat completions or plain completions"),
        "n": (choice("auto", "native", "emulate"), "auto", "how to get n samples"),
        "concurrency": (positive_int, 8, "requests in flight at once, per server"),
        "timeout": (positive_float, 600.0, "seconds to wait for one response"),
        "retries": (non_negative_int, 5, "retries of a failed request (+1 per extra server)"),
        "backoff": (positive_float, 1.0, "first retry delay in seconds (doubles each time)"),
        "max_backoff": (positive_float, 60.0, "longest retry delay in seconds"),
        "api_key_env": (str, None, "environment variable holding the API key"),
        "check": (parse_bool, True, "ask the server's /models at start-up"),
        "revision": (str, None, "a label for the served weights (part of cache keys)"),
    }
    KEY_OPTIONS = ("api",)

    @classmethod
    def requirements(cls, spec: EngineSpec, options: Mapping[str, Any]) -> list[Unmet]:
        """The openai package, and (with ``check``, the default) a server answering at the URL."""
        unmet = []
        if not has_package("openai"):
            unmet.append(
                Unmet("the openai engine needs the openai package", install_hint("openai"))
            )
        if options.get("check", True) and spec.base_urls:
            problems = [p for p in (server_problem(url) for url in spec.base_urls) if p]
            if len(problems) == len(spec.base_urls):
                unmet.append(
                    Unmet(
                        "; ".join(problems),
                        "start the server, e.g. `python -m vllm.entrypoints.openai.api_server "
                        f"--model PATH --served-model-name {spec.model} --port 8000`, fix the "
                        "URL in the spec, or add ?check=false to skip this check",
                    )
                )
        return unmet  # some answering will do: the engine warns about the others as it starts

    def __init__(
        self,
        spec: EngineSpec,
        options: Mapping[str, Any],
        *,
        profile: ModelProfile,
        cache: Cache | None = None,
    ) -> None:
        super().__init__(spec, options, profile=profile, cache=cache)
        try:
            import openai
        except ImportError as exc:
            hint = install_hint("openai")
            raise SetupError(f"the openai engine needs the openai package: {hint}") from exc
        self._openai = openai
        self.revision = self.options["revision"]
        key = self._api_key()
        servers = [
            Server(
                url,
                openai.OpenAI(
                    base_url=url, api_key=key, timeout=self.options["timeout"], max_retries=0
                ),
            )
            for url in spec.base_urls
        ]
        probe_timeout = min(5.0, self.options["timeout"])
        self.servers = ServerSet(
            servers,
            probe=lambda url: _no_answer(url, probe_timeout),
            backoff=self.options["backoff"],
            max_backoff=self.options["max_backoff"],
        )
        self._n_native: bool | None = {"native": True, "emulate": False}.get(self.options["n"])
        self._state = threading.Lock()
        self._pending: set[threading.Event] = set()  # one per batch in flight: set = cancelled
        if self.options["check"]:
            self._check_servers()

    def _api_key(self) -> str:
        names = [self.options["api_key_env"]] if self.options["api_key_env"] else KEY_VARIABLES
        for name in names:
            if os.environ.get(name):
                return os.environ[name]
        if self.options["api_key_env"]:
            raise SetupError(f"api_key_env={names[0]} but ${names[0]} is not set")
        return "EMPTY"

    def _check_servers(self) -> None:
        """Every server answering serves the model; at least one answers (the others are
        skipped until they do, with a warning)."""
        silent = []
        for server in self.servers.servers:
            problem = self._check_server(server)
            if problem:
                silent.append(f"{server.url} ({problem})")
                self.servers.failed(server, problem)
        if len(silent) == len(self.servers):
            where = silent[0] if len(silent) == 1 else f"any of the {len(silent)} servers: "
            if len(silent) > 1:
                where += "; ".join(silent)
            raise SetupError(
                f"no OpenAI-compatible server answers at {where}; start one, e.g. "
                "`python -m vllm.entrypoints.openai.api_server --model PATH --served-model-name "
                f"{self.model} --port 8000`, or add ?check=false to skip this check"
            )

    def _check_server(self, server: Server) -> str | None:
        """Why ``server`` cannot be used now (None when it can); a ``SetupError`` for a
        server that answers but will never do (a refused key, another model)."""
        openai = self._openai
        try:
            listed = server.client.models.list(timeout=min(10.0, self.options["timeout"]))
            served = [m.id for m in listed]
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise SetupError(
                f"the server at {server.url} refused the API key ({exc}); set "
                f"{' or '.join(KEY_VARIABLES)} (or api_key_env=NAME)"
            ) from None
        except openai.APIConnectionError as exc:
            return f"connection failed ({exc.__cause__ or exc})"
        except openai.APIStatusError:
            return None  # no /models route: the first request will tell
        if served and self.model not in served:
            raise SetupError(
                f"the server at {server.url} does not serve {self.model!r}; it serves: "
                f"{', '.join(served)}"
            )
        return None

    def describe(self) -> dict[str, Any]:
        """Engine, model, base URL, profile and options (never the API key)."""
        info = super().describe()
        info["base_url"] = self.base_url
        info["base_urls"] = [s.url for s in self.servers.servers]
        info["n_native"] = self._n_native
        return info

    def close(self) -> None:
        """Close the HTTP connections."""
        if not self._closed:
            for server in self.servers.servers:
                server.client.close()
        super().close()

    # ------------------------------------------------------------------ generation

    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        results: list[Outcome | None] = [None] * len(conversations)
        keys = [self.conversation_key(c) for c in conversations]
        start = 0
        if params.n > 1 and self._n_native is None and conversations:
            results[0] = self._probe(conversations[0], params, keys[0])
            start = 1
        # Units: (conversation, first sample, how many samples) — one per conversation when the
        # server honours n, else one per sample.
        units: list[tuple[int, int, int]] = []
        for c in range(start, len(conversations)):
            if params.n == 1 or self._n_native:
                units.append((c, 0, params.n))
            else:
                units.extend((c, s, 1) for s in range(params.n))
        parts: dict[int, list[RawCompletion]] = {}
        failures: dict[int, str] = {}
        workers = min(self.options["concurrency"] * len(self.servers), max(1, len(units)))
        cancelled = threading.Event()
        with self._state:
            self._pending.add(cancelled)
        with ThreadPoolExecutor(workers, thread_name_prefix="openai") as pool:
            futures = [
                (
                    unit,
                    pool.submit(
                        self._unless_cancelled,
                        cancelled,
                        conversations[unit[0]],
                        params,
                        *unit[1:],
                        keys[unit[0]],
                    ),
                )
                for unit in units
            ]
            try:
                for (c, _, _), future in futures:
                    try:
                        parts.setdefault(c, []).extend(future.result())
                    except _GiveUp as exc:
                        failures.setdefault(c, str(exc))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            finally:
                with self._state:
                    self._pending.discard(cancelled)
        for c in range(start, len(conversations)):
            if c in failures:
                results[c] = Failure(failures[c])
            else:
                results[c] = parts.get(c, [])
        return [r if r is not None else Failure("not generated") for r in results]

    def parallel_requests(self) -> int:
        """Requests this engine keeps in flight at once (``concurrency`` per server)."""
        return int(self.options["concurrency"]) * len(self.servers)

    def cancel_pending(self) -> None:
        """Cancel the requests not yet sent (those on the wire finish and are kept): their
        conversations fail with "cancelled", the others are returned and cached."""
        with self._state:
            for cancelled in self._pending:
                cancelled.set()

    def _unless_cancelled(
        self,
        cancelled: threading.Event,
        messages: list[Message],
        params: GenerationParams,
        first: int,
        count: int,
        key: str,
    ) -> list[RawCompletion]:
        if cancelled.is_set():
            raise _GiveUp("cancelled: the run is stopping")
        return self._request(messages, params, first, count, key)

    def _probe(self, messages: list[Message], params: GenerationParams, key: str) -> Outcome:
        """Ask for ``n`` samples at once and learn whether the server honours ``n``."""
        try:
            got = self._request(messages, params, 0, params.n, key, probing=True)
        except _NotSupported:
            got = []
        except _GiveUp as exc:
            return Failure(str(exc))
        native = len(got) >= params.n
        with self._state:
            self._n_native = native
        if not native:
            log.info("%s ignores or refuses n=%d: emulating it", self.base_url, params.n)
            try:
                for s in range(len(got), params.n):
                    got.extend(self._request(messages, params, s, 1, key))
            except _GiveUp as exc:
                return Failure(str(exc))
        return got[: params.n]

    def _request(
        self,
        messages: list[Message],
        params: GenerationParams,
        first: int,
        count: int,
        key: str,
        *,
        probing: bool = False,
    ) -> list[RawCompletion]:
        """``count`` samples (numbered from ``first``) for one conversation, with retries."""
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if count > 1:
            body["n"] = count
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = sample_seed(params.seed, key, first)
        if self.options["api"] == "chat":
            if self.profile.template_kwargs:
                body["extra_body"] = {"chat_template_kwargs": self.profile.template_kwargs}
            response = self._call(
                lambda client: client.chat.completions.create(messages=messages, **body),
                probing=probing and count > 1,
            )
        else:
            prompt = render_plain(messages)
            response = self._call(
                lambda client: client.completions.create(prompt=prompt, **body),
                probing=probing and count > 1,
            )
        got = self._read(response)
        if len(got) < count and not probing:
            raise _GiveUp(f"the server returned {len(got)} choice(s) where {count} were asked")
        return got

    def _read(self, response: Any) -> list[RawCompletion]:
        choices = sorted(response.choices or [], key=lambda ch: ch.index or 0)
        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None)
        total = getattr(usage, "completion_tokens", None)
        out = []
        for ch in choices:
            message = getattr(ch, "message", None)
            if message is not None:
                text = message.content or ""
                extra = getattr(message, "model_extra", None) or {}
                reasoning = (
                    getattr(message, "reasoning_content", None)
                    or extra.get("reasoning_content")
                    or extra.get("reasoning")
                )
            else:
                text, reasoning = ch.text or "", None
            out.append(
                RawCompletion(
                    text=text,
                    finish_reason=FinishReason.parse(ch.finish_reason),
                    prompt_tokens=prompt_tokens,
                    completion_tokens=total if len(choices) == 1 else None,
                    reasoning=reasoning or None,
                )
            )
        return out

    def _call(self, request: Callable[[Any], T], *, probing: bool = False) -> T:
        """Run ``request(client)`` on a server, with retries; raise ``_GiveUp``/``SetupError``
        when it cannot work.

        A failure that is the server's (connection, timeout, 5xx) marks it down and the next
        attempt goes at once to another healthy server; otherwise, or when none is left, the
        next attempt waits the back-off. Attempts: ``retries`` + 1, plus one per extra server.
        """
        openai = self._openai
        attempts = self.options["retries"] + len(self.servers)
        failed_on: list[Server] = []
        for attempt in range(attempts):
            retry_after: float | None = None
            server_fault = False
            server = self.servers.acquire(avoid=failed_on)
            if server is None:
                reason = f"no server answers ({self.servers.summary()})"
            else:
                try:
                    response = request(server.client)
                    self.servers.answered(server)
                    return response
                except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                    raise SetupError(
                        f"{server.url} refused the API key: {exc}; set {KEY_VARIABLES[0]}"
                    ) from None
                except openai.NotFoundError as exc:
                    raise SetupError(
                        f"{server.url}: {exc} (is {self.model!r} served there?)"
                    ) from None
                except openai.APIStatusError as exc:
                    if exc.status_code == 400 and probing:
                        raise _NotSupported() from exc
                    if exc.status_code not in RETRY_STATUS and exc.status_code < 500:
                        raise _GiveUp(f"the server rejected the request: {exc}") from None
                    reason = exc.message
                    retry_after = _retry_after(exc)
                    server_fault = exc.status_code >= 500
                except openai.APITimeoutError:
                    reason = f"no response within {self.options['timeout']:g} s"
                    server_fault = True
                except openai.APIConnectionError as exc:
                    reason = f"connection failed ({exc.__cause__ or exc})"
                    server_fault = True
                except ValueError as exc:  # a body that is not valid JSON
                    reason = f"unreadable response ({exc})"
                except openai.APIResponseValidationError as exc:
                    reason = f"unexpected response ({exc})"
                finally:
                    self.servers.release(server)
                failed_on.append(server)
                if server_fault:
                    self.servers.failed(server, reason)
                reason = f"{server.url}: {reason}"
            if attempt == attempts - 1:
                raise _GiveUp(f"{reason}; gave up after {attempts} attempts")
            if server_fault and self.servers.any_healthy(avoid=failed_on):
                log.info("%s; retrying on another server", reason)
                continue
            delay = min(self.options["max_backoff"], self.options["backoff"] * 2**attempt)
            if retry_after is not None:
                delay = min(self.options["max_backoff"], max(delay, retry_after))
            delay *= 1 + 0.1 * random.random()
            log.warning("%s; retry %d/%d in %.2f s", reason, attempt + 1, attempts - 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
