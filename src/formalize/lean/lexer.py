"""A Lean 4 lexer for gating untrusted source text.

It follows the lexical rules of Lean's own parser (``Lean.Parser.Basic``): what ``whitespace``
treats as a comment (``--`` to the end of the line, nested ``/- -/``), the doc-comment tokens
``/--`` and ``/-!``, string literals with Lean's escapes and string gaps, character literals
(``'a'`` versus the prime in ``x'``), ``«guillemet»`` identifier parts, dotted identifiers with
Lean's notion of letters (ASCII letters, most Greek, the letter-like block, mathematical
alphanumerics; subscripts after the first character), raw strings ``r#"..."#``, number literals
(``0x``/``0b``/``0o``, ``_`` separators, scientific), name literals (`` `foo ``), field indices
(``h.1``) and interpolated strings (``s!"..{x}.."``, whose ``{}`` holds code that is lexed too).

Where Lean reports a lexical error this lexer raises :class:`LexError`: anything it accepts is
cut into the same literals, comments and identifiers that Lean sees, which is what lets
:mod:`formalize.lean.statement` match deny-lists on tokens. Symbols are split finer than Lean's
token table (which grows with every ``notation``) except for a few known multi-character tokens;
that only matters next to comment markers, which the gate checks separately.

Pure functions, no I/O.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

IDENT = "ident"
KEYWORD = "keyword"
NUMBER = "number"
STRING = "string"
CHAR = "char"
NAME = "name"
INTERP = "interp"
SYMBOL = "symbol"
LINE_COMMENT = "line_comment"
BLOCK_COMMENT = "block_comment"
DOC_COMMENT = "doc_comment"
MODULE_DOC = "module_doc"

#: Kinds that carry no code and no declaration documentation.
TRIVIA_KINDS = frozenset({LINE_COMMENT, BLOCK_COMMENT, MODULE_DOC})
#: Comment-like kinds (trivia plus the doc comment that attaches to a declaration).
COMMENT_KINDS = TRIVIA_KINDS | {DOC_COMMENT}

#: Identifier-shaped words that Lean (core or Mathlib) reserves as keywords. Anything written
#: with ``«»`` is an identifier, never a keyword.
KEYWORDS = frozenset(
    """
    theorem lemma example def abbrev instance structure class inductive coinductive axiom opaque
    constant namespace section end open variable universe import prelude set_option in at by fun
    let have show from suffices calc do then else if match with where deriving mutual private
    protected noncomputable partial unsafe nonrec macro macro_rules syntax elab elab_rules notation
    notation3 infix infixl infixr prefix postfix initialize builtin_initialize attribute run_cmd
    run_elab run_meta run_tac by_elab native_decide sorry admit Type Sort Prop nomatch nofun
    termination_by decreasing_by export omit include scoped local hiding renaming extends
    declare_syntax_cat test_extern register_simp_attr simproc dsimproc alias irreducible_def
    s! m! f!
    """.split()  # noqa: SIM905
)

#: Multi-character symbols Lean has as single tokens, longest first. Those containing ``'``
#: matter: without them ``f ⁻¹' s`` would start a character literal.
MULTI_SYMBOLS = (
    "<;>",
    "<->",
    "...",
    "|>.",
    "⁻¹'",
    ":=",
    "::",
    "=>",
    "->",
    "<-",
    "..",
    "@[",
    "#[",
    "''",
    "∑'",
    "∏'",
    "∃!",
    "∀ᶠ",
    "∃ᶠ",
    "⁻¹",
    "|>",
    "<|",
    "<=",
    ">=",
    "!=",
    "==",
    "&&",
    "||",
    "++",
)

#: Keywords after which a string literal is an interpolated string (code inside ``{}``).
INTERPOLATION_INTRODUCERS = frozenset({"s!", "m!", "f!", "throwError", "dbg_trace"})

_WHITESPACE = " \t\r\n"
_DEFAULT_ESCAPES = "\\\"'rnt"
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True)
class Token:
    """One lexeme: ``kind`` (a module constant), exact ``text``, 1-based ``line``, 0-based
    ``column`` in code points. ``offset`` (into the lexed text) is not part of equality."""

    kind: str
    text: str
    line: int
    column: int
    offset: int = field(default=0, compare=False, repr=False)

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


def is_letter_like(c: str) -> bool:
    """Lean's ``isLetterLike``: Greek but λ Π Σ, Coptic, letter-like symbols, math letters."""
    v = ord(c)
    return (
        (0x3B1 <= v <= 0x3C9 and v != 0x3BB)
        or (0x391 <= v <= 0x3A9 and v not in (0x3A0, 0x3A3))
        or 0x3CA <= v <= 0x3FB
        or 0x1F00 <= v <= 0x1FFE
        or 0x2100 <= v <= 0x214F
        or 0x1D49C <= v <= 0x1D59F
    )


def is_subscript_alnum(c: str) -> bool:
    """Lean's ``isSubScriptAlnum``: subscript digits and letters."""
    v = ord(c)
    return 0x2080 <= v <= 0x2089 or 0x2090 <= v <= 0x209C or 0x1D62 <= v <= 0x1D6A


def is_id_first(c: str) -> bool:
    """Can ``c`` start a Lean identifier? (Lean's ``isAlpha`` is ASCII-only.)"""
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or is_letter_like(c)


def is_id_rest(c: str) -> bool:
    """Can ``c`` continue a Lean identifier?"""
    return is_id_first(c) or ("0" <= c <= "9") or c in "'!?" or is_subscript_alnum(c)


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` in order, comments included; raises :class:`LexError`."""
    return _Lexer(text).run()


def code_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens that are code (no comments, no doc comments)."""
    return [t for t in tokens if t.is_code]


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.tokens: list[Token] = []

    # -- positions and errors ------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def error(self, message: str, offset: int) -> LexError:
        line, column = self.position(offset)
        return LexError(message, line, column)

    def emit(self, kind: str, start: int, end: int) -> None:
        line, column = self.position(start)
        self.tokens.append(Token(kind, self.text[start:end], line, column, start))

    def at(self, i: int) -> str:
        return self.text[i] if i < self.n else ""

    # -- driver --------------------------------------------------------------------------
    def run(self) -> list[Token]:
        end = self.lex_until(0, inside_braces=False)
        assert end == self.n
        return self.tokens

    def lex_until(self, i: int, *, inside_braces: bool) -> int:
        """Lex from ``i``; inside an interpolation stop at the ``}`` that closes it."""
        depth = 0
        while i < self.n:
            c = self.text[i]
            if c in _WHITESPACE:
                i += 1
                continue
            if inside_braces and c == "}" and depth == 0:
                return i
            start = i
            i = self.lex_one(i)
            last = self.tokens[-1]
            if last.kind == SYMBOL and last.text == "{":
                depth += 1
            elif last.kind == SYMBOL and last.text == "}":
                depth -= 1
            if last.kind in (KEYWORD, IDENT) and last.text in INTERPOLATION_INTRODUCERS:
                j = i
                while j < self.n and self.text[j] in _WHITESPACE:
                    j += 1
                if self.at(j) == '"':
                    i = self.lex_interpolated(j)
            assert i > start
        if inside_braces:
            raise self.error("unterminated interpolated string", i)
        return i

    def lex_one(self, i: int) -> int:
        text, c, nxt = self.text, self.text[i], self.at(i + 1)
        if c == "-" and nxt == "-":
            end = text.find("\n", i)
            end = self.n if end < 0 else end
            self.emit(LINE_COMMENT, i, end)
            return end
        if c == "/" and nxt == "-":
            third = self.at(i + 2)
            kind = {"-": DOC_COMMENT, "!": MODULE_DOC}.get(third, BLOCK_COMMENT)
            # Lean's `whitespace` starts a plain comment's body after the third character
            # without looking at it, so `/-/-` opens only one level
            end = self.comment_end(i, i + 3)
            self.emit(kind, i, end)
            return end
        if c == '"':
            end = self.string_end(i, i + 1, interpolated=False)
            self.emit(STRING, i, end)
            return end
        if c == "'" and nxt != "'":
            end = self.char_end(i)
            self.emit(CHAR, i, end)
            return end
        if _is_digit(c):
            return self.lex_number(i)
        if c == "`" and (is_id_first(nxt) or nxt == "«"):
            end = self.ident_end(i + 1)
            self.emit(NAME, i, end)
            return end
        if c == "r" and self.raw_string_start(i + 1):
            end = self.raw_string_end(i)
            self.emit(STRING, i, end)
            return end
        if is_id_first(c) or c == "«":
            end = self.ident_end(i)
            word = text[i:end]
            self.emit(KEYWORD if word in KEYWORDS else IDENT, i, end)
            return end
        if c == "#" and (is_id_first(nxt)):
            end = i + 1
            while end < self.n and (is_id_rest(text[end])):
                end += 1
            self.emit(KEYWORD, i, end)
            return end
        for sym in MULTI_SYMBOLS:
            if text.startswith(sym, i):
                self.emit(SYMBOL, i, i + len(sym))
                return i + len(sym)
        self.emit(SYMBOL, i, i + 1)
        return i + 1

    # -- comments ------------------------------------------------------------------------
    def comment_end(self, start: int, i: int) -> int:
        """End of a block comment whose body starts at ``i`` (Lean's ``finishCommentBlock``)."""
        text, depth = self.text, 1
        while i < self.n:
            if text.startswith("-/", i):
                depth -= 1
                i += 2
                if depth == 0:
                    return i
            elif text.startswith("/-", i):
                depth += 1
                i += 2
            else:
                i += 1
        raise self.error("unterminated comment (opened here)", start)

    # -- literals ------------------------------------------------------------------------
    def escape_end(self, start: int, i: int, *, in_string: bool, interpolated: bool) -> int:
        """End of the escape whose backslash precedes ``i`` (Lean's ``quotedCharCoreFn``)."""
        c = self.at(i)
        if c == "":
            raise self.error("unterminated literal (opened here)", start)
        if c in _DEFAULT_ESCAPES or (interpolated and c == "{"):
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
        while i < self.n and self.text[i] in _WHITESPACE:
            if self.text[i] == "\n":
                if seen_newline:
                    raise self.error("more than one newline in a string gap", i)
                seen_newline = True
            i += 1
        return i

    def string_end(self, start: int, i: int, *, interpolated: bool) -> int:
        """End of a string literal; for interpolated strings stop after ``{`` (returns there)."""
        while i < self.n:
            c = self.text[i]
            if c == '"':
                return i + 1
            if c == "\\":
                i = self.escape_end(start, i + 1, in_string=True, interpolated=interpolated)
            elif c == "{" and interpolated:
                return i + 1
            else:
                i += 1
        raise self.error("unterminated string literal (opened here)", start)

    def lex_interpolated(self, i: int) -> int:
        """Interpolated string at ``i`` (a ``"``): literal pieces plus the code between braces."""
        piece_start = i
        while True:
            end = self.string_end(piece_start, i + 1, interpolated=True)
            self.emit(INTERP, piece_start, end)
            if self.text[end - 1] == '"':
                return end
            # ``{``: lex the code up to the matching ``}``, which opens the next piece
            close = self.lex_until(end, inside_braces=True)
            piece_start, i = close, close

    def char_end(self, start: int) -> int:
        i = start + 1
        if i >= self.n:
            raise self.error("unterminated character literal", start)
        if self.text[i] == "\\":
            i = self.escape_end(start, i + 1, in_string=False, interpolated=False)
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
                i += 1
                while i < self.n and is_id_rest(text[i]):
                    i += 1
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
            elif c and (_is_digit(c) if ok is None else c in ok):
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
            i = start
            while _is_digit(self.at(i)):
                i += 1
            self.emit(NUMBER, start, i)
            return i
        base = {"b": "01", "o": "01234567", "x": _HEX}.get(self.at(start + 1).lower())
        if self.text[start] == "0" and base is not None:
            end = self.take_digits(start + 2, base, need_digit=True)
            self.emit(NUMBER, start, end)
            return end
        i = self.take_digits(start, None, need_digit=False)
        if self.at(i) == ".":
            i += 1
            if _is_digit(self.at(i)):
                i = self.take_digits(i, None, need_digit=False)
        if self.at(i) in ("e", "E"):
            i += 1
            if self.at(i) in ("+", "-"):
                i += 1
            if not _is_digit(self.at(i)):
                raise self.error("missing exponent digits in scientific literal", i)
            i = self.take_digits(i, None, need_digit=False)
        self.emit(NUMBER, start, i)
        return i
