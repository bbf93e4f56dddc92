"""Did-you-mean for a name the index does not know, best first.

The order (issue 22): the target of a deprecated alias, then declarations with the same last
component, case aside (in the namespace as written first; then exact case before case-folded;
then in the namespace the name's position points to: its argument's type, ``Finset`` after
``∑ i ∈``; then definitions before lemmas; then in a namespace the candidate already uses;
then in that of a type it writes; then the more common name; then the closer spelling and the
shorter name: :func:`rank_same_last`), then names within a small edit distance in the written
namespace. A deprecated candidate gives way to its target, in its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

MAX_SUGGESTIONS = 5


class NameIndex(Protocol):
    """The part of ``formalize.index.DeclarationIndex`` the name check uses."""

    def get_many(self, names: Sequence[str]) -> list[object | None]:
        """Declarations (or None) for ``names``, in input order."""
        ...

    def is_namespace(self, name: str) -> bool:
        """True when some declaration lives under ``name``."""
        ...

    def by_last_component(self, last: str, *, casefold: bool = False, limit: int = 50) -> list[str]:
        """Full names whose last component is ``last``."""
        ...

    def names_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        """Full names starting with ``prefix``."""
        ...

    # optional: ``popularity(names) -> list[float]``, how common each name is (higher first);
    # ``DeclarationIndex`` has it, an index without it ranks by the other signals alone


def edit_distance(a: str, b: str, cap: int = 4) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts one), stopped at ``cap``."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= cap:
            return cap
        prev2, prev = prev, cur
    return min(prev[-1], cap)


def _closeness(written: str, name: str) -> tuple[int, int, int]:
    """Sort key: case-insensitive distance, exact distance, length."""
    return (
        edit_distance(written.casefold(), name.casefold(), 8),
        edit_distance(written, name, 8),
        len(name),
    )


def suggest(
    index: NameIndex,
    written: str,
    tried: Sequence[str],
    *,
    deprecated_to: Iterable[str] = (),
    context: Iterable[str] = (),
    hints: Iterable[str] = (),
    types: Iterable[str] = (),
    limit: int = MAX_SUGGESTIONS,
) -> list[str]:
    """Up to ``limit`` full names to use instead of ``written`` (which resolved to none of the
    ``tried`` full names). ``deprecated_to``: targets of deprecated aliases found for it;
    ``hints``: namespaces the name's position points to (the type of its argument, ...);
    ``context``: namespaces the candidate uses elsewhere; ``types``: namespaces of the types
    it writes (``ℝ`` -> ``Real``). See :func:`rank_same_last` for the order."""
    out: list[str] = list(dict.fromkeys(deprecated_to))
    last = written.split(".")[-1]
    same = set(index.by_last_component(last, limit=2000))
    folded = set(index.by_last_component(last, casefold=True, limit=2000))
    found = rank_same_last(
        index,
        written,
        tried,
        same,
        same | folded,
        context=context,
        hints=hints,
        types=types,
    )
    if len(found) < limit:
        found += _near(index, written, tried)
    # a deprecated alias gives way to its target, in its place
    decls = index.get_many(found) if found else []
    out += [str(getattr(d, "deprecated_to", None) or n) for n, d in zip(found, decls, strict=True)]
    seen: list[str] = []
    for name in out:
        if name not in seen and name not in tried:
            seen.append(name)
    return seen[:limit]


def rank_same_last(
    index: NameIndex,
    written: str,
    tried: Sequence[str],
    same_case: set[str],
    names: set[str],
    *,
    context: Iterable[str] = (),
    hints: Iterable[str] = (),
    types: Iterable[str] = (),
) -> list[str]:
    """``names`` (sharing ``written``'s last component, ``same_case`` with its case) best first.

    In order: the namespace as written; the last component's case as written; a namespace the
    position points to (``hints``); a definition before a theorem or an instance (a statement
    names definitions; lemmas such as ``HasDerivAt.sqrt`` share last components with them); a
    namespace the statement uses elsewhere (not the root, which every statement uses); the
    namespace of a type the statement writes; how common the name is in the sources
    (``popularity``, where the index has it); then the closer spelling and the shorter name.
    No weight is fitted: every signal is a tier that breaks the ties of the one before."""
    written_spaces = {full.rpartition(".")[0] for full in tried}
    pointed = set(hints)
    namespaces = set(context) - {""}
    typed = set(types)
    ordered = sorted(names)
    decls = index.get_many(ordered) if ordered else []
    lemma = {n for n, d in zip(ordered, decls, strict=True) if _kind(d) in _LEMMA_KINDS}
    popularity = getattr(index, "popularity", None)
    prior = dict(zip(ordered, popularity(ordered), strict=True)) if popularity and ordered else {}

    def key(name: str) -> tuple[int, int, int, int, int, int, float, tuple[int, int, int]]:
        space = name.rpartition(".")[0]
        return (
            0 if space in written_spaces else 1,
            0 if name in same_case else 1,
            0 if space in pointed else 1,
            1 if name in lemma else 0,
            0 if space in namespaces else 1,
            0 if space in typed else 1,
            -prior.get(name, 0.0),
            _closeness(written, name),
        )

    return sorted(ordered, key=key)


_LEMMA_KINDS = frozenset({"theorem", "lemma", "instance"})


def _kind(decl: object) -> str:
    kind = getattr(decl, "kind", "")
    return str(getattr(kind, "value", kind))


def _near(index: NameIndex, written: str, tried: Sequence[str]) -> list[str]:
    """Names within a small edit distance of one of the ``tried`` full names, searched among
    the names sharing its namespace and the first letter of its last component (either case)."""
    found: dict[str, tuple[int, int, int]] = {}
    for full in tried:
        space, _, last = full.rpartition(".")
        if not last:
            continue
        cap = 2 if len(last) <= 8 else 3
        head = f"{space}." if space else ""
        firsts = {last[0], last[0].swapcase()}
        pool: set[str] = set()
        for first in firsts:
            pool.update(index.names_with_prefix(head + first, limit=2000))
        for name in pool:
            rest = name[len(head) :]
            if "." in rest:
                continue
            d = edit_distance(last, rest, cap + 1)
            if d <= cap:
                key = (d, *_closeness(written, name)[1:])
                found[name] = min(found.get(name, key), key)
    return sorted(found, key=lambda n: found[n])
