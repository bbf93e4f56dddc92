"""Notation commands: ``[local|scoped] notation`` and ``infix``/``infixl``/``infixr``/``prefix``/
``postfix``, as the command grammar admits them (docs/security.md).

An atom must be a new symbol (or, the first atom of a ``notation``, one new letter, reported as
shadowing); later atoms may be existing closing brackets and commas; the atoms, read in order,
must open and close brackets as a matched bracket string; the body is a term with no tactic
block. A global (or scoped) notation is a global effect.
"""

from __future__ import annotations

from formalize.lean.chars import NEWER_ID_CHARS, is_id_first
from formalize.lean.cursor import Refusal, TokenCursor, show
from formalize.lean.lexer import IDENT, KEYWORD, NUMBER, STRING, SYMBOL, Token, brackets
from formalize.lean.policy import FORBIDDEN_NAME_PARTS, is_reserved_name
from formalize.lean.tokens import token_table

_NOTATIONS = frozenset({"notation", "infix", "infixl", "infixr", "prefix", "postfix"})
#: What an existing token may hold to be a later atom of a notation (never `:=`, `|`, `=>`:
#: the grammar reads declarations by them).
_CLOSING_ATOM = frozenset(")]}⟩⦄⟫⟧,")
_ATOM_FORBIDDEN = frozenset("\"'`«»#@$ \t\n\\")
#: What may follow the one letter of a name atom: digits, subscripts, primes.
#: (``ⱼ`` is a subscript letter only since Lean v4.16: not here.)
_NAME_ATOM_TAIL = frozenset("0123456789'₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢᵣᵤᵥ")


class NotationParser(TokenCursor):
    """The notation commands of :class:`~formalize.lean.grammar.CommandGrammar`."""

    def parse_notation(self, i: int, *, local: bool, scoped: bool = False) -> int:
        """``[local] notation[:prec] (arg[:prec] | "atom")+ => term`` and the one-atom
        ``infixl:65 " ⋆ " => f`` family, new symbolic atoms only. A global one outlives the
        candidate's scopes (a global effect)."""
        tok, j = self.code[i], self.take(i)
        if tok.text != "notation":
            if not self.is_(j, ":") or (p := self.tok(j + 1)) is None or p.kind != NUMBER:
                raise Refusal(f"`{tok.text}` at line {tok.line} needs a precedence")
            atom = self.tok(j + 2)
            if atom is None or atom.kind != STRING or not self.is_(j + 3, "=>"):
                raise Refusal(f"malformed `{tok.text}` at line {tok.line}")
            self.check_atom(atom)
            _check_atom_brackets([atom])
            self.out.accepted_spans.append((atom.offset, atom.end))
            j += 3
        if self.is_(j, ":") and (p := self.tok(j + 1)) is not None and p.kind == NUMBER:
            j += 2
        atoms = int(tok.text != "notation")
        strings: list[Token] = []
        while tok.text == "notation" and (t := self.tok(j)) is not None and not self.is_(j, "=>"):
            if t.kind == STRING:
                self.check_atom(t, first=not atoms, name_ok=not atoms)
                strings.append(t)
                self.out.accepted_spans.append((t.offset, t.end))
                atoms += 1
            elif t.kind == IDENT:
                if self.is_(j + 1, ":") and (p := self.tok(j + 2)) and p.kind == NUMBER:
                    j += 2
            else:
                raise Refusal(f"unexpected {show(t)} in `notation` (line {tok.line})")
            j += 1
        if not atoms or not self.is_(j, "=>"):
            raise Refusal(f"malformed `notation` at line {tok.line}")
        _check_atom_brackets(strings)
        end = self.term_end(j + 1)
        if end == j + 1:
            raise Refusal(f"`notation` at line {tok.line} has no body")
        for k in range(j + 1, end):
            if self.code[k].kind == KEYWORD and self.code[k].text in ("by", "decreasing_by"):
                raise Refusal(  # it would run at every use, hidden behind a symbol
                    f"tactic block (`by`) in a notation at line {self.code[k].line}: a notation"
                    " may not hide tactics"
                )
        self.no_tactics(j + 1, end, "in a notation")
        if not local or scoped:
            self.out.global_effects.append(f"notation at line {tok.line}")
        return end

    def check_atom(self, t: Token, *, first: bool = True, name_ok: bool = False) -> bool:
        """A notation atom must be a new symbol; one after the first that is only closing
        brackets and commas (``")"`` in ``"⌊⌊" n ")"``) may be an existing token: Lean reads
        it there only inside this notation, which its first atom starts. With ``name_ok`` (the
        first atom of a ``notation``) it may also be one whole new name (``"F"``, ``"SL₂"``):
        True then (see :meth:`name_atom`)."""
        atom = t.text[1:-1].strip(" ")  # Lean trims atoms: `" ⋆ "` is the token `⋆`
        if name_ok and self.name_atom(t, atom):
            return True
        if (
            not atom
            or "\\" in t.text
            or any(c in _ATOM_FORBIDDEN for c in atom)
            or any(c.isascii() and (c.isalpha() or c == "_") for c in atom)
            or atom.isdigit()
            or any(m in atom for m in ("--", "/-", "-/"))
        ):
            raise Refusal(
                f"notation atom {show(t)}: atoms must be new symbols (no ASCII letters,"
                " quotes, `#`, `@`, `$`, spaces or comment markers), or a first atom of one"
                ' letter (`"F"`), never a word'
            )
        if token_table().is_token(atom):
            if not first and all(c in _CLOSING_ATOM for c in atom):
                return False  # `")"`, `", "`: they end or separate the notation's own arguments
            raise Refusal(
                f"notation atom {show(t)} redefines an existing Lean token (the statement would"
                " not mean what it reads as)"
            )
        from formalize.lean.lexer import LexError, tokenize

        try:
            pieces = tokenize(atom)
        except LexError:
            pieces = []
        operand = next((p for p in pieces if p.kind in (IDENT, NUMBER)), None)
        if operand is not None:
            spelled = " ".join(p.text for p in pieces)
            raise Refusal(
                f"notation atom {show(t)} reads as `{spelled}` without the notation (its"
                f" `{operand.text}` looks like an operand): the statement would not mean what it"
                " reads as"
            )
        _check_no_existing_prefix(t, atom)
        return False

    def name_atom(self, t: Token, atom: str) -> bool:
        """Whether ``atom`` is a one-letter name that is no token yet (``"F"``, ``"𝕋"``,
        ``"G₂"``), the first atom of a ``notation``: like a definition of that name (a word,
        ``"True"``, could be a library's name a reader knows: refused). Lean's
        identifier reader keeps a longer name whole (``Foo``, ``F.x``, ``F'`` stay names; read
        in ``identFnAux``/``mkIdResult``: a token wins only a tie), so only the name itself
        changes meaning, and the atom-scope check refuses a use of it before the notation is
        made (an earlier ``def F`` or binder ``F``). After it, ``F`` means the notation whatever
        else the library or an open namespace names ``F``: reported as shadowing."""
        from formalize.lean.lexer import LexError, tokenize

        if not atom or token_table().is_token(atom) or "\\" in t.text:
            return False
        try:
            pieces = tokenize(atom)
        except LexError:
            return False
        if len(pieces) != 1 or pieces[0].kind != IDENT or pieces[0].text != atom:
            return False
        first, tail = atom[0], atom[1:]
        if not (is_id_first(first) and first != "_" and first not in NEWER_ID_CHARS):
            return False  # a letter in every pinned Lean (`é` is one only since v4.22)
        if not all(c in _NAME_ATOM_TAIL for c in tail):
            return False  # one letter (`F`, `𝕋`, `G₂`, `P'`): no word a library names
        if atom in FORBIDDEN_NAME_PARTS or is_reserved_name(atom):
            raise Refusal(f"notation atom {show(t)} is a name statements may not use")
        _check_no_existing_prefix(t, atom)
        self.out.shadowing.append(
            f"notation atom `{atom}` at line {t.line}: after it, `{atom}` means this notation,"
            f" whatever else is named `{atom}`"
        )
        return True

    def parse_notation_attributes(self, i: int) -> None:
        """``@[inherit_doc]`` (optionally with a name) before a notation: dropped."""
        end = self.group_end(i)
        inner = self.code[i + 1 : end - 1]
        if not inner or inner[0].text != "inherit_doc" or any(t.kind != IDENT for t in inner):
            raise Refusal(
                f"attributes at line {self.code[i].line} on a notation: only `@[inherit_doc]`"
            )
        self.out.stripped_spans.append((self.code[i].offset, self.code[end - 1].end))


#: The tokens the checker's own text (the filters' probes, tactics.toml) writes right before
#: another character (``(∀``, ``),``, ``({conclusion}``, ``[*]``, ``.{u}``): every other
#: token of that text is followed by a space.
_GLUE = frozenset("()[]{},")


def _check_no_existing_prefix(t: Token, atom: str) -> None:
    """A new atom may not begin with an existing token of :data:`_GLUE` (``"(("``, ``"),"``,
    ``"(∀"``): Lean reads the longest token, so any text with that token followed by
    the rest of the atom would read as the atom, also text the candidate did not write (the
    filters' probes put ``(∀``, ``),`` and ``((`` around a statement: broken, they read as
    "inconclusive", a way past the filters the red team found). ``"<₂"`` may begin with ``<``:
    the checker's text never follows a ``<`` with anything but a space."""
    prefix = token_table().longest(atom, 0)
    if prefix is not None and prefix != atom and prefix[0] in _GLUE:
        raise Refusal(
            f"notation atom {show(t)} begins with the existing token `{prefix}`: any text with"
            f" `{prefix}` followed by `{atom[len(prefix) :]}` would read as the atom"
        )


_PAIRS = dict(zip(")]}⟩⦄⟫⟧", "([{⟨⦃⟪⟦", strict=True))


def _check_atom_brackets(atoms: list[Token]) -> None:
    """A notation's atoms, read in order, must open and close brackets as a balanced bracket
    string (``"ℓ(" n ")"``, ``"⟪" x ", " y "⟫_ℝ"``): the gate tracks where tactic blocks and
    terms end by bracket depth at every use, while Lean reads the atoms only as the notation's.
    An atom that closes what it did not open (``"⧫" x ")"``), or opens what no later atom
    closes (``" ⧫( "``), would put the gate's depth and Lean's apart: a tactic the gate sees
    inside brackets would be, for Lean, the next tactic of the block (or the reverse)."""
    stack: list[str] = []
    for t in atoms:
        text = t.text[1:-1].strip(" ")
        closes, opens = brackets(Token(SYMBOL, text, t.line, t.column))
        for c in text[:closes]:
            if not stack or stack.pop() != _PAIRS[c]:
                raise Refusal(
                    f"notation atom {show(t)} closes a bracket the notation did not open: Lean"
                    " reads it inside the notation, the gate as the end of a bracket"
                )
        stack += text[len(text) - opens :] if opens else ""
    if stack:
        raise Refusal(
            f"notation atom {show(atoms[-1])}: the notation opens `{stack[-1]}` and never"
            " closes it (Lean reads the atoms inside the notation, the gate as brackets)"
        )
