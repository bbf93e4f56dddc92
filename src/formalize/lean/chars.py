"""Lean's character classes (``Lean.isIdFirst`` and friends), as predicates and as regex classes.

Lean's ``isAlpha`` and ``isAlphanum`` are ASCII-only; the rest of its identifier letters come
from ``isLetterLike`` (most Greek, Coptic, Greek Extended, the letter-like block, the
mathematical alphanumerics, and since v4.22 Latin-1 and Latin Extended-A letters) and
``isSubScriptAlnum`` (subscript digits and letters, ``ⱼ`` since v4.16), as in
``src/Init/Meta/Defs.lean`` (formerly ``Init/Meta.lean``) of each pinned version. Pure data
and functions.
"""

from __future__ import annotations

# (low, high) code point ranges, inclusive, with the holes Lean makes (λ, Π, Σ).
LETTER_LIKE = (
    (0x3B1, 0x3BA),
    (0x3BC, 0x3C9),  # lower Greek without λ (U+03BB)
    (0x391, 0x39F),
    (0x3A1, 0x3A2),
    (0x3A4, 0x3A9),  # upper Greek without Π (U+03A0) and Σ (U+03A3)
    (0x3CA, 0x3FB),  # Coptic
    (0x1F00, 0x1FFE),  # Greek Extended
    (0x2100, 0x214F),  # letter-like symbols
    (0x1D49C, 0x1D59F),  # script, double-struck, fraktur letters
    # since Lean v4.22 (leanprover/lean4#9035): Latin-1 letters but × and ÷, Latin Extended-A
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x17F),
)
# `ⱼ` (U+2C7C) since Lean v4.16 (leanprover/lean4#6679)
SUBSCRIPT_ALNUM = ((0x2080, 0x2089), (0x2090, 0x209C), (0x1D62, 0x1D6A), (0x2C7C, 0x2C7C))
#: Identifier characters at the newest pinned Lean (v4.26-v4.28) that v4.15 does not have:
#: read as identifier characters (the newer reading), and treated as word boundaries by the
#: every-offset check (the older one), so that both readings are checked.
NEWER_ID_CHARS = frozenset(
    [chr(c) for c in range(0xC0, 0x180) if c not in (0xD7, 0xF7)] + ["\u2c7c"]
)


def _in(v: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= v <= hi for lo, hi in ranges)


def is_letter_like(c: str) -> bool:
    """Lean's ``isLetterLike``."""
    return _in(ord(c), LETTER_LIKE)


def is_subscript_alnum(c: str) -> bool:
    """Lean's ``isSubScriptAlnum``: subscript digits and letters."""
    return _in(ord(c), SUBSCRIPT_ALNUM)


# Answers are cached per character: the lexer and the every-offset check ask for every one.
_FIRST: dict[str, bool] = {}
_REST: dict[str, bool] = {}


def is_id_first(c: str) -> bool:
    """Can ``c`` start a Lean identifier?"""
    answer = _FIRST.get(c)
    if answer is None:
        answer = ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or is_letter_like(c)
        _FIRST[c] = answer
    return answer


def is_id_rest(c: str) -> bool:
    """Can ``c`` continue a Lean identifier?"""
    answer = _REST.get(c)
    if answer is None:
        answer = is_id_first(c) or ("0" <= c <= "9") or c in "'!?" or is_subscript_alnum(c)
        _REST[c] = answer
    return answer


def _class(ranges: tuple[tuple[int, int], ...], extra: str) -> str:
    parts = [extra] + [f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges]
    return "[" + "".join(parts) + "]"


#: Regex character classes (for ``re``), equal to the predicates above.
ID_FIRST = _class(LETTER_LIKE, "a-zA-Z_")
ID_REST = _class(LETTER_LIKE + SUBSCRIPT_ALNUM, "a-zA-Z_0-9'!?")
