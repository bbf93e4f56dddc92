"""The name check: each global name of a candidate resolved against the declaration index as
Lean would resolve it, with did-you-mean suggestions for the ones that do not resolve.

Lean tries a name in the current namespace and each enclosing one, under every ``open``
namespace, and at the root; failing that, a prefix that is a constant with the rest read as
field access on a proof or a function (``Nat.succ_le_iff.mp``, ``Nat.succ.injective``). The
check does the same over the index. What the index cannot see it lets pass rather than flag:
the constructions Lean generates for every inductive and structure (``mk``, ``rec``,
``casesOn``, ``ext``, ...), ``@[to_additive]`` twins (``Finset.sum`` of ``Finset.prod``),
root namespaces, which are types (``Nat`` where the core library is not indexed), and the short
names Lean may bind automatically (``α``, ``n₁``). Structure fields named in full
(``Finset.val``) are not in a parsed index and are flagged; statements rarely name them so
(``s.val`` on a local is field notation, skipped). A deprecated alias resolves, as in Lean,
and its target is noted.

``NameReport.signal()`` is the ``names`` signal recorded with the attempt.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from formalize.lean.lexer import LexError, code_tokens, tokenize
from formalize.names.scan import NameUse, Scan, scan
from formalize.names.suggest import NameIndex, suggest
from formalize.records import NAMES_SIGNAL, Signal, SignalOutcome

VERSION = "1"

# Kinds of constants that generalized field notation applies to in a statement: a proof
# (`h.mp`, `h.le`), and a function named in lower case (`Nat.succ.injective`); a type or a
# predicate (`Set`, `Nat.Prime`) has no fields the index would not list itself.
_PROOF_KINDS = frozenset({"theorem", "lemma", "axiom"})
_FUNCTION_KINDS = frozenset({"def", "abbrev", "opaque", "instance"})
# Declarations Lean generates under every inductive type and structure.
_GENERATED = frozenset(
    [
        "mk",
        "rec",
        "recOn",
        "casesOn",
        "noConfusion",
        "noConfusionType",
        "below",
        "brecOn",
        "ind",
        "binductionOn",
        "ext",
        "ext_iff",
        "inj",
        "injEq",
        "sizeOf_spec",
        "mk.injEq",
        "mk.inj",
    ]
)
# A name Lean's auto-bound implicits could bind: one letter, then digits, subscripts, primes.
_AUTO_BOUND = re.compile(r"^[^\W\d_][0-9₀-₉'!?]*$")
_WORDS = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+|[^A-Za-z0-9]+")
# The words `@[to_additive]` renames, additive -> multiplicative (Mathlib's dictionary).
_MULTIPLICATIVE = {
    "add": "mul",
    "zero": "one",
    "sum": "prod",
    "neg": "inv",
    "sub": "div",
    "nsmul": "pow",
    "zsmul": "zpow",
    "vadd": "smul",
    "finsum": "finprod",
    "tsum": "tprod",
    "Zero": "One",
    "Neg": "Inv",
    "Sum": "Prod",
    "Nsmul": "Pow",
    "Zsmul": "Zpow",
    "Vadd": "Smul",
    "Addition": "Multiplication",
}


class NamesMode(str, enum.Enum):
    """What the run does with the name check (``--names``)."""

    ADVISE = "advise"  # Lean decides; suggestions join Lean's unknown-name errors
    PRECHECK = "precheck"  # unresolved names go back to the translator without a Lean call
    OFF = "off"


@dataclass(frozen=True)
class Unresolved:
    """A name that resolved to nothing, where it is, and what to write instead (best first)."""

    name: str
    line: int
    column: int
    suggestions: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a repair prompt."""
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"`{self.name}` (line {self.line}) is not a Mathlib name{hint}"


@dataclass(frozen=True)
class NameReport:
    """The name check of one candidate: how many global names it checked, the unresolved
    ones, and the deprecated aliases it uses (``(written, target)``)."""

    checked: int
    unresolved: tuple[Unresolved, ...] = ()
    deprecated: tuple[tuple[str, str], ...] = ()
    elapsed_s: float = 0.0
    version: str = VERSION
    revision: str = ""
    suggestions: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        """True when every name resolved."""
        return not self.unresolved

    def signal(self, *, lean_accepted: bool = False) -> Signal:
        """The ``names`` signal: passed, failed (unresolved names), or inconclusive when Lean
        accepted names the index lacks (the index is stale or incomplete: never a rejection)."""
        if self.ok:
            outcome, reason = SignalOutcome.PASSED, f"{self.checked} names resolved"
        elif lean_accepted:
            outcome = SignalOutcome.INCONCLUSIVE
            reason = "Lean accepts names the index lacks (stale index): " + ", ".join(
                u.name for u in self.unresolved
            )
        else:
            outcome = SignalOutcome.FAILED
            reason = "; ".join(u.describe() for u in self.unresolved)
        details: dict[str, object] = {
            "checked": self.checked,
            "unresolved": {u.name: list(u.suggestions) for u in self.unresolved},
            "index_revision": self.revision,
        }
        if self.deprecated:
            details["deprecated"] = dict(self.deprecated)
        return Signal(
            NAMES_SIGNAL,
            self.version,
            outcome,
            reason,
            elapsed_s=self.elapsed_s,
            details=details,
        )


class NameChecker:
    """Resolves candidates' names against a declaration index (``formalize.index``)."""

    def __init__(self, index: NameIndex, revision: str = "") -> None:
        self.index = index
        self.revision = revision or str(getattr(index, "revision", ""))

    def check(self, texts: Sequence[str]) -> list[NameReport]:
        """One ``NameReport`` per candidate text, in input order."""
        return [self.check_one(text) for text in texts]

    def check_one(self, text: str) -> NameReport:
        """The ``NameReport`` of one candidate (its ``open`` lines included in ``text``)."""
        started = time.monotonic()
        found = scan(text)
        uses = [u for u in found.uses if not _local(u, found)]
        tried = {u: _candidates(u.name, u.namespace, u.opens) for u in uses}
        decls = self._lookup({n for names in tried.values() for n in names})
        # namespaces the statement uses: those of its resolved names, and those names
        # themselves (a type or class such as `Finset` or `Fintype` is also a namespace,
        # as is `Nat` where the index lacks the core library)
        resolved = {name for names in tried.values() for name in names if decls.get(name)}
        context = resolved | {name.rpartition(".")[0] for name in resolved}
        roots = [u.name for u in uses if "." not in u.name and not any(map(decls.get, tried[u]))]
        spaces: set[str] | None = None  # looked up only when a name needs suggestions
        unresolved: list[Unresolved] = []
        deprecated: dict[str, str] = {}
        for use in uses:
            hit = next((decls[n] for n in tried[use] if decls.get(n) is not None), None)
            if hit is not None:
                target = getattr(hit, "deprecated_to", None)
                if target:
                    deprecated[use.name] = str(target)
                continue
            if self._resolves_otherwise(use, found, tried[use]):
                continue
            if spaces is None:
                spaces = {n for n in dict.fromkeys(roots) if self.index.is_namespace(n)}
                context |= spaces
            unresolved.append(
                Unresolved(
                    use.name,
                    use.line,
                    use.column,
                    tuple(
                        suggest(
                            self.index,
                            use.name,
                            tried[use],
                            context=context,
                            hints=use.hints,
                            types=found.types,
                        )
                    ),
                )
            )
        unique = {u.name: u for u in unresolved}
        return NameReport(
            checked=len(uses),
            unresolved=tuple(unique.values()),
            deprecated=tuple(deprecated.items()),
            elapsed_s=time.monotonic() - started,
            revision=self.revision,
            suggestions={u.name: u.suggestions for u in unique.values()},
        )

    def constants(self, text: str) -> list[object]:
        """The index's declarations of the global constants ``text`` uses, in order of first
        use, each once (what the critic is shown the definitions of)."""
        found = scan(text)
        uses = [u for u in found.uses if not _local(u, found)]
        tried = {u: _candidates(u.name, u.namespace, u.opens) for u in uses}
        decls = self._lookup({n for names in tried.values() for n in names})
        out: dict[str, object] = {}
        for use in uses:
            hit = next((decls[n] for n in tried[use] if decls.get(n) is not None), None)
            if hit is not None:
                out.setdefault(str(getattr(hit, "name", use.name)), hit)
        # notations the text uses (`√`, `π`, `!`): the index names them by their symbol
        short = {u.name for u in found.uses if u.name not in found.locals and "." not in u.name}
        symbols = sorted(_symbols(text) | {n for n in short if _AUTO_BOUND.match(n)})
        for decl in self.index.get_many(symbols) if symbols else []:
            if decl is not None and _kind(decl) == "notation":
                out.setdefault(str(getattr(decl, "name", "")), decl)
        return list(out.values())

    # -- internals ---------------------------------------------------------------------------

    def _exported_field(self, tried: Sequence[str]) -> bool:
        """``Q.x`` for a field ``Q.C.x`` of a class ``C``: Mathlib exports the fields of its
        notation classes (``export Dist (dist)``, ``export MeasureSpace (volume)`` inside
        ``MeasureTheory``), and ``export`` is not in the index."""
        last = tried[0].rpartition(".")[2]
        fields = [
            n
            for n in self.index.by_last_component(last, limit=200)
            if n.rpartition(".")[0].rpartition(".")[0] in {t.rpartition(".")[0] for t in tried}
        ]
        if not fields:
            return False
        decls = self.index.get_many(fields)
        parents = self.index.get_many([n.rpartition(".")[0] for n in fields])
        return any(
            d is not None and _kind(d) == "field" and p is not None and _kind(p) == "class"
            for d, p in zip(decls, parents, strict=True)
        )

    def _lookup(self, names: set[str]) -> dict[str, object | None]:
        ordered = sorted(names)
        return dict(zip(ordered, self.index.get_many(ordered), strict=True)) if ordered else {}

    def _resolves_otherwise(self, use: NameUse, found: Scan, tried: Sequence[str]) -> bool:
        """Resolution the index cannot answer directly: local declarations, field access on a
        constant, generated and ``to_additive`` names, namespaces that are types."""
        if any(name in found.locals for name in tried):
            return True
        parts = use.name.removeprefix("_root_.").split(".")
        for k in range(len(parts) - 1, 0, -1):
            prefix, rest = ".".join(parts[:k]), ".".join(parts[k:])
            names = _candidates(prefix, use.namespace, use.opens)
            if any(n in found.locals for n in names):
                return True
            decls = [d for d in self.index.get_many(names) if d is not None]
            if any(_projects(d) for d in decls):
                return True  # `Nat.succ_le_iff.mp`, `Nat.succ.injective`
            if rest in _GENERATED and (decls or any(self.index.is_namespace(n) for n in names)):
                return True
        if "." not in use.name and any(self.index.is_namespace(n) for n in tried):
            return True  # `Nat` where the core library is not indexed (not `Int.Prime`)
        if self._exported_field(tried):
            return True
        twins = [m for n in tried for m in _multiplicative(n)]
        return bool(twins) and any(d is not None for d in self.index.get_many(twins))


def _symbols(text: str) -> set[str]:
    """The code tokens of ``text`` that are not identifiers, numbers or brackets."""
    try:
        tokens = code_tokens(tokenize(text))
    except LexError:
        return set()
    return {t.text for t in tokens if t.kind in ("symbol", "keyword") and t.text not in "()[]{},:"}


def _projects(decl: object) -> bool:
    kind = _kind(decl)
    last = str(getattr(decl, "name", "")).rpartition(".")[2]
    return kind in _PROOF_KINDS or (kind in _FUNCTION_KINDS and last[:1].islower())


def _kind(decl: object) -> str:
    kind = getattr(decl, "kind", "")
    return str(getattr(kind, "value", kind))


def _local(use: NameUse, found: Scan) -> bool:
    """A bound variable, or field notation on one (``x.foo`` with ``x`` local), a short name
    Lean could bind automatically, or a name the candidate declares itself, as Lean resolves it
    where it is used (``Nat.Prime`` inside ``namespace Foo`` after ``def Nat.Prime``: Lean
    reads ``Foo.Nat.Prime``, whatever the library has; the critic must not be shown that)."""
    head = use.name.split(".", 1)[0]
    if head in found.locals or _AUTO_BOUND.match(head):
        return True
    return any(n in found.locals for n in _candidates(use.name, use.namespace, use.opens))


def _candidates(name: str, namespace: str, opens: Sequence[str]) -> list[str]:
    """The full names Lean tries for ``name``: in the current namespace and each enclosing
    one, under each ``open`` (also relative to the current namespace), at the root."""
    if name.startswith("_root_."):
        return [name.removeprefix("_root_.")]
    spaces = namespace.split(".") if namespace else []
    out = [".".join([*spaces[:k], name]) for k in range(len(spaces), -1, -1)]
    for opened in reversed(opens):
        opened = opened.removeprefix("_root_.")
        out += [".".join([*spaces[:k], opened, name]) for k in range(len(spaces), -1, -1)]
    return list(dict.fromkeys(out))


def _multiplicative(name: str) -> list[str]:
    """The names an additive ``name`` has as ``@[to_additive]`` twin (``Finset.sum`` ->
    ``Finset.prod``; ``AddSubgroup`` -> ``Subgroup`` and ``MulSubgroup``)."""
    words = _WORDS.findall(name)
    if not any(w in _MULTIPLICATIVE or w == "Add" for w in words):
        return []
    out = []
    for add in ("", "Mul"):
        out.append("".join(add if w == "Add" else _MULTIPLICATIVE.get(w, w) for w in words))
    return [n for n in dict.fromkeys(out) if n != name]
