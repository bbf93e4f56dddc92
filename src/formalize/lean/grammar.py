"""The command grammar a candidate statement must follow: an allow-list, parsed on tokens.

:class:`CommandGrammar` walks the code tokens (comments removed) of one candidate and accepts
only: ``import`` lines at the top; ``open`` (``scoped``, ``hiding``, ``… in``; never ``renaming``),
``namespace``/``section``/``noncomputable section`` and matching ``end`` lines, ``universe``,
``variable`` binders, bounded ``set_option``s, ``attribute [local instance] names``,
``include``/``omit``; auxiliary ``def``/``abbrev`` (with ``noncomputable``, ``private``/
``protected``, ``partial``) with term bodies (``open … in``, equations, ``where``,
``termination_by``/``decreasing_by``) or ``where`` structure instances, ``instance``\\ s
(``local``/``scoped`` too), ``structure``/``class``/``inductive`` declarations, harmless
attributes and simple ``notation``\\ s; tactic blocks anywhere in them under the allow-list
of :mod:`formalize.lean.tactics`; then one ``theorem``/``lemma``/``example`` whose proof is
``sorry`` or ``by sorry`` (or, as in ProofNet, a last ``def`` whose body is ``sorry``), then
only ``end``\\ s.

It records what the every-offset check (:mod:`formalize.lean.exposure`) must know: the
keywords it accepted where they stand (``sanctioned``), the spans of text it accepted that
would otherwise be refused (notation atoms), spans to blank before Lean sees them (the
``@[ext]``/``@[mk_iff]`` attributes of structures, which only add lemmas about them), the
declarations, the scopes left open, the main statement's binders and conclusion, and the
commands with effects beyond the candidate's own scope (``instance``, ``notation``), which
file mode checks in a file of their own. Every loop is iterative; pure functions.
"""

from __future__ import annotations

import dataclasses

from formalize.lean.cursor import _REFUSED, AUX_KINDS, MAIN_KINDS, Decl, Parsed, Refusal, show
from formalize.lean.declaration import scan_signature
from formalize.lean.lexer import IDENT, KEYWORD, NUMBER, SYMBOL, Token, brackets
from formalize.lean.notations import _NOTATIONS, NotationParser
from formalize.lean.policy import CHECKER_OPTIONS, OPTION_BOUNDS, PROBE_LIMITS

__all__ = ["AUX_KINDS", "MAIN_KINDS", "CommandGrammar", "Decl", "Parsed", "Refusal", "show"]

STRIPPED_ATTRIBUTES = frozenset({"ext", "mk_iff"})
#: Attributes a declaration may carry, kept: simp-set membership, unfolding hints, inlining,
#: documentation and lint tags. None runs candidate code: ``simp``/``simps`` (Mathlib's code)
#: only add lemmas to the simp set, which side proofs read (a global effect).
KEPT_ATTRIBUTES = frozenset(
    {"simp", "simps", "reducible", "irreducible", "semireducible", "inline", "inherit_doc"}
    | {"stacks", "nolint", "pp_nodot", "implicit_reducible"}
)
_MODIFIERS = ("private", "protected", "partial")
#: More nesting than any statement needs.
MAX_NAMESPACE_DEPTH = 64
_SYNTAX_COMMANDS = frozenset(
    {"macro", "macro_rules", "syntax", "elab", "elab_rules", "notation3", "declare_syntax_cat"}
    | {"name_poly_vars", "simproc", "dsimproc"}
)
_BINDER_OPENERS = frozenset({"(", "{", "[", "⦃"})
_OPEN_WORDS = frozenset({"scoped", "hiding", "renaming", "(", ")"})  # renaming: refused
_LET_WORDS = frozenset({"let", "have", "letI", "haveI", "show", "suffices", "let_fun"})
#: Classes a structure/inductive may derive (the handlers are Lean's and Mathlib's own code;
#: the instances they add are global, so the declaration counts as a global effect).
DERIVABLE = frozenset({"DecidableEq", "Fintype", "Inhabited", "Nonempty", "Repr", "BEq"})
DERIVABLE |= {"Hashable"}


#: A range of code to check for tactics: (start, stop, where, whole_body).
_Range = tuple[int, int, str, bool]


class CommandGrammar(NotationParser):
    """Parses one candidate's code tokens; :meth:`run` raises :class:`Refusal` or returns
    what it found."""

    def __init__(self, code: list[Token], options: frozenset[str], roots: frozenset[str]):
        super().__init__(code)
        self.options = options
        self.roots = roots
        self.main_def: tuple[int, Decl, int] | None = None  # a def whose body is `sorry`
        self.populated: set[str] = set()  # namespaces the candidate's declarations fill
        self.populated_last: set[str] = set()  # their last components
        self.paths: list[str] = []  # the full name of each namespace open here, innermost last
        self.in_chain: list[tuple[int, int]] = []  # the `… in` commands before this declaration
        self.in_chains: dict[int, list[tuple[int, int]]] = {}  # by declaration offset

    # -- the candidate ---------------------------------------------------------------------
    def run(self) -> Parsed:
        code, i = self.code, 0
        while self.is_(i, "import"):
            i = self.parse_import(i)
        after_in = False
        chain: list[tuple[int, int]] = []  # `open X in`, `set_option … in` before a declaration
        while i < len(code):
            tok = code[i]
            if self.out.main is not None and not self.is_(i, "end"):
                if tok.text in MAIN_KINDS:
                    raise Refusal(f"several declarations: another `{tok.text}` at line {tok.line}")
                raise Refusal(f"unexpected {show(tok)} after the theorem (only `end` may follow)")
            if after_in and tok.text not in ("open", "set_option") and not self.starts_decl(i):
                raise Refusal(f"`... in` must be followed by a declaration; found {show(tok)}")
            if self.starts_decl(i):
                self.in_chain = chain if after_in else []
                i, after_in, chain = self.parse_declaration(i), False, []
                continue
            i = self.parse_command(i)
            after_in = self.is_(i, "in")
            if after_in:
                chain.append((tok.offset, code[i].offset))
                i = self.take(i)
            else:
                chain = []
        if after_in:
            raise Refusal("`... in` at the end of the candidate is not followed by a declaration")
        if self.out.main is None and self.main_def is not None:
            _, decl, _ = self.main_def
            last = self.out.declarations[-1] if self.out.declarations else None
            if last is not None and last.offset == decl.offset:
                main = dataclasses.replace(decl, main=True)
                self.out.declarations[-1] = main
                self.out.main = main
        if self.out.main is None:
            raise Refusal("no theorem, lemma or example declaration found")
        self.out.in_prefix = self.in_chains.get(self.out.main.offset, [])
        return self.out

    # -- commands --------------------------------------------------------------------------
    def parse_import(self, i: int) -> int:
        tok, module = self.code[i], self.tok(i + 1)
        if module is None or module.kind != IDENT or "«" in module.text:
            raise Refusal(f"malformed `import` at line {tok.line}: expected a module like Mathlib")
        root = module.text.split(".", 1)[0]
        if root not in self.roots:
            raise Refusal(
                f"import of `{module.text}` at line {tok.line} is not allowed"
                f" (allowed roots: {', '.join(sorted(self.roots))})"
            )
        self.take(i)
        return i + 2

    def parse_command(self, i: int) -> int:
        tok = self.code[i]
        word = tok.text if tok.kind == KEYWORD else None
        scope = word in ("namespace", "section", "end", "noncomputable") and i > 0
        if scope and self.code[i - 1].line == tok.line and not self.is_(i - 1, "noncomputable"):
            raise Refusal(
                f"`{word}` at line {tok.line} must start a line (scopes are kept one command"
                " to a line, so that what each line opens and closes is plain)"
            )
        if word == "import":
            raise Refusal(f"`import` at line {tok.line}: imports are only allowed at the top")
        if word == "open":
            return self.parse_open(i)
        if word == "namespace":
            name = self.tok(i + 1)
            if name is None or name.kind != IDENT:
                raise Refusal(f"`namespace` without a name at line {tok.line}")
            if name.text.startswith("_root_"):
                raise Refusal(f"`namespace {name.text}` at line {tok.line}: `_root_` is no name")
            for part in _components(name.text):  # `namespace A.B` opens `A`, then `B`
                self.out.scopes.append(("namespace", part))
                self.paths.append(f"{self.paths[-1]}.{part}" if self.paths else str(part))
                if len(self.paths) > MAX_NAMESPACE_DEPTH:
                    raise Refusal(
                        f"`namespace` at line {tok.line}: namespaces nested more than"
                        f" {MAX_NAMESPACE_DEPTH} deep"
                    )
                self.note_entered(self.paths[-1], name)
            self.out.namespaced = True
            return self.take(i) + 1
        if word == "noncomputable" and self.is_(i + 1, "section"):
            self.take(i)
            return self.parse_section(i + 1)
        if word == "section":
            return self.parse_section(i)
        if word == "end":
            return self.parse_end(i)
        if word == "universe":
            j = self.take(i)
            while (t := self.tok(j)) is not None and t.kind == IDENT and t.line == tok.line:
                j += 1
            if j == i + 1:
                raise Refusal(f"`universe` without names at line {tok.line}")
            return j
        if word == "variable":
            j = self.take(i)
            while (t := self.tok(j)) is not None and t.kind == SYMBOL and t.text in _BINDER_OPENERS:
                j = self.group_end(j)
            if j == i + 1:
                raise Refusal(f"`variable` without binders at line {tok.line}")
            self.no_tactics(i + 1, j, "in the statement", props=True)
            return j
        if word == "set_option":
            return self.parse_set_option(i)
        if word in ("include", "omit"):  # which section variables the next theorems use
            j = self.take(i)
            while (t := self.tok(j)) is not None and t.line == tok.line:
                if t.kind == IDENT:
                    j += 1
                elif t.kind == SYMBOL and t.text in _BINDER_OPENERS:
                    j = self.group_end(j)
                else:
                    break
            if j == i + 1:
                raise Refusal(f"`{word}` without names at line {tok.line}")
            self.no_tactics(i + 1, j, "in the statement", props=True)
            return j
        if word == "attribute":
            return self.parse_attribute_command(i)
        following = self.tok(i + 1)
        if word in ("local", "scoped") and following is not None and following.text in _NOTATIONS:
            # a scoped notation is also active where its namespace is opened: a global effect
            self.take(i)
            return self.parse_notation(i + 1, local=True, scoped=word == "scoped")
        if word in _NOTATIONS:
            return self.parse_notation(i, local=False)
        if word in _REFUSED:
            raise Refusal(f"{_REFUSED[word]} (line {tok.line})")
        defined = following.text if word in ("local", "scoped") and following else tok.text
        if defined in _SYNTAX_COMMANDS:
            raise Refusal(
                f"unexpected `{defined}` at line {tok.line}: macros, syntax and elaborators"
                " change how later text is read and can run code at elaboration"
            )
        raise Refusal(
            f"unexpected {show(tok)}: only imports, open/namespace/section/end/variable/"
            "universe/set_option commands, auxiliary definitions and one theorem, lemma or "
            "example are allowed"
        )

    def parse_open(self, i: int) -> int:
        tok, j = self.code[i], self.take(i)
        names = 0
        while (t := self.tok(j)) is not None and (t.kind == IDENT or t.text in _OPEN_WORDS):
            if t.text == "renaming":
                raise Refusal(
                    f"`open … renaming` at line {t.line}: it makes one name stand for another"
                    " constant (`open Real renaming exp → sqrt` makes `sqrt` mean `Real.exp`),"
                    " which a reader cannot see where the name is used"
                )
            if t.kind == KEYWORD:
                self.take(j)
            if t.kind == IDENT:
                names += 1
                # `open X` is `X` relative to any enclosing namespace: a namespace the
                # candidate fills whose last part is `X`'s may be it (reported, to be safe)
                if t.text.rpartition(".")[2] in self.populated_last:
                    self.note_entered(t.text, t, opened=True)
            j += 1
        if not names:
            raise Refusal(f"`open` without a namespace at line {tok.line}")
        return j

    def note_entered(self, space: str, at: Token, *, opened: bool = False) -> None:
        """Entering (or opening) a namespace the candidate's own declarations fill (a
        structure's fields and constructors, a definition's ``where`` parts, ``def Foo.x``):
        there their short names are read before any library constant's."""
        if opened or space in self.populated:
            self.out.shadowing.append(
                f"`{at.text}` at line {at.line}: inside `{space}` the candidate's own"
                f" `{space}.…` declarations are read by their short names first"
            )

    def parse_section(self, i: int) -> int:
        tok, j = self.code[i], self.take(i)
        name = self.tok(j)
        if name is not None and name.kind == IDENT and name.line == tok.line:
            self.out.scopes.append(("section", name.text))
            return j + 1
        self.out.scopes.append(("section", None))
        return j

    def parse_end(self, i: int) -> int:
        tok, j = self.code[i], self.take(i)
        name = self.tok(j)
        given = name.text if name and name.kind == IDENT and name.line == tok.line else None
        if not self.out.scopes:
            raise Refusal(
                f"`end` at line {tok.line} without a matching `namespace` or `section` (it would"
                " close a scope this candidate did not open)"
            )
        parts = _components(given) if given else [None]
        closed = self.out.scopes[-len(parts) :] if len(parts) <= len(self.out.scopes) else []
        if [opened for _, opened in closed] != parts:  # `end A.B` closes `B`, then `A`
            _, opened = self.out.scopes[-1]
            want = f"`end {opened}`" if opened else "`end`"
            got = f"`end {given}`" if given else "`end`"
            raise Refusal(f"{got} at line {tok.line}: expected {want}")
        namespaces = sum(kind == "namespace" for kind, _ in self.out.scopes[-len(parts) :])
        del self.paths[len(self.paths) - namespaces :]
        del self.out.scopes[-len(parts) :]
        return j + (given is not None)

    def parse_set_option(self, i: int) -> int:
        tok = self.code[i]
        name_tok, value_tok = self.tok(i + 1), self.tok(i + 2)
        if name_tok is None or value_tok is None:
            raise Refusal(f"incomplete `set_option` at line {tok.line}")
        name = name_tok.text
        if name_tok.kind == IDENT and value_tok.text in ("true", "false"):
            # the checker's own options at their safe value (what it sets anyway), and
            # linters (Lean's and Mathlib's code, reporting warnings): harmless
            safe = value_tok.text == "false" and name in CHECKER_OPTIONS
            if safe or (name.startswith("linter.") and "«" not in name):
                self.take(i)
                return i + 3
        if name_tok.kind != IDENT or name not in self.options or name in CHECKER_OPTIONS:
            why = (
                " (the checker sets it off: a statement may not turn auto-bound implicits on)"
                if name in CHECKER_OPTIONS
                else f" (allowed: {', '.join(sorted(self.options - CHECKER_OPTIONS))})"
            )
            raise Refusal(f"set_option `{name}` at line {tok.line} is not allowed{why}")
        value = _nat(value_tok)
        bound = OPTION_BOUNDS.get(name)
        if bound is not None and (value is None or not 1 <= value <= bound):
            extra = " (0 disables the limit)" if value == 0 else ""
            raise Refusal(
                f"set_option {name} {value_tok.text} at line {tok.line}: the value must be a"
                f" number from 1 to {bound}{extra}"
            )
        if name in PROBE_LIMITS and value is not None:  # the probes set them again
            self.out.limits[name] = max(value, self.out.limits.get(name, 0))
        if bound is None and value is None and value_tok.text not in ("true", "false"):
            raise Refusal(f"set_option {name} {value_tok.text} at line {tok.line}: bad value")
        self.take(i)
        return i + 3

    def parse_attribute_command(self, i: int) -> int:
        """Only ``attribute [local instance] name+``: scoped to the candidate's own section,
        but it makes a definition an instance, which changes what notation means (``+`` read
        through ``def myAdd : Add ℕ := ⟨Nat.mul⟩``): a global effect, like an ``instance``."""
        tok = self.code[i]
        if not (self.is_(i + 1, "[") and self.is_(i + 2, "local") and self.is_(i + 4, "]")):
            raise Refusal(
                f"the `attribute` command at line {tok.line} is not allowed (only"
                " `attribute [local instance] names`)"
            )
        inst = self.tok(i + 3)
        if inst is None or inst.text != "instance":
            raise Refusal(f"`attribute [local …]` at line {tok.line}: only `local instance`")
        self.take(i)
        self.take(i + 2)
        self.take(i + 3)
        j = i + 5
        while (t := self.tok(j)) is not None and t.kind == IDENT and t.line == tok.line:
            j += 1
        if j == i + 5:
            raise Refusal(f"`attribute [local instance]` without names at line {tok.line}")
        names = " ".join(t.text for t in self.code[i + 5 : j])
        self.out.global_effects.append(f"instance attribute at line {tok.line} ({names})")
        return j

    # -- declarations ----------------------------------------------------------------------
    def parse_attributes(self, i: int, kind_at: int) -> None:
        """``@[ext]``/``@[mk_iff …]`` before a structure/inductive: blanked (they only add
        lemmas about it). :data:`KEPT_ATTRIBUTES` on any declaration (and ``inherit_doc`` on
        a notation): kept, with names and numbers as arguments at most; ``simp``/``simps``
        are global effects. Any other attribute is refused."""
        opener, j = self.code[i], i + 1
        end = self.group_end(i)
        kind = self.tok(kind_at)
        typed = kind is not None and kind.text in ("structure", "inductive", "class")
        names: list[Token] = []
        while j < end - 1:
            name = self.code[j]
            allowed = (name.text in STRIPPED_ATTRIBUTES and typed) or name.text in KEPT_ATTRIBUTES
            if name.kind not in (IDENT, KEYWORD) or not allowed:
                raise Refusal(
                    f"attribute {show(name)} is not allowed (attributes change how later"
                    " declarations are checked; allowed: `@[ext]`/`@[mk_iff]` on a structure,"
                    f" and {', '.join(sorted(KEPT_ATTRIBUTES))})"
                )
            names.append(name)
            j += 1
            while j < end - 1 and self.code[j].kind in (IDENT, NUMBER):
                j += 1  # `mk_iff name`, `stacks 09GF`, `inherit_doc f`
            if j < end - 1:
                if not self.is_(j, ","):
                    raise Refusal(f"unexpected {show(self.code[j])} in attributes")
                j += 1
        if not names or kind is None:
            raise Refusal(f"attributes at line {opener.line} without a declaration")
        if all(n.text in STRIPPED_ATTRIBUTES for n in names):
            self.out.stripped_spans.append((opener.offset, self.code[end - 1].end))
            return
        for k in range(i, end):
            self.take(k)  # what Lean reads here is the grammar's
        for name in names:
            if name.text in ("simp", "simps"):
                self.out.global_effects.append(f"attribute `{name.text}` at line {name.line}")

    def parse_declaration(self, i: int) -> int:
        code, start = self.code, i
        attrs = None
        if self.is_(i, "@["):
            attrs, i = i, self.group_end(i)
        if self.is_(i, "private") or self.is_(i, "protected"):
            i = self.take(i)
        if self.is_(i, "noncomputable"):
            i = self.take(i)
        # `partial def`: an opaque constant, compiled but never run at elaboration
        partial = self.is_(i, "partial") and self.is_(i + 1, "def")
        if partial:
            i = self.take(i)
        # `local instance` ends with its section; `scoped instance` is active where its
        # namespace is open (a global effect, like `instance`)
        scope = None
        if (self.is_(i, "local") or self.is_(i, "scoped")) and self.is_(i + 1, "instance"):
            scope = self.code[i].text
            i = self.take(i)
        kw = self.tok(i)
        scoping = self.is_(i, "local") or self.is_(i, "scoped")
        local = scoping and (n := self.tok(i + 1)) is not None and n.text in _NOTATIONS
        if attrs is not None and start == attrs and (local or (kw and kw.text in _NOTATIONS)):
            self.parse_notation_attributes(attrs)
            if local:
                self.take(i)
                return self.parse_notation(i + 1, local=True, scoped=self.is_(i, "scoped"))
            return self.parse_notation(i, local=False)
        if kw is None or kw.text not in (*MAIN_KINDS, *AUX_KINDS):
            if kw is not None and kw.text in _REFUSED:
                raise Refusal(f"{_REFUSED[kw.text]} (line {kw.line})")
            found = "the end" if kw is None else show(kw)
            raise Refusal(
                f"`{code[start].text}` at line {code[start].line} must introduce a declaration;"
                f" found {found}"
            )
        if attrs is not None:
            self.parse_attributes(attrs, i)
        i = self.take(i)
        name: Token | None = None
        if kw.text in ("class", "structure") and self.is_(i, "inductive"):
            raise Refusal(f"`{kw.text} inductive` at line {kw.line} is not allowed")
        if kw.text == "instance":
            candidate = self.tok(i)
            name = candidate if candidate is not None and candidate.kind == IDENT else None
        elif kw.text != "example":
            name = self.tok(i)
            if name is None or name.kind != IDENT:
                raise Refusal(f"`{kw.text}` without a name at line {kw.line}")
        if name is not None:
            i += 1
        universes: list[str] = []
        if name is not None and self.is_(i, ".{"):  # `theorem t.{u, v}`: universe parameters
            end = self.group_end(i)
            universes = [t.text for t in self.code[i + 1 : end - 1] if t.kind == IDENT]
            i = end
        if kw.text in MAIN_KINDS:
            self.out.universes = tuple(universes)
        self.in_chains[(name or kw).offset] = self.in_chain
        spaces = self.paths[-1] if self.paths else ""
        decl = Decl(
            kw.text,
            name.text if name else None,
            (name or kw).offset,
            kw.text in MAIN_KINDS,
            spaces,
        )
        if kw.text in MAIN_KINDS:
            end = self.parse_theorem(start, i, kw)
            self.out.main = decl
        elif kw.text in ("def", "abbrev", "instance"):
            end = self.parse_definition(start, i, kw, decl)
            if self.is_(end - 1, "sorry") and (attrs is not None or kw.text == "instance"):
                # a placeholder may be used by the statement only, by name (statement.py);
                # an attribute (`@[simp]`, `@[instance]`) or an instance would let `simp`,
                # `decide` or instance search use the unproved value without naming it
                raise Refusal(
                    f"`{kw.text}` at line {kw.line} with body `sorry` is "
                    + ("an instance" if kw.text == "instance" else "given attributes")
                    + ": tactics and instance search would use an unproved value unnamed"
                )
        else:
            end = self.parse_type_declaration(i, kw)
        self.out.declarations.append(decl)
        if name is not None and (not decl.main or name.text.startswith("_root_.")):
            self.note_shadowing(name)
        elif name is not None and "." in name.text:  # `theorem Nat.t`: read inside `Nat`
            space = name.text.rpartition(".")[0]
            self.out.shadowing.append(
                f"`{name.text}` at line {name.line} is elaborated inside namespace `{space}`:"
                f" there its statement's names are read in `{space}` first"
            )
        full = decl.full_name
        if full is not None and not decl.main:  # its fields, constructors, `where` parts
            for space in (full, full.rpartition(".")[0]):
                self.populated.add(space)
                self.populated_last.add(space.rpartition(".")[2])
        if kw.text == "instance":
            # a `local` one changes what notation means for the rest of its section: the
            # judges must know it as well (reported like every other instance)
            prefix = "local " if scope == "local" else ""
            self.out.global_effects.append(f"{prefix}instance at line {kw.line}")
        return end

    def note_shadowing(self, name: Token) -> None:
        """A declaration inside one of the candidate's namespaces, or one with a dotted name,
        can give a name a reader takes for a library constant another meaning: inside
        ``namespace Foo``, ``Nat.Prime`` and ``Real`` name ``Foo.Nat.Prime`` and ``Foo.Real``
        first, whatever the library declares by those names (and file mode's wrapper namespace
        does the same to a dotted name at the top; ``_root_.X`` leaves the wrapper, where
        candidates checked together could meet it). Without the library's names the gate
        cannot tell which do: each is reported (``shadowing``), and file mode checks the
        candidate in a file of its own, at the root, as the REPL would."""
        where = self.paths[-1] if self.paths else ""
        if name.text.startswith("_root_."):  # out of every namespace, the wrapper's too
            self.out.shadowing.append(
                f"`{name.text}` at line {name.line} declares `{name.text[7:]}` at the root"
            )
        elif where:
            self.out.shadowing.append(
                f"`{name.text}` declared inside namespace `{where}` at line {name.line}: there"
                f" `{name.text}` means `{where}.{name.text}`, not a library constant of that name"
            )
        elif "." in name.text:
            self.out.shadowing.append(
                f"`{name.text}` declared in namespace `{name.text.rsplit('.', 1)[0]}` at line"
                f" {name.line}"
            )

    def parse_theorem(self, start: int, i: int, kw: Token) -> int:
        code = self.code
        sig = scan_signature(code, i)
        if sig.equation is not None:
            raise Refusal(
                f"`{sig.equation.text}` at line {sig.equation.line}: equation-compiler forms are"
                " not statements (the proof must be `:= by sorry`)"
            )
        self.no_tactics(i, sig.stop, "in the statement", props=True)
        if sig.assign is None:
            raise Refusal(
                f"`{kw.text}` at line {kw.line} has no `:=` (the proof must be `:= by sorry`)"
            )
        j = sig.assign + 1
        if self.is_(j, "by"):
            j = self.take(j)
        if not self.is_(j, "sorry"):
            got = self.tok(j)
            what = "nothing" if got is None else show(got)
            raise Refusal(f"the proof must be `sorry` or `by sorry`; found {what}")
        self.take(j)
        self.out.signature = self.cut_signature(start, i, sig.assign, j)
        return j + 1

    def cut_signature(
        self, start: int, i: int, assign: int, last: int
    ) -> tuple[int, int, list[tuple[int, int]], tuple[int, int]]:
        code, groups = self.code, []
        j = i
        while j < assign:
            tok = code[j]
            if tok.kind == SYMBOL and tok.text in _BINDER_OPENERS:
                end = self.group_end(j)
                groups.append((tok.offset, code[end - 1].end))
                j = end
            elif tok.kind == IDENT:
                groups.append((tok.offset, tok.end))
                j += 1
            else:
                break
        conclusion = (0, 0)
        if j + 1 < assign and code[j].text == ":":
            conclusion = (code[j + 1].offset, code[assign - 1].end)
        return code[start].offset, code[last].end, groups, conclusion

    def parse_definition(self, start: int, i: int, kw: Token, decl: Decl) -> int:
        sig = scan_signature(self.code, i)
        self.no_tactics(i, sig.stop, f"in the `{kw.text}`")
        if sig.assign is None and sig.equation is None:
            raise Refusal(f"`{kw.text}` at line {kw.line} has no `:=` body")
        if sig.equation is not None and sig.equation.text == "where":
            where = sig.stop
            self.take(where)
            end = self.term_end(where + 1)
            self.no_tactics(where + 1, end, f"in the `{kw.text}`", clauses=True)
            return end
        body = (sig.assign + 1) if sig.assign is not None else sig.stop
        while self.is_(body, "open"):  # `open scoped Classical in <term>`: the term's scope
            after = self.parse_open(body)
            if not self.is_(after, "in"):
                raise Refusal(
                    f"`open` at line {self.code[body].line} in the body of `{kw.text}` must be"
                    " `open … in <term>`"
                )
            body = self.take(after)
        end = self.term_end(body)
        if end == body:
            found = "nothing" if body >= len(self.code) else show(self.code[body])
            raise Refusal(
                f"`{kw.text}` at line {kw.line} has an empty body (found {found} after `:=`)"
            )
        if end == body + 1 and self.is_(body, "sorry"):
            # PutnamBench's answer convention (`abbrev x_solution : T := sorry`), and
            # ProofNet's data-valued statements (`def exercise … : CommGroup G := sorry`)
            self.take(body)
            if kw.text == "def":
                self.main_def = (start, decl, body)
                self.out.signature = self.cut_signature(start, i, sig.assign or body - 1, body)
        else:
            self.no_tactics(body, end, f"in the `{kw.text}`", clauses=True)
        return end

    def parse_type_declaration(self, i: int, kw: Token) -> int:
        end = self.term_end(i)
        depth, where_seen = 0, False
        for j in range(i, end):
            tok = self.code[j]
            closes, opens = brackets(tok)
            if closes or opens:
                depth = max(0, depth - closes) + opens
            elif depth == 0 and tok.text == "where" and tok.kind == KEYWORD and not where_seen:
                self.take(j)
                where_seen = True
            elif depth == 0 and tok.text == "extends" and not where_seen:
                self.take(j)
            elif depth == 0 and tok.text == ":=" and kw.text != "inductive":
                raise Refusal(
                    f"field default value {show(tok)}: structure fields may not have defaults"
                )
        self.no_tactics(i, end, f"in the `{kw.text}`")
        if self.is_(end, "deriving") and not self.is_(end + 1, "instance"):
            j = self.take(end)
            while (cls := self.tok(j)) is not None and cls.kind == IDENT:
                if cls.text not in DERIVABLE:
                    raise Refusal(
                        f"deriving `{cls.text}` at line {cls.line} is not allowed (allowed:"
                        f" {', '.join(sorted(DERIVABLE))})"
                    )
                j += 1
                if not self.is_(j, ","):
                    break
                j += 1
            if j == end + 1:
                raise Refusal(f"`deriving` without classes at line {self.code[end].line}")
            self.out.global_effects.append(f"deriving at line {self.code[end].line}")
            return j
        return end


def _components(name: str) -> list[str | None]:
    """The components of a dotted name, ``«…»`` parts kept whole (``A.«1.2»`` is two)."""
    parts: list[str | None] = []
    current, inside = "", False
    for c in name:
        inside = (inside or c == "«") and c != "»"
        if c == "." and not inside:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    return parts


def _nat(tok: Token) -> int | None:
    """The value of a natural-number literal (decimal, 0x/0b/0o, ``_`` separators)."""
    text = tok.text.replace("_", "").lower()
    if tok.kind != NUMBER:
        return None
    if text[:2] in ("0x", "0b", "0o"):
        return int(text, 0)
    return int(text, 10) if text.isdigit() else None
