"""The global names a candidate refers to, with the scope Lean would resolve each in.

A single pass over the gate's tokens (:mod:`formalize.lean.lexer`): it follows ``namespace`` /
``section`` / ``end``, ``open`` (and ``open … in``, which lasts one command), and sets apart
every identifier that is not a reference to a global constant: binders (``(x y : T)``,
``{α}``, ``[inst : C]``, ``variable``s, the bound variables of ``∀ ∃ fun λ ∑ ∏ ⋃ ⨆ …`` and of
set-builder ``{x | …}``, ``match`` patterns, ``let``/``have``), what is inside a tactic
block (``by …``: tactic names, names tactics bind), the names the candidate declares itself
(``def``, ``structure`` and its fields, ``inductive`` and its constructors, the fields of a
``where`` block), universe names, attribute and option names, named arguments
(``(n := 3)``), and the field after a dot (``.foo``, ``(e).foo``, ``e |>.foo``). What
remains is a ``NameUse``: the name as written, where it is, and the namespaces and ``open``s
in force there. Whether it resolves is :mod:`formalize.names.check`'s question.

The binder rules over-approximate on purpose: a name bound anywhere in the candidate counts
as local everywhere in it. That can only hide a wrong name, never flag a right one; the
check is advice, so a false alarm costs more than a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

from formalize.lean.lexer import IDENT, KEYWORD, LexError, Token, code_tokens, tokenize

# Tokens after which identifiers are bound variables (up to `,` `:` `∈` `=>` `|` ...).
_BINDER_STARTS = frozenset(
    [
        "∀",
        "∃",
        "∃!",
        "fun",
        "λ",
        "Σ",
        "Σ'",
        "Π",
        "∑",
        "∏",
        "∑'",
        "∏'",
        "⋃",
        "⋂",
        "⨆",
        "⨅",
        "∀ᶠ",
        "∃ᶠ",
        "∫",
        "∫⁻",
        "∮",
        "∑ᶠ",
        "∏ᶠ",
        "⨁",
        "∀ᵉ",
        "∃ᵉ",
        "let",
        "have",
        "letI",
        "haveI",
        "obtain",
        "⋃₀",
        "⋂₀",
        "∐",
        "⨂",
    ]
)
_BINDER_PREFIXES = ("∑", "∏", "⋃", "⋂", "⨆", "⨅", "∀", "∃", "∫")
# Commands that start at the top level (an `open … in` lasts until the next one).
_COMMANDS = frozenset(
    [
        "theorem",
        "lemma",
        "def",
        "example",
        "abbrev",
        "instance",
        "structure",
        "class",
        "inductive",
        "axiom",
        "opaque",
        "namespace",
        "section",
        "end",
        "open",
        "variable",
        "universe",
        "set_option",
        "noncomputable",
        "private",
        "protected",
        "notation",
        "infix",
        "infixl",
        "infixr",
        "prefix",
        "postfix",
        "local",
        "scoped",
        "attribute",
        "export",
        "import",
    ]
)
_DECLARES = frozenset(
    [
        "theorem",
        "lemma",
        "def",
        "abbrev",
        "instance",
        "structure",
        "class",
        "inductive",
        "axiom",
        "opaque",
    ]
)
_OPENERS = frozenset(["(", "{", "[", "⦃", "⟨", "{{", "@[", "⟦", "⟪", "![", "#[", "%["])
_CLOSERS = frozenset([")", "}", "]", "⦄", "⟩", "}}", "⟧", "⟫"])
_TACTIC_BLOCKS = frozenset({"by", "decreasing_by", "termination_by"})
# The namespaces of the types written as notation.
_TYPE_NAMESPACES = {"ℕ": "Nat", "ℤ": "Int", "ℚ": "Rat", "ℝ": "Real", "ℂ": "Complex"}
# Commands whose identifiers are not terms to resolve.
_SKIP_COMMANDS = frozenset({"set_option", "universe", "export", "attribute", "import"})


@dataclass(frozen=True)
class NameUse:
    """One reference to a global constant: the name ``as written``, where it is (1-based line,
    0-based column), the namespace it is in (``"Foo.Bar"``, ``""`` at the root) and the
    namespaces opened there, innermost last."""

    name: str
    line: int
    column: int
    namespace: str = ""
    opens: tuple[str, ...] = ()
    # namespaces its position points to: the type of the local it is applied to (`(x : ℝ)`
    # makes `Foo.sqrt x` point to `Real`), `Finset` after `∑ i ∈` (big operators range over
    # finsets); suggestions there rank next after the namespace as written
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scan:
    """What a candidate refers to: its ``uses``, in order, and the names it binds or declares
    itself (``locals``: bare binders, and declared names with and without their namespace)."""

    uses: tuple[NameUse, ...]
    locals: frozenset[str]
    # the namespaces of the types it writes: ``ℝ`` anywhere -> ``Real``, a binder ``(s : Finset
    # ℕ)`` -> ``Finset`` (a wrong name's suggestions there rank ahead of others)
    types: frozenset[str] = frozenset()


def scan(text: str) -> Scan:
    """The ``Scan`` of a candidate's text; a text Lean cannot lex has no uses."""
    try:
        code = code_tokens(tokenize(text))
    except LexError:
        return Scan((), frozenset())
    return _Scanner(code).run()


def _is(tok: Token | None, *texts: str) -> bool:
    return tok is not None and tok.kind != IDENT and tok.text in texts


class _Scanner:
    def __init__(self, code: list[Token]) -> None:
        self.code = code
        self.locals: set[str] = set()
        self.skip: set[int] = set()  # token indices that are not references
        self.types: dict[str, str] = {}  # a local -> the namespace of its type's head

    def at(self, i: int) -> Token | None:
        return self.code[i] if 0 <= i < len(self.code) else None

    def run(self) -> Scan:
        self.mark_bindings()
        uses: list[NameUse] = []
        scopes: list[tuple[str, str | None, list[str]]] = [("root", None, [])]
        pending: list[str] = []  # `open … in`: for the next command only
        once: list[str] = []  # the opens of the current command
        command = ""
        depth = 0
        i = 0
        code = self.code
        while i < len(code):
            tok = code[i]
            top = depth == 0 and tok.kind == KEYWORD and tok.text in _COMMANDS
            if top and tok.text not in ("private", "protected", "noncomputable", "local"):
                once, pending = pending, []
                command = tok.text
            if top and tok.text == "open":
                names, i = self.open_names(i + 1)
                if _is(self.at(i), "in"):
                    pending = pending + names
                    i += 1
                else:
                    scopes[-1][2].extend(names)
                continue
            if top and tok.text in ("namespace", "section"):
                nxt = self.at(i + 1)
                name = nxt.text if nxt is not None and nxt.kind == IDENT else None
                scopes.append((tok.text, name, []))
                i += 2 if name else 1
                continue
            if top and tok.text == "end":
                nxt = self.at(i + 1)
                if len(scopes) > 1:
                    scopes.pop()
                i += 2 if nxt is not None and nxt.kind == IDENT and nxt.line == tok.line else 1
                continue
            if tok.kind in ("symbol", KEYWORD):
                if tok.text in _OPENERS or tok.text.endswith(("(", "[", "{")):
                    depth += 1
                elif tok.text in _CLOSERS and depth > 0:
                    depth -= 1
            if tok.kind == IDENT and i not in self.skip and command not in _SKIP_COMMANDS:
                namespace = ".".join(n for kind, n, _ in scopes if kind == "namespace" and n)
                opens = tuple(o for _, _, os in scopes for o in os) + tuple(once)
                use = NameUse(tok.text, tok.line, tok.column, namespace, opens, self.hints(i))
                uses.append(use)
            i += 1
        types = {v for v in self.types.values() if v}
        types.update(_TYPE_NAMESPACES[t.text] for t in code if t.text in _TYPE_NAMESPACES)
        return Scan(tuple(uses), frozenset(self.locals), frozenset(types))

    def open_names(self, i: int) -> tuple[list[str], int]:
        """The namespaces of an ``open`` command starting at ``i``, and where it ends."""
        names: list[str] = []
        first_line = self.code[i - 1].line
        while (tok := self.at(i)) is not None:
            if tok.kind == IDENT and (tok.line == first_line or not names):
                names.append(tok.text)
                i += 1
            elif _is(tok, "scoped"):
                i += 1
            elif _is(tok, "(", "hiding", "renaming"):  # `open Foo (a b)` and the like
                i = self.skip_to_line_end(i)
                break
            else:
                break
        return names, i

    def skip_to_line_end(self, i: int) -> int:
        line = self.code[i].line
        while (tok := self.at(i)) is not None and tok.line == line:
            i += 1
        return i

    # -- what is not a reference -------------------------------------------------------------

    def mark_bindings(self) -> None:
        code = self.code
        namespace: list[str] = []
        for i, tok in enumerate(code):
            prev = self.at(i - 1)
            if tok.kind == IDENT:
                if prev is not None and prev.kind != IDENT and prev.text.endswith("."):
                    self.skip.add(i)  # `.foo`, `(e).foo`, `e |>.foo`
                elif _is(self.at(i + 1), ":=") and _is(prev, "(", "{", ",", "with"):
                    self.skip.add(i)  # a named argument or a structure instance field
                continue
            if tok.kind == KEYWORD and tok.text in ("namespace", "section"):
                nxt = self.at(i + 1)
                if tok.text == "namespace" and nxt is not None and nxt.kind == IDENT:
                    namespace.append(nxt.text)
                    self.skip.add(i + 1)
            elif tok.kind == KEYWORD and tok.text == "end":
                nxt = self.at(i + 1)
                if nxt is not None and nxt.kind == IDENT and nxt.line == tok.line:
                    self.skip.add(i + 1)
                    if namespace and namespace[-1] == nxt.text:
                        namespace.pop()
            elif tok.kind == KEYWORD and tok.text in _DECLARES:
                self.declared(i, ".".join(namespace))
            elif tok.kind == KEYWORD and tok.text == "universe":
                j = i + 1
                while (u := self.at(j)) is not None and u.kind == IDENT and u.line == tok.line:
                    self.bind(j)
                    j += 1
            elif tok.text == "@[":
                self.skip_group(i)
            elif tok.kind == KEYWORD and tok.text in _TACTIC_BLOCKS:
                self.skip_tactics(i)
            elif tok.kind == KEYWORD and tok.text == "where":
                self.where_fields(i)
            elif tok.text in _OPENERS or tok.text.endswith(("(", "{", "[")):
                self.bracket_binders(i)
            if tok.text in _BINDER_STARTS or (
                tok.kind != IDENT and tok.text.startswith(_BINDER_PREFIXES)
            ):
                self.binder_list(i + 1)
            elif tok.text == "|":
                self.pattern(i + 1)

    def bind(self, i: int) -> None:
        tok = self.code[i]
        self.skip.add(i)
        self.locals.add(tok.text)

    def declared(self, i: int, namespace: str) -> None:
        """A declaration's own name, and a structure's fields or an inductive's constructors."""
        kw = self.code[i]
        nxt = self.at(i + 1)
        if nxt is None or nxt.kind != IDENT:
            return
        self.skip.add(i + 1)
        name = nxt.text
        self.locals.update({name, f"{namespace}.{name}" if namespace else name})
        if kw.text not in ("structure", "class", "inductive"):
            return
        # fields (`a : T` at a line start) and constructors (`| c`) up to the next command
        j = i + 2
        while (tok := self.at(j)) is not None:
            if tok.kind == KEYWORD and tok.text in _COMMANDS and tok.column == 0:
                break
            prev = self.at(j - 1)
            first_on_line = prev is not None and prev.line < tok.line
            if tok.kind == IDENT and (
                _is(prev, "|") or _is(self.at(j + 1), ":", "::") or first_on_line
            ):
                self.skip.add(j)
                self.locals.update({tok.text, f"{name}.{tok.text}"})
            j += 1

    def where_fields(self, i: int) -> None:
        """``instance … where`` / ``def … where``: the field names that start its lines."""
        for j in range(i + 1, len(self.code)):
            tok = self.code[j]
            if tok.kind == KEYWORD and tok.text in _COMMANDS and tok.column == 0:
                return
            prev = self.code[j - 1]
            if tok.kind == IDENT and prev.line < tok.line and "." not in tok.text:
                self.skip.add(j)

    def skip_tactics(self, i: int) -> None:
        """A tactic block (``by …``) up to the end of its bracket or command: tactic names and
        the names tactics bind are not terms of the statement (and the gate allows no tactics
        in a candidate but side proofs)."""
        depth = 0
        for j in range(i + 1, len(self.code)):
            tok = self.code[j]
            if tok.kind == KEYWORD and tok.text in _COMMANDS and tok.column == 0:
                return
            if tok.kind == IDENT:
                self.skip.add(j)
            elif tok.text in _OPENERS or tok.text.endswith(("(", "[", "{")):
                depth += 1
            elif tok.text in _CLOSERS:
                depth -= 1
                if depth < 0:
                    return

    def skip_group(self, i: int) -> None:
        depth = 0
        for j in range(i, len(self.code)):
            tok = self.code[j]
            if tok.kind == IDENT:
                self.skip.add(j)
            elif tok.text in _OPENERS or tok.text.endswith(("(", "[", "{")):
                depth += 1
            elif tok.text in _CLOSERS:
                depth -= 1
                if depth <= 0:
                    return

    def bracket_binders(self, i: int) -> None:
        """``(a b : T)``, ``{α}``, ``{x | p}``, ``{(x, y) : T | p}``: the leading names bind."""
        j = i + 1
        names: list[int] = []
        while (tok := self.at(j)) is not None:
            if tok.kind == IDENT and "." not in tok.text:
                names.append(j)
            elif not _is(tok, "(", ")", ",", "_", "⟨", "⟩"):
                break
            j += 1
        after = self.at(j)
        opener = self.code[i].text
        closes = opener in ("{", "⦃", "{{") and _is(after, "}", "⦄", "}}")
        binds = _is(after, ":", "|", "∈", "∉", "⊆", ":=")  # `:=`: a binder's default value
        if names and (binds or (closes and opener != "{")):
            for k in names:
                self.bind(k)
            head = self.at(j + 1) if _is(after, ":") else None
            if head is not None:
                space = _TYPE_NAMESPACES.get(head.text, head.text if head.kind == IDENT else "")
                for k in names:
                    self.types.setdefault(self.code[k].text, space)

    def hints(self, i: int) -> tuple[str, ...]:
        """The namespaces the position of the identifier at ``i`` points to (see NameUse)."""
        out = []
        nxt = self.at(i + 1)
        if nxt is not None and nxt.kind == IDENT and self.types.get(nxt.text):
            out.append(self.types[nxt.text])
        if _is(self.at(i - 1), "in", "∈"):
            for k in range(i - 2, max(i - 8, -1), -1):
                tok = self.code[k]
                if tok.kind != IDENT and tok.text.startswith(("∑", "∏")):
                    out.append("Finset")
                    break
                binder_part = tok.kind == IDENT or _is(tok, "(", ")", ":", "⟨", "⟩", "_")
                if not binder_part and (tok.kind != KEYWORD or tok.text in _COMMANDS):
                    break  # `∑ (i : ℕ) ∈` and the like are binders; anything else ends it
        return tuple(out)

    def binder_list(self, j: int) -> None:
        """The bound names after ``∀``, ``fun``, ``∑`` ...: up to the first other token."""
        depth = 0
        while (tok := self.at(j)) is not None:
            if tok.kind == IDENT and "." not in tok.text:
                self.bind(j)
            elif _is(tok, "(", "⟨", "[", "{", "⦃"):
                depth += 1
                if _is(tok, "(", "{", "[", "⦃"):  # `(x : T)`, `(n ≥ 1)`: bind x, skip the rest
                    k = j + 1
                    while (t := self.at(k)) is not None and t.kind == IDENT:
                        self.bind(k)
                        k += 1
                    if k > j + 1 or _is(self.at(k), ":"):
                        j = self.close_of(j)
                        depth -= 1
                        j += 1
                        continue
            elif _is(tok, ")", "⟩", "]", "}", "⦄") and depth > 0:
                depth -= 1
            elif not (_is(tok, "_") or (_is(tok, ",") and depth > 0)):
                return
            j += 1

    def close_of(self, i: int) -> int:
        depth = 0
        for j in range(i, len(self.code)):
            tok = self.code[j]
            if tok.kind != IDENT and (tok.text in _OPENERS or tok.text.endswith(("(", "[", "{"))):
                depth += 1
            elif tok.kind != IDENT and tok.text in _CLOSERS:
                depth -= 1
                if depth == 0:
                    return j
        return len(self.code) - 1

    def pattern(self, j: int) -> None:
        """``| pat => …`` (a ``match`` arm or ``fun`` alternative): the pattern's names bind."""
        names: list[int] = []
        k = j
        while (tok := self.at(k)) is not None and not _is(tok, "=>", "↦", "|", ":=", "}"):
            if tok.kind == IDENT and "." not in tok.text:
                names.append(k)
            k += 1
            if k - j > 40:
                return
        if _is(self.at(k), "=>", "↦"):
            for n in names:
                self.bind(n)
