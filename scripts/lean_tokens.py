#!/usr/bin/env python3
"""Extract the token atoms that Lean libraries declare, for the statement gate's token table.

Lean's lexer matches the longest prefix against one global token table, and every atom of
every syntax declaration (any category) joins that table, except non-reserved symbols
(``&"foo"``, ``nonReservedSymbol "foo"``). This script reads Lean sources and collects those
atoms, trimmed as Lean trims them:

    python scripts/lean_tokens.py --label mathlib@v4.15.0 SRC_DIR [SRC_DIR ...] > tokens.json

Atoms are taken from the pattern part of ``syntax``, ``macro``, ``elab``, ``notation``,
``notation3``, ``infix``/``infixl``/``infixr``/``prefix``/``postfix`` and ``binder_predicate``
declarations (before their top-level ``=>``), and from ``leading_parser``/``trailing_parser``
expressions, ``symbol "…"`` and ``unicodeSymbol "…" "…"`` in parser code; ``declare_syntax_cat
c`` adds the quotation token `` `(c| ``. Strings handed to ``checkColGt``-style checks,
``&"…"`` and ``nonReservedSymbol`` are not tokens and are skipped. The atom Lean reads first
in a declaration (its pattern's first item, not one after a category or parser such as
``tactic " says"``) is marked: categories like ``tactic`` do not reserve it.

It over-approximates rather than misses: an atom in a declaration that is never imported still
counts. The output (JSON: ``{"sources": [...], "behaviours": {...}, "global": {token: [label,
...]}, "scoped": {...}}``) of several runs is combined by ``--merge``; ``--package CORE.txt
LIB.json ...`` writes the table the package reads, ``src/formalize/lean/tokens.json``.
Standard library only; reads files only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

DECLARERS = frozenset(
    {"syntax", "macro", "elab", "notation", "notation3", "infix", "infixl", "infixr"}
    | {"prefix", "postfix", "binder_predicate"}
)
PARSER_WORDS = frozenset({"leading_parser", "trailing_parser"})
SYMBOL_WORDS = frozenset({"symbol", "unicodeSymbol"})
# Functions whose string argument is a message or a non-reserved word, not a token.
NOT_TOKEN_BEFORE = frozenset(
    {"checkColGt", "checkColGe", "checkColEq", "checkWsBefore", "checkNoWsBefore"}
    | {"checkLinebreakBefore", "errorAtSavedPos", "fail", "nonReservedSymbol", "throwError"}
    | {"checkPrec", "checkLhsPrec", "checkStackTop", "mkAtom", "pushNone", "logError"}
    | {"interpolatedStr", "withAntiquot", "mkAntiquot", "errorAt", "error"}
)


def _is_id(c: str) -> bool:
    return c.isalnum() or c in "_'!?" or (ord(c) > 127 and c.isalpha())


def scan(text: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, line) for words, strings and symbols outside comments; kind is
    ``word``/``string``/``sym``/``nl0`` (a line starting at column 0 with code)."""
    i, n, line = 0, len(text), 1
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            at_line_start = True
            i += 1
            continue
        if c in " \t\r":
            at_line_start = False if c != " " else at_line_start and False
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += text.count("\n", i, j)
            i = j
            continue
        if at_line_start:
            yield ("nl0", "", line)
        at_line_start = False
        if c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    esc = text[j + 1]
                    buf.append({"n": "\n", "t": "\t", "\\": "\\", '"': '"'}.get(esc, esc))
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            line += text.count("\n", i, j)
            yield ("string", "".join(buf), line)
            i = j + 1
            continue
        if c == "r" and i + 1 < n and text[i + 1] in '#"':
            j = i + 1
            hashes = 0
            while j < n and text[j] == "#":
                hashes, j = hashes + 1, j + 1
            if j < n and text[j] == '"':
                end = text.find('"' + "#" * hashes, j + 1)
                end = n if end < 0 else end
                line += text.count("\n", i, end)
                yield ("string", text[j + 1 : end], line)
                i = end + 1 + hashes
                continue
        if c == "'" and (i == 0 or not _is_id(text[i - 1])):
            # a character literal: 'x' or '\n' or '\''
            if text.startswith("\\", i + 1):
                k = text.find("'", i + 3)
            else:
                k = i + 2 if i + 2 < n and text[i + 2] == "'" else -1
            if k > 0:
                i = k + 1
                continue
        if _is_id(c):
            j = i
            while j < n and (
                _is_id(text[j]) or (text[j] == "." and j + 1 < n and _is_id(text[j + 1]))
            ):
                j += 1
            yield ("word", text[i:j], line)
            i = j
            continue
        if text.startswith("=>", i):
            yield ("sym", "=>", line)
            i += 2
            continue
        yield ("sym", c, line)
        i += 1


def _scope(items: list[tuple[str, str, int]], k: int) -> str:
    """``local``, ``scoped`` or ``global``: the attribute kind of the declaration at ``k``,
    read backwards over its modifiers (which may sit on the lines above: ``scoped\nsyntax``,
    ``@[…] scoped[NS] notation``)."""
    j = k - 1
    while j >= 0:
        kind, value, _ = items[j]
        if kind == "nl0":
            j -= 1
        elif kind == "sym" and value == "]":
            depth = 0
            while j >= 0:  # back over the bracket group: attributes, `scoped[NS]`
                if items[j][0] == "sym" and items[j][1] == "]":
                    depth += 1
                elif items[j][0] == "sym" and items[j][1] == "[":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            j -= 1
        elif kind == "word" and value in ("local", "scoped"):
            return value
        elif (kind == "word" and value in ("private", "protected", "noncomputable")) or (
            kind == "sym" and value == "@"
        ):
            j -= 1
        else:
            break
    return "global"


Item = tuple[str, str, int]  # what `scan` yields
#: Postfixes of the syntax language: ``p?``, ``p*``, ``p+`` (and ``p,*``, ``p,+``) wrap ``p``
#: in a parser (``optional``, ``many``, ``sepBy``, ...)
POSTFIX = frozenset({"?", "*", "+"})


def _is_sym(item: Item, value: str) -> bool:
    return item[0] == "sym" and item[1] == value


def _close(items: list[Item], j: int, stop: int) -> int:
    """The index of the bracket closing the one at ``j`` (or ``stop``)."""
    depth = 0
    while j < stop:
        if items[j][0] == "sym" and items[j][1] in "([{":
            depth += 1
        elif items[j][0] == "sym" and items[j][1] in ")]}":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return stop


def _pattern_start(items: list[Item], j: int, stop: int) -> int:
    """Past what comes between a declaring command and its pattern: a precedence
    (``syntax:arg``, ``notation:max``, ``infixl:65``, ``:(max + 1)``) and named arguments
    (``(name := n)``, ``(priority := high)``, ``(kind := k)``, ``(prettyPrint := false)``)."""
    if j < stop and _is_sym(items[j], ":"):
        j += 1
        if j < stop and _is_sym(items[j], "("):
            j = _close(items, j, stop)
        j += 1
    while (
        j + 3 < stop
        and _is_sym(items[j], "(")
        and items[j + 1][0] == "word"
        and _is_sym(items[j + 2], ":")
        and _is_sym(items[j + 3], "=")
    ):
        j = _close(items, j, stop) + 1
    return j


def _nested_after(items: list[Item], j: int, stop: int) -> bool:
    """Whether the item ending at ``j`` is the argument of a postfix (``?``, ``*``, ``+``,
    ``,*``) or of ``<|>``: Lean's ``optional``/``many``/``sepBy``/``orelse`` parsers."""
    nxt = items[j + 1] if j + 1 < stop else ("", "", 0)
    if nxt[1] in POSTFIX and nxt[0] in ("sym", "word"):
        return True
    if _is_sym(nxt, ",") and j + 2 < stop and items[j + 2][1] in POSTFIX:
        return True
    return _is_sym(nxt, "<") and j + 2 < stop and _is_sym(items[j + 2], "|")


def _leading_atom(items: list[Item], j: int, stop: int, binders: bool) -> int | None:
    """The index of the atom Lean reads first in the pattern starting at ``j``, or None.

    It is the pattern's first item, or the first item of a parenthesised group that is the
    first item (``("foo" x)``), and not the argument of ``?``/``*``/``+``/``<|>`` nor of a
    parser function (``many(…)``, ``atomic(…)``, ``withPosition(…)``): Lean's
    ``toParserDescr`` marks only that one ``first``, and only a ``first`` atom is made
    non-reserved in categories like ``tactic``. A pattern that starts with a category or a
    parser (``tactic " says"``, ``term:max``, ``ident``, ``num``) or with ``&"…"`` has none.
    ``binders``: a macro argument's name may come first (``tk:"foo"``, ``x:term``)."""
    if binders and j + 1 < stop and items[j][0] == "word" and _is_sym(items[j + 1], ":"):
        j += 2
    if j >= stop:
        return None
    kind, _, _ = items[j]
    if kind == "string":
        return None if _nested_after(items, j, stop) else j
    if _is_sym(items[j], "("):
        end = _close(items, j, stop)
        if _nested_after(items, end, stop):
            return None
        return _leading_atom(items, j + 1, end, binders=False)
    return None


def _category(items: list[Item], j: int, stop: int) -> str:
    """The category after the pattern's last top-level `` : `` (``?`` when there is none)."""
    category, depth = "?", 0
    for p in range(j, stop):
        if items[p][0] == "sym" and items[p][1] in "([{":
            depth += 1
        elif items[p][0] == "sym" and items[p][1] in ")]}":
            depth -= 1
        elif depth <= 0 and _is_sym(items[p], ":") and p + 1 < stop:
            nxt = items[p + 1]
            if nxt[0] == "word" and not nxt[1][0].isdigit():
                category = nxt[1]
    return category


def _pattern_end(items: list[Item], k: int, stop_at_arrow: bool) -> int:
    """Where the pattern of the declaring word at ``k`` ends: at the next line that starts at
    column 0, or at a top-level ``=>`` (what follows it is read on for declarations)."""
    depth, j = 0, k + 1
    while j < len(items):
        ikind, ivalue, _ = items[j]
        if ikind == "nl0":
            break
        if ikind == "sym" and ivalue in "([{":
            depth += 1
        elif ikind == "sym" and ivalue in ")]}":
            depth -= 1
        elif ikind == "sym" and ivalue == "=>" and depth <= 0 and stop_at_arrow:
            break
        j += 1
    return j


def _declaration(items: list[Item], k: int) -> tuple[list[tuple[str, str, str, str]], int]:
    """The atoms of the declaration whose declaring word is at ``k`` (see :func:`atoms`),
    and the index past its pattern."""
    value = items[k][1]
    scope = _scope(items, k)
    stop = _pattern_end(items, k, value not in PARSER_WORDS and value != "syntax")
    start = _pattern_start(items, k + 1, stop)
    abbreviation = (
        value == "syntax"
        and start + 2 < stop
        and items[start][0] == "word"
        and _is_sym(items[start + 1], ":")
        and _is_sym(items[start + 2], "=")
    )
    if abbreviation:  # `syntax name := …`: a parser, of no category
        start += 3
    lead = _leading_atom(items, start, stop, binders=value in ("macro", "elab"))
    if value in PARSER_WORDS:
        decl, category = "parser", "?"
    elif value in ("syntax", "macro", "elab"):
        decl = value
        category = "?" if abbreviation else _category(items, start, stop)
    else:
        decl, category = "notation", "term"
    out: list[tuple[str, str, str, str]] = []
    for p in range(start, stop):
        if items[p][0] != "string":
            continue
        prev = items[p - 1]
        if _is_sym(prev, "&") or (prev[0] == "word" and prev[1].split(".")[-1] in NOT_TOKEN_BEFORE):
            continue
        # `command^` also marks the first atom after a leading parser (`declModifiers`,
        # `withPosition(…)`): it can still start the command, and the command category
        # reserves its leading atoms anyway
        first = p == lead or (category == "command" and not out and lead is None)
        out.append((items[p][1], scope, decl, category + ("^" if first else "")))
    return out, stop


def atoms(text: str) -> Iterator[tuple[str, str, str, str]]:
    """(atom, scope, kind, category) for every token atom declared in one Lean source file.

    ``scope`` is ``global``, ``scoped`` (active where its namespace is open) or ``local``
    (this file only); ``kind`` the declaring command (``notation``, ``syntax``, ``macro``,
    ``elab``, ``parser`` for core parser code); ``category`` the syntax category (``term``,
    ``tactic``, ``command``, ...; ``term`` for notations, ``?`` where it cannot be told),
    with ``^`` appended for the atom Lean reads first (:func:`_leading_atom`), which
    categories like ``tactic`` do not reserve."""
    items = list(scan(text))
    k = 0
    while k < len(items):
        kind, value, _ = items[k]
        if kind == "word" and value.split(".")[-1] in SYMBOL_WORDS:
            j = k + 1
            while j < len(items) and items[j][0] == "string":
                yield items[j][1], "global", "parser", "?"
                j += 1
            k = j
            continue
        if value == "declare_syntax_cat" and k + 1 < len(items) and items[k + 1][0] == "word":
            # the category's quotation `(c| … ), a term parser Lean declares with it
            name = items[k + 1][1].split(".")[-1]
            yield "`(" + name + "|", "global", "parser", "quotation"
            k += 2
            continue
        if kind == "word" and value in DECLARERS | PARSER_WORDS:
            found, k = _declaration(items, k)
            yield from found
            continue
        k += 1


def tokens_of(atom: str) -> str | None:
    """The token an atom registers (trimmed), or None when it is not a token."""
    token = atom.strip()
    if not token or any(ch.isspace() for ch in token):
        return None
    return token


def _modules(roots: list[Path]) -> dict[str, Path]:
    """Module name -> file, for every ``.lean`` file under the source trees."""
    out: dict[str, Path] = {}
    for root in roots:
        for path in sorted(root.rglob("*.lean")):
            if ".lake" in path.parts:
                continue
            out.setdefault(".".join(path.relative_to(root).with_suffix("").parts), path)
    return out


def _imports(text: str) -> list[str]:
    """The modules a file imports (``import`` lines before its first other command)."""
    out: list[str] = []
    words = [value for kind, value, _ in scan(text) if kind == "word"]
    k = 0
    while k < len(words):
        if words[k] in ("prelude", "module", "public", "meta", "private"):
            k += 1
        elif words[k] == "import":
            k += 1
            if k < len(words) and words[k] == "all":
                k += 1
            if k < len(words):
                out.append(words[k])
            k += 1
        else:
            break
    return out


def closure(roots: list[Path], import_roots: list[str]) -> list[Path]:
    """The files importable through modules under ``import_roots`` (and what they import)."""
    modules = _modules(roots)
    todo = [m for m in modules if m.split(".")[0] in import_roots]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module not in modules:
            continue
        seen.add(module)
        todo += _imports(modules[module].read_text(encoding="utf-8", errors="replace"))
    return [modules[m] for m in sorted(seen)]


_BEHAVIOUR = re.compile(r"declare_syntax_cat\s+([\w.]+)(?:\s*\(behavior\s*:=\s*(\w+)\))?")
#: Lean core's syntax categories whose leading identifiers are not reserved
#: (``registerBuiltinParserAttribute ... .both`` / ``.symbol``, ``declare_syntax_cat conv``).
CORE_BEHAVIOURS = {"tactic": "both", "conv": "both", "attr": "symbol", "prio": "both"}
CORE_BEHAVIOURS |= {"prec": "both"}


def behaviours(files: list[Path]) -> dict[str, str]:
    """Syntax category -> leading identifier behaviour (``default``, ``both``, ``symbol``)."""
    out = dict(CORE_BEHAVIOURS)
    for path in files:
        for m in _BEHAVIOUR.finditer(path.read_text(encoding="utf-8", errors="replace")):
            out.setdefault(m.group(1), m.group(2) or "default")
    return out


def collect(files: list[Path]) -> dict[str, dict[str, set[str]]]:
    """scope (global/scoped) -> token -> how it is declared (``kind:category``). File-local
    tokens are left out: they never reach a file that imports the module."""
    found: dict[str, dict[str, set[str]]] = {"global": {}, "scoped": {}}
    for path in files:
        if True:
            text = path.read_text(encoding="utf-8", errors="replace")
            for atom, scope, kind, category in atoms(text):
                token = tokens_of(atom)
                if token is not None and scope != "local":
                    found[scope].setdefault(token, set()).add(f"{kind}:{category}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", type=Path, help="source trees to read")
    parser.add_argument("--label", default="", help="name of the source, e.g. mathlib@v4.15.0")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON", help="merge outputs")
    parser.add_argument(
        "--package",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="write the packaged table: a core token list (one per line) then library JSONs",
    )
    parser.add_argument("--show-files", action="store_true", help="list the files per token")
    parser.add_argument(
        "--import-roots",
        nargs="+",
        default=["Mathlib", "Batteries", "Aesop"],
        help="read only modules importable from these roots (default: Mathlib Batteries Aesop)",
    )
    args = parser.parse_args(argv)
    if args.package:
        package(args.package[0], args.package[1:])
        return 0
    if args.merge:
        merged: dict[str, dict[str, set[str]]] = {"global": {}, "scoped": {}}
        sources: list[str] = []
        behaviour: dict[str, str] = {}
        for file in args.merge:
            data = json.loads(file.read_text(encoding="utf-8"))
            sources += data["sources"]
            behaviour |= data.get("behaviours", {})
            for scope in merged:
                for token, labels in data[scope].items():
                    merged[scope].setdefault(token, set()).update(labels)
        write(sorted(set(sources)), merged, behaviour)
        return 0
    files = closure(args.roots, args.import_roots)
    print(f"{len(files)} modules", file=sys.stderr)
    found = collect(files)
    if args.show_files:
        for scope, tokens in found.items():
            for token, hows in sorted(tokens.items()):
                print(scope, token, " ".join(sorted(hows)))
        return 0
    labelled = {
        s: {t: {f"{args.label} {how}" for how in hows} for t, hows in tokens.items()}
        for s, tokens in found.items()
    }
    write([args.label], labelled, behaviours(files))
    return 0


def package(core: Path, libraries: list[Path]) -> None:
    """The document ``formalize.lean.tokens`` reads: tags without the source labels, core
    tokens tagged ``core``, sources listed once."""
    tags: dict[str, dict[str, set[str]]] = {"global": {}, "scoped": {}}
    sources = [f"lean4 core ({core.name})"]
    for line in core.read_text(encoding="utf-8").splitlines():
        if line.strip():
            tags["global"].setdefault(line.strip(), set()).add("core")
    behaviour: dict[str, str] = dict(CORE_BEHAVIOURS)
    for file in libraries:
        data = json.loads(file.read_text(encoding="utf-8"))
        sources += data["sources"]
        behaviour |= data.get("behaviours", {})
        for scope in tags:
            for token, labels in data[scope].items():
                tags[scope].setdefault(token, set()).update(x.split(" ", 1)[1] for x in labels)
    # The first atom of a `syntax`/`macro`/`elab` in a category whose leading identifiers are
    # not reserved (tactics, attributes, ...) is a non-reserved symbol, not a token.
    for scope in tags:
        for token in list(tags[scope]):
            kept = {
                tag
                for tag in tags[scope][token]
                if not (
                    tag.endswith("^")
                    and tag.partition(":")[0] in ("syntax", "macro", "elab")
                    and behaviour.get(tag.partition(":")[2][:-1], "default") != "default"
                )
            }
            if kept:
                tags[scope][token] = kept
            else:
                del tags[scope][token]
    for token in list(tags["scoped"]):
        if token in tags["global"]:
            tags["global"][token] |= tags["scoped"].pop(token)
    out = {
        "about": "Lean token atoms, see formalize.lean.tokens and scripts/lean_tokens.py",
        "sources": sorted(set(sources)),
        **{scope: {t: sorted(v) for t, v in sorted(m.items())} for scope, m in tags.items()},
    }
    sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=0, sort_keys=False) + "\n")


def write(
    sources: list[str], tokens: dict[str, dict[str, set[str]]], behaviour: dict[str, str]
) -> None:
    """The JSON document: sources, category behaviours, global and scoped tokens."""
    out = {
        "sources": sources,
        "behaviours": dict(sorted(behaviour.items())),
        **{scope: {t: sorted(v) for t, v in sorted(m.items())} for scope, m in tokens.items()},
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
