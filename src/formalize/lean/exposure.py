"""What Lean could read anywhere in a text: the gate's answer to "what if we read it wrong?".

The gate parses a candidate the way it believes Lean will, but Lean's reading can differ from
it: Lean's token table depends on the imports and on the open namespaces, and after a parse
error Lean retries a command at every following character (``Lean.Parser.parseCommand``
advances one character at a time until a command parses), so text inside an identifier
(``append`` holds ``end``) or after a deliberate parse break is read afresh. This module
therefore looks at **every offset** of the text Lean will receive (comments already blanked
out, so no comment can hide anything), not only at the gate's own token starts:

* a command keyword (``end``, ``def``, ``set_option``, any ``#…`` command token, ``@[``) at any
  offset where the gate did not parse that very command is refused;
* at every offset where an identifier can start (not right after a letter), the keyword or
  identifier-led token Lean could read there must be on the allow-list, or be a part of an
  allowed command the gate parsed there (``by`` and ``sorry`` of the proof);
* at every offset in a run of symbols, each token of the table that starts there must be an
  allowed notation;
* string, quotation and escape characters (``"`` `````` ``«`` ``»``) and comment markers
  are refused wherever they are.

Because the checks hold at every offset, whichever way Lean aligns its tokens it meets only
allowed ones. Linear in the text (every identifier run is looked at in its last few
characters only, where a keyword could end); pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from formalize.lean.chars import ID_REST, NEWER_ID_CHARS, is_id_first, is_id_rest
from formalize.lean.policy import (
    ALWAYS_REFUSED,
    DECLARATION_WORDS,
    HARMLESS_ELABORATORS,
    ISOLATING_WORDS,
    SCOPED_WORDS,
    TERM_KEYWORDS,
    command_words,
    notation_keyword_allowed,
    symbol_allowed,
)
from formalize.lean.tokens import TokenTable

_RUN = re.compile(ID_REST + "+")
_SYMBOL_START = re.compile(r"[^ \n" + ID_REST[1:-1] + r"]")
_NEWER = re.compile("[" + "".join(sorted(NEWER_ID_CHARS)) + "]")
_MARKERS = re.compile(r'--|/-|-/|["`«»]')


@dataclass(frozen=True)
class Finding:
    """Something Lean could read at ``offset`` that the policy refuses, and why."""

    offset: int
    token: str
    reason: str


class Exposure:
    """The every-offset check for one token table (build once, use for many texts)."""

    def __init__(self, table: TokenTable) -> None:
        self.table = table
        self.commands = command_words(table)
        self.inner = self.commands - DECLARATION_WORDS - SCOPED_WORDS - ISOLATING_WORDS
        self.isolating = self.commands & ISOLATING_WORDS
        words = {t for t in table.tags if is_id_first(t[0]) and all(is_id_rest(c) for c in t)}
        self.words = frozenset(words)
        # identifier-led tokens with a symbol tail (`ℝ≥0`, `Type*`, `eval%`), by their lead
        self.tailed: dict[str, tuple[str, ...]] = {}
        for token in table.tags:
            if is_id_first(token[0]) and token not in words:
                k = 1
                while k < len(token) and is_id_rest(token[k]):
                    k += 1
                self.tailed.setdefault(token[:k], ())
                self.tailed[token[:k]] += (token,)
        self._symbols: dict[str, bool] = {}  # symbol_allowed, per token
        longest_word = max((len(w) for w in words | set(self.tailed) | self.commands), default=1)
        self.reach = longest_word + 1
        # every word `_check_run` acts on: a run none of whose ends is one needs no look
        self.interesting = frozenset(
            ALWAYS_REFUSED | self.commands | self.words | set(self.tailed) | ISOLATING_WORDS
        )

    def check(
        self,
        text: str,
        sanctioned: Collection[tuple[int, str]] = frozenset(),
        isolate: list[Finding] | None = None,
        starts: Collection[int] = frozenset(),
    ) -> Finding | None:
        """The first refused reading of ``text`` (comments blanked), or None.

        ``sanctioned`` holds (offset, token) pairs the gate's parse accepted as part of an
        allowed command (``theorem`` at the start of the declaration, the proof's ``by``);
        ``starts`` the offsets where the gate's lexer starts a token. Readings that are
        harmless in a fresh environment but not beside other candidates
        (:data:`~formalize.lean.policy.ISOLATING_WORDS` inside identifiers) are appended to
        ``isolate``.
        """
        self._isolate = isolate if isolate is not None else []
        marker = _MARKERS.search(text)
        if marker is not None:
            return Finding(marker.start(), marker.group(), _marker_reason(marker.group()))
        # Where Lean can start a token: where the gate's lexer does, and wherever a token of
        # the table could end (`→o`, `[MOD` end in a letter: what follows is a fresh token)
        boundaries = set(starts)
        self._starts = frozenset(starts)
        self._long_ends: set[int] = set()  # where a token of two or more characters ends
        for sym in _SYMBOL_START.finditer(text):
            found = self._check_symbols(text, sym.start(), sanctioned, boundaries)
            if found is not None:
                return found
        interesting, reach = self.interesting, self.reach
        newer = _NEWER.search(text) is not None
        for run in _RUN.finditer(text):
            start, end = run.span()
            stops = [end]
            if newer:
                # Lean v4.15 ends an identifier at `é` or `ⱼ`: check what it reads before one
                stops += [cut.start() for cut in _NEWER.finditer(text, start, end)]
            for stop in stops:
                for p in range(max(start, stop - reach), stop):
                    if text[p:stop] in interesting:
                        break
                else:  # no word the checks act on ends the run (most runs: `x`, `hx`, `Nat`)
                    continue
                found = self._check_run(text, start, stop, sanctioned, boundaries)
                if found is not None:
                    return found
        return None

    def _check_run(
        self,
        text: str,
        start: int,
        end: int,
        sanctioned: Collection[tuple[int, str]],
        boundaries: Collection[int],
    ) -> Finding | None:
        nxt = text[end + 1] if end + 1 < len(text) else ""
        dotted = end < len(text) and text[end] == "." and (is_id_first(nxt) or nxt == "«")
        for p in range(max(start, end - self.reach), end):
            c = text[p]
            if not is_id_first(c):
                continue
            word = text[p:end]
            boundary = p in boundaries
            previous = text[p - 1] if p else ""
            word_start = boundary or p == start or not is_id_first(previous)
            word_start = word_start or previous in NEWER_ID_CHARS  # Lean v4.15's reading
            fresh = (p, word) not in sanctioned
            if not dotted and fresh and word in ALWAYS_REFUSED:
                return Finding(p, word, _code_reason(word))
            if not dotted and fresh and word in self.inner:
                return Finding(p, word, _command_reason(word, inner=not word_start))
            for token in self.tailed.get(word, ()):
                if "%" in token and token not in HARMLESS_ELABORATORS and text.startswith(token, p):
                    return Finding(p, token, self._keyword_reason(token))
            if not dotted and not word_start and word in self.isolating and not self._isolate:
                # one note is enough: the candidate is checked alone
                self._isolate.append(Finding(p, word, _command_reason(word, inner=True)))
            if not word_start:
                continue
            # after a projection's single `.` (not a number's: `2.` is a literal), Lean reads a
            # raw identifier (`x.end`, `(f x).by`), no keyword
            before = text[p - 2 : p - 1] if p >= 2 else ""
            if not boundary and text[p - 1 : p] == "." and before != "." and not before.isdigit():
                continue
            # a later component of a name the gate lexed whole (`erdos_12.variants.example`,
            # `foo.exists`): Lean's identifier reader takes it too, keywords included, unless
            # a longer token ends at the dot (`|>.`)
            named = before == "»" or (before != "" and is_id_rest(before) and not before.isdigit())
            fresh_dot = p in self._starts or p in self._long_ends
            if text[p - 1 : p] == "." and named and not fresh_dot:
                continue
            if not dotted and word in self.commands and (p, word) not in sanctioned:
                return Finding(p, word, _command_reason(word, inner=False))
            fresh = (p, word) not in sanctioned
            if not dotted and word in self.words and fresh and not self._word_allowed(word):
                return Finding(p, word, self._keyword_reason(word))
            for token in self.tailed.get(word, ()):
                if (
                    text.startswith(token, p)
                    and (p, token) not in sanctioned
                    and not notation_keyword_allowed(token, self.table.declared_as(token))
                ):
                    return Finding(p, token, self._keyword_reason(token))
        return None

    def _word_allowed(self, word: str) -> bool:
        if word in TERM_KEYWORDS:
            return True
        return notation_keyword_allowed(word, self.table.declared_as(word))

    def _check_symbols(
        self,
        text: str,
        p: int,
        sanctioned: Collection[tuple[int, str]],
        boundaries: set[int],
    ) -> Finding | None:
        # `#` alone is Mathlib's cardinality notation (`#s`, `#α`); Lean reads the longest
        # token of its table there, so a `#command` (`#eval`, `#exit`, `#evalx`) is one of
        # the tokens at `p`, refused below like every other non-term token
        if text[p] == "#" and p + 1 < len(text) and is_id_first(text[p + 1]):
            word = _RUN.match(text, p + 1)
            name = word.group() if word is not None else ""
            if any(is_id_first(c) for c in name[1:]):
                # `#s`, `#X`, `#A₁`, `#G.edgeFinset` are the cardinality notation; a longer
                # word could be a `#` command of a newer library than the table (`#newsearch`)
                return Finding(p, "#" + name, _hash_word_reason(name))
        allowed = self._symbols
        for token in self.table.all_at(text, p):
            boundaries.add(p + len(token))
            if len(token) > 1:
                self._long_ends.add(p + len(token))
            ok = allowed.get(token)
            if ok is None:
                ok = allowed[token] = symbol_allowed(token, self.table.declared_as(token))
            if not ok and (p, token) not in sanctioned:
                return Finding(p, token, _symbol_reason(token, self.table.declared_as(token)))
        return None

    def _keyword_reason(self, token: str) -> str:
        how = _describe(self.table.declared_as(token))
        return f"`{token}` is a Lean keyword{how} that statements may not use"


def _describe(tags: Collection[str]) -> str:
    cats = sorted({t.partition(":")[2].rstrip("^") for t in tags if ":" in t} - {"?", ""})
    kinds = sorted({t.partition(":")[0] for t in tags if ":" in t})
    if "elab" in kinds and "term" in cats:
        return " (a term elaborator)"
    if cats:
        return f" ({', '.join(cats)} syntax)"
    return ""


def _code_reason(word: str) -> str:
    return (
        f"`{word}` runs code, tactics or a file read at elaboration; it is refused wherever Lean"
        " could read it"
    )


def _command_reason(word: str, *, inner: bool) -> str:
    if inner:
        return (
            f"`{word}` inside an identifier: after a parse error Lean can read it as the"
            f" `{word}` command"
        )
    return f"`{word}` here could start a command, which statements may not contain"


def _symbol_reason(token: str, tags: Collection[str]) -> str:
    if token in ("‹", "›"):
        return f"`{token}` runs a tactic (`‹t›` is `by assumption`)"
    if token == "@[":
        return "attributes are not allowed (they change how later declarations are checked)"
    if token.startswith("#") and token != "#[":
        return f"`{token}` is a `#` command (they run or print code)"
    how = _describe(tags)
    return f"`{token}` is Lean syntax{how} that statements may not use"


def _hash_word_reason(name: str) -> str:
    return (
        f"`#{name}`: `#` before a word of two or more letters could be a `#` command (they run"
        " or print code) of a library newer than the gate's token table; the cardinality"
        " notation is `#s`, `#X`, `#(…)`"
    )


def _marker_reason(marker: str) -> str:
    return {
        '"': "string literals are not allowed in statements",
        "`": "quotations and name literals are not allowed in statements",
        "«": "escaped identifiers `«…»` are not allowed in statements",
        "»": "escaped identifiers `«…»` are not allowed in statements",
    }.get(marker, f"`{marker}` glued to other symbols reads as a comment marker in Lean")
