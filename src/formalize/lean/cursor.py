"""What the command grammar reads with: a cursor over a candidate's code tokens.

:class:`TokenCursor` holds the tokens and what the parse found (:class:`Parsed`) and gives the
grammar its moves: look at a token, sanction a keyword (the grammar put it there), skip a
bracket group, find where a term body ends, check a range's tactic blocks. The records the
parse produces (:class:`Decl`, :class:`Parsed`) and its one exception (:class:`Refusal`) live
here too. Pure functions over a list; every loop iterative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formalize.lean.lexer import KEYWORD, SYMBOL, Token, brackets
from formalize.lean.tactics import TacticRefusal, check_blocks

MAIN_KINDS = ("theorem", "lemma", "example")
AUX_KINDS = ("def", "abbrev", "structure", "class", "inductive", "instance")
_COMMANDS = frozenset(
    {"open", "namespace", "section", "end", "universe", "variable", "set_option", "import"}
    | {"attribute", "notation", "noncomputable", "local", "infix", "infixl", "infixr"}
    | {"prefix", "postfix", "include", "omit"}
)
# Tokens that end a term body: a command or a declaration starting.
_STARTS = frozenset(
    {*MAIN_KINDS, *AUX_KINDS, *_COMMANDS, "private", "protected", "axiom", "opaque", "@["}
    | {"mutual", "deriving", "macro", "syntax", "elab", "infix", "infixl", "infixr"}
    | {"prefix", "postfix", "notation3", "macro_rules", "elab_rules", "initialize"}
)
_REFUSED = {
    "axiom": "axioms are not allowed (an axiom can assert anything, which makes the theorem"
    " trivially provable)",
    "opaque": "`opaque` declarations are not allowed",
    "mutual": "`mutual` blocks are not allowed",
    "deriving": "`deriving` is only allowed right after a structure or inductive, for"
    " DecidableEq, Fintype, Inhabited, Nonempty, Repr, BEq or Hashable",
    "unsafe": "`unsafe` declarations are not allowed",
}


class Refusal(Exception):
    """The grammar refuses the candidate; the message says what was found and where."""


def show(tok: Token) -> str:
    """A token as quoted in a reason (long ones cut short), with its line."""
    text = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"`{text}` at line {tok.line}"


@dataclass(frozen=True)
class Decl:
    """A declaration the candidate makes: its ``kind``, ``name`` (None for ``example`` and
    anonymous instances), where the name (or the keyword) is, whether it is the main one, and
    the candidate's namespaces it is made in (``A.B``; "" at the candidate's top)."""

    kind: str
    name: str | None
    offset: int
    main: bool = False
    namespace: str = ""

    @property
    def full_name(self) -> str | None:
        """The name Lean gives it where the candidate stands at the root (the REPL)."""
        if self.name is None:
            return None
        if self.name.startswith("_root_."):
            return self.name.removeprefix("_root_.")
        return f"{self.namespace}.{self.name}" if self.namespace else self.name


@dataclass
class Parsed:
    """What :class:`CommandGrammar` found (see the module docstring)."""

    sanctioned: set[tuple[int, str]] = field(default_factory=set)
    accepted_spans: list[tuple[int, int]] = field(default_factory=list)
    stripped_spans: list[tuple[int, int]] = field(default_factory=list)
    declarations: list[Decl] = field(default_factory=list)
    scopes: list[tuple[str, str | None]] = field(default_factory=list)
    global_effects: list[str] = field(default_factory=list)
    shadowing: list[str] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    universes: tuple[str, ...] = ()
    namespaced: bool = False  # a `namespace` command: file mode's wrapper would change it
    #: the (command, `in`) offsets of the `open X in` / `set_option … in` before the main one
    in_prefix: list[tuple[int, int]] = field(default_factory=list)
    main: Decl | None = None
    signature: tuple[int, int, list[tuple[int, int]], tuple[int, int]] | None = None


class TokenCursor:
    """The candidate's code tokens, the parse's findings (``out``) and the moves over them."""

    def __init__(self, code: list[Token]):
        self.code = code
        self.out = Parsed()
        self._closers: list[int] | None = None

    # -- helpers ---------------------------------------------------------------------------
    def tok(self, i: int) -> Token | None:
        return self.code[i] if i < len(self.code) else None

    def is_(self, i: int, text: str) -> bool:
        tok = self.tok(i)
        return tok is not None and tok.text == text and tok.kind in (KEYWORD, SYMBOL)

    def take(self, i: int) -> int:
        """Sanction the keyword at ``i`` (the grammar put it there); the next index."""
        tok = self.code[i]
        self.out.sanctioned.add((tok.offset, tok.text))
        return i + 1

    def group_end(self, i: int) -> int:
        """Index just past the bracket group opening at ``i``."""
        closer = self.closers()[i]
        if closer < 0:
            raise Refusal(f"unclosed {show(self.code[i])}")
        return closer + 1

    def closers(self) -> list[int]:
        """For each token, the index of the token that closes the outermost bracket it opens
        (-1 if none does, or it opens none): computed once, so that nested groups cost no
        rescans (a side proof's lemma list inside a side proof inside ...)."""
        if self._closers is None:
            closers = [-1] * len(self.code)
            stack: list[int] = []
            for j, tok in enumerate(self.code):
                closes, opens = brackets(tok)
                for _ in range(min(closes, len(stack))):
                    closers[stack.pop()] = j  # the last one popped is the outermost
                stack += [j] * opens
            self._closers = closers
        return self._closers

    def term_end(self, i: int) -> int:
        """Index of the first token at bracket depth 0 that starts a command or declaration."""
        depth = 0
        for j in range(i, len(self.code)):
            tok = self.code[j]
            if tok.kind in (KEYWORD, SYMBOL) and tok.text in _STARTS:
                starts = tok.text != "noncomputable" or self.starts_decl(j)
                if starts or self.is_(j + 1, "section"):
                    if depth > 0:
                        raise Refusal(f"{show(tok)} inside brackets")
                    return j
            closes, opens = brackets(tok)
            depth = max(0, depth - closes) + opens
        return len(self.code)

    def starts_decl(self, i: int) -> bool:
        tok = self.tok(i)
        if tok is None or tok.kind not in (KEYWORD, SYMBOL):
            return False
        if tok.text == "noncomputable":
            return not self.is_(i + 1, "section")
        if tok.text in ("local", "scoped"):
            return self.is_(i + 1, "instance")
        return tok.text in (
            *MAIN_KINDS,
            *AUX_KINDS,
            "private",
            "protected",
            "partial",
            "@[",
            *_REFUSED,
        )

    def no_tactics(
        self,
        i: int,
        stop: int,
        where: str,
        *,
        clauses: bool = False,
        props: bool = False,
    ) -> None:
        """No ``sorry`` in ``code[i:stop]``, and every tactic block in it (wherever it stands)
        runs only :data:`~formalize.lean.tactics.SIDE_TACTICS` (:mod:`formalize.lean.tactics`).
        With ``clauses`` (a definition's body), ``termination_by``, ``decreasing_by`` and
        ``where`` at depth 0 are allowed; with ``props`` (the statement itself), a block that
        is not a component of ``⟨…⟩`` may only run tactics that prove propositions: others
        could choose a term of the statement, hiding what it states."""
        try:
            check_blocks(
                self.code, i, stop, self.take, where=f" {where}", clauses=clauses, props=props
            )
        except TacticRefusal as exc:
            raise Refusal(str(exc)) from None
