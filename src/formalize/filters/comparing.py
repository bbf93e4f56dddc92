"""Text helpers of the ``reference`` probe: putting two gated statements side by side as
closed propositions Lean can compare.

- :func:`with_answers`: PutnamBench's answer convention (``abbrev …_solution : T := sorry``
  with the answer in the comment on the next line) gets its answer substituted;
- :func:`pin_universes`: ``Type*``, ``Sort*``, ``Type _`` and ``Sort _`` become one named
  universe (:data:`UNIVERSE`), so the two sides' ``Prop`` definitions share it instead of
  getting independent universe parameters;
- :func:`variable_binders`: the ``variable`` binder groups of a context that a statement
  uses, to close the proposition over them (else a definition in that context takes them as
  arguments and is no ``Prop``).

Pure functions on text; no Lean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from formalize.lean.lexer import COMMENT_KINDS, IDENT, LexError, Token, brackets, tokenize

#: The universe both sides of a reference probe are pinned to.
UNIVERSE = "formalize_u"

_ANSWER = re.compile(
    r"(?m)^(?P<head>[ \t]*(?:noncomputable[ \t]+)?(?:abbrev|def)[ \t]+[^\s:({\[]+[^\n]*?:=)"
    r"[ \t]*sorry[ \t]*\n(?P<comment>[ \t]*--[ \t]?(?P<answer>[^\n]*\S)[ \t]*)$"
)


def with_answers(text: str) -> str:
    """``text`` with every answer placeholder ``abbrev x : T := sorry`` that is followed by a
    comment line (PutnamBench: ``-- answer``) given that answer; the comment stays."""
    return _ANSWER.sub(lambda m: f"{m['head']} {m['answer']}\n{m['comment']}", text)


def sorry_answer(text: str) -> bool:
    """Whether an ``abbrev`` or ``def`` of ``text`` has ``sorry`` for its value."""
    try:
        tokens = _code(text)
    except LexError:
        return False
    for i, tok in enumerate(tokens):
        if tok.text not in ("abbrev", "def"):
            continue
        depth = 0
        for j in range(i + 1, len(tokens)):
            closes, opens = brackets(tokens[j])
            depth += opens - closes
            if depth == 0 and tokens[j].text == ":=":
                if j + 1 < len(tokens) and tokens[j + 1].text == "sorry":
                    return True
                break
    return False


def _code(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.kind not in COMMENT_KINDS]


def pin_universes(text: str) -> str:
    """``text`` with ``Type*``/``Sort*``/``Type _``/``Sort _`` written ``Type formalize_u``
    (``Sort …``); text that does not lex is returned unchanged."""
    try:
        tokens = _code(text)
    except LexError:
        return text
    out, cursor = [], 0
    for i, tok in enumerate(tokens):
        sort = tok.text.rstrip("*")
        if tok.text in ("Type*", "Sort*"):
            end = tok.offset + len(tok.text)
        elif tok.text in ("Type", "Sort") and i + 1 < len(tokens) and tokens[i + 1].text == "_":
            end = tokens[i + 1].offset + 1
        else:
            continue
        out += [text[cursor : tok.offset], f"{sort} {UNIVERSE}"]
        cursor = end
    return "".join(out) + text[cursor:]


def variable_binders(context: str, statement: Sequence[str]) -> list[str]:
    """The binder groups of the ``variable`` commands of ``context`` still in scope at its end
    that the ``statement`` texts (its binder groups, then its conclusion) use: a group binding
    a name they mention (as written, as the head of a dotted name ``n.succ``, ``«n»`` as
    ``n``; not one a binder of the statement rebinds first), a group a chosen group's type
    mentions, an instance group (``[Ring R]``) all of whose variables are chosen
    (``[Fact (1 = 2)]``, which mentions none, too), and the groups ``include`` names (unless
    ``omit`` takes them back). A binder update (``variable (x)`` of a declared ``x``) is left
    out: restated, it would be a new binder. In order."""
    try:
        groups, included = _variables_in_scope(context)
        used: set[str] = set(included)
        shadowed: set[str] = set()
        for part in statement:  # a binder of the statement rebinds its names for the rest
            names = {_plain(n) for n in _bound_names(part)} if part[:1] in "({[⦃" else set()
            used |= {_plain(t.text) for t in _code(part) if t.kind == IDENT} - shadowed - names
            shadowed |= names
    except LexError:
        return []
    bound = [(g, {_plain(n) for n in _bound_names(g)}) for g in groups]
    declared: set[str] = set()
    updates = set()
    for k, (group, names) in enumerate(bound):
        if names and names <= declared and ":" not in group:
            updates.add(k)  # `variable (x)`: a binder update of a declared `x`
        declared |= names
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for k, (group, names) in enumerate(bound):
            if k in chosen or k in updates:
                continue
            idents = {_plain(t.text) for t in _code(group) if t.kind == IDENT} - names
            # an instance group (`[Ring R]`, `[h : Fact (1 = 2)]`) is in when every variable
            # it mentions is (so also one that mentions none), as Lean includes them
            instance = group.lstrip().startswith("[")
            if names & used or ((instance or not names) and idents & declared <= used):
                chosen.add(k)
                used |= idents
                changed = True
    return [g for k, (g, _) in enumerate(bound) if k in chosen]


def _plain(name: str) -> str:
    """The head of a name as Lean reads it (``n.succ``: ``n``; ``«n»``: ``n``)."""
    return name.replace("«", "").replace("»", "").split(".", 1)[0]


def _variables_in_scope(context: str) -> tuple[list[str], set[str]]:
    """The binder groups of the ``variable`` commands of ``context`` whose section or
    namespace is still open at its end, in order, and the names ``include`` commands there
    name (less those an ``omit`` names after them)."""
    tokens = _code(context)
    frames: list[tuple[list[str], set[str]]] = [([], set())]  # per open scope
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        word = tok.text if tok.kind != IDENT else ""
        named = i + 1 < len(tokens) and tokens[i + 1].kind == IDENT
        same_line = named and tokens[i + 1].line == tok.line
        if word in ("section", "namespace"):
            parts = tokens[i + 1].text.count(".") + 1 if word == "namespace" and named else 1
            frames += [([], set()) for _ in range(parts)]
        elif word == "end" and len(frames) > 1:
            parts = tokens[i + 1].text.count(".") + 1 if same_line else 1
            del frames[max(1, len(frames) - parts) :]
        elif word in ("include", "omit"):
            j = i + 1
            while j < len(tokens) and tokens[j].kind == IDENT and tokens[j].line == tok.line:
                if word == "include":
                    frames[-1][1].add(_plain(tokens[j].text))
                else:
                    for _, names in frames:
                        names.discard(_plain(tokens[j].text))
                j += 1
        elif word == "variable":
            i += 1
            while i < len(tokens) and tokens[i].text in ("(", "{", "[", "⦃", "{{"):
                depth, start = 0, i
                while i < len(tokens):
                    closes, opens = brackets(tokens[i])
                    depth += opens - closes
                    i += 1
                    if depth <= 0:
                        break
                last = tokens[i - 1]
                frames[-1][0].append(context[tokens[start].offset : last.offset + len(last.text)])
            continue
        i += 1
    return [g for groups, _ in frames for g in groups], {n for _, names in frames for n in names}


def _bound_names(group: str) -> set[str]:
    """The names a binder group binds (``(a b : ℕ)``: a, b; ``[inst : Ring R]``: inst;
    ``[Ring R]``: none)."""
    tokens = _code(group)[1:]
    if ":" not in [t.text for t in tokens]:
        return set() if group.startswith("[") else {t.text for t in tokens if t.kind == IDENT}
    names = []
    for tok in tokens:
        if tok.text == ":":
            break
        if tok.kind == IDENT:
            names.append(tok.text)
    return set(names)
