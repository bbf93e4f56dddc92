"""A Lean 4 lexer for gating untrusted source text.

It follows the lexical rules of Lean's own parser (``Lean.Parser.Basic``): what ``whitespace``
treats as a comment (``--`` to the end of the line, nested ``/- -/``, whose third character
is skipped unread), the doc-comment tokens ``/--`` and ``/-!``, and, in ``tokenFn``'s order,
string literals (with Lean's escapes and string gaps), raw strings ``r#"..."#``, number
literals (``0x``/``0b``/``0o``, ``_`` separators, scientific), name literals (`` `foo ``),
character literals (``'a'``, but not the prime in ``x'`` nor ``''``), and otherwise the
longest token of Lean's token table (:mod:`formalize.lean.tokens`) competing with an
identifier: a token wins when it is at least as long as the identifier (``fun``, ``ℝ≥0``),
as in Lean's ``mkIdResult``. Identifiers are dotted, with ``«guillemet»`` parts and Lean's
notion of letters (:mod:`formalize.lean.chars`); field indices (``h.1``) are digits only.

A string after ``s!``/``m!``/``f!`` is interpolated in Lean (its ``{}`` holds code); here it
is one ``string`` token like any other, which the gate refuses: statements need no strings.
Where Lean reports a lexical error this lexer raises :class:`LexError`. Every scanner is a
loop (no recursion on nesting) over compiled regular expressions, linear in the input.

Pure functions, no I/O (the token table is package data, read once).
"""

from __future__ import annotations

import bisect
import re

from formalize.lean.chars import (
    ID_FIRST,
    ID_REST,
    is_id_first,
    is_id_rest,
    is_letter_like,
    is_subscript_alnum,
)
from formalize.lean.tokens import TokenTable, token_table

__all__ = [
    "BLOCK_COMMENT",
    "CHAR",
    "COMMENT_KINDS",
    "DOC_COMMENT",
    "IDENT",
    "KEYWORD",
    "LINE_COMMENT",
    "MODULE_DOC",
    "NAME",
    "NUMBER",
    "STRING",
    "SYMBOL",
    "TRIVIA_KINDS",
    "LexError",
    "Token",
    "TooManyTokens",
    "brackets",
    "code_tokens",
    "is_id_first",
    "is_id_rest",
    "is_letter_like",
    "is_subscript_alnum",
    "tokenize",
]

IDENT = "ident"
KEYWORD = "keyword"  # a token of the table that starts like an identifier (or ``#`` + letter)
NUMBER = "number"
STRING = "string"
CHAR = "char"
NAME = "name"
SYMBOL = "symbol"
LINE_COMMENT = "line_comment"
BLOCK_COMMENT = "block_comment"
DOC_COMMENT = "doc_comment"
MODULE_DOC = "module_doc"

#: Kinds that carry no code and no declaration documentation.
TRIVIA_KINDS = frozenset({LINE_COMMENT, BLOCK_COMMENT, MODULE_DOC})
#: Comment-like kinds (trivia plus the doc comment that attaches to a declaration).
COMMENT_KINDS = TRIVIA_KINDS | {DOC_COMMENT}

_WHITESPACE = re.compile(r"[ \t\r\n]+")
# One match per token start, in Lean's `tokenFn` order: the common cases (whitespace, a plain
# identifier atom, a symbol) are handled inline, the rest (`special`) by `lex_one`.
_MASTER = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r'|(?P<special>--|/-|["\'`«0-9]|r#*")'
    rf"|(?P<id>{ID_FIRST}{ID_REST}*)"
    r"|(?P<sym>.)",
    re.DOTALL,
)
_COMMENT_MARK = re.compile(r"/-|-/")
# atoms joined by dots, read in one match (a `«…»` part is taken by the loop)
_DOTTED = re.compile(f"{ID_FIRST}{ID_REST}*(?:\\.{ID_FIRST}{ID_REST}*)*")
_DIGITS = re.compile(r"[0-9]+")
_HEX = "0123456789abcdefABCDEF"
_SIMPLE_ESCAPES = "\\\"'rnt"


class Token:
    """One lexeme: ``kind`` (a module constant), exact ``text``, 1-based ``line``, 0-based
    ``column`` in code points. ``offset`` (into the lexed text) is not part of equality.
    Immutable by convention (a slotted class: the lexer makes one per token, fast)."""

    __slots__ = ("column", "kind", "line", "offset", "text")

    def __init__(self, kind: str, text: str, line: int, column: int, offset: int = 0) -> None:
        self.kind = kind
        self.text = text
        self.line = line
        self.column = column
        self.offset = offset

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Token):
            return NotImplemented
        return (self.kind, self.text, self.line, self.column) == (
            other.kind,
            other.text,
            other.line,
            other.column,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.text, self.line, self.column))

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.column})"

    @property
    def end(self) -> int:
        """Offset just past the token."""
        return self.offset + len(self.text)

    @property
    def is_code(self) -> bool:
        """True unless the token is a comment (doc comments count as comments here)."""
        return self.kind not in COMMENT_KINDS


class LexError(ValueError):
    """Text that Lean itself would reject at the lexical level (unterminated comment, ...)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line}, column {column}")
        self.message = message
        self.line = line
        self.column = column


class TooManyTokens(LexError):
    """The text has more code tokens than the caller allows (the lexer stops there)."""


def tokenize(
    text: str, table: TokenTable | None = None, *, max_tokens: int | None = None
) -> list[Token]:
    """All tokens of ``text`` in order, comments included; raises :class:`LexError`, and
    :class:`TooManyTokens` as soon as there are more than ``max_tokens`` code tokens."""
    return _Lexer(text, table or token_table(), max_tokens).run()


def code_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens that are code (no comments, no doc comments)."""
    return [t for t in tokens if t.is_code]


def brackets(tok: Token) -> tuple[int, int]:
    """(closes, opens): how many brackets a token closes and then opens. A token's bracket
    characters are read in order: a closing one with nothing open before it in the token closes
    one, what stays open at its end opens (``(``, ``![``, ``C(`` and ``[MOD``, ``[ZMOD``,
    ``[PMOD``, ``[SMOD`` open one; ``)``, ``]]``, ``⟫_ℝ`` close; ``]→L[`` does both)."""
    if tok.kind not in (SYMBOL, KEYWORD):
        return 0, 0
    answer = _BRACKETS.get(tok.text)
    if answer is None:
        closes = depth = 0
        for char in tok.text:
            if char in _OPENERS:
                depth += 1
            elif char in _CLOSERS:
                if depth:
                    depth -= 1
                else:
                    closes += 1
        answer = _BRACKETS[tok.text] = (closes, depth)
    return answer


_OPENERS = frozenset("([{⟨⦃⟪⟦")
_CLOSERS = frozenset(")]}⟩⦄⟫⟧")
_BRACKETS: dict[str, tuple[int, int]] = {}


def token_kind(token: str) -> str:
    """``keyword`` for a table token that starts like an identifier (or ``#`` + letter)."""
    kind = _KINDS.get(token)
    if kind is None:
        first = is_id_first(token[0])
        kind = KEYWORD if first or (token[0] == "#" and is_id_first(token[1:2] or " ")) else SYMBOL
        _KINDS[token] = kind
    return kind


_KINDS: dict[str, str] = {}


class _Lexer:
    def __init__(self, text: str, table: TokenTable, max_tokens: int | None = None) -> None:
        self.text = text
        self.n = len(text)
        self.table = table
        self.max_tokens = max_tokens
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tokens: list[Token] = []

    # -- positions and errors ------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def error(self, message: str, offset: int) -> LexError:
        line, column = self.position(offset)
        return LexError(message, line, column)

    def emit(self, kind: str, start: int, end: int) -> int:
        line, column = self.position(start)
        self.tokens.append(Token(kind, self.text[start:end], line, column, start))
        return end

    def at(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    # -- driver --------------------------------------------------------------------------
    def run(self) -> list[Token]:
        text, n, tokens, table = self.text, self.n, self.tokens, self.table
        limit, starts, i = self.max_tokens, self.line_starts, 0
        keywords, tailed = table.keywords, table.tailed
        while i < n:
            m = _MASTER.match(text, i)
            group = m.lastgroup if m is not None else None
            if group == "ws":
                i = m.end()  # type: ignore[union-attr]
                continue
            start = i
            if group == "id":
                atom_end = m.end()  # type: ignore[union-attr]
                end = atom_end
                if atom_end < n and text[atom_end] == ".":
                    end = self.ident_end(i)
                word = None
                for candidate in tailed.get(text[i:atom_end], ()):
                    if len(candidate) >= end - i and text.startswith(candidate, i):
                        word = candidate
                        break
                if word is None and text[i:end] in keywords:
                    word = text[i:end]
                line = bisect.bisect_right(starts, i)
                if word is not None:
                    i += len(word)
                    tokens.append(Token(KEYWORD, word, line, start - starts[line - 1], start))
                else:
                    i = end
                    tokens.append(
                        Token(IDENT, text[start:end], line, start - starts[line - 1], start)
                    )
            elif group == "sym":
                token = table.longest(text, i)
                line = bisect.bisect_right(starts, i)
                if token is None:
                    i += 1
                    tokens.append(Token(SYMBOL, text[start], line, start - starts[line - 1], start))
                else:
                    i += len(token)
                    kind = token_kind(token)
                    tokens.append(Token(kind, token, line, start - starts[line - 1], start))
            else:
                i = self.lex_one(i)
            assert i > start
            if limit is not None and len(tokens) > limit:
                code = sum(t.kind not in COMMENT_KINDS for t in tokens)
                if code > limit:
                    line, column = self.position(start)
                    raise TooManyTokens(
                        f"more than {limit} tokens (the longest reference statement has under"
                        " 500); the gate stops reading",
                        line,
                        column,
                    )
                limit += limit - code  # comments do not count: look again later
        return self.tokens

    def lex_one(self, i: int) -> int:
        text, c, nxt = self.text, self.text[i], self.at(i + 1)
        if c == "-" and nxt == "-":
            end = text.find("\n", i)
            return self.emit(LINE_COMMENT, i, self.n if end < 0 else end)
        if c == "/" and nxt == "-":
            kind = {"-": DOC_COMMENT, "!": MODULE_DOC}.get(self.at(i + 2), BLOCK_COMMENT)
            # Lean's `whitespace` starts a plain comment's body after the third character
            # without looking at it, so `/-/-` opens only one level
            return self.emit(kind, i, self.comment_end(i, i + 3))
        if c == '"':
            return self.emit(STRING, i, self.string_end(i))
        if c == "r" and self.raw_string_start(i + 1):
            return self.emit(STRING, i, self.raw_string_end(i))
        if "0" <= c <= "9":
            return self.lex_number(i)
        if c == "`" and (is_id_first(nxt) or nxt == "«"):
            return self.emit(NAME, i, self.ident_end(i + 1))
        if c == "'" and nxt != "'":
            return self.emit(CHAR, i, self.char_end(i))
        token = self.table.longest(text, i)
        if is_id_first(c) or c == "«":
            end = self.ident_end(i)
            if token is not None and len(token) >= end - i and c != "«":
                return self.emit(token_kind(token), i, i + len(token))
            return self.emit(IDENT, i, end)
        if token is not None:
            return self.emit(token_kind(token), i, i + len(token))
        return self.emit(SYMBOL, i, i + 1)

    # -- comments ------------------------------------------------------------------------
    def comment_end(self, start: int, i: int) -> int:
        """End of a block comment whose body starts at ``i`` (Lean's ``finishCommentBlock``)."""
        depth = 1
        for mark in _COMMENT_MARK.finditer(self.text, min(i, self.n)):
            if mark.start() < i:
                continue
            if mark.group() == "-/":
                depth -= 1
                if depth == 0:
                    return mark.end()
            else:
                depth += 1
            i = mark.end()  # marks do not overlap: `/-/` is an opener, then `/`
        raise self.error("unterminated comment (opened here)", start)

    # -- literals ------------------------------------------------------------------------
    def escape_end(self, start: int, i: int, *, in_string: bool) -> int:
        """End of the escape whose backslash precedes ``i`` (Lean's ``quotedCharCoreFn``)."""
        c = self.at(i)
        if c == "":
            raise self.error("unterminated literal (opened here)", start)
        if c in _SIMPLE_ESCAPES:
            return i + 1
        if c in "xu":
            count = 2 if c == "x" else 4
            digits = self.text[i + 1 : i + 1 + count]
            if len(digits) != count or any(d not in _HEX for d in digits):
                raise self.error(f"invalid \\{c} escape (needs {count} hex digits)", i - 1)
            return i + 1 + count
        if in_string and c == "\n":
            return self.string_gap_end(i)
        raise self.error(f"invalid escape sequence `\\{c}`", i - 1)

    def string_gap_end(self, i: int) -> int:
        seen_newline = False
        while i < self.n and self.text[i] in " \t\r\n":
            if self.text[i] == "\n":
                if seen_newline:
                    raise self.error("more than one newline in a string gap", i)
                seen_newline = True
            i += 1
        return i

    def string_end(self, start: int) -> int:
        """End of the string literal opened at ``start``."""
        i = start + 1
        while i < self.n:
            quote = self.text.find('"', i)
            slash = self.text.find("\\", i)
            if quote < 0:
                break
            if slash < 0 or quote < slash:
                return quote + 1
            i = self.escape_end(start, slash + 1, in_string=True)
        raise self.error("unterminated string literal (opened here)", start)

    def char_end(self, start: int) -> int:
        i = start + 1
        if i >= self.n:
            raise self.error("unterminated character literal", start)
        if self.text[i] == "\\":
            i = self.escape_end(start, i + 1, in_string=False)
        else:
            i += 1
        if self.at(i) != "'":
            raise self.error("missing end of character literal", start)
        return i + 1

    def raw_string_start(self, i: int) -> bool:
        while self.at(i) == "#":
            i += 1
        return self.at(i) == '"'

    def raw_string_end(self, start: int) -> int:
        i = start + 1
        hashes = 0
        while self.text[i] == "#":
            hashes += 1
            i += 1
        closing = '"' + "#" * hashes
        end = self.text.find(closing, i + 1)
        if end < 0:
            raise self.error("unterminated raw string literal (opened here)", start)
        return end + len(closing)

    # -- identifiers and numbers ---------------------------------------------------------
    def ident_end(self, i: int) -> int:
        """End of a (dotted) identifier starting at ``i`` (Lean's ``identFnAux``)."""
        text = self.text
        while True:
            if self.at(i) == "«":
                close = text.find("»", i + 1)
                if close < 0:
                    raise self.error("unterminated identifier escape `«`", i)
                i = close + 1
            else:
                atom = _DOTTED.match(text, i)
                if atom is None:  # only reached after a dot, which was checked
                    return i
                i = atom.end()
            nxt = self.at(i + 1)
            if self.at(i) == "." and nxt and (is_id_first(nxt) or nxt == "«"):
                i += 1
                continue
            return i

    def take_digits(self, i: int, ok: str | None, *, need_digit: bool) -> int:
        """Lean's ``takeDigitsFn``: digits with ``_`` separators, no trailing ``_``."""
        while True:
            c = self.at(i)
            if c == "_":
                need_digit = True
            elif c and (("0" <= c <= "9") if ok is None else c in ok):
                need_digit = False
            else:
                if need_digit:
                    raise self.error("malformed number literal", i)
                return i
            i += 1

    def lex_number(self, start: int) -> int:
        prev = self.tokens[-1] if self.tokens else None
        if (
            prev is not None
            and prev.kind == SYMBOL
            and prev.text == "."
            and prev.end == start
            and len(self.tokens) > 1
            and self.tokens[-2].end == prev.offset
        ):
            # a field index (`h.1`, `x.2.1`): Lean reads digits only here
            digits = _DIGITS.match(self.text, start)
            assert digits is not None
            return self.emit(NUMBER, start, digits.end())
        base = {"b": "01", "o": "01234567", "x": _HEX}.get(self.at(start + 1).lower())
        if self.text[start] == "0" and base is not None:
            return self.emit(NUMBER, start, self.take_digits(start + 2, base, need_digit=True))
        i = self.take_digits(start, None, need_digit=False)
        if self.at(i) == ".":
            i += 1
            if "0" <= self.at(i) <= "9":
                i = self.take_digits(i, None, need_digit=False)
        if self.at(i) in ("e", "E"):
            i += 1
            if self.at(i) in ("+", "-"):
                i += 1
            if not "0" <= self.at(i) <= "9":
                raise self.error("missing exponent digits in scientific literal", i)
            i = self.take_digits(i, None, need_digit=False)
        return self.emit(NUMBER, start, i)
