"""Lexical helpers for reading Lean sources without Lean: comments masked, docstrings kept
aside, identifiers and balanced brackets found. Nothing here needs the code to be well formed;
where the text is broken the helpers say how far they got."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Lean 4's identifier characters (Lean.isLetterLike, isSubScriptAlnum): ASCII letters, most of
# Greek (not λ, Π, Σ), letter-like symbols (ℕ, ℝ), mathematical script letters.
_FIRST = (
    "A-Za-z_\u03b1-\u03ba\u03bc-\u03c9\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9\u03ca-\u03fb"
    "\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f"
)
_REST = _FIRST + "0-9'!?\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
_ATOM = f"(?:«[^»\\n]*»|[{_FIRST}][{_REST}]*)"
#: one Lean identifier, dotted components included (``Nat.Prime``, ``«term_∣_»``, ``x₁'``)
IDENT = re.compile(f"{_ATOM}(?:\\.{_ATOM})*")
#: a word of the command language (keywords are identifiers lexically)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

OPENERS = {"(": ")", "[": "]", "{": "}", "⦃": "⦄", "⟨": "⟩", "⟪": "⟫", "⁅": "⁆"}
CLOSERS = {v: k for k, v in OPENERS.items()}


@dataclass(frozen=True)
class Masked:
    """A source with its comments blanked and its docstrings' insides blanked (newlines kept,
    so offsets and lines are the source's); the docstrings by the offset of their ``/--``."""

    text: str
    docstrings: dict[int, str]
    broken_at: int | None  # offset of an unterminated comment or string, else None
    #: (start, end) of each string literal spanning lines: no command starts inside one
    long_strings: tuple[tuple[int, int], ...] = ()

    def in_long_string(self, offset: int) -> bool:
        """True when ``offset`` lies inside a string literal that spans lines."""
        at = bisect.bisect_right(self.long_strings, (offset, len(self.text) + 1)) - 1
        return at >= 0 and self.long_strings[at][0] < offset < self.long_strings[at][1]


def _block_end(text: str, start: int) -> int:
    """Offset just past the ``-/`` closing the (nestable) block comment at ``start``, or -1."""
    depth = 0
    i = start
    n = len(text)
    while i < n - 1:
        pair = text[i : i + 2]
        if pair == "/-":
            depth += 1
            i += 2
        elif pair == "-/":
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return -1


def _string_end(text: str, start: int) -> int:
    """Offset just past the closing quote of the string literal opening at ``start``, or -1."""
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            return i + 1
        i += 1
    return -1


_CHAR_LITERAL = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)|[^\\'\n])'")
_IDENT_CHAR = re.compile(f"[{_REST}.»]")


def clean_docstring(body: str) -> str:
    """A docstring's text with its common indentation removed and the ends trimmed."""
    lines = body.strip("\n").splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    cut = min(indents, default=0)
    out = [lines[0].strip()] + [line[cut:].rstrip() for line in lines[1:]] if lines else []
    return "\n".join(out).strip()


def mask(text: str) -> Masked:
    """Blank the comments of ``text`` and the insides of its docstrings (kept aside)."""
    out = list(text)
    docstrings: dict[int, str] = {}
    long_strings: list[tuple[int, int]] = []
    n = len(text)

    def blank(a: int, b: int) -> None:
        for j in range(a, b):
            if out[j] != "\n":
                out[j] = " "

    i = 0
    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif char == "/" and text.startswith("/-", i):
            end = _block_end(text, i)
            if end < 0:
                blank(i, n)
                return Masked("".join(out), docstrings, i, tuple(long_strings))
            if text.startswith("/--", i) and end - i > 4:
                docstrings[i] = clean_docstring(text[i + 3 : end - 2])
                blank(i + 3, end - 2)
            else:
                blank(i, end)
            i = end
        elif char == '"':
            end = _string_end(text, i)
            if end < 0:
                blank(i, n)
                return Masked("".join(out), docstrings, i, tuple(long_strings))
            if "\n" in text[i:end]:
                long_strings.append((i, end))
            i = end
        elif char == "'" and (i == 0 or not _IDENT_CHAR.match(text[i - 1])):
            match = _CHAR_LITERAL.match(text, i)
            i = match.end() if match else i + 1
        else:
            i += 1
    return Masked("".join(out), docstrings, None, tuple(long_strings))


def balanced_end(text: str, start: int) -> int:
    """Offset just past the bracket closing the one at ``start`` (strings skipped), or -1."""
    stack = [OPENERS[text[start]]]
    i = start + 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = _string_end(text, i)
            if end < 0:
                return -1
            i = end
            continue
        if char in OPENERS:
            stack.append(OPENERS[char])
        elif char in CLOSERS:
            if char != stack[-1]:
                return -1
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    return -1


def top_level_stop(text: str, start: int, stops: re.Pattern[str]) -> int:
    """The first offset from ``start`` where ``stops`` matches outside brackets and strings
    (``len(text)`` when it never does)."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = _string_end(text, i)
            if end < 0:
                return n
            i = end
            continue
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and stops.match(text, i):
            return i
        i += 1
    return n


def normalise(text: str) -> str:
    """Whitespace runs to one space, ends trimmed."""
    return " ".join(text.split())
