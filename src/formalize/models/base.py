"""The engine interface: generation parameters, completions, and the base class every engine
extends (input checks, model profiles, stop strings, the per-conversation cache, provenance).

Caching: each conversation's ``n`` completions are stored under a content key over the engine's
identity (engine, model, revision, output-relevant options), the model profile, the parameters
and the prepared messages. A batch looks every conversation up and generates only the missing
ones, keeping input order. Sampled generations (temperature > 0) are cached too, with or without
a seed: the key includes ``n`` and ``seed``, so a rerun replays exactly what the first run drew
(the cache is a record of what was generated, as in lm-eval's ``CachingLM``). To draw fresh
samples for an unchanged prompt, pass another ``seed`` or no cache.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from formalize.cache import Cache, content_key
from formalize.errors import FormalizeError, InputError
from formalize.models.profiles import Message, ModelProfile
from formalize.records import Record

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant", "tool")


class GenerationError(FormalizeError):
    """Generation failed for some conversations (server down, retries exhausted, ...).

    ``failed`` maps the index of each failed conversation to its error; ``partial`` holds the
    completions of the others (None at failed indices), so a caller can keep what succeeded.
    """

    def __init__(
        self,
        message: str,
        failed: dict[int, str] | None = None,
        partial: list[list[Completion] | None] | None = None,
    ) -> None:
        super().__init__(message)
        self.failed = dict(failed or {})
        self.partial = list(partial or [])


class FinishReason(str, enum.Enum):
    """Why a completion ended."""

    STOP = "stop"  # end-of-sequence token or a stop string
    LENGTH = "length"  # ``max_tokens`` reached
    CONTENT_FILTER = "content_filter"  # a server withheld the text
    OTHER = "other"  # anything else a server reports

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | None) -> FinishReason:
        """Map an engine's or server's finish reason onto this enum."""
        if value in (None, "", "eos", "stop_sequence", "end_turn"):
            return cls.STOP
        try:
            return cls(value)
        except ValueError:
            return cls.LENGTH if value in ("max_tokens", "max_length") else cls.OTHER


@dataclass(frozen=True)
class GenerationParams(Record):
    """Per-call generation knobs (vLLM's ``SamplingParams`` subset every engine honours).

    ``n`` completions per conversation; ``temperature`` 0 means greedy (then ``n`` identical
    completions, generated once); ``stop`` strings end a completion and are not included in its
    text; ``seed`` makes sampling repeatable per conversation (same seed, same conversation, same
    samples, whatever else is in the batch) as far as the engine can promise it: the hf engine
    does; vLLM and servers only where their scheduling is deterministic. The cache replays
    exactly what was drawn.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        stop: Any = self.stop
        if isinstance(stop, str):
            stop = (stop,)
        object.__setattr__(self, "stop", tuple(stop))
        if self.n < 1:
            raise ValueError("GenerationParams.n must be >= 1")
        if self.temperature < 0:
            raise ValueError("GenerationParams.temperature must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("GenerationParams.top_p must be in (0, 1]")
        if self.max_tokens < 1:
            raise ValueError("GenerationParams.max_tokens must be >= 1")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValueError("GenerationParams.stop must hold non-empty strings")

    @property
    def greedy(self) -> bool:
        """True for deterministic (temperature 0) decoding."""
        return self.temperature == 0

    def cache_fields(self) -> dict[str, Any]:
        """The fields that decide the output (greedy decoding ignores ``top_p`` and ``seed``)."""
        data = self.to_dict()
        if self.greedy:
            data.pop("top_p")
            data.pop("seed")
        return data


@dataclass(frozen=True)
class Completion(Record):
    """One generated answer.

    ``text`` is the answer with any reasoning section (see ``ModelProfile.think``) moved to
    ``reasoning`` and any stop string cut off. Token counts are None where the engine cannot
    tell (an OpenAI server answering ``n`` > 1 in one response reports only totals).
    ``provenance``: engine, spec, model, revision, profile and parameters that produced it.
    ``cached``: replayed from the cache rather than generated by this call.
    """

    text: str
    finish_reason: FinishReason
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    cached: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class RawCompletion:
    """What an engine backend returns before stop strings, reasoning and provenance."""

    text: str
    finish_reason: FinishReason
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning: str | None = None


@dataclass(frozen=True)
class Failure:
    """A conversation an engine backend could not generate for, and why."""

    error: str


Outcome = list[RawCompletion] | Failure


@dataclass(frozen=True)
class EngineSpec:
    """A parsed engine spec: engine name, model (path, hub id or served name), base URL and the
    raw ``?key=value`` options (see ``formalize.models.spec.parse_spec``). ``base_urls``: every
    server listed (``base_url`` is the first)."""

    text: str
    engine: str
    model: str
    base_url: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    base_urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.base_url and not self.base_urls:
            object.__setattr__(self, "base_urls", (self.base_url,))


@dataclass
class EngineStats:
    """Counters an engine keeps: backend calls, conversations generated and replayed, and the
    completion tokens generated (where the backend reports them)."""

    calls: int = 0
    generated: int = 0
    cache_hits: int = 0
    failures: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Unmet:
    """Something an engine needs that this machine lacks, and how to get it."""

    problem: str
    fix: str = ""


def check_conversations(
    conversations: Sequence[Sequence[Mapping[str, Any]]],
) -> list[list[Message]]:
    """Plain copies of chat conversations, or an ``InputError`` saying what is wrong."""
    if isinstance(conversations, (str, bytes)) or not isinstance(conversations, Sequence):
        raise InputError("generate() takes a list of conversations (lists of message dicts)")
    out: list[list[Message]] = []
    for i, conv in enumerate(conversations):
        if isinstance(conv, (str, bytes, Mapping)) or not isinstance(conv, Sequence) or not conv:
            raise InputError(f"conversation {i} must be a non-empty list of message dicts")
        messages = []
        for j, msg in enumerate(conv):
            role = msg.get("role") if isinstance(msg, Mapping) else None
            content = msg.get("content") if isinstance(msg, Mapping) else None
            if role not in ROLES or not isinstance(content, str):
                raise InputError(
                    f"conversation {i}, message {j}: expected {{'role': one of {ROLES}, "
                    f"'content': str}}, got {msg!r:.120}"
                )
            messages.append({"role": role, "content": content})
        out.append(messages)
    return out


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """(text up to the earliest stop string, whether one was found)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def sample_seed(seed: int | None, key: str, sample: int) -> int:
    """A 63-bit seed for one sample of one conversation, derived from the call's seed.

    Depends only on the seed, the conversation (``key``) and the sample index, never on the
    batch the conversation travels in. A missing seed draws a fresh random one.
    """
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.sha256(f"{seed}\0{key}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Engine(abc.ABC):
    """A text-generation engine: conversations in, ``n`` completions each out, in input order.

    Build one with ``formalize.models.load_engine(spec)``; subclasses implement ``_generate``
    (and usually ``close``) and declare their spec options in ``OPTIONS``.
    """

    name: ClassVar[str] = "engine"
    #: spec options: name -> (parser, default, help)
    OPTIONS: ClassVar[dict[str, tuple[Any, Any, str]]] = {}
    #: options that change what is generated (part of the cache key)
    KEY_OPTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        spec: EngineSpec,
        options: Mapping[str, Any],
        *,
        profile: ModelProfile,
        cache: Cache | None = None,
    ) -> None:
        self.spec = spec.text
        self.model = spec.model
        self.base_url = spec.base_url
        self.options = dict(options)
        self.profile = profile
        self.cache = cache
        self.revision: str | None = None
        self.stats = EngineStats()
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ to implement

    @classmethod
    def requirements(cls, spec: EngineSpec, options: Mapping[str, Any]) -> list[Unmet]:
        """What building this engine would need and does not find here (packages, devices,
        weights, a server), checked without loading anything; empty when all is there."""
        return []

    @abc.abstractmethod
    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        """For each prepared conversation, ``params.n`` raw completions or a ``Failure``."""

    def close(self) -> None:
        """Release the model, processes and connections (idempotent)."""
        self._closed = True

    def parallel_requests(self) -> int:
        """How many conversations this engine sends as requests of their own at once (a
        server's engine), so that a batch may be sent one conversation at a time without
        losing throughput; 0 when it generates a batch in one call (vLLM, hf)."""
        return 0

    def cancel_pending(self) -> None:
        """Drop the requests queued and not yet started (a run is stopping); the calls they
        belong to end with those conversations failed. Default: nothing to drop (the backend
        runs each batch as one call)."""
        return None

    def describe(self) -> dict[str, Any]:
        """What this engine is: name, spec, model, revision, profile and its options."""
        return {
            "engine": self.name,
            "spec": self.spec,
            "model": self.model,
            "revision": self.revision,
            "profile": self.profile.name,
            "options": {k: v for k, v in sorted(self.options.items())},
        }

    # ------------------------------------------------------------------ the interface

    def generate(
        self, conversations: Sequence[Sequence[Mapping[str, Any]]], params: GenerationParams
    ) -> list[list[Completion]]:
        """``params.n`` completions for each conversation, in input order.

        Cached conversations are replayed; the others are generated in one backend call. If
        some fail, the rest are still cached and a ``GenerationError`` says which failed.
        """
        if self._closed:
            raise RuntimeError(f"engine {self.spec!r} is closed")
        if not isinstance(params, GenerationParams):
            raise TypeError("params must be a formalize.models.GenerationParams")
        prepared = [self.profile.prepare(c) for c in check_conversations(conversations)]
        results: list[list[Completion] | None] = [None] * len(prepared)
        keys = [self._cache_key(c, params) for c in prepared] if self.cache is not None else []
        for i, key in enumerate(keys):
            results[i] = self._replay(key)
        missing = [i for i, r in enumerate(results) if r is None]
        with self._lock:
            self.stats.cache_hits += len(prepared) - len(missing)
        if not missing:
            return [r or [] for r in results]

        backend_params = dataclasses.replace(params, n=1) if params.greedy else params
        outcomes = self._generate([prepared[i] for i in missing], backend_params)
        if len(outcomes) != len(missing):
            raise RuntimeError(f"{self.name} engine returned {len(outcomes)} of {len(missing)}")
        provenance = {**self._provenance(), "params": params.to_dict()}
        failures: list[tuple[int, str]] = []
        tokens = 0
        for i, outcome in zip(missing, outcomes, strict=True):
            if isinstance(outcome, Failure):
                failures.append((i, outcome.error))
                continue
            tokens += sum(raw.completion_tokens or 0 for raw in outcome)
            if params.greedy and len(outcome) == 1 and params.n > 1:
                outcome = outcome * params.n
            completions = [self._finish(raw, params, provenance) for raw in outcome]
            results[i] = completions
            if self.cache is not None:
                self.cache.put(keys[i], json.dumps([c.to_dict() for c in completions]))
        with self._lock:
            self.stats.calls += 1
            self.stats.generated += len(missing) - len(failures)
            self.stats.failures += len(failures)
            self.stats.completion_tokens += tokens
        if failures:
            first = "; ".join(f"conversation {i}: {err}" for i, err in failures[:3])
            kept = ""
            if self.cache is not None and len(failures) < len(missing):
                kept = " (the others are cached: a rerun only retries these)"
            raise GenerationError(
                f"{self.name} engine {self.spec!r}: {len(failures)} of {len(missing)} "
                f"conversations failed{kept}. {first}",
                failed=dict(failures),
                partial=results,
            )
        return [r or [] for r in results]

    def generate_prepared(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        """The backend call alone: prepared conversations in, raw outcomes out, no cache and
        no stop strings (what a remote executor's worker runs; ``generate`` does the rest)."""
        if self._closed:
            raise RuntimeError(f"engine {self.spec!r} is closed")
        return self._generate(conversations, params)

    def provenance(self) -> dict[str, Any]:
        """What every completion of this engine records as its origin (parameters aside)."""
        return self._provenance()

    # ------------------------------------------------------------------ helpers

    def _finish(
        self, raw: RawCompletion, params: GenerationParams, provenance: dict[str, Any]
    ) -> Completion:
        text, stopped = truncate_at_stop(raw.text, params.stop)
        finish = FinishReason.STOP if stopped else raw.finish_reason
        answer, reasoning = self.profile.split_reasoning(text)
        if raw.reasoning:
            reasoning = raw.reasoning if reasoning is None else f"{raw.reasoning}\n{reasoning}"
        return Completion(
            text=answer,
            finish_reason=finish,
            prompt_tokens=raw.prompt_tokens,
            completion_tokens=raw.completion_tokens,
            reasoning=reasoning,
            provenance=dict(provenance),
        )

    def _provenance(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "spec": self.spec,
            "model": self.model,
            "revision": self.revision,
            "profile": self.profile.name,
        }

    def cache_identity(self) -> dict[str, Any]:
        """What identifies this engine's outputs in cache keys."""
        return {
            "engine": self.name,
            "model": self.model,
            "revision": self.revision,
            "options": {k: self.options.get(k) for k in self.KEY_OPTIONS},
            "profile": self.profile.fingerprint(),
        }

    def _cache_key(self, messages: list[Message], params: GenerationParams) -> str:
        return content_key("generation", self.cache_identity(), params.cache_fields(), messages)

    def _replay(self, key: str) -> list[Completion] | None:
        assert self.cache is not None
        value = self.cache.get(key)
        if value is None:
            return None
        try:
            items = json.loads(value)
            return [dataclasses.replace(Completion.from_dict(d), cached=True) for d in items]
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring an unreadable cache entry %s: %s", key, exc)
            return None

    def conversation_key(self, messages: list[Message]) -> str:
        """A short stable digest of a prepared conversation (used to derive per-sample seeds)."""
        return content_key("conversation", messages)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec!r}>"


def generate_tolerantly(
    engine: Engine, conversations: Sequence[Sequence[Mapping[str, Any]]], params: GenerationParams
) -> list[list[Completion] | str]:
    """The engine's completions per conversation, or the error text where only some failed.

    When every conversation of a batch of several fails, the engine itself is down (server
    unreachable, out of memory): that is raised, and a rerun resumes. When only some fail (a
    prompt too long for the model, a request the server refuses), or the only one does, those
    come back as their error text, so that one bad problem cannot stop a run of thousands.
    """
    try:
        return list(engine.generate(conversations, params))
    except GenerationError as exc:
        everything = len(exc.failed) >= len(conversations) > 1
        if not exc.failed or everything:
            raise
        out: list[list[Completion] | str] = []
        for i in range(len(conversations)):
            done = exc.partial[i] if i < len(exc.partial) else None
            out.append(f"generation failed: {exc.failed.get(i)}" if done is None else done)
        return out
