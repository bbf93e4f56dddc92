"""The safety gate for model-written Lean statements, and the statement utilities around it.

Elaborating Lean can run arbitrary programs (``#eval``, ``run_cmd``, user ``elab``\\ s, tactics),
so a candidate reaches Lean only if :func:`check_statement` accepts it. Everything here works on
the tokens of :mod:`formalize.lean.lexer`, never on raw text: ``-- #eval`` in a comment is fine,
and nothing hides from the deny-lists inside a comment, string or ``«name»``.

The accepted shape: ``import`` lines (top only, plain module names under an allowed root), then
``open ...`` / ``namespace X`` / ``section`` / ``end`` / ``noncomputable section`` / ``universe``
/ ``variable (binders)`` / allowed ``set_option`` commands (the three that take ``... in``
directly before the declaration), then exactly one ``theorem``/``lemma``/``example`` with an
optional doc comment, allow-listed attributes (default ``@[simp]``: it only affects later
commands, and there are none) and ``private``/``protected``, whose proof after the top-level
``:=`` is exactly ``sorry`` or ``by sorry``; then only ``end`` commands.

Decisions worth knowing:

* ``by`` anywhere in the statement (binders, type, ``variable``, default arguments) is rejected.
  A tactic block runs tactics at elaboration time, tactic syntax is open-ended (Mathlib adds
  hundreds of tactics, some evaluate code), and no reference statement needs one.
* Lean recovers from a parse error by skipping tokens to the next command, so the gate must
  see the same tokens Lean does. The lexer therefore rejects what Lean rejects lexically, and
  the gate also rejects what could make Lean's view differ from ours: interpolated strings
  (``{..}`` is code), string literals containing ``{`` (any syntax taking ``interpolatedStr``
  would read them as code), raw strings, quotations, and a comment marker glued to a symbol
  (``<--`` may lex as ``<-`` ``-`` in Lean's token table).
* Command keywords are a deny-list plus an allow-listed command grammar: a keyword unknown to
  both can still end a term early and start a command. Imports are limited to known roots
  (Mathlib, Aesop, Batteries, Std), whose code-running commands the deny-list covers.
* Invisible characters (bidi controls, zero-width spaces), control characters, tabs and
  carriage returns outside literals, and letters Lean cannot lex (``е`` Cyrillic) are rejected.
* ``set_option`` is checked wherever it occurs (term-level ``set_option ... in`` too), and
  ``maxHeartbeats``/``maxRecDepth`` stay within bounds whatever the allow-list says. Kernel
  bypasses are names (``Lean.ofReduceBool``, ``native_decide``, ``implemented_by``, ``extern``)
  or options (``debug.skipKernelTC``, not allow-listed).
* Strings and ``«names»`` are opaque only while Lean agrees: ``"run_cmd"`` is fine, but a name
  part such as ``«IO»`` or ``«#eval»`` counts like the bare word.

Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from formalize.lean.declaration import (
    DECL_KINDS,
    decl_index,
    normalize_statement,
    rename_declaration,
    replace_proof_with_sorry,
    scan_signature,
)
from formalize.lean.lexer import (
    COMMENT_KINDS,
    DOC_COMMENT,
    IDENT,
    INTERP,
    KEYWORD,
    NAME,
    NUMBER,
    STRING,
    SYMBOL,
    TRIVIA_KINDS,
    LexError,
    Token,
    tokenize,
)

__all__ = [
    "DEFAULT_ALLOWED_ATTRIBUTES",
    "DEFAULT_ALLOWED_IMPORT_ROOTS",
    "DEFAULT_ALLOWED_OPTIONS",
    "DEFAULT_MAX_LENGTH",
    "LexError",
    "SafetyReport",
    "Token",
    "body_line_offset",
    "check_statement",
    "normalize_statement",
    "rename_declaration",
    "replace_proof_with_sorry",
    "split_header",
    "tokenize",
]

DEFAULT_ALLOWED_OPTIONS = frozenset(
    {"maxHeartbeats", "maxRecDepth", "pp.*", "autoImplicit", "relaxedAutoImplicit"}
)
DEFAULT_ALLOWED_ATTRIBUTES = frozenset({"simp"})
DEFAULT_ALLOWED_IMPORT_ROOTS = frozenset({"Mathlib", "Aesop", "Batteries", "Std"})
DEFAULT_MAX_LENGTH = 20_000
#: Upper bounds that hold whatever the allow-list says (``maxHeartbeats 0`` means no limit).
MAX_HEARTBEATS = 400_000
MAX_REC_DEPTH = 10_000

# Commands (and command-like keywords) that may run code or add declarations.
_FORBIDDEN_COMMANDS = frozenset(
    """
    run_cmd run_elab run_meta test_extern count_heartbeats whatsnew macro macro_rules syntax elab
    elab_rules declare_syntax_cat notation notation3 infix infixl infixr prefix postfix initialize
    builtin_initialize def instance structure inductive coinductive class abbrev axiom opaque
    constant attribute deriving mutual export omit include alias irreducible_def proof_wanted
    recall unif_hint simproc dsimproc add_decl_doc seal unseal suppress_compilation
    unsuppress_compilation compile_inductive initialize_simps_projections mk_iff_of_inductive_prop
    assert_not_exists library_note local prelude nonrec partial unsafe grind_pattern
    """.split()  # noqa: SIM905
)
_FORBIDDEN_PREFIXES = (
    "#",
    "run_",
    "register_",
    "declare_",
    "builtin_",
    "initialize",
    "elab",
    "macro",
    "simproc",
    "dsimproc",
    "compile_",
    "assert_not_",
)
_FORBIDDEN_TACTICS = frozenset({"native_decide", "run_tac", "by_elab", "eval_expr"})
# Name components that reach the metaprogramming API, IO, or kernel bypasses.
_FORBIDDEN_NAME_PARTS = frozenset(
    """
    Lean Elab Meta IO EIO BaseIO unsafeIO unsafeBaseIO unsafeEIO unsafeCast FilePath System Process
    ofReduceBool ofReduceNat reduceBool reduceNat trustCompiler implemented_by extern sorryAx
    native_decide run_cmd run_tac run_elab run_meta by_elab test_extern
    """.split()  # noqa: SIM905
)
_ALLOWED_COMMANDS = frozenset(
    {"import", "open", "namespace", "section", "end", "noncomputable", "universe", "variable"}
    | {"set_option", "theorem", "lemma", "example", "private", "protected"}
)
_OPEN_WORDS = frozenset({"scoped", "hiding", "renaming", "(", ")", "→", "->"})
_OPENERS = {"(": ")", "[": "]", "{": "}", "⦃": "⦄", "⟨": "⟩"}
_BAD_CATEGORIES = {"Lu", "Ll", "Lt", "Lo", "Zs", "Zl", "Zp"}


@dataclass(frozen=True)
class SafetyReport:
    """The gate's verdict: ``reason`` is None iff ``ok``; ``name``/``kind`` when found."""

    ok: bool
    reason: str | None
    name: str | None
    kind: str | None

    def __post_init__(self) -> None:
        if self.ok != (self.reason is None):
            raise ValueError("SafetyReport: reason must be None exactly when ok")


class _Reject(Exception):
    """Internal: the first reason found."""


def _where(tok: Token) -> str:
    return f"at line {tok.line}"


def _show(tok: Token) -> str:
    """The token as quoted in a reason (long comments cut short)."""
    text = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f"`{text}` {_where(tok)}"


def _parts(tok: Token) -> tuple[list[str], bool]:
    """Name components of an identifier-like token, unescaped, and whether any was escaped."""
    text = tok.text[1:] if tok.kind == NAME else tok.text
    parts, escaped, i = [], False, 0
    while i <= len(text):
        if text.startswith("«", i):
            close = text.index("»", i)
            parts.append(text[i + 1 : close])
            escaped, i = True, close + 2
        else:
            dot = text.find(".", i)
            dot = len(text) if dot < 0 else dot
            parts.append(text[i:dot])
            i = dot + 1
    return parts, escaped


def _deny(tok: Token) -> str | None:
    """Why this single token is forbidden anywhere, or None."""
    if tok.kind == INTERP:
        return f"interpolated string {_where(tok)} (its `{{..}}` is code)"
    if tok.kind == STRING:
        if tok.text.startswith("r"):
            return f"raw string literal {_where(tok)}"
        if "{" in tok.text:
            return f"string literal containing `{{` {_where(tok)} (Lean may read it as code)"
        return None
    if tok.kind == NAME or (tok.kind == SYMBOL and tok.text == "`"):
        return f"quotation or name literal {_where(tok)}"
    if tok.kind not in (IDENT, KEYWORD):
        return None
    text = tok.text
    parts, escaped = _parts(tok)
    if not escaped and len(parts) == 1:
        if text in ("unsafe", "partial"):
            return f"forbidden modifier `{text}` {_where(tok)}"
        if text in _FORBIDDEN_TACTICS:
            return f"forbidden tactic `{text}` {_where(tok)}"
        if text in _FORBIDDEN_COMMANDS or text.startswith(_FORBIDDEN_PREFIXES):
            return f"forbidden command `{text}` {_where(tok)}"
    for part in parts:
        if part in _FORBIDDEN_NAME_PARTS or part.startswith("#") or part in _FORBIDDEN_COMMANDS:
            return f"forbidden name `{text}` {_where(tok)} (refers to `{part}`)"
    return None


def _check_characters(text: str, tokens: list[Token]) -> None:
    for tok in tokens:
        for k, c in enumerate(tok.text):
            cat = unicodedata.category(c)
            if cat in ("Cf", "Co", "Cs") or (cat == "Cc" and c not in "\n\t\r"):
                line = tok.line + tok.text.count("\n", 0, k)
                name = unicodedata.name(c, "unnamed")
                raise _Reject(
                    f"invisible or control character U+{ord(c):04X} ({name}) at line {line}"
                )
        first = tok.text[0]
        if (
            tok.kind == SYMBOL
            and unicodedata.category(first) in _BAD_CATEGORIES
            and first not in "λΠΣ"
        ):
            c = tok.text[0]
            raise _Reject(
                f"character `{c}` (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}) {_where(tok)}"
                " is not valid Lean code here (a lookalike of a Latin letter or a space?)"
            )
    previous_end, line = 0, 1
    for tok in [*tokens, Token(SYMBOL, "", 0, 0, len(text))]:
        gap = text[previous_end : tok.offset]
        for c in gap:
            if c in "\t\r" or (c not in " \n" and unicodedata.category(c) in ("Cc", "Cf")):
                what = "tab" if c == "\t" else f"character U+{ord(c):04X}"
                raise _Reject(f"{what} at line {line} (Lean rejects it outside comments)")
            line += c == "\n"
        line += tok.text.count("\n")
        previous_end = tok.end


def _check_glued_comments(tokens: list[Token]) -> None:
    for prev, tok in zip(tokens, tokens[1:], strict=False):  # noqa: RUF007
        if tok.kind in COMMENT_KINDS and prev.kind == SYMBOL and prev.end == tok.offset:
            raise _Reject(
                f"comment marker `{tok.text[:2]}` glued to `{prev.text}` {_where(tok)}"
                " (ambiguous: Lean may read it as part of an operator); add a space"
            )


def _option_allowed(name: str, allowed: frozenset[str]) -> bool:
    return name in allowed or any(
        pat.endswith(".*") and name.startswith(pat[:-1]) for pat in allowed
    )


def _nat_value(tok: Token) -> int | None:
    """The value of a natural-number literal (decimal, 0x/0b/0o, ``_`` separators), else None."""
    text = tok.text.replace("_", "").lower()
    if tok.kind != NUMBER:
        return None
    if text[:2] in ("0x", "0b", "0o"):
        return int(text, 0)
    return int(text, 10) if text.isdigit() else None


def _check_set_option(code: list[Token], i: int, allowed: frozenset[str]) -> None:
    tok = code[i]
    if i + 2 >= len(code):
        raise _Reject(f"incomplete `set_option` {_where(tok)}")
    name_tok, value_tok = code[i + 1], code[i + 2]
    name = name_tok.text
    if name_tok.kind != IDENT or not _option_allowed(name, allowed):
        raise _Reject(
            f"set_option `{name}` {_where(tok)} is not allowed"
            f" (allowed: {', '.join(sorted(allowed))})"
        )
    value = _nat_value(value_tok)
    last = name.rsplit(".", 1)[-1]
    bounds = {"maxHeartbeats": MAX_HEARTBEATS, "maxRecDepth": MAX_REC_DEPTH}.get(last)
    if bounds is not None:
        if value is None or not 1 <= value <= bounds:
            raise _Reject(
                f"set_option {name} {value_tok.text} {_where(tok)}: the value must be a number"
                f" from 1 to {bounds}" + (" (0 disables the limit)" if value == 0 else "")
            )
    elif value is None and value_tok.text not in ("true", "false"):
        raise _Reject(
            f"set_option {name} {value_tok.text} {_where(tok)}: the value must be true, false"
            " or a number"
        )


def _sweep(code: list[Token], allowed_options: frozenset[str]) -> None:
    """Token-level rules that hold anywhere in the candidate."""
    top = 0
    while top + 1 < len(code) and code[top].text == "import" and code[top].kind == KEYWORD:
        top += 2
    for i, tok in enumerate(code):
        if i >= top and tok.kind == KEYWORD and tok.text == "import":
            raise _Reject(f"`import` {_where(tok)}: imports are only allowed at the top")
        reason = _deny(tok)
        if reason is not None:
            raise _Reject(reason)
        if tok.kind == KEYWORD and tok.text == "set_option":
            _check_set_option(code, i, allowed_options)


def _check_statement_part(toks: list[Token]) -> None:
    """Rules for binders and types: no sorry, no tactic blocks."""
    for tok in toks:
        if tok.kind == KEYWORD and tok.text in ("sorry", "admit"):
            raise _Reject(
                f"`{tok.text}` in the statement {_where(tok)}: only the proof may be sorry"
            )
        if tok.kind == KEYWORD and tok.text == "by":
            raise _Reject(
                f"tactic block (`by`) in the statement {_where(tok)}: statements may not run"
                " tactics"
            )


def _group_end(code: list[Token], i: int) -> int:
    """Index just past the bracket group opening at ``i``."""
    depth = 0
    for j in range(i, len(code)):
        text = code[j].text if code[j].kind == SYMBOL else ""
        if text in _OPENERS or text in ("@[", "#["):
            depth += 1
        elif text in _OPENERS.values():
            depth -= 1
            if depth == 0:
                return j + 1
    raise _Reject(f"unclosed `{code[i].text}` {_where(code[i])}")


class _Gate:
    def __init__(
        self,
        code: list[Token],
        allowed_attributes: frozenset[str],
        allowed_roots: frozenset[str],
    ) -> None:
        self.code = code
        self.allowed_attributes = allowed_attributes
        self.allowed_roots = allowed_roots
        self.name: str | None = None
        self.kind: str | None = None

    def tok(self, i: int) -> Token | None:
        return self.code[i] if i < len(self.code) else None

    def is_(self, i: int, text: str, kind: str | None = None) -> bool:
        tok = self.tok(i)
        return tok is not None and tok.text == text and (kind is None or tok.kind == kind)

    def run(self) -> None:
        code, i = self.code, 0
        while self.is_(i, "import", KEYWORD):
            i = self.parse_import(i)
        declared, after_in = False, False
        while i < len(code):
            tok = code[i]
            if declared and not self.is_(i, "end", KEYWORD):
                if tok.text in DECL_KINDS:
                    raise _Reject(f"several declarations: another `{tok.text}` {_where(tok)}")
                raise _Reject(f"unexpected {_show(tok)} after the declaration")
            if tok.kind == DOC_COMMENT or tok.text in ("@[", "private", "protected", *DECL_KINDS):
                i, declared, after_in = self.parse_declaration(i), True, False
                continue
            if after_in and tok.text not in ("open", "set_option", "variable"):
                raise _Reject(f"`... in` must be followed by the declaration; found {_show(tok)}")
            i = self.parse_command(i)
            after_in = self.is_(i, "in", KEYWORD)
            i += after_in
        if after_in:
            raise _Reject("`... in` at the end of the candidate is not followed by a declaration")
        if not declared:
            raise _Reject("no theorem, lemma or example declaration found")

    def parse_import(self, i: int) -> int:
        tok, module = self.code[i], self.tok(i + 1)
        if module is None or module.kind != IDENT or "«" in module.text:
            raise _Reject(f"malformed `import` {_where(tok)}: expected a module name like Mathlib")
        root = module.text.split(".", 1)[0]
        if root not in self.allowed_roots:
            raise _Reject(
                f"import of `{module.text}` {_where(tok)} is not allowed"
                f" (allowed roots: {', '.join(sorted(self.allowed_roots))})"
            )
        return i + 2

    def parse_command(self, i: int) -> int:
        tok = self.code[i]
        word = tok.text if tok.kind == KEYWORD else None
        if word == "open":
            j = i + 1
            while (t := self.tok(j)) is not None and (t.kind == IDENT or t.text in _OPEN_WORDS):
                j += 1
            if not any(t.kind == IDENT for t in self.code[i + 1 : j]):
                raise _Reject(f"`open` without a namespace {_where(tok)}")
            return j
        if word == "namespace":
            if (t := self.tok(i + 1)) is None or t.kind != IDENT:
                raise _Reject(f"`namespace` without a name {_where(tok)}")
            return i + 2
        if word == "noncomputable":
            if not self.is_(i + 1, "section", KEYWORD):
                raise _Reject(
                    f"`noncomputable` {_where(tok)} is only allowed as `noncomputable section`"
                )
            i += 1
            word = "section"
        if word in ("section", "end"):
            t = self.tok(i + 1)
            return i + 2 if t is not None and t.kind == IDENT else i + 1
        if word == "universe":
            j = i + 1
            while (t := self.tok(j)) is not None and t.kind == IDENT:
                j += 1
            if j == i + 1:
                raise _Reject(f"`universe` without names {_where(tok)}")
            return j
        if word == "variable":
            j = i + 1
            while (t := self.tok(j)) is not None and t.kind == SYMBOL and t.text in _OPENERS:
                j = _group_end(self.code, j)
            if j == i + 1:
                raise _Reject(f"`variable` without binders {_where(tok)}")
            _check_statement_part(self.code[i + 1 : j])
            return j
        if word == "set_option":
            return i + 3  # validated by the sweep
        if word is not None and word not in _ALLOWED_COMMANDS:
            raise _Reject(f"forbidden command `{word}` {_where(tok)}")
        raise _Reject(
            f"unexpected {_show(tok)}: only imports, open/namespace/section/end/"
            "variable/universe/set_option commands and one theorem, lemma or example are allowed"
        )

    def parse_declaration(self, i: int) -> int:
        code, start = self.code, self.code[i]
        i += code[i].kind == DOC_COMMENT
        if self.is_(i, "@["):
            i = self.parse_attributes(i)
        i += self.is_(i, "private", KEYWORD) or self.is_(i, "protected", KEYWORD)
        kw = self.tok(i)
        if kw is None or kw.kind != KEYWORD or kw.text not in DECL_KINDS:
            found = "the end" if kw is None else _show(kw)
            what = {DOC_COMMENT: "doc comment"}.get(start.kind, f"`{start.text}`")
            raise _Reject(
                f"{what} {_where(start)} must introduce a theorem, lemma or example; found {found}"
            )
        self.kind = kw.text
        i += 1
        if kw.text != "example":
            name = self.tok(i)
            if name is None or name.kind != IDENT:
                raise _Reject(f"`{kw.text}` without a name {_where(kw)}")
            self.name = name.text
            i += 1
        sig = scan_signature(code, i)
        if sig.equation is not None:
            raise _Reject(
                f"`{sig.equation.text}` {_where(sig.equation)}: equation-compiler forms are not"
                " statements (the proof must be `:= by sorry`)"
            )
        _check_statement_part(code[i : sig.stop])
        if sig.assign is None:
            raise _Reject(f"`{kw.text}` {_where(kw)} has no `:=` (the proof must be `:= by sorry`)")
        j = sig.assign + 1
        j += self.is_(j, "by", KEYWORD)
        if not self.is_(j, "sorry", KEYWORD):
            got = self.tok(j)
            what = "nothing" if got is None else _show(got)
            raise _Reject(f"the proof must be `sorry` or `by sorry`; found {what}")
        return j + 1

    def parse_attributes(self, i: int) -> int:
        opener, j = self.code[i], i + 1
        while True:
            name, sep = self.tok(j), self.tok(j + 1)
            if name is None or name.kind != IDENT or sep is None or sep.text not in (",", "]"):
                raise _Reject(
                    f"attribute {_where(opener)} is not allowed: only plain attributes from the"
                    f" allow-list ({', '.join(sorted(self.allowed_attributes)) or 'none'})"
                )
            if name.text not in self.allowed_attributes:
                raise _Reject(f"attribute `{name.text}` {_where(name)} is not allowed")
            j += 2
            if sep.text == "]":
                return j


def check_statement(
    text: str,
    *,
    allowed_options: frozenset[str] = DEFAULT_ALLOWED_OPTIONS,
    allowed_attributes: frozenset[str] = DEFAULT_ALLOWED_ATTRIBUTES,
    allowed_import_roots: frozenset[str] = DEFAULT_ALLOWED_IMPORT_ROOTS,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> SafetyReport:
    """Decide whether ``text`` (one candidate, imports included) may be sent to Lean."""
    gate: _Gate | None = None
    try:
        if not text.strip():
            raise _Reject("empty candidate")
        if len(text) > max_length:
            raise _Reject(f"candidate is {len(text)} characters long; the limit is {max_length}")
        try:
            tokens = tokenize(text)
        except LexError as exc:
            raise _Reject(str(exc)) from None
        _check_characters(text, tokens)
        _check_glued_comments(tokens)
        code = [t for t in tokens if t.kind not in TRIVIA_KINDS]
        _sweep([t for t in code if t.kind != DOC_COMMENT], allowed_options)
        gate = _Gate(code, allowed_attributes, allowed_import_roots)
        gate.run()
    except _Reject as exc:
        name, kind = (gate.name, gate.kind) if gate else _declared(text)
        return SafetyReport(False, str(exc), name, kind)
    return SafetyReport(True, None, gate.name, gate.kind)


def _declared(text: str) -> tuple[str | None, str | None]:
    """Best-effort (name, kind) of the first declaration, for reports of early rejections."""
    try:
        code = [t for t in tokenize(text) if t.kind not in COMMENT_KINDS]
    except LexError:
        return None, None
    k = decl_index(code)
    if k is None:
        return None, None
    name = code[k + 1] if k + 1 < len(code) and code[k].text != "example" else None
    return (name.text if name is not None and name.kind == IDENT else None), code[k].text


def _header_cut(text: str) -> tuple[list[str], int, int]:
    """Leading imports, where the body starts, and how far its first line is indented."""
    tokens = tokenize(text)
    code = [t for t in tokens if t.kind not in TRIVIA_KINDS]
    imports: list[str] = []
    i, last = 0, None
    while i + 1 < len(code) and code[i].kind == KEYWORD and code[i].text == "import":
        if code[i + 1].kind != IDENT:
            break
        imports.append(code[i + 1].text)
        last = code[i + 1]
        i += 2
    if last is None:
        return [], 0, 0
    cut = last.end
    for tok in tokens:
        if tok.offset >= cut and tok.kind in TRIVIA_KINDS and "\n" not in text[cut : tok.offset]:
            cut = tok.end
        elif tok.offset >= cut:
            break
    newline = text.find("\n", cut)
    newline = len(text) if newline < 0 else newline
    if not text[cut:newline].strip():
        return imports, min(newline + 1, len(text)), 0
    start = cut + len(text[cut:newline]) - len(text[cut:newline].lstrip())
    return imports, start, start - (text.rfind("\n", 0, start) + 1)


def split_header(text: str) -> tuple[str, str]:
    """(header, body): the leading ``import`` lines, normalised one per line in order without
    duplicates, and the rest of ``text`` unchanged (indented to its column if it started on an
    import line). Raises :class:`LexError` for text Lean cannot lex."""
    imports, start, indent = _header_cut(text)
    unique = list(dict.fromkeys(imports))
    return "\n".join(f"import {m}" for m in unique), " " * indent + text[start:]


def body_line_offset(text: str) -> int:
    """How many lines of ``text`` precede the body returned by :func:`split_header`."""
    _, start, _ = _header_cut(text)
    return text.count("\n", 0, start)
