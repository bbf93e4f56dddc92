"""The shape of one theorem/lemma/example: where its statement ends, and edits keyed on it.

:func:`scan_signature` finds the top-level ``:=`` of a declaration, skipping the ones that
belong to ``let``/``have`` in the type and to brackets (default arguments, structure
instances), and spots equation-compiler forms. On it rest :func:`replace_proof_with_sorry`,
:func:`rename_declaration` and :func:`normalize_statement` (a key on which alpha-equivalent
restatements collide). Re-exported by :mod:`formalize.lean.statement`. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from formalize.lean.lexer import (
    COMMENT_KINDS,
    IDENT,
    KEYWORD,
    SYMBOL,
    LexError,
    Token,
    brackets,
    tokenize,
)

DECL_KINDS = ("theorem", "lemma", "example")
NAME_PLACEHOLDER = "_name"


def _opens(tok: Token) -> int:
    return brackets(tok)[1]


def _closes(tok: Token) -> int:
    return brackets(tok)[0]


_LET_WORDS = frozenset({"let", "have", "haveI", "letI"})
_MATCH_WORDS = frozenset({"match", "fun", "λ", "nomatch", "nofun"})
_STOP_WORDS = frozenset(
    {*DECL_KINDS, "end", "namespace", "section", "import", "variable", "universe", "def"}
    | {"abbrev", "instance", "structure", "inductive", "class", "axiom", "noncomputable", "@["}
)
_BINDER_INTROS = frozenset(
    {"∀", "∃", "∃!", "Π", "Σ", "λ", "fun", "∑", "∏", "∑'", "∏'", "⋃", "⋂", "⨆", "⨅", "∫", "∮"}
    | {"∀ᶠ", "∃ᶠ", "∐"}
)
#: Binder lists and set-builder heads longer than this many tokens are left as they are.
_LOOKAHEAD = 256
# ASCII and Unicode spellings of the same token
_SYNONYMS = {"λ": "fun", "↦": "=>", "->": "→", "<->": "↔", "<-": "←", "<=": "≤", ">=": "≥"}
_BINDER_ENDS = frozenset({",", "=>", "↦"})
_BINDER_STOPS = frozenset({":", "∈", "∉", "<", "≤", ">", "≥", "≠", "⊆", "⊂", "⊇", "⊃", "in"})


@dataclass(frozen=True)
class Signature:
    """Where a declaration's statement ends: ``assign`` is the index of the top-level ``:=``
    (None if absent), ``equation`` the ``where``/``|`` token of an equation-compiler form,
    ``stop`` the index just past the statement's last token."""

    assign: int | None
    equation: Token | None
    stop: int


def decl_index(code: list[Token]) -> int | None:
    """Index of the first theorem/lemma/example keyword in ``code``."""
    for i, tok in enumerate(code):
        if tok.kind == KEYWORD and tok.text in DECL_KINDS:
            return i
    return None


def scan_signature(code: list[Token], start: int) -> Signature:
    """Scan the binders and type that begin at ``code[start]`` (comments already removed)."""
    depth, pending_lets, saw_match = 0, 0, False
    marker = (-1, False)
    for j in range(start, len(code)):
        tok, text = code[j], code[j].text
        closes, opens = brackets(tok)
        if closes or opens:
            depth = max(depth - closes, 0) + opens
        elif depth > 0:
            continue
        elif tok.kind == KEYWORD and (text in _STOP_WORDS or text.startswith("#")):
            return Signature(None, None, j)
        elif text == "where" and tok.kind == KEYWORD:
            return Signature(None, tok, j)
        elif text in _LET_WORDS:
            pending_lets += 1
        elif text in _MATCH_WORDS:
            saw_match = True
        elif text == ":=" and pending_lets:
            pending_lets -= 1
        elif text == ":=":
            return Signature(j, None, j)
        elif text == "|" and not saw_match and j > start and code[j - 1].line < tok.line:
            if marker[0] <= j:  # bars up to the same marker share its answer: stays linear
                marker = _next_marker(code, j + 1)
            if marker[1]:
                return Signature(None, tok, j)
    return Signature(None, None, len(code))


def _next_marker(code: list[Token], start: int) -> tuple[int, bool]:
    """The next depth-0 ``:=`` or ``=>`` from ``start``, and whether it is ``=>`` (which makes
    a line-leading ``|`` an equation-compiler alternative rather than an absolute value)."""
    depth = 0
    for j in range(start, len(code)):
        text = code[j].text
        closes, opens = brackets(code[j])
        if closes or opens:
            depth += opens - closes
        elif depth == 0 and text in (":=", "=>"):
            return j, text == "=>"
    return len(code), False


class _Renamer:
    """Renames bound variables canonically (``_v1``, ``_v2``, ...) in order of binding."""

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.out = [t.text for t in toks]
        self.stack: list[tuple[int, str]] = []  # (level, name): popped when depth < level
        self.visible: dict[str, list[str]] = {}  # name -> canonical names, innermost last
        self.bound_at: dict[int, str] = {}
        self.count = 0

    def bind(self, index: int, level: int) -> None:
        self.count += 1
        canonical, name = f"_v{self.count}", self.toks[index].text
        self.stack.append((level, name))
        self.visible.setdefault(name, []).append(canonical)
        self.bound_at[index] = canonical

    def leave(self, depth: int) -> None:
        """Forget the bindings whose scope ended when the depth dropped to ``depth``."""
        while self.stack and self.stack[-1][0] > depth:
            self.visible[self.stack.pop()[1]].pop()

    def group_end(self, i: int, limit: int) -> int | None:
        """Index of the closer of the group opening at ``i``, if within ``limit`` tokens."""
        depth = 0
        for j in range(i, min(len(self.toks), i + limit)):
            closes, opens = brackets(self.toks[j])
            depth -= closes
            if closes and depth <= 0:
                return j
            depth += opens
        return None

    def bind_group(self, i: int, level: int, limit: int) -> int | None:
        """Bind the names of the bracket group at ``i``; return the index of its closer."""
        end = self.group_end(i, limit)
        if end is None:
            return None
        colon = next((j for j in range(i + 1, end) if self.toks[j].text == ":"), None)
        if colon is None and self.toks[i].text == "[":
            return end
        for j in range(i + 1, colon if colon is not None else end):
            if self.toks[j].kind == IDENT and "." not in self.toks[j].text:
                self.bind(j, level)
        return end

    def bind_list(self, i: int, level: int) -> None:
        """Binders after a quantifier/``fun`` at ``i - 1``, up to ``,``/``=>``/``↦``, or up to
        what ends the names (``:``, ``∈``, ...: a type or a bound follows, which binds nothing;
        another quantifier: not a binder list). Stopping there keeps the scan linear on text
        like ``∀ ∀ ∀ …`` (each quantifier used to look ``_LOOKAHEAD`` tokens ahead)."""
        stop = min(len(self.toks), i + _LOOKAHEAD)
        while i < stop:
            tok = self.toks[i]
            if tok.text in _BINDER_ENDS or _closes(tok) or tok.text in ("|", ":="):
                return
            if tok.text in _BINDER_STOPS or tok.text in _BINDER_INTROS:
                return
            if _opens(tok):
                end = self.bind_group(i, level, stop - i)
                if end is None:
                    return
                i = end
            elif tok.kind == IDENT and "." not in tok.text:
                self.bind(i, level)
            i += 1

    def set_builder(self, i: int, depth: int) -> None:
        """``{x | p}``, ``{x : T // p}``, ``{(a, b) | p}``: bind the names before the bar."""
        sep, d = None, 0
        for j in range(i + 1, min(len(self.toks) - 1, i + _LOOKAHEAD)):
            tok, nxt = self.toks[j], self.toks[j + 1]
            d += _opens(tok) - _closes(tok)
            if d < 0 or (d == 0 and tok.text == ","):
                return
            slashes = tok.text == "//" or (tok.text == nxt.text == "/" and tok.end == nxt.offset)
            if d == 0 and (tok.text == "|" or slashes):
                sep = j
                break
        if sep is None or sep == i + 1:
            return
        first = self.toks[i + 1]
        if first.kind == IDENT and "." not in first.text:
            if i + 2 == sep or self.toks[i + 2].text in _BINDER_STOPS:
                self.bind(i + 1, depth + 1)
        elif first.text in ("(", "⟨"):
            close = self.group_end(i + 1, sep - i)
            if close is None:
                return
            inner = self.toks[i + 2 : close]
            plain = all((t.kind == IDENT and "." not in t.text) or t.text == "," for t in inner)
            follows = close + 1 == sep or self.toks[close + 1].text in _BINDER_STOPS
            if plain and follows:
                for j in range(i + 2, close):
                    if self.toks[j].kind == IDENT:
                        self.bind(j, depth + 1)

    def run(self) -> list[str]:
        depth, signature = 0, True
        for i, tok in enumerate(self.toks):
            text = tok.text
            if i in self.bound_at:
                self.out[i] = self.bound_at[i]
            elif tok.kind == IDENT:
                head, dot, rest = text.partition(".")
                if self.visible.get(head):
                    self.out[i] = self.visible[head][-1] + dot + rest
            if _opens(tok) and not _closes(tok):
                if depth == 0 and signature and text != "⟨":
                    self.bind_group(i, 0, len(self.toks))
                elif text == "{":
                    self.set_builder(i, depth)
                depth += _opens(tok)
            elif _closes(tok):
                depth = max(depth - _closes(tok), 0)
                self.leave(depth)
                depth += _opens(tok)
            elif depth == 0 and text == ":":
                signature = False
            elif text in _BINDER_INTROS:
                self.bind_list(i + 1, depth)
            elif (
                text in _LET_WORDS
                and i + 1 < len(self.toks)
                and self.toks[i + 1].kind == IDENT
                and i + 1 not in self.bound_at
            ):
                self.bind(i + 1, depth)
        return self.out


def _join(toks: list[Token], texts: list[str]) -> str:
    """Tokens separated by one space, except where Lean cares that there was none."""
    parts: list[str] = []
    for k, (tok, text) in enumerate(zip(toks, texts, strict=True)):
        prev = toks[k - 1] if k else None
        glued = prev is not None and prev.end == tok.offset
        sensitive = tok.text in ("[", ".") or (prev is not None and prev.text == ".")
        if parts and not (glued and sensitive):
            parts.append(" ")
        parts.append(_SYNONYMS.get(text, text) if tok.kind == SYMBOL else text)
    return "".join(parts)


def normalize_statement(text: str) -> str:
    """Canonical form for dedup: comments dropped, whitespace collapsed, the declaration's kind
    and name replaced by ``theorem _name``, auxiliary declarations (what comes before it) kept
    with their names made ``_d1, _d2, ...`` in order, attributes and the proof (from the
    top-level ``:=``) dropped, bound variables renamed ``_v1, _v2, ...`` in order of binding,
    ASCII spellings of symbols (``->``, ``λ``, ``<=``) unified. Never raises: text that does not
    lex comes back with its whitespace collapsed."""
    aux = auxiliary_names(text)
    text = rename_identifiers(text, {name: f"_d{k}" for k, name in enumerate(aux, 1)})
    try:
        tokens = tokenize(text)
    except LexError:
        return " ".join(text.split())
    code = [t for t in tokens if t.kind not in COMMENT_KINDS]
    k = decl_index(code)
    if k is None:
        return _join(code, _Renamer(code).run())
    start = k + (1 if code[k].text == "example" else 2)
    sig = scan_signature(code, start)
    stop = sig.assign if sig.assign is not None else sig.stop
    head = code[:k]
    while head and head[-1].text in ("private", "protected"):
        head.pop()
    if head and head[-1].text == "]":
        opener = max((j for j, t in enumerate(head) if t.text == "@["), default=None)
        head = head[:opener] if opener is not None else head
    prefix = _join(head, [t.text for t in head])
    body = code[start:stop]
    statement = _join(body, _Renamer(body).run())
    return " ".join(p for p in (prefix, f"theorem {NAME_PLACEHOLDER}", statement) if p)


def replace_proof_with_sorry(decl: str) -> str:
    """``decl`` with everything after its top-level ``:=`` replaced by ``:= by sorry``.

    Raises ValueError when there is no theorem/lemma/example, for equation-compiler forms
    (``where``, ``| pat => ...``), and for text Lean cannot lex.
    """
    code = [t for t in tokenize(decl) if t.kind not in COMMENT_KINDS]
    k = decl_index(code)
    if k is None:
        raise ValueError("no theorem, lemma or example declaration found")
    start = k + (1 if code[k].text == "example" else 2)
    sig = scan_signature(code, start)
    if sig.equation is not None:
        raise ValueError(
            f"`{sig.equation.text}` at line {sig.equation.line}: equation-compiler declarations"
            " are not statements"
        )
    last = code[(sig.assign if sig.assign is not None else sig.stop) - 1]
    return decl[: last.end] + " := by sorry"


def rename_declaration(decl: str, new_name: str) -> str:
    """``decl`` with its theorem/lemma renamed to ``new_name`` (``example`` becomes a theorem)."""
    try:
        name_tokens = tokenize(new_name)
    except LexError:
        name_tokens = []
    if len(name_tokens) != 1 or name_tokens[0].kind != IDENT or name_tokens[0].text != new_name:
        raise ValueError(f"{new_name!r} is not a valid Lean identifier")
    code = [t for t in tokenize(decl) if t.kind not in COMMENT_KINDS]
    k = decl_index(code)
    if k is None:
        raise ValueError("no theorem, lemma or example declaration found")
    kw = code[k]
    if kw.text == "example":
        return decl[: kw.offset] + "theorem " + new_name + decl[kw.end :]
    if k + 1 >= len(code) or code[k + 1].kind != IDENT:
        raise ValueError(f"`{kw.text}` at line {kw.line} has no name to rename")
    name = code[k + 1]
    return decl[: name.offset] + new_name + decl[name.end :]


AUX_KEYWORDS = frozenset({"def", "abbrev", "structure", "class", "inductive", "instance"})


def auxiliary_names(text: str) -> list[str]:
    """The undotted names of the auxiliary declarations (``def``, ``abbrev``, ``structure``,
    ``class``, ``inductive``, named ``instance``) of a statement, in order; [] when it does
    not lex."""
    try:
        code = [t for t in tokenize(text) if t.kind not in COMMENT_KINDS]
    except LexError:
        return []
    names: list[str] = []
    depth = 0
    for i, tok in enumerate(code):
        closes, opens = brackets(tok)
        depth = max(0, depth - closes) + opens
        if depth or tok.kind != KEYWORD or tok.text not in AUX_KEYWORDS or i + 1 >= len(code):
            continue
        name = code[i + 1]
        plain = name.kind == IDENT and "." not in name.text and "«" not in name.text
        if plain and name.text not in names:
            names.append(name.text)
    return names


def rename_identifiers(text: str, renames: dict[str, str]) -> str:
    """``text`` with every identifier that is a key of ``renames``, or starts with one and a
    dot (``Foo.mk`` for a structure ``Foo``), renamed; comments and everything else as they
    are. Text that does not lex comes back unchanged."""
    if not renames:
        return text
    try:
        tokens = tokenize(text)
    except LexError:
        return text
    out: list[str] = []
    last = 0
    for tok in tokens:
        if tok.kind != IDENT:
            continue
        head, dot, rest = tok.text.partition(".")
        new = renames.get(head)
        if new is None:
            continue
        out += [text[last : tok.offset], new + dot + rest]
        last = tok.end
    out.append(text[last:])
    return "".join(out)


def rename_auxiliaries(text: str, prefix: str) -> str:
    """Each auxiliary declaration ``X`` of a statement renamed ``{prefix}_X``, with every use,
    so that the declarations of different candidates never collide (in one file, or in an
    exported corpus) and none can shadow a library name."""
    return rename_identifiers(text, {name: f"{prefix}_{name}" for name in auxiliary_names(text)})
