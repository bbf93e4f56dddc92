"""Read Lean 4 sources into :class:`Declaration` records without Lean.

The parser splits a file into commands (a command starts on a line's first column, as Mathlib
writes them), follows ``namespace``/``section``/``end`` and ``open``, and reads each
declaration's docstring, attributes (``@[deprecated X]``), modifiers, keyword, name and
signature (up to ``:=``, ``where`` or the first match arm). Structures' fields and inductive
types' constructors are read too, and ``alias`` commands (Mathlib's rename table). A command it
cannot read is counted as skipped; the rest of the file is still read.

Deprecation targets and alias targets are written relative to the namespaces and ``open``s in
force; :func:`formalize.index.resolve.resolve` turns them into full names once every file is
parsed (and adds the ``@[to_additive]`` twins).
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from formalize.index.lexer import IDENT, WORD, balanced_end, mask, normalise, top_level_stop
from formalize.index.records import Declaration, DeclKind, ParsedFile

KEYWORDS: dict[str, DeclKind] = {
    "def": DeclKind.DEF,
    "theorem": DeclKind.THEOREM,
    "lemma": DeclKind.THEOREM,
    "abbrev": DeclKind.ABBREV,
    "structure": DeclKind.STRUCTURE,
    "class": DeclKind.CLASS,
    "instance": DeclKind.INSTANCE,
    "inductive": DeclKind.INDUCTIVE,
    "axiom": DeclKind.AXIOM,
    "opaque": DeclKind.OPAQUE,
    "irreducible_def": DeclKind.DEF,
}
NOTATIONS = {"notation", "notation3", "infix", "infixl", "infixr", "prefix", "postfix"}
MODIFIERS = {"private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "local"}
#: commands that declare nothing the index keeps (read, not counted as skipped)
IGNORED = frozenset(
    """
    open variable universe universes set_option attribute example import export macro
    macro_rules syntax elab elab_rules declare_syntax_cat initialize builtin_initialize
    run_cmd assert_not_exists suppress_compilation library_note add_decl_doc
    compile_inductive deriving include omit unseal seal initialize_simps_projections
    proof_wanted register_option add_tactic_doc register_simp_attr declare_aesop_rule_sets
    unif_hint mk_iff_of_inductive_prop assert_not_imported simproc simproc_decl dsimproc
    dsimproc_decl register_builtin_option gen_injective_theorems init_quot termination_by
    decreasing_by scoped irreducible extend_docs lemma_ext alias_in to_additive_ignore_args
    insert_to_additive_translation setup_tactic_parser unsuppress_compilation declare_config_elab
    """.split()  # noqa: SIM905
)
_NAMESPACE_COMMANDS = {"namespace", "section", "end", "mutual"}
_STARTS = set(KEYWORDS) | NOTATIONS | MODIFIERS | IGNORED | _NAMESPACE_COMMANDS | {"alias"}
_SIGNATURE_STOP = re.compile(
    r":=|(?<![\w.'])(?:where|deriving|termination_by|decreasing_by)\b|\n[ \t]*\|\s|\n(?=\S)"
)
_STRUCTURE_STOP = re.compile(r":=|(?<![\w.'])(?:where|deriving)\b|\n(?=\S)")
_FIELD = re.compile(r"((?:" + IDENT.pattern + r"\s+)*" + IDENT.pattern + r")\s*(?=[:({\[⦃])")
_CTOR_NAME = re.compile(r"(" + IDENT.pattern + r")\s*::")
_TOKEN = re.compile(r"[\w'.₀-₉]+")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass
class _Scope:
    """One open ``namespace``/``section``/``mutual``: its name components and its ``open``s."""

    components: list[str]
    opens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """A target written relatively (``@[deprecated X]``, ``alias a := X``): the full names it
    may stand for, best first, and whether the declaration is an alias (its kind and signature
    come from the target)."""

    index: int  # into ParsedFile.declarations
    candidates: tuple[str, ...]
    is_alias: bool
    deprecated: bool


@dataclass(frozen=True)
class ParseResult:
    """A parsed file plus its targets still to resolve across files."""

    parsed: ParsedFile
    pending: tuple[Pending, ...]
    #: ``@[to_additive]`` declarations: (index, explicit additive name or None, its docstring)
    additive: tuple[tuple[int, str | None, str | None], ...] = ()
    #: how often each identifier-like token occurs in the file's code (a popularity prior)
    uses: collections.Counter[str] = field(default_factory=collections.Counter)


class _FileParser:
    """The state of one file's parse: open scopes, declarations so far, skipped spans."""

    def __init__(self, text: str, module: str) -> None:
        self.module = module
        self.masked = mask(text)
        self.scopes: list[_Scope] = []
        self.root_opens: list[str] = []
        self.decls: list[Declaration] = []
        self.pending: list[Pending] = []
        self.additive: list[tuple[int, str | None, str | None]] = []
        self.skipped_lines: list[int] = []
        self._newlines = [m.start() for m in re.finditer("\n", self.masked.text)]

    # -- scopes ------------------------------------------------------------------------------
    @property
    def namespace(self) -> str:
        return ".".join(c for scope in self.scopes for c in scope.components)

    def qualify(self, name: str) -> str:
        if name.startswith("_root_."):
            return name[len("_root_.") :]
        return f"{self.namespace}.{name}" if self.namespace else name

    def candidates(self, name: str) -> tuple[str, ...]:
        """The full names ``name`` may stand for here, as Lean tries them."""
        if name.startswith("_root_."):
            return (name[len("_root_.") :],)
        parts = [c for scope in self.scopes for c in scope.components]
        out = [".".join([*parts[:i], name]) for i in range(len(parts), -1, -1)]
        for scope in reversed(self.scopes):
            out.extend(f"{opened}.{name}" for opened in scope.opens)
        out.extend(f"{opened}.{name}" for opened in self.root_opens)
        return tuple(dict.fromkeys(out))

    # -- driving -----------------------------------------------------------------------------
    def run(self) -> ParseResult:
        text = self.masked.text
        starts = self._merge_prefixes(text, self._command_starts(text))
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(text)
            try:
                ok = self._command(start, end)
            except (ValueError, IndexError):
                ok = False
            if not ok:
                self.skipped_lines.append(self._line(start))
        if self.masked.broken_at is not None:  # an unterminated comment or string
            self.skipped_lines.append(self._line(self.masked.broken_at))
        parsed = ParsedFile(
            self.module, tuple(self.decls), len(self.skipped_lines), tuple(self.skipped_lines)
        )
        uses = collections.Counter(_TOKEN.findall(self.masked.text))
        return ParseResult(parsed, tuple(self.pending), tuple(self.additive), uses)

    def _line(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def _command_starts(self, text: str) -> list[int]:
        """Offsets of the lines that begin a command."""
        starts = []
        offset = 0
        previous = ""  # the last line with text, right-stripped
        for line in text.splitlines(keepends=True):
            if line[:1] and not line[0].isspace() and not self.masked.in_long_string(offset):
                word = WORD.match(line)
                known = bool(word and word.group() in _STARTS)
                if (
                    line.startswith(("@[", "/--", "#"))
                    or known
                    or (
                        word
                        and line[0].isalpha()
                        and word.group() not in _CONTINUATIONS
                        and not previous.endswith(_OPEN_ENDS)
                    )
                ):
                    starts.append(offset)
            if line.strip():
                previous = line.rstrip()
            offset += len(line)
        return starts

    def _merge_prefixes(self, text: str, starts: list[int]) -> list[int]:
        """Drop the start of each command that follows a docstring or attributes alone (they
        belong to it)."""
        kept: list[int] = []
        for start in starts:
            if kept and self._prefix_only(text, kept[-1], start):
                continue
            kept.append(start)
        return kept

    def _prefix_only(self, text: str, start: int, end: int) -> bool:
        """True when ``[start, end)`` holds only a docstring, attributes and modifiers."""
        pos = _skip_ws(text, start, end)
        if pos < end and text.startswith("/--", pos):
            close = text.find("-/", pos + 3)
            if close < 0 or close >= end:
                return True
            pos = _skip_ws(text, close + 2, end)
        while pos < end and text.startswith("@[", pos):
            close = balanced_end(text, pos + 1)
            if close < 0 or close > end:
                return False  # unclosed: read (and skipped) alone
            pos = _skip_ws(text, close, end)
        while (word := WORD.match(text, pos, end)) and word.group() in MODIFIERS | {"scoped"}:
            pos = _skip_ws(text, word.end(), end)
        return pos >= end

    def _command(self, start: int, end: int) -> bool:
        """Read the command in ``[start, end)``; False when it cannot be read."""
        text = self.masked.text
        pos = _skip_ws(text, start, end)
        doc = ""
        if text.startswith("/--", pos):
            doc = self.masked.docstrings.get(pos, "")
            close = text.find("-/", pos + 3)
            if close < 0 or close >= end:
                return False
            pos = _skip_ws(text, close + 2, end)
        attrs: list[str] = []
        while text.startswith("@[", pos):
            close = balanced_end(text, pos + 1)
            if close < 0 or close > end:
                return False
            attrs.append(text[pos + 2 : close - 1])
            pos = _skip_ws(text, close, end)
        if text.startswith("#", pos):
            return True
        private = False
        while True:
            word = WORD.match(text, pos, end)
            if not word:
                return False
            if word.group() == "scoped":
                pos = _skip_ws(text, word.end(), end)
                if text.startswith("[", pos):
                    pos = _skip_ws(text, balanced_end(text, pos), end)
                continue
            if word.group() in MODIFIERS:
                private = private or word.group() == "private"
                pos = _skip_ws(text, word.end(), end)
                continue
            break
        keyword = word.group()
        pos = _skip_ws(text, word.end(), end)
        if keyword in _NAMESPACE_COMMANDS:
            return self._scope_command(keyword, text, pos, end)
        if keyword == "open":
            if not re.search(r"(?<![\w.])in\s*$", text[pos:end]):
                skip = {"hiding", "renaming", "in", "scoped"}
                found = (m.group() for m in IDENT.finditer(text, pos, end))
                opens = self.scopes[-1].opens if self.scopes else self.root_opens
                opens.extend(n for n in found if n not in skip)
            return True
        if keyword in IGNORED:
            return True
        line = self._line(word.start())
        deprecated, target = _deprecation(attrs)
        if keyword == "alias":
            return self._alias(text, pos, end, doc, line, deprecated, target, private)
        if keyword in NOTATIONS:
            return self._notation(text, pos, end, doc, line)
        if keyword not in KEYWORDS:
            return False
        kind = KEYWORDS[keyword]
        if keyword == "class":
            follow = WORD.match(text, pos, end)
            if follow and follow.group() in {"inductive", "abbrev"}:
                pos = _skip_ws(text, follow.end(), end)
        if kind is DeclKind.INSTANCE:
            if text.startswith("(priority", pos):
                pos = _skip_ws(text, balanced_end(text, pos), end)
            name_match = IDENT.match(text, pos, end)
            if not name_match:
                return True  # an anonymous instance: Lean makes up its name
        else:
            name_match = IDENT.match(text, pos, end)
            if not name_match:
                return False
        if private:
            return True  # not reachable by name from other modules
        name = self.qualify(name_match.group())
        pos = name_match.end()
        if text.startswith(".{", pos):
            pos = balanced_end(text, pos + 1)
        stops = _STRUCTURE_STOP if kind in (DeclKind.STRUCTURE, DeclKind.CLASS) else _SIGNATURE_STOP
        stop = min(top_level_stop(text, pos, stops), end)
        signature = normalise(text[pos:stop])
        self._add(name, kind, signature, doc, line, deprecated, target)
        additive = _to_additive(attrs)
        if additive is not None:
            self.additive.append((len(self.decls) - 1, *additive))
        if kind in (DeclKind.STRUCTURE, DeclKind.CLASS):
            self._fields(
                name,
                text,
                stop,
                end,
                inductive=keyword == "class"
                and "inductive" in text[word.end() : name_match.start()],
            )
        elif kind is DeclKind.INDUCTIVE:
            self._constructors(name, text, stop, end)
        return True

    def _scope_command(self, keyword: str, text: str, pos: int, end: int) -> bool:
        name = IDENT.match(text, pos, end)
        if keyword == "namespace":
            if not name:
                return False
            self.scopes.append(_Scope(name.group().split(".")))
        elif keyword in ("section", "mutual"):
            self.scopes.append(_Scope([]))
        elif self.scopes:  # end
            self.scopes.pop()
        return True

    def _add(
        self,
        name: str,
        kind: DeclKind,
        signature: str,
        doc: str,
        line: int,
        deprecated: bool,
        target: str | None,
        *,
        is_alias: bool = False,
    ) -> None:
        self.decls.append(Declaration(name, kind, signature, doc, self.module, line, None))
        if target is not None:
            self.pending.append(
                Pending(len(self.decls) - 1, self.candidates(target), is_alias, deprecated)
            )

    def _alias(
        self,
        text: str,
        pos: int,
        end: int,
        doc: str,
        line: int,
        deprecated: bool,
        target: str | None,
        private: bool,
    ) -> bool:
        assign = text.find(":=", pos, end)
        if assign < 0:
            return False
        lhs = text[pos:assign].strip()
        rhs = IDENT.match(text, _skip_ws(text, assign + 2, end), end)
        if not rhs or private:
            return bool(rhs)
        names = (
            [n for n in (p.strip() for p in lhs[1:-1].split(",")) if n and n != "_"]
            if lhs.startswith("⟨")
            else [lhs]
        )
        for alias in names:
            if not IDENT.fullmatch(alias):
                return False
            mp_mpr = lhs.startswith("⟨")
            self._add(
                self.qualify(alias),
                DeclKind.THEOREM,
                "",
                doc,
                line,
                deprecated,
                rhs.group(),
                is_alias=not mp_mpr,
            )
            if mp_mpr or not deprecated:
                # the target is the iff (mp/mpr forms) or a plain synonym: no rename
                self.pending[-1] = dataclasses.replace(
                    self.pending[-1], deprecated=False, is_alias=not mp_mpr
                )
            else:
                self.pending[-1] = dataclasses.replace(self.pending[-1], is_alias=True)
        return True

    def _notation(self, text: str, pos: int, end: int, doc: str, line: int) -> bool:
        body = text[pos:end]
        arrow = body.find("=>")
        if arrow < 0:
            return False
        named = re.search(r"\(name\s*:=\s*(" + IDENT.pattern + r")\)", body[:arrow])
        atoms = [m.group(1).strip() for m in _STRING.finditer(body[:arrow])]
        name = self.qualify(named.group(1)) if named else " ".join(a for a in atoms if a)
        if not name:
            return False
        self._add(name, DeclKind.NOTATION, normalise(body), doc, line, False, None)
        return True

    def _fields(self, struct: str, text: str, start: int, end: int, *, inductive: bool) -> None:
        """A structure's fields (``S.f``) and its constructor (``S.mk`` unless renamed)."""
        if inductive:
            self._constructors(struct, text, start, end)
            return
        ctor = "mk"
        if text.startswith("where", start):
            body = text[start + len("where") : end]
            base = _base_indent(body)
            offset = start + len("where")
            doc = ""
            for raw in body.splitlines(keepends=True):
                stripped = raw.strip()
                indent = len(raw) - len(raw.lstrip(" \t"))
                here = offset + indent
                offset += len(raw)
                if not stripped or indent != base:
                    continue
                if stripped.startswith("/--"):
                    doc = self.masked.docstrings.get(here, "")
                    if "-/" not in stripped[3:]:
                        continue
                    stripped = stripped[stripped.index("-/", 3) + 2 :].strip()
                    if not stripped:
                        continue
                named_ctor = _CTOR_NAME.match(stripped)
                if named_ctor:
                    ctor = named_ctor.group(1)
                    continue
                stripped = re.sub(r"^(?:protected|private)\s+", "", stripped)
                found = _FIELD.match(stripped)
                if found:
                    sig = normalise(stripped[found.end() :])
                    for fname in found.group(1).split():
                        self._add(
                            f"{struct}.{fname}",
                            DeclKind.FIELD,
                            sig,
                            doc,
                            self._line(here),
                            False,
                            None,
                        )
                doc = ""
        self._add(f"{struct}.{ctor}", DeclKind.CONSTRUCTOR, "", "", self._line(start), False, None)

    def _constructors(self, inductive: str, text: str, start: int, end: int) -> None:
        """An inductive type's ``| c ...`` constructors."""
        for found in re.finditer(
            r"(?:^|\n)[ \t]*\|[ \t]*(" + IDENT.pattern + r")", text[start:end]
        ):
            tail = text[start + found.end() : end]
            stop = re.search(r"\n[ \t]*(?:\||/--|deriving\b)|\n(?=\S)", tail)
            sig = normalise(tail[: stop.start()] if stop else tail)
            ctor = found.group(1)
            name = ctor[len("_root_.") :] if ctor.startswith("_root_.") else f"{inductive}.{ctor}"
            self._add(
                name, DeclKind.CONSTRUCTOR, sig, "", self._line(start + found.start(1)), False, None
            )


_CONTINUATIONS = {
    "where",
    "with",
    "deriving",
    "termination_by",
    "decreasing_by",
    "by",
    "fun",
    "then",
    "else",
    "do",
    "at",
}


#: a line ending so is continued by the next one, even one starting on the first column
_OPEN_ENDS = (
    " alias",
    ":=",
    "=>",
    "<|",
    ",",
    "(",
    "[",
    "{",
    "⟨",
    " by",
    " fun",
    "|>.",
    " :",
    "↔",
    "=",
    "→",
)


def _skip_ws(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _base_indent(body: str) -> int:
    for raw in body.splitlines():
        if raw.strip():
            return len(raw) - len(raw.lstrip(" \t"))
    return 0


def _deprecation(attrs: Sequence[str]) -> tuple[bool, str | None]:
    """Whether the attributes deprecate the declaration, and the replacement they name."""
    for attr in attrs:
        for part in _split_top_level(attr):
            found = re.match(r"\s*deprecated\b\s*", part)
            if found:
                target = IDENT.match(part, found.end())
                return True, target.group() if target else None
    return False, None


def _to_additive(attrs: Sequence[str]) -> tuple[str | None, str | None] | None:
    """``(explicit name or None, docstring or None)`` when the attributes hold a
    ``to_additive`` that makes a new declaration, else None."""
    for attr in attrs:
        for part in _split_top_level(attr):
            found = re.match(r"\s*to_additive\b\??\s*", part)
            if not found:
                continue
            rest = part[found.end() :]
            while rest.startswith("("):  # (attr := simp), (reorder := 1 2), ...
                close = balanced_end(rest, 0)
                if close < 0:
                    return None
                rest = rest[close:].lstrip()
            if re.match(r"(?:existing|self)\b", rest):
                return None  # the additive declaration is written separately
            name = IDENT.match(rest)
            explicit = name.group() if name else None
            doc = _STRING.search(rest)
            return explicit, (doc.group(1).replace('\\"', '"') if doc else None)
    return None


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    in_string = False
    previous = ""
    for char in text:
        if char == '"' and previous != "\\":
            in_string = not in_string
        previous = char
        if in_string:
            current.append(char)
            continue
        if char in "([{⟨":
            depth += 1
        elif char in ")]}⟩":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_source(text: str, module: str) -> ParseResult:
    """Parse one file's text (``module`` is its module name) into declarations."""
    return _FileParser(text, module).run()
