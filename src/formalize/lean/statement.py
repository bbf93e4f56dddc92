"""The safety gate for model-written Lean statements.

Elaborating Lean can run programs (``#eval``, ``run_cmd``, user ``elab``\\ s, tactics) and read
files (``include_str``), so a candidate reaches Lean only if :func:`check_statement` accepts
it, and then Lean receives :attr:`SafetyReport.text`, the text the gate judged: newlines
normalised and every comment blanked out (replaced by spaces, lines kept), so no comment can
mean one thing to the gate and another to Lean.

Two walls, both allow-lists:

1. **The command grammar** (this module), parsed on the tokens of :mod:`formalize.lean.lexer`:
   ``import`` lines at the top (modules under an allowed root); ``open`` (with ``scoped``,
   ``hiding``, ``renaming``, ``… in``), ``namespace``/``section``/``noncomputable section``
   and ``end`` matching them, ``universe``, ``variable`` binders, and ``set_option`` for a few
   bounded numeric options; auxiliary ``def``/``abbrev`` (optionally ``noncomputable``,
   ``private``/``protected``) with term bodies (``:= sorry`` included: PutnamBench's answer
   convention), problem-local ``structure``/``class``/``inductive`` declarations; then exactly
   one ``theorem``/``lemma``/``example`` whose proof is ``sorry`` or ``by sorry``, followed
   only by ``end`` lines. No attributes, no instances, no ``deriving``, no binder default
   values ``(h : P := …)``, no strings, characters, quotations or ``«»`` escapes, no
   ``_root_`` names. Every refusal names what was found and where.
2. **Every offset** (:mod:`formalize.lean.exposure`): whatever Lean could read at any
   character of the text must be an allowed keyword or notation, or the very command the
   grammar accepted there; so a parse error that makes Lean re-read the text from inside an
   identifier, or a token table that differs from the gate's, exposes nothing.

Also refused: invisible and control characters, tabs and lone carriage returns, letters Lean
cannot lex (Cyrillic lookalikes), names reaching the meta API or IO (``Lean.Elab``, ``IO``,
``System``), kernel bypasses (``Lean.ofReduceBool``, ``implemented_by``), and text longer
than ``max_length``. The gate never raises and never recurses on nesting: anything it cannot
decide is refused with a reason. Pure functions, no I/O.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from formalize.lean.binders import check_binder_defaults
from formalize.lean.chars import NEWER_ID_CHARS, is_id_first, is_id_rest
from formalize.lean.declaration import (
    auxiliary_names,
    normalize_statement,
    rename_auxiliaries,
    rename_declaration,
    replace_proof_with_sorry,
)
from formalize.lean.exposure import Exposure, Finding
from formalize.lean.grammar import MAIN_KINDS, CommandGrammar, Decl, Parsed, Refusal, show
from formalize.lean.lexer import (
    CHAR,
    COMMENT_KINDS,
    IDENT,
    KEYWORD,
    NAME,
    STRING,
    SYMBOL,
    LexError,
    Token,
    tokenize,
)
from formalize.lean.policy import FORBIDDEN_NAME_PARTS, OPTION_BOUNDS, is_reserved_name
from formalize.lean.tokens import TokenTable, token_table

__all__ = [
    "DEFAULT_ALLOWED_IMPORT_ROOTS",
    "DEFAULT_ALLOWED_OPTIONS",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_TOKENS",
    "Decl",
    "LexError",
    "SafetyReport",
    "Signature",
    "Token",
    "auxiliary_names",
    "blank_comments",
    "body_line_offset",
    "check_statement",
    "normalize_newlines",
    "normalize_statement",
    "rename_auxiliaries",
    "rename_declaration",
    "replace_proof_with_sorry",
    "split_header",
    "tokenize",
]

DEFAULT_ALLOWED_OPTIONS = frozenset(OPTION_BOUNDS)
DEFAULT_ALLOWED_IMPORT_ROOTS = frozenset({"Mathlib", "Aesop", "Batteries", "Std"})
DEFAULT_MAX_LENGTH = 20_000
#: Code tokens a candidate may have: eight times the largest reference statement of the shared
#: benchmarks (485 tokens), and what keeps the gate's worst case within its time budget.
DEFAULT_MAX_TOKENS = 4_000

_NOTATION_WORDS = frozenset({"notation", "infix", "infixl", "infixr", "prefix", "postfix"})
_BAD_CATEGORIES = {"Lu", "Ll", "Lt", "Lo", "Zs", "Zl", "Zp", "Lm", "Mn", "Mc", "Me"}
_SUSPECT = re.compile(r"[^\n\x20-\x7e]")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset({"Cf", "Co", "Cs", "Cn", "Cc"})
# Mathlib's `subscript`/`superscript` parsers read these characters themselves (`!₂[x, y]`).
_SCRIPT_CHARS = frozenset("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢᵣᵤᵥⁱⁿ")


@dataclass(frozen=True)
class Signature:
    """The main theorem's statement as the gate parsed it, cut from :attr:`SafetyReport.text`:
    its binder groups in order (``(x : ℕ)``, ``{α : Type}``, ``[Group G]``, bare names) and the
    conclusion (the type after the top-level ``:``). ``start``/``stop`` delimit the whole
    declaration (modifiers to proof) in the text; ``universes`` its explicit universe
    parameters (``theorem t.{u}``), which a restatement must declare again; ``prefix`` the
    commands of the ``open X in`` / ``set_option … in`` before it (without their ``in``),
    which start at ``prefix_start``: an ``… in`` covers one command, so a restatement of
    several theorems must scope them in a section instead."""

    binders: tuple[str, ...]
    conclusion: str
    start: int
    stop: int
    universes: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()
    prefix_start: int | None = None


@dataclass(frozen=True)
class SafetyReport:
    """The gate's verdict: ``reason`` is None iff ``ok``; ``name``/``kind`` of the main
    declaration when found. For an accepted candidate, ``text`` is what Lean must be sent,
    ``declarations`` every declaration made, ``open_scopes`` the ``end`` lines that close
    what the candidate leaves open (innermost first), ``signature`` the main statement, and
    ``global_effects`` the commands whose effect outlives the candidate's scopes (instances,
    notations), and ``shadowing`` the declarations that may give a library constant's name
    another meaning (made inside the candidate's namespaces, or with a dotted name): a backend
    that checks several candidates in one file checks either kind alone (:attr:`alone`);
    ``limits`` the largest value it sets for each of
    :data:`~formalize.lean.policy.PROBE_LIMITS` (the probes set them again)."""

    ok: bool
    reason: str | None
    name: str | None
    kind: str | None
    text: str | None = field(default=None, compare=False)
    declarations: tuple[Decl, ...] = field(default=(), compare=False)
    open_scopes: tuple[str, ...] = field(default=(), compare=False)
    signature: Signature | None = field(default=None, compare=False)
    global_effects: tuple[str, ...] = field(default=(), compare=False)
    shadowing: tuple[str, ...] = field(default=(), compare=False)
    limits: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    namespaced: bool = field(default=False, compare=False)

    @property
    def alone(self) -> bool:
        """Whether file mode must check this candidate in a file of its own, at the root: it
        has effects beyond its scopes, may shadow a library name, declares a name no guard
        can spell, or opens a namespace (inside the wrapper, ``namespace Real`` would be
        ``FormalizeCheck0.Real``, where ``sqrt`` and Real's scoped notations are not
        ``Real``'s: red team)."""
        return bool(
            self.global_effects or self.shadowing or self.namespaced or self.guard_names is None
        )

    @property
    def guard_names(self) -> tuple[str, ...] | None:
        """The full names the candidate declares where the REPL would (its own namespaces
        from the root), which file mode's wrapper namespace would let shadow the library's
        (``def Even`` there is ``FormalizeCheck0.Even``, where the REPL says "already
        declared"): file mode checks that none exists first. None when one cannot be written
        as a plain name literal (then the candidate is checked alone, at the root)."""
        names = []
        for decl in self.declarations:
            full = decl.full_name
            if full is None or decl.kind == "instance":
                continue
            if not all(map(_plain_component, full.split("."))):
                return None
            names.append(full)
        return tuple(dict.fromkeys(names))

    def __post_init__(self) -> None:
        if self.ok != (self.reason is None):
            raise ValueError("SafetyReport: reason must be None exactly when ok")


_Reject = Refusal


def _plain_component(part: str) -> bool:
    """A name component every pinned Lean reads alike in a name literal (no ``«»``, no letter
    newer than v4.15)."""
    return (
        bool(part)
        and is_id_first(part[0])
        and all(is_id_rest(c) and c not in NEWER_ID_CHARS for c in part)
    )


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def normalize_newlines(text: str) -> str:
    """CRLF line ends as LF (Lean reads both the same; a lone CR stays, and is refused)."""
    return text.replace("\r\n", "\n")


def blank_comments(text: str, tokens: Iterable[Token]) -> str:
    """``text`` with every comment (doc comments too) replaced by spaces, newlines kept: the
    same lines and columns for Lean's messages, and nothing left for Lean to read there."""
    out = list(text)
    for tok in tokens:
        if tok.kind in COMMENT_KINDS:
            for k in range(tok.offset, tok.end):
                if out[k] != "\n":
                    out[k] = " "
    return "".join(out)


# ----------------------------------------------------------------------------- characters


@dataclass(frozen=True)
class _Atom:
    """A notation atom of the candidate: where its command starts (Lean has the token only
    after that), and whether it is ``local`` (Lean drops it again at the ``end`` of its
    section or namespace)."""

    text: str
    declared_at: int
    local: bool


def _notation_atoms(tokens: list[Token]) -> list[_Atom]:
    """The atoms of the candidate's ``notation``/``infix…`` commands (checked by the grammar)."""
    code = [t for t in tokens if t.kind not in COMMENT_KINDS]
    base = token_table()
    atoms: list[_Atom] = []
    for k, tok in enumerate(code):
        if tok.kind == KEYWORD and tok.text in _NOTATION_WORDS:
            # a local atom ends with its section, a scoped one with its namespace (until
            # opened again: read as ended, so a later use is refused)
            local = k > 0 and code[k - 1].text in ("local", "scoped")
            for nxt in code[k + 1 : k + 40]:
                if nxt.kind == STRING and "\\" not in nxt.text:
                    atom = nxt.text[1:-1].strip(" ")
                    # an existing token (`)` in `"ℓ(" n ")"`) is Lean's everywhere: no scope
                    if atom and not any(c.isspace() for c in atom) and not base.is_token(atom):
                        atoms.append(_Atom(atom, tok.offset, local))
                elif nxt.text == "=>":
                    break
    return atoms


def _check_atom_scopes(tokens: list[Token], atoms: list[_Atom]) -> None:
    """Refuse a notation atom read as a token where Lean does not have it: before its
    ``notation`` command, or (a ``local`` one) after an ``end`` that follows it. The gate
    lexes the whole text with every atom; Lean adds each only for its scope, and text read
    with an atom in one and without it in the other (``(·`` against ``(`` ``·``) would be two
    different programs. Each atom's scopes are computed once (sorted intervals), so a use
    costs one binary search: linear in the text whatever the numbers of atoms, uses and
    ``end``\\ s."""
    ends = [t.offset for t in tokens if t.kind == KEYWORD and t.text == "end"]
    spans: dict[str, list[tuple[int, float]]] = {}
    for atom in atoms:
        # active on (declared_at, until]: to the end of the text, or to the next `end`
        until: float = float("inf")
        if atom.local:
            k = bisect.bisect_right(ends, atom.declared_at)
            until = ends[k] if k < len(ends) else until
        spans.setdefault(atom.text, []).append((atom.declared_at, until))
    scopes: dict[str, tuple[list[int], list[float]]] = {}
    for text, intervals in spans.items():
        intervals.sort()
        reach, furthest = [], float("-inf")  # the furthest end among intervals so far
        for _, until in intervals:
            furthest = max(furthest, until)
            reach.append(furthest)
        scopes[text] = ([a for a, _ in intervals], reach)
    for tok in tokens:
        scope = scopes.get(tok.text)
        if scope is None or tok.kind == STRING or tok.kind in COMMENT_KINDS:
            continue
        starts, reach = scope
        k = bisect.bisect_left(starts, tok.offset) - 1  # the last declared before the use
        if k < 0 or reach[k] < tok.offset:
            raise _Reject(
                f"notation atom `{tok.text}` at line {tok.line} is read where Lean does not "
                "have it (before its notation command, or after the `end` of a local one)"
            )


def _check_characters(text: str, blanked: str, tokens: list[Token], table: TokenTable) -> None:
    """Invisible characters anywhere (they mislead readers: Trojan Source), control characters
    and tabs outside comments (Lean rejects tabs), and characters Lean has no token for."""
    first: tuple[int, str] | None = None  # the earliest offending character
    categories: dict[str, str] = {}  # each distinct character looked up once
    for m in _SUSPECT.finditer(text):  # one pass, however many distinct characters
        c = m.group()
        cat = categories.get(c)
        if cat is None:
            cat = categories[c] = unicodedata.category(c)
        if cat not in _INVISIBLE:
            continue
        # in a comment (blanked away before Lean sees it) a control or format character is
        # harmless (a soft hyphen in a docstring), except the bidirectional controls, which
        # reorder how the text around them is displayed (Trojan Source)
        quiet = cat == "Cc" or (cat == "Cf" and c not in _BIDI)
        if not quiet or blanked[m.start()] != " ":
            first = (m.start(), c)
            break
    if first is not None:
        offset, c = first
        what = {"\t": "tab", "\r": "carriage return U+000D (CR without LF)"}.get(c)
        if what is None:
            what = f"invisible or control character U+{ord(c):04X}"
            what += f" ({unicodedata.name(c, 'unnamed')})"
        raise _Reject(f"{what} at line {_line(text, offset)} (not allowed in statements)")
    for tok in tokens:
        if tok.kind == SYMBOL and not table.is_token(tok.text) and tok.text not in _SCRIPT_CHARS:
            c = tok.text[0]
            name = unicodedata.name(c, "unnamed")
            hint = (
                " (a lookalike of a Latin letter or a space?)"
                if unicodedata.category(c) in _BAD_CATEGORIES
                else ""
            )
            raise _Reject(
                f"character `{c}` (U+{ord(c):04X} {name}) at line {tok.line} is not a Lean token"
                f"{hint}"
            )


def _check_literals(
    code: list[Token],
    accepted: list[tuple[int, int]],
    markers: list[tuple[int, int]],
    reserved: bool = False,
) -> None:
    """No strings (but notation atoms), characters, name literals or forbidden names, nor
    (unless ``reserved``) the checker's reserved names; ``markers`` gets the offsets of the
    ``«``/``»`` of plain escaped names."""
    spans = {a for a, _ in accepted}
    for tok in code:
        if tok.kind == STRING and tok.offset not in spans:
            raise _Reject(f"string literal at line {tok.line}: statements need no strings")
        if tok.kind == CHAR:
            raise _Reject(f"character literal {show(tok)}: statements need no characters")
        if tok.kind == NAME:
            raise _Reject(f"name literal or quotation {show(tok)}")
        if tok.kind == IDENT:
            parts = tok.text.split(".")
            if "«" in tok.text:
                parts = _escaped_parts(tok, markers)
            for k, part in enumerate(parts):
                if part == "_root_" and k == 0 and len(parts) > 1:
                    continue  # `_root_.X`: `X` resolved (or declared) at the root
                if part in FORBIDDEN_NAME_PARTS:
                    raise _Reject(f"forbidden name {show(tok)} (refers to `{part}`)")
                if not reserved and is_reserved_name(part):
                    raise _Reject(
                        f"name {show(tok)} is reserved for the checker's own probes (names"
                        " starting with formalize_probe_, formalize_ref or FormalizeCheck)"
                    )


_ESCAPED = re.compile(r"«([^»]*)»")
_PLAIN_ESCAPE = re.compile(r"[A-Za-z0-9_']+(?:\.[A-Za-z0-9_']+)*")


def _escaped_parts(tok: Token, markers: list[tuple[int, int]]) -> list[str]:
    """The name components of an identifier with ``«…»`` parts (``Arxiv.«2501.03234»``), whose
    escaped text must be plain (ASCII letters, digits, ``_``, ``'``, dots): then Lean reading
    it afresh after a parse error meets only words the every-offset check also sees, and a
    forbidden name cannot hide behind the escape. The ``«``/``»`` offsets go to ``markers``."""
    parts: list[str] = []
    for piece in _ESCAPED.split(tok.text):
        parts += piece.split(".")
    for m in _ESCAPED.finditer(tok.text):
        if not _PLAIN_ESCAPE.fullmatch(m.group(1)):
            raise _Reject(
                f"escaped identifier {show(tok)}: `«…»` may only hold ASCII letters, digits,"
                " `_`, `'` and dots"
            )
        markers += [(tok.offset + m.start(), tok.offset + m.start() + 1)]
        markers += [(tok.offset + m.end() - 1, tok.offset + m.end())]
    return parts


def _check_placeholders(code: list[Token], parsed: Parsed) -> None:
    """A declaration whose body is ``sorry`` (PutnamBench's answer placeholder ``abbrev
    answer : ℝ := sorry``) may be used by the main statement only: anywhere else it is an
    unproved assumption (``abbrev cheat : False := sorry``, then ``⟨3, cheat.elim⟩`` inside
    a definition "proves" anything, behind a statement that reads as true)."""
    if parsed.signature is None:
        return
    start, stop = parsed.signature[0], parsed.signature[1]
    placeholders: dict[str, int] = {}  # last name component -> where it is declared
    decls = sorted(parsed.declarations, key=lambda d: d.offset)
    offsets = [d.offset for d in decls]
    for i, tok in enumerate(code):
        if tok.kind != KEYWORD or tok.text != "sorry" or start <= tok.offset < stop:
            continue
        k = bisect.bisect_left(offsets, tok.offset) - 1  # the declaration it ends
        if i > 0 and code[i - 1].text == ":=" and k >= 0:
            owner = decls[k]
            if owner.name and not owner.main:
                placeholders[owner.name.rsplit(".", 1)[-1]] = owner.offset
    if not placeholders:
        return
    declared = set(placeholders.values())
    for tok in code:
        if tok.kind != IDENT or start <= tok.offset < stop or tok.offset in declared:
            continue
        for part in tok.text.split("."):  # one look-up per name component: linear
            if part in placeholders:
                raise _Reject(
                    f"{show(tok)} uses `{part}`, declared `:= sorry`: an answer placeholder may"
                    " be used by the theorem's statement only (anywhere else it is an unproved"
                    " assumption)"
                )


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    out = list(text)
    for a, b in spans:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


_EXPOSURE: Exposure | None = None


def _exposure() -> Exposure:
    global _EXPOSURE
    table = token_table()  # a new table once the user's Lean added tokens to it
    if _EXPOSURE is None or _EXPOSURE.table is not table:
        _EXPOSURE = Exposure(table)
    return _EXPOSURE


def check_statement(
    text: str,
    *,
    allowed_options: frozenset[str] = DEFAULT_ALLOWED_OPTIONS,
    allowed_import_roots: frozenset[str] = DEFAULT_ALLOWED_IMPORT_ROOTS,
    max_length: int = DEFAULT_MAX_LENGTH,
    reserved_names: bool = False,
) -> SafetyReport:
    """Decide whether ``text`` (one candidate, imports included) may be sent to Lean; when it
    may, the report's ``text`` is what to send. ``reserved_names`` admits the checker's own
    reserved names (:func:`~formalize.lean.policy.is_reserved_name`): only for the filters'
    reference statements, which it renames so. Never raises."""
    seen: list[Token] = []
    try:
        try:
            return _check(
                text, allowed_options, allowed_import_roots, max_length, seen, reserved_names
            )
        except Refusal:
            raise
        except RecursionError:  # pragma: no cover - every scanner is iterative
            raise Refusal("the candidate is nested too deeply to be checked") from None
        except Exception as exc:  # the gate decides every input: a bug refuses, never crashes
            raise Refusal(f"the statement gate could not decide ({type(exc).__name__})") from exc
    except Refusal as exc:
        name, kind = _declared(seen)
        return SafetyReport(False, str(exc), name, kind)


def _check(
    text: str,
    options: frozenset[str],
    roots: frozenset[str],
    max_length: int,
    seen: list[Token],
    reserved: bool = False,
) -> SafetyReport:
    if not text.strip():
        raise Refusal("empty candidate")
    if len(text) > max_length:
        raise Refusal(f"candidate is {len(text)} characters long; the limit is {max_length}")
    text = normalize_newlines(text)
    table = token_table()
    try:
        tokens = tokenize(text, table, max_tokens=DEFAULT_MAX_TOKENS)
        atoms = _notation_atoms(tokens)
        if atoms:  # Lean reads the candidate's own notation atoms as tokens after they are made
            table = table.with_tokens(a.text for a in atoms)
            tokens = tokenize(text, table, max_tokens=DEFAULT_MAX_TOKENS)
    except LexError as exc:
        raise Refusal(str(exc)) from None
    if atoms:
        _check_atom_scopes(tokens, atoms)
    seen += tokens
    blanked = blank_comments(text, tokens)
    _check_characters(text, blanked, tokens, table)
    code = [t for t in tokens if t.kind not in COMMENT_KINDS]
    check_binder_defaults(code)
    parsed = CommandGrammar(code, options, roots).run()
    markers: list[tuple[int, int]] = []
    _check_literals(code, parsed.accepted_spans, markers, reserved)
    parsed.accepted_spans += markers
    _check_placeholders(code, parsed)
    sent = _blank(blanked, parsed.stripped_spans)
    isolate: list[Finding] = []
    starts = {t.offset for t in code}
    finding = _exposure().check(
        _blank(sent, parsed.accepted_spans), parsed.sanctioned, isolate, starts
    )
    if finding is not None:
        raise Refusal(f"{finding.reason} (line {_line(sent, finding.offset)})")
    for note in isolate:
        parsed.global_effects.append(
            f"`{note.token}` inside an identifier at line {_line(sent, note.offset)}"
        )
    assert parsed.main is not None
    signature = None
    if parsed.signature is not None:
        start, stop, groups, (c0, c1) = parsed.signature
        binders = tuple(sent[a:b] for a, b in groups)
        prefix = tuple(sent[a:b].strip() for a, b in parsed.in_prefix)
        first = parsed.in_prefix[0][0] if parsed.in_prefix else None
        signature = Signature(binders, sent[c0:c1], start, stop, parsed.universes, prefix, first)
    closing = tuple(f"end {name}" if name else "end" for _, name in reversed(parsed.scopes))
    return SafetyReport(
        True,
        None,
        parsed.main.name,
        parsed.main.kind,
        text=sent,
        declarations=tuple(parsed.declarations),
        open_scopes=closing,
        signature=signature,
        global_effects=tuple(parsed.global_effects),
        shadowing=tuple(parsed.shadowing),
        limits=tuple(sorted(parsed.limits.items())),
        namespaced=parsed.namespaced,
    )


def _declared(tokens: list[Token]) -> tuple[str | None, str | None]:
    """Best-effort (name, kind) of the main declaration, for reports of rejections (from the
    tokens read before the refusal; none when the text did not lex)."""
    code = [t for t in tokens if t.kind not in COMMENT_KINDS]
    for k, tok in enumerate(code):
        if tok.kind == KEYWORD and tok.text in MAIN_KINDS:
            name = code[k + 1] if k + 1 < len(code) and tok.text != "example" else None
            return (name.text if name is not None and name.kind == IDENT else None), tok.text
    return None, None


# ----------------------------------------------------------------------------- header split


def _header_cut(text: str) -> tuple[list[str], int, int]:
    """Leading imports, where the body starts, and how far its first line is indented."""
    tokens = tokenize(text)
    code = [t for t in tokens if t.kind not in COMMENT_KINDS]
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
        if tok.offset >= cut and tok.kind in COMMENT_KINDS and "\n" not in text[cut : tok.offset]:
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
