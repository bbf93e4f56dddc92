"""Engine specs (``hf:...``, ``vllm:...``, ``openai:MODEL@URL``) and the engine registry.

A spec is ``ENGINE:TARGET[?key=value&...]``. ``TARGET`` is a local path or a hub id for the local
engines and ``MODEL@BASE_URL`` for ``openai``, or ``MODEL@URL1,URL2,...`` for several replicas
serving the same model (``formalize.models.servers``). Options are checked against the
engine's ``OPTIONS``; unknown engines and options get a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from formalize.cache import Cache
from formalize.errors import InputError
from formalize.models.base import Engine, EngineSpec
from formalize.models.profiles import get_profile, profile_for

# name -> "module:Class" (imported on first use, so `openai:` never imports torch) or a class.
_ENGINES: dict[str, str | type[Engine]] = {
    "hf": "formalize.models.hf_engine:HFEngine",
    "vllm": "formalize.models.vllm_engine:VLLMEngine",
    "openai": "formalize.models.openai_engine:OpenAIEngine",
}

COMMON_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "profile": (str, None, "model profile name (default: matched from the model name)"),
}

_URL = re.compile(r"@(?=https?://)")
_NEXT_URL = re.compile(r",\s*(?=https?://)")


def register_engine(name: str, target: str | type[Engine]) -> None:
    """Make ``name:`` specs build ``target`` (a class or ``"module:Class"``)."""
    _ENGINES[name] = target


def engine_names() -> list[str]:
    """The registered engine names."""
    return sorted(_ENGINES)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def parse_spec(text: str) -> EngineSpec:
    """Split a spec string into its parts (no engine is imported or built)."""
    if not isinstance(text, str) or ":" not in text:
        raise InputError(
            f"engine spec {text!r} must look like ENGINE:MODEL, e.g. 'hf:./my-model', "
            f"'vllm:AI-MO/Kimina-Autoformalizer-7B' or 'openai:NAME@http://127.0.0.1:8000/v1' "
            f"(engines: {', '.join(engine_names())})"
        )
    engine, rest = text.split(":", 1)
    engine = engine.strip().lower()
    if engine not in _ENGINES:
        raise InputError(
            f"unknown engine {engine!r} in spec {text!r}.{_suggest(engine, engine_names())} "
            f"Known engines: {', '.join(engine_names())}"
        )
    base_url = None
    base_urls: tuple[str, ...] = ()
    if engine == "openai":
        parts = _URL.split(rest, maxsplit=1)
        if len(parts) != 2 or not parts[0]:
            raise InputError(
                f"spec {text!r}: expected openai:MODEL@BASE_URL, "
                "e.g. openai:criticlean@http://127.0.0.1:8000/v1"
            )
        model = parts[0]
        addresses, _, query = parts[1].partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        base_urls = _base_urls(text, addresses)
        base_url = base_urls[0]
    else:
        model, _, query = rest.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
    if not model.strip():
        raise InputError(f"spec {text!r} names no model")
    return EngineSpec(
        text=text,
        engine=engine,
        model=model.strip(),
        base_url=base_url,
        options=options,
        base_urls=base_urls,
    )


def _base_urls(text: str, addresses: str) -> tuple[str, ...]:
    """The comma-separated server addresses of an ``openai:`` spec, normalised (no trailing
    slash), each once."""
    out: list[str] = []
    for address in _NEXT_URL.split(addresses):
        url = urlsplit(address.strip())
        if not url.netloc:
            raise InputError(f"spec {text!r}: {address!r} is not a server address")
        normal = urlunsplit((url.scheme, url.netloc, url.path.rstrip("/"), "", ""))
        if normal in out:
            raise InputError(f"spec {text!r} lists the server {normal} twice")
        out.append(normal)
    return tuple(out)


def spec_without_url(text: str) -> str:
    """The spec with an ``openai:`` spec's server addresses dropped (its options kept): what
    names a model whichever ports serve it."""
    engine, colon, rest = text.partition(":")
    parts = _URL.split(rest, maxsplit=1)
    if not colon or len(parts) != 2:
        return text
    query = parts[1].partition("?")[2]
    return f"{engine}:{parts[0]}" + (f"?{query}" if query else "")


def short_spec(text: str, width: int = 40) -> str:
    """A spec short enough for a table or a title: no server address, a local path shortened
    to its last folder, options elided past ``width`` characters."""
    engine, colon, rest = spec_without_url(text).partition(":")
    if not colon:
        return text if len(text) <= width else text[: width - 1] + "…"
    model, mark, query = rest.partition("?")
    if model.startswith(("/", ".", "~")) or model.count("/") > 1:
        model = f"…/{Path(model.rstrip('/')).name}"
    out = f"{engine}:{model}" + (f"?{query}" if mark else "")
    return out if len(out) <= width else out[: width - 1] + "…"


def engine_class(name: str) -> type[Engine]:
    """The engine class registered as ``name`` (imported now)."""
    target = _ENGINES[name]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        assert isinstance(target, type)
    return target


def parse_options(
    spec: EngineSpec, table: dict[str, tuple[Callable[[str], Any] | Any, Any, str]]
) -> dict[str, Any]:
    """Typed option values (defaults filled in) for ``spec``, checked against ``table``."""
    out: dict[str, Any] = {}
    for key, raw in spec.options.items():
        if key not in table:
            known = sorted(table)
            raise InputError(
                f"unknown option {key!r} for the {spec.engine} engine in {spec.text!r}."
                f"{_suggest(key, known)} Options: {', '.join(known)}"
            )
        parser = table[key][0]
        try:
            out[key] = parser(raw)
        except (TypeError, ValueError) as exc:
            raise InputError(f"option {key}={raw!r} in {spec.text!r}: {exc}") from None
    for key, (_, default, _) in table.items():
        out.setdefault(key, default)
    return out


def load_engine(spec: str, cache: Cache | None = None) -> Engine:
    """Build the engine a spec names (loading the model or connecting to the server).

    ``cache``: where generations are stored and replayed (e.g. the corpus store's cache).
    """
    parsed = parse_spec(spec)
    cls = engine_class(parsed.engine)
    options = parse_options(parsed, {**COMMON_OPTIONS, **cls.OPTIONS})
    name = options.pop("profile")
    profile = get_profile(name) if name else profile_for(parsed.model)
    return cls(parsed, options, profile=profile, cache=cache)


# ---------------------------------------------------------------- option parsers


def parse_bool(value: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``."""
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on", ""):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def positive_int(value: str) -> int:
    """An integer >= 1."""
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def non_negative_int(value: str) -> int:
    """An integer >= 0."""
    number = int(value)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


def positive_float(value: str) -> float:
    """A number > 0."""
    number = float(value)
    if not number > 0:
        raise ValueError("must be > 0")
    return number


def fraction(value: str) -> float:
    """A number in (0, 1]."""
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("must be in (0, 1]")
    return number


def choice(*allowed: str) -> Callable[[str], str]:
    """A parser accepting one of ``allowed``."""

    def parse(value: str) -> str:
        low = value.strip().lower()
        if low not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}{_suggest(low, list(allowed))}")
        return low

    return parse
