"""Tactic blocks inside a statement's terms: where they stand and which tactics they run.

A candidate's definitions, instances, structure fields and hypotheses may hold side proofs
(``⟨n, by omega⟩``, ``instance : Fact p := ⟨by norm_num⟩``, ``def f … := by classical
exact …``). A tactic block is safe when every tactic it runs is on :data:`SIDE_TACTICS`,
wherever the block stands; :func:`check_blocks` finds every block in a run of code tokens and
checks it, reading the block's extent as Lean's parser does (``Lean.Parser.sepByIndent``,
``withPosition`` + ``checkColGe`` + ``checkColEq``):

* a block starts after ``by`` (or ``decreasing_by``); its *column* is that of its first
  tactic;
* a new tactic starts after ``;`` or ``<;>``, after a focusing ``·``, after a combinator
  (``all_goals``, ``any_goals``, ``try``, ``classical``) and on a new line at the block's
  column;
* the block ends at a bracket that closes below where it started, and at a name (or a
  keyword in :data:`LEADING`) on a line left of every open block right after a complete
  term; not at a keyword that can continue a term there (``then``, ``with``, ``by``, …), nor
  at ``termination_by``/``decreasing_by`` (a ``let rec`` inside the block takes them, and the
  block goes on); a line right of its column continues the current tactic's arguments.

Every tactic start must be an allowed tactic name, and its arguments must fit its shape:
closing tactics take nothing (so no ``decide +native``, no ``(config := …)``: configuration
can switch on native evaluation), simplifier-like ones a lemma list (``only``, ``[…]``,
``at h ⊢``, ``using e``), term tactics (``exact``, ``have``, …) terms, which obey the same
rules as every other term (nested blocks included), with no configuration before them and
no ``=>`` (but a ``fun``/``match`` term's) or ``<|>`` among them, with which Lean would read
tactics again. Iterative, linear in the tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from formalize.lean.lexer import IDENT, KEYWORD, NUMBER, SYMBOL, Token, brackets

#: Closing tactics that take no argument at all.
BARE_TACTICS = frozenset(
    {"omega", "decide", "rfl", "trivial", "positivity", "ring", "ring_nf", "infer_instance"}
    | {"assumption", "contradiction", "constructor", "left", "right", "exfalso", "tauto"}
    | {"aesop", "lia", "abel", "noncomm_ring", "bound", "fun_prop", "continuity"}
    | {"measurability", "split_ifs", "norm_num1", "linarith!", "nlinarith!", "and_intros"}
)
#: Tactics that take a lemma list at most: ``only``, ``[…]``, ``at h ⊢``, (``simpa``)
#: ``using e``.
LEMMA_TACTICS = frozenset(
    {"simp", "simp_all", "simpa", "dsimp", "norm_num", "linarith", "nlinarith", "push_cast"}
    | {"norm_cast", "field_simp", "grind", "rw", "rewrite", "rwa", "simp_rw", "unfold"}
    | {"gcongr", "exact_mod_cast", "zify", "qify", "push_neg"}
)
#: Tactics whose arguments are terms, binder names or patterns (checked as terms are).
TERM_TACTICS = frozenset(
    {"exact", "refine", "apply", "have", "haveI", "letI", "let", "show", "change", "obtain"}
    | {"intro", "intros", "rintro", "ext", "funext", "subst", "calc"}
    | {"specialize", "by_contra", "by_cases", "exact_mod_cast", "convert", "suffices"}
    | {"fin_cases", "interval_cases", "use", "exists", "if", "cases", "rcases", "induction"}
)
#: Keywords that only start a term (never continue one but as an argument, which needs a
#: column right of the block's): left of every open block, after a complete term, they end
#: the blocks as a name there does.
LEADING = frozenset(
    {"have", "haveI", "let", "letI", "show", "suffices", "fun", "if", "match", "calc"}
    | {"nofun", "nomatch", "Type", "Sort", "Prop", "open", "inferInstanceAs"}
)
_BLOCK_WORDS = frozenset({"by", "decreasing_by", "termination_by", "where", "sorry", "admit"})
#: Term tactics whose ``with`` would start tactic alternatives (``| inl h => tac``).
_NO_WITH = frozenset({"cases", "induction"})
#: Term tactics that take configuration before their terms (``use (discharger := tac) x``):
#: admitted only without it.
CONFIGURABLE = frozenset({"use", "exists", "refine", "exact", "apply", "convert", "ext"})
#: Term tactics whose first argument is a term Lean reads wherever it stands (no column
#: check), so a line at the block's column right after them is that term, not a tactic.
MANDATORY_TERM = frozenset({"exact", "refine", "apply", "show", "change", "specialize"})
#: Tactics that can only close a proposition (never choose a term of a type): the ones a
#: block inside the main statement may use outside an anonymous constructor.
PROP_TACTICS = frozenset(
    {"omega", "decide", "simp", "simp_all", "norm_num", "positivity", "linarith", "nlinarith"}
    | {"ring", "field_simp", "norm_cast", "push_cast"}
)
#: Tactics that are followed by a tactic (a combinator, or ``classical``, which runs the
#: rest of the block with classical instances).
PREFIX_TACTICS = frozenset({"all_goals", "any_goals", "try", "classical", "repeat"})
SIDE_TACTICS = BARE_TACTICS | LEMMA_TACTICS | TERM_TACTICS | PREFIX_TACTICS
_LEMMA_WORDS = frozenset({"only", "at", "using"})


class TacticRefusal(Exception):
    """A tactic block runs something off the allow-list; the message says what and where."""


def _show(tok: Token) -> str:
    text = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"`{text}` at line {tok.line}"


class _Block:
    """An open tactic block: the bracket depth it started at, its column (None until its
    first tactic), the tactic running now and what comes next (``start``: a tactic;
    ``args``: the running tactic's arguments; ``free``: terms, after a comma)."""

    __slots__ = ("column", "depth", "fresh", "matcher", "props", "state", "tactic")

    def __init__(self, depth: int, props: bool = False) -> None:
        self.depth = depth
        self.column: int | None = None
        self.tactic: Token | None = None
        self.state = "start"
        self.fresh = False  # a mandatory term argument comes next
        self.props = props  # only PROP_TACTICS
        self.matcher = False  # a `fun`/`match` in the running tactic's terms: `=>` is theirs


def check_blocks(
    code: list[Token],
    i: int,
    stop: int,
    sanction: Callable[[int], object],
    *,
    where: str = "",
    clauses: bool = False,
    props: bool = False,
) -> None:
    """Check every tactic block in ``code[i:stop]``; ``sanction(j)`` marks the keyword at
    ``j`` as put there by the grammar (``by``, ``at``, ``using``, ``<;>``, ``⊢``). Raises
    :class:`TacticRefusal`. With ``props`` (the main statement), a block that is not a
    component of ``⟨…⟩`` may only run :data:`PROP_TACTICS`.

    Where a tactic starts is over-approximated, never under: Lean starts one only after
    ``;``/``<;>``, a focusing dot or a combinator, or on a new line at exactly the column of
    an open block (``checkColEq``); the gate takes every such place as a start, does not end a
    block on a line to its left (Lean may still read a term argument there) and ends one
    only where its bracket closes, so every tactic Lean could run is one the gate checked."""
    if not any(t.kind == KEYWORD and t.text in _BLOCK_WORDS for t in code[i:stop]):
        return  # no block, no clause, no sorry: the common case, decided in one pass
    blocks: list[_Block] = []
    openers: list[str] = []
    depth = 0
    for j in range(i, stop):
        tok = code[j]
        closes, opens = brackets(tok)
        if closes or opens:
            del openers[max(0, len(openers) - closes) :]
            openers += [tok.text] * opens
        if closes:
            depth -= closes
            while blocks and blocks[-1].depth > depth:
                blocks.pop()
        if tok.kind == KEYWORD and tok.text in ("sorry", "admit"):
            raise TacticRefusal(
                f"`{tok.text}`{where} at line {tok.line}: only the proof may be sorry"
            )
        if clauses and depth == 0 and tok.kind == KEYWORD and tok.text == "where":
            blocks.clear()  # auxiliary definitions after the body, under the same rules
            sanction(j)
            continue
        clause = tok.kind == KEYWORD and tok.text in ("termination_by", "decreasing_by")
        if clause and not (clauses and depth == 0):
            raise TacticRefusal(f"`{tok.text}`{where} at line {tok.line}: only after a body")
        if clause:
            # after the body, or after a `let rec` inside one of its tactic blocks (Lean's
            # `letRecDecl` ends in `Termination.suffix`): then the block goes on after the
            # clause, and a line at its column is its next tactic. So no block is ended here:
            # the clause's term is read as the running tactic's terms, its tactics as a block
            sanction(j)
            for open_block in blocks:
                if open_block.state != "start":
                    open_block.state = "free"
            if tok.text == "decreasing_by":
                blocks.append(_Block(depth))
            continue
        block = blocks[-1] if blocks and blocks[-1].depth == depth else None
        if block is not None and not closes:
            fresh, block.fresh = block.fresh, False
            if j > 0 and code[j - 1].line != tok.line and block.state != "start" and not fresh:
                for k in range(len(blocks) - 1, -1, -1):
                    if blocks[k].depth != depth:
                        break
                    if blocks[k].column == tok.column:
                        del blocks[k + 1 :]  # Lean ended the inner blocks (checkColEq)
                        block = blocks[k]
                        block.state = "start"
                        break
                else:
                    columns = [b.column for b in blocks if b.depth == depth]
                    left = all(c is not None and c > tok.column for c in columns)
                    leads = tok.kind == IDENT or (tok.kind == KEYWORD and tok.text in LEADING)
                    if left and leads and _complete(code[j - 1]):
                        # a name (or a keyword that only starts a term) left of every block
                        # after a complete term: no argument (colGt) and no next tactic
                        # (checkColEq) of any of them, so Lean has ended them all (a
                        # structure instance's next field, a term-mode `have`). Not any
                        # other keyword: `then`, `else`, `from`, `with`, `by`, `_` (a `calc`
                        # step), ... continue a term with no column check, and the next
                        # line at a block's column is then that block's next tactic
                        del blocks[len(blocks) - len(columns) :]
                        block = None
                    elif left and tok.kind in (IDENT, KEYWORD):
                        # a name left of every block: no tactic's location (colGt) reaches
                        # here, only a term Lean may still be reading; symbols (`+native`)
                        # are still checked as arguments
                        block.state = "free"
            if block is not None:
                tactic = block.tactic
                branch = tok.kind == KEYWORD and tok.text in ("then", "else")
                if branch and tactic is not None and tactic.text == "if":
                    block.state = "args"  # the branches of the `if` tactic: blocks of their own
                    blocks.append(_Block(depth, block.props))
                    continue
                if tok.kind == SYMBOL and tok.text in (";", "<;>"):
                    if tok.text == "<;>":
                        sanction(j)
                    block.state = "start"
                    depth += opens
                    continue
                if block.state == "start":
                    if block.column is None:
                        block.column = tok.column
                    if tok.kind == SYMBOL and tok.text in ("·", "."):
                        block.state = "args"
                        block.tactic = None
                        blocks.append(_Block(depth, block.props))  # a focused block follows
                        continue
                    if tok.kind == SYMBOL and tok.text == "(":  # `(tac; tac)`: a block inside
                        block.state = "args"
                        block.tactic = None
                        blocks.append(_Block(depth + 1, block.props))
                        depth += 1
                        continue
                    _start_tactic(block, tok, j, sanction)
                    block.matcher = False
                    # `(name := …)` and `+name` start no term: configuration whichever term
                    # tactic they follow (`convert (config := …)`; `-name` may be a negation)
                    configurable = tok.text in CONFIGURABLE or tok.text in TERM_TACTICS
                    minus = tok.text in CONFIGURABLE
                    if configurable and _configured(code, j + 1, stop, minus=minus):
                        raise TacticRefusal(
                            f"configuration after `{tok.text}` at line {tok.line} (it can hold"
                            " tactics: `(discharger := …)`)"
                        )
                    block.fresh = tok.text in MANDATORY_TERM
                    if tok.text in PREFIX_TACTICS:
                        block.state = "args"
                        blocks.append(_Block(depth, block.props))  # the combinator's block follows
                    continue
                _tactic_syntax(block, tok)
                if tok.kind == SYMBOL and tok.text in (",", ":"):
                    block.state = "free"  # a comma or a type ascription ends the tactic: terms
                elif block.state == "args":
                    _argument(block, tok, j, sanction)
        if tok.kind == KEYWORD and tok.text == "by":
            sanction(j)
            component = j > 0 and code[j - 1].text in (",", "⟨") and "⟨" in openers[-1:]
            blocks.append(_Block(depth + opens, props and not component))
        depth += opens
    if blocks and blocks[-1].column is None:
        raise TacticRefusal(f"empty tactic block{where}")


def _complete(tok: Token) -> bool:
    """Whether a term can end at ``tok`` (a name, a number, a closing bracket): the next line
    then continues it only as an argument or a trailing operator."""
    closes, opens = brackets(tok)
    return (tok.kind in (IDENT, NUMBER) or closes > 0) and not opens


def _configured(code: list[Token], k: int, stop: int, *, minus: bool = True) -> bool:
    """Whether ``code[k:]`` starts with configuration: ``(name :=``, ``+name`` or (with
    ``minus``) ``-name``."""
    first = code[k] if k < stop else None
    if first is None or first.kind != SYMBOL:
        return False
    if first.text == "+" or (minus and first.text == "-"):
        return k + 1 < stop and code[k + 1].kind == IDENT and code[k + 1].offset == first.end
    return first.text == "(" and k + 2 < stop and code[k + 2].text == ":="


def _start_tactic(block: _Block, tok: Token, j: int, sanction: Callable[[int], object]) -> None:
    if block.props and tok.text not in PROP_TACTICS:
        raise TacticRefusal(
            f"tactic block (`by`) in the statement running {_show(tok)}: outside `⟨…⟩` a block"
            f" there may only prove a proposition ({', '.join(sorted(PROP_TACTICS))}); others"
            " could choose a term of the statement"
        )
    if tok.kind not in (IDENT, KEYWORD) or tok.text not in SIDE_TACTICS:
        raise TacticRefusal(
            f"tactic {_show(tok)} is not allowed in a side proof (only closing tactics,"
            " simplifiers with lemma lists and term tactics are; see docs/security.md)"
        )
    if tok.kind == KEYWORD:
        sanction(j)  # `have`, `show`, `calc`, ... here are the tactics of those names
    block.tactic = tok
    block.state = "args"


#: Term keywords after which ``=>`` belongs to the term (``fun x => e``, ``match … with | p
#: => e``): their right-hand sides are terms.
_MATCHERS = frozenset({"fun", "λ", "match"})


def _tactic_syntax(block: _Block, tok: Token) -> None:
    """Refuse, among the running tactic's arguments (at the block's depth), the tokens with
    which Lean's tactic parser goes on reading *tactics*: ``=>`` not of a ``fun``/``match``
    term (``intro | _ => tac``: ``introMatch`` takes tactic sequences right of ``=>``, and so do
    alternatives of other tactics), and ``<|>`` (``intro x <|> tac``: after arguments read at
    maximal precedence, Lean's tactic ``first`` combinator)."""
    if tok.text in _MATCHERS and tok.kind in (KEYWORD, SYMBOL):
        block.matcher = True
    elif tok.kind == SYMBOL and tok.text == "=>" and not block.matcher:
        name = block.tactic.text if block.tactic is not None else "·"
        raise TacticRefusal(
            f"`=>` at line {tok.line} after `{name}` outside a `fun`/`match` term: tactic"
            " alternatives (`intro | p => tac`) run tactics of their own"
        )
    elif tok.kind == SYMBOL and tok.text == "<|>":
        raise TacticRefusal(
            f"`<|>` at line {tok.line} in a tactic block: after a tactic's arguments it runs"
            " the tactic on its right (`first`); write the term without it"
        )


def _argument(block: _Block, tok: Token, j: int, sanction: Callable[[int], object]) -> None:
    """A token after the running tactic's name (at the block's depth)."""
    tactic = block.tactic
    name = tactic.text if tactic is not None else "·"
    if name in TERM_TACTICS or name in PREFIX_TACTICS or name == "·":
        if name in _NO_WITH and tok.kind == KEYWORD and tok.text == "with":
            raise TacticRefusal(
                f"`{name} … with` at line {tok.line}: its alternatives run tactics of their own"
                " (use `cases x <;> tac`)"
            )
        if tok.kind == KEYWORD and tok.text in ("at", "using"):
            sanction(j)  # `change … at h`, `convert e using 2`
        return
    if name in LEMMA_TACTICS:
        if tok.text in _LEMMA_WORDS and tok.kind in (IDENT, KEYWORD):
            if tok.kind == KEYWORD:
                sanction(j)
            if tok.text == "using":
                block.tactic = Token(IDENT, "exact", tok.line, tok.column)  # a term follows
            return
        if tok.text in ("[", "⊢", "*", "←") or (tok.kind == IDENT and name != "grind"):
            if tok.text == "⊢":
                sanction(j)
            return
    raise TacticRefusal(
        f"unexpected {_show(tok)} after `{name}` in a side proof (tactics take no configuration"
        " or arguments here but lemma lists, locations and the terms of term tactics)"
    )
