"""Binder default values and auto-params, refused wherever a binder can stand.

Lean's bracketed binders take a default (``binderDefault``, ``(x : T := v)``) or an
auto-param (``binderTactic``, ``(h : P := by tac)``); where the binder's type is optional
(declaration signatures, ``variable``, ``∀``, structure fields, constructors) the type can be
left out too: ``(x := 5)``. The spelling is shared with named arguments (``f (x := 1)``) and
structure instances (``{ x := 1 }``), which are terms, so two rules:

* a group shaped like a typed binder, names then ``:`` (``(x y : T …``, ``{_ : T …``), refuses
  a ``:=`` wherever it stands: no term has that shape;
* a group in a *binder position* refuses any ``:=`` of its own: right after a declaration
  keyword or its name (``def f (x := 5)``), after ``variable``, after a binder-introducing
  token (``∀``, ``∃``, ``fun``, ``∑``, …) and its bare names, after ``where``/``::``, after a
  constructor's name (``| mk (x := 5)``), at the start of a line in a
  ``structure``/``class``/``inductive`` body (its fields), and after another group in a
  binder position (``(a : ℕ) (b := 5)``). ``instance (priority := n)`` is the one named
  argument there.

Keywords that open a ``let`` (``let x : T := v``) own the ``:=`` that follows them. One pass,
linear in the tokens; pure functions.
"""

from __future__ import annotations

from formalize.lean.grammar import Refusal, show
from formalize.lean.lexer import IDENT, KEYWORD, SYMBOL, Token, brackets
from formalize.lean.policy import TERM_KEYWORDS

_OPENERS = frozenset({"(", "{", "[", "⦃"})
_LET_WORDS = frozenset({"let", "have", "letI", "haveI", "show", "suffices", "let_fun"})
#: Keywords that start or shape a term: a group beginning with one is not a binder group.
_NOT_NAMES = (TERM_KEYWORDS - {"_"}) | _LET_WORDS | {"do", "by", "at", "mut", "for"}
#: Tokens after which binders follow: declaration keywords, ``variable``, binder notations.
_BINDER_LEADS = frozenset(
    {"theorem", "lemma", "def", "abbrev", "instance", "example", "structure", "class"}
    | {"inductive", "variable", "axiom", "opaque", "where", "::"}
    | {"∀", "∃", "∃!", "Π", "Σ", "Σ'", "λ", "fun", "forall", "exists", "∑", "∏", "∑'", "∏'"}
    | {"⋃", "⋂", "⨆", "⨅", "∫", "∮", "∀ᶠ", "∃ᶠ", "∐", "⨁", "⨂"}
)
_TYPE_DECLS = frozenset({"structure", "class", "inductive"})
#: Depth-0 keywords that end a structure/class/inductive body.
_BODY_ENDS = frozenset(
    {"theorem", "lemma", "def", "abbrev", "instance", "example", "variable", "namespace"}
    | {"section", "end", "open", "notation", "infix", "infixl", "infixr", "prefix", "postfix"}
    | {"noncomputable", "private", "protected", "universe", "set_option", "attribute", "@["}
    | {"deriving", "local"}
)


def binder_name(tok: Token) -> bool:
    """Whether ``tok`` can name a binder: an identifier, the hole ``_`` (Lean's
    ``binderIdent``), or another word the gate's table holds that Lean, under other imports,
    may read as an identifier (``ℝ`` without Mathlib): never a term's own keyword."""
    return tok.kind == IDENT or (tok.kind == KEYWORD and tok.text not in _NOT_NAMES)


def _refuse(tok: Token) -> Refusal:
    return Refusal(
        f"binder default value {show(tok)} (`(x : T := …)` and `(x := …)` are elaborated as"
        " code and are not needed in a statement)"
    )


def check_binder_defaults(code: list[Token]) -> None:
    """Raise :class:`Refusal` at the first binder default value or auto-param in ``code``
    (comments removed)."""
    # per open group: [typed-binder shaped, colon seen, pending let-like keywords, in a
    # binder position, followed by binders (its closer continues a chain)]
    stack: list[list[int]] = []
    leads = False  # the previous token is followed by binders
    type_body = False  # inside a structure/class/inductive declaration
    field_column: int | None = None  # where its fields' lines start (continuations go deeper)
    decl_line = 0
    prev_line = 0
    for i, tok in enumerate(code):
        text, word = tok.text, tok.kind in (KEYWORD, SYMBOL)
        closes, opens = brackets(tok)
        first_on_line, prev_line = tok.line != prev_line, tok.line
        if not stack and word:
            if text in _TYPE_DECLS:
                type_body, field_column, decl_line = True, None, tok.line
            elif text in _BODY_ENDS:
                type_body = False
        first_field = type_body and not stack and first_on_line and tok.line > decl_line
        if first_field and field_column is None:
            field_column = tok.column  # the first line after the declaration's own
        if closes:
            popped = stack[max(0, len(stack) - closes) :]
            del stack[max(0, len(stack) - closes) :]
            if not opens:
                leads = bool(popped) and bool(popped[0][4])
                continue
        if opens:
            nxt = code[i + 1] if i + 1 < len(code) else None
            shaped = text in _OPENERS and nxt is not None and binder_name(nxt)
            # a structure's field: a line of its own, at the fields' indentation
            line_field = (
                type_body
                and not stack
                and first_on_line
                and field_column is not None
                and tok.column <= field_column
            )
            positioned = text in _OPENERS and (leads or line_field)
            if positioned and i > 0 and code[i - 1].text == "instance" and nxt is not None:
                positioned = nxt.text != "priority"  # `instance (priority := 100)`
            chain = int(leads or line_field)
            stack += [[int(shaped), 0, 0, int(positioned), chain] for _ in range(opens)]
            leads = False
            continue
        if stack:
            group = stack[-1]
            if tok.kind == SYMBOL and text == ":":
                group[1] = 1
            elif tok.kind == KEYWORD and text in _LET_WORDS:
                group[2] += 1
            elif tok.kind == SYMBOL and text == ":=" and ((group[0] and group[1]) or group[3]):
                if not group[2]:
                    raise _refuse(tok)
                group[2] -= 1
            elif not group[1] and not binder_name(tok):
                group[0] = 0
        if word and text in _BINDER_LEADS:
            leads = True
        elif word and text == "|" and type_body and not stack:
            leads = True  # a constructor: its name, then its binders
        elif tok.kind != IDENT and text != "_":
            leads = False  # names keep it: a declaration's, bare binders (`∀ x (y := 5)`)
