"""Across files: deprecation and alias targets as full names, and the declarations
``@[to_additive]`` makes, once every file of a build is parsed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from formalize.index.additive import guess_name, target_name, translate_signature
from formalize.index.parser import ParseResult
from formalize.index.records import Declaration, DeclKind, split_name


def resolve(results: Iterable[ParseResult]) -> tuple[list[Declaration], int]:
    """All declarations of ``results`` with deprecation and alias targets as full names (a
    target that names nothing known is kept as written, namespaced like Lean's first try),
    and how many targets stayed unresolved."""
    results = list(results)
    by_name: dict[str, Declaration] = {}
    for result in results:
        for decl in result.parsed.declarations:
            by_name.setdefault(decl.name, decl)
    out: list[Declaration] = []
    unresolved = 0
    for result in results:
        decls = list(result.parsed.declarations)
        for item in result.pending:
            found = next((c for c in item.candidates if c in by_name), None)
            if found is None:
                unresolved += 1
            full = found or item.candidates[-1 if len(item.candidates) == 1 else 0]
            decl = decls[item.index]
            changes: dict[str, object] = {}
            if item.deprecated:
                changes["deprecated_to"] = full
            if item.is_alias and found is not None:
                target = by_name[found]
                changes["kind"] = target.kind
                changes["signature"] = target.signature
                if not decl.docstring:
                    changes["docstring"] = target.docstring
            decls[item.index] = dataclasses.replace(decl, **changes)  # type: ignore[arg-type]
        out.extend(decls)
    out.extend(_additive_twins(results, out))
    return out, unresolved


def _additive_twins(
    results: Sequence[ParseResult], decls: Sequence[Declaration]
) -> list[Declaration]:
    """The declarations ``@[to_additive]`` makes (with the fields and constructor of a
    structure or class), namespaces first so that ``Monoid.foo`` maps through ``AddMonoid``."""
    by_name = {d.name: d for d in decls}
    by_parent: dict[str, list[Declaration]] = {}
    for decl in decls:
        if decl.kind in (DeclKind.FIELD, DeclKind.CONSTRUCTOR):
            by_parent.setdefault(decl.name.rsplit(".", 1)[0], []).append(decl)
    items = []
    for result in results:
        for index, explicit, doc in result.additive:
            items.append((result.parsed.declarations[index].name, explicit, doc))
    items.sort(key=lambda item: len(item[0].split(".")))
    translation: dict[str, str] = {}
    twins: list[Declaration] = []

    def add(source: Declaration, name: str, doc: str | None) -> None:
        if name == source.name or name in by_name:
            return
        deprecated = source.deprecated_to and translation.get(source.deprecated_to)
        twin = dataclasses.replace(
            source,
            name=name,
            signature=translate_signature(source.signature, translation.get),
            docstring=doc if doc is not None else source.docstring,
            deprecated_to=deprecated or source.deprecated_to,
        )
        by_name[name] = twin
        twins.append(twin)

    for source_name, explicit, doc in items:
        source = by_name.get(source_name)
        if source is None:
            continue
        name = target_name(source_name, explicit, translation.get)
        translation[source_name] = name
        add(source, name, doc)
        for member in by_parent.get(source_name, []):
            last = split_name(member.name)[-1]
            member_twin = f"{name}.{guess_name(last)}"
            translation[member.name] = member_twin
            add(member, member_twin, None)
    return twins
