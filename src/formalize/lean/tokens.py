"""Lean's token table, as far as the statement gate needs it.

Lean's lexer matches the longest prefix of the input against one global token table, which
holds every atom of every syntax declaration that is imported (whatever its category), plus
the scoped ones of the namespaces that are open. ``tokens.json`` (package data) lists the
atoms declared by Lean core and by every module ``import Mathlib`` can reach (Mathlib,
Batteries, Aesop, Qq, ProofWidgets, Plausible, LeanSearchClient, ImportGraph), at each Lean
version the project supports, with how each is declared (``notation:term``, ``syntax:tactic``,
``elab:command^`` where ``^`` marks the atom that leads its declaration). It is built by
``scripts/lean_tokens.py`` from those sources; ``sources`` in the file names them.

The table over-approximates: a token the checked text's imports never bring is still in it.
The gate relies on that direction only (see :mod:`formalize.lean.exposure`). Pure data plus
lookups; the file is read once, on first use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from formalize.lean.chars import is_id_first, is_id_rest


@dataclass(frozen=True)
class TokenTable:
    """Every known token, with how it is declared.

    ``tags`` maps a token to its declarations (``kind:category`` strings, ``core`` for Lean
    core); ``scoped`` holds the tokens declared only with ``scoped`` (active where their
    namespace is open). ``lexing`` are the tokens the gate's lexer matches: all of them,
    except scoped ones that begin like an identifier (``μ``, ``E[``), which Lean reads as
    identifiers unless their namespace is open and which the lexer reads as identifiers too.
    """

    tags: Mapping[str, frozenset[str]]
    scoped: frozenset[str]
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        lexing = [t for t in self.tags if not (t in self.scoped and is_id_first(t[0]))]
        # tries (nested dicts; the key "" holds the token ending there): a longest match and
        # the list of all matches cost one walk of at most the longest token's length
        object.__setattr__(self, "_lexing_trie", _trie(lexing))
        object.__setattr__(self, "_all_trie", _trie(self.tags))
        words = frozenset(t for t in lexing if all(is_id_rest(c) for c in t) and is_id_first(t[0]))
        object.__setattr__(self, "keywords", words)
        tailed: dict[str, list[str]] = {}
        for token in lexing:
            if is_id_first(token[0]) and token not in words:
                k = 1
                while k < len(token) and is_id_rest(token[k]):
                    k += 1
                tailed.setdefault(token[:k], []).append(token)
        object.__setattr__(
            self,
            "tailed",
            {a: tuple(sorted(ts, key=len, reverse=True)) for a, ts in tailed.items()},
        )

    keywords: frozenset[str] = frozenset()  # identifier-shaped tokens the lexer reads as keywords
    #: identifier-led tokens with a symbol tail (``Type*``, ``ℝ*``), by their leading atom,
    #: longest first
    tailed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def longest(self, text: str, i: int) -> str | None:
        """The longest lexing token that ``text`` has at ``i`` (Lean's ``matchPrefix``)."""
        node: dict[str, Any] = self._lexing_trie  # type: ignore[attr-defined]
        found, n = None, len(text)
        while i < n:
            node = node.get(text[i])  # type: ignore[assignment]
            if node is None:
                break
            found = node.get("", found)
            i += 1
        return found

    def all_at(self, text: str, i: int) -> tuple[str, ...]:
        """Every token of the table (scoped ones included) that is a prefix of ``text`` at ``i``:
        what Lean might read there under some set of imports and open namespaces, longest
        last."""
        node: dict[str, Any] = self._all_trie  # type: ignore[attr-defined]
        found: list[str] = []
        n = len(text)
        while i < n:
            node = node.get(text[i])  # type: ignore[assignment]
            if node is None:
                break
            if "" in node:
                found.append(node[""])
            i += 1
        return tuple(found)

    def declared_as(self, token: str) -> frozenset[str]:
        """How ``token`` is declared (empty when it is not a token)."""
        return self.tags.get(token, frozenset())

    def is_token(self, text: str) -> bool:
        """True when ``text`` is in the table."""
        return text in self.tags

    def with_tokens(
        self, extra: Iterable[str], tag: str = "notation:term", source: str | None = None
    ) -> TokenTable:
        """This table plus ``extra`` tokens (a candidate's own notation atoms; or, tagged
        ``LEAN_TAG``, the tokens the user's Lean has and the table lacks)."""
        tags = dict(self.tags)
        for token in extra:
            tags[token] = tags.get(token, frozenset()) | {tag}
        sources = self.sources + ((source,) if source else ())
        return TokenTable(tags, self.scoped, sources)


def _trie(tokens: Iterable[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for token in tokens:
        node = root
        for c in token:
            node = node.setdefault(c, {})
        node[""] = token
    return root


#: The tag of a token the user's Lean reported (:mod:`formalize.lean.leantokens`) and the
#: packaged table lacks: how it is declared is unknown, so no statement may use it.
LEAN_TAG = "lean:unknown"
_lean_extra: tuple[frozenset[str], str] = (frozenset(), "")


@functools.lru_cache(maxsize=1)
def packaged_table() -> TokenTable:
    """The packaged token table (read once)."""
    data = json.loads(
        resources.files("formalize.lean").joinpath("tokens.json").read_text(encoding="utf-8")
    )
    return table_from_data(data)


@functools.lru_cache(maxsize=4)
def _extended(extra: frozenset[str], source: str) -> TokenTable:
    return (
        packaged_table().with_tokens(sorted(extra), LEAN_TAG, source) if extra else packaged_table()
    )


def token_table() -> TokenTable:
    """The table the gate reads with: the packaged one, plus the tokens the user's Lean has
    that it lacks once :func:`use_lean_tokens` has added them (the same object until then)."""
    return _extended(*_lean_extra)


def use_lean_tokens(extra: Iterable[str], source: str = "lean") -> None:
    """Make the gate of this process read ``extra`` as tokens too (tokens the user's Lean has
    that the packaged table lacks; ``source`` names that Lean). An empty ``extra`` restores
    the packaged table."""
    global _lean_extra
    _lean_extra = (frozenset(extra), source)


def lean_tokens_in_use() -> frozenset[str]:
    """The tokens :func:`use_lean_tokens` added (empty: the packaged table alone)."""
    return _lean_extra[0]


def table_from_data(data: Mapping[str, object]) -> TokenTable:
    """A table from the JSON document's shape: ``global``/``scoped`` maps of token -> tags."""
    tags: dict[str, set[str]] = {}
    global_tokens = data.get("global", {})
    scoped_tokens = data.get("scoped", {})
    assert isinstance(global_tokens, dict) and isinstance(scoped_tokens, dict)
    for token, how in global_tokens.items():
        tags.setdefault(token, set()).update(how)
    for token, how in scoped_tokens.items():
        tags.setdefault(token, set()).update(how)
    scoped = frozenset(t for t in scoped_tokens if t not in global_tokens)
    sources = data.get("sources", [])
    assert isinstance(sources, list)
    return TokenTable(
        {t: frozenset(v) for t, v in tags.items()}, scoped, tuple(str(s) for s in sources)
    )
