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
    """The binder groups of the ``variable`` commands of ``context`` that the ``statement``
    texts use: a group binding a name they mention, a group a chosen group's type mentions,
    and an instance group (``[Ring R]``) all of whose variables are chosen (``[Fact (1 = 2)]``,
    which mentions none, too), and the groups named by ``include``. In order."""
    try:
        groups = _variable_groups(context)
        used = {t.text for part in statement for t in _code(part) if t.kind == IDENT}
        used |= _included(context)
    except LexError:
        return []
    bound = [(g, _bound_names(g)) for g in groups]
    declared = {n for _, names in bound for n in names}
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for k, (group, names) in enumerate(bound):
            if k in chosen:
                continue
            idents = {t.text for t in _code(group) if t.kind == IDENT} - names
            # an instance group (`[Ring R]`, `[h : Fact (1 = 2)]`) is in when every variable
            # it mentions is (so also one that mentions none), as Lean includes them
            instance = group.lstrip().startswith("[")
            if names & used or ((instance or not names) and idents & declared <= used):
                chosen.add(k)
                used |= idents
                changed = True
    return [g for k, (g, _) in enumerate(bound) if k in chosen]


def _included(context: str) -> set[str]:
    """The names ``include`` commands of ``context`` name (``omit`` is not subtracted: a probe
    over one variable too many is at worst inconclusive)."""
    tokens = _code(context)
    names: set[str] = set()
    for k, tok in enumerate(tokens):
        if tok.text == "include" and tok.kind != IDENT:
            j = k + 1
            while j < len(tokens) and tokens[j].kind == IDENT and tokens[j].line == tok.line:
                names.add(tokens[j].text)
                j += 1
    return names


def _variable_groups(context: str) -> list[str]:
    """Every binder group of every ``variable`` command of ``context``, in order."""
    tokens = _code(context)
    groups, i = [], 0
    while i < len(tokens):
        if tokens[i].text != "variable":
            i += 1
            continue
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
            groups.append(context[tokens[start].offset : last.offset + len(last.text)])
    return groups


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
