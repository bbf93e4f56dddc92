"""The name check (issue 22) on the reference statements of ../shared/data/translation.

    python benchmarks/names.py [--index PATH] [--closure] [--limit N]

Two measurements over the four files (miniF2F, ProofNet, PutnamBench, MOBench), per file:

- false positives: every reference statement compiles, so each name the check flags is a false
  positive; reported as the share of statements with a flagged name and of global names
  flagged (goal: at most 0.5%), with the names flagged most often;
- repair: one constant of each statement that the index knows is replaced by a plausible
  wrong name (lower-cased last component, a deprecated old name, the wrong namespace, one
  letter off); a case succeeds when the check's first suggestion is the original (for a
  deprecated name, which Lean still accepts, when the check names the original as its
  target). Goal: at least 90%.

``--index``: an index built by ``formalize lean index`` (real Mathlib). Without it the
fixture's (tests/data/mathlib_fixture, 78 declarations written for the tests) is built and
used; ``--closure`` adds to it every dotted constant the reference statements use, as written
(an index that knows those names but little around them: the false-positive rate then
measures the resolution of the other names (opens, namespaces, binders, locals), and repair
competes against far fewer neighbours than real Mathlib has). Only a real index gives the
figures the issue asks for.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data" / "translation"
sys.path.insert(0, str(REPO / "tests"))


def statements(path: Path) -> list[str]:
    """The reference statements of one file, with the ``open`` lines of their headers."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row.get("lean4_file") or (row.get("header", "") + row.get("formal_statement", ""))
        if text.strip():
            out.append(text.replace("import ", "-- import "))
    return out


def build_index(args: argparse.Namespace, tmp: Path) -> Any:
    """The index to measure against (see the module docstring)."""
    from formalize.index.store import DeclarationIndex, write_index

    if args.index:
        return DeclarationIndex.open(Path(args.index))
    from index_fixture import build_fixture_index

    index = build_fixture_index(tmp)
    if not args.closure:
        return index
    from formalize.index.records import Declaration, DeclKind
    from formalize.names.check import _local
    from formalize.names.scan import scan

    known = {d.name: d for d in index}
    index.close()
    for path in sorted(SHARED.glob("*.jsonl")):
        for text in statements(path):
            found = scan(text)
            for use in found.uses:
                name = use.name.removeprefix("_root_.")
                if "." in name and not _local(use, found) and name not in known:
                    known[name] = Declaration(name, DeclKind.DEF, "", "", "Closure", 1)
    path = tmp / "closure.sqlite"
    write_index(path, known.values(), "fixture+closure", {})
    return DeclarationIndex.open(path)


def false_positives(checker: Any, texts: list[str]) -> dict[str, Any]:
    """Flagged statements and names over statements that all compile."""
    flagged_statements = 0
    names = 0
    flagged: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for text in texts:
        report = checker.check_one(text)
        names += report.checked
        flagged_statements += not report.ok
        flagged.update(u.name for u in report.unresolved)
    elapsed = time.perf_counter() - started
    return {
        "statements": len(texts),
        "flagged_statements": flagged_statements,
        "names": names,
        "flagged_names": sum(flagged.values()),
        "top": flagged.most_common(8),
        "ms_per_statement": 1000 * elapsed / max(1, len(texts)),
    }


_ALIASES: dict[int, dict[str, list[str]]] = {}


def _aliases(index: Any) -> dict[str, list[str]]:
    """Deprecated aliases by target (one pass over the index, kept per index)."""
    if id(index) not in _ALIASES:
        table: dict[str, list[str]] = collections.defaultdict(list)
        for decl in index:
            if decl.deprecated_to:
                table[decl.deprecated_to].append(decl.name)
        _ALIASES[id(index)] = table
    return _ALIASES[id(index)]


def perturbations(index: Any, name: str) -> dict[str, str]:
    """Plausible wrong names for ``name`` that the index does not have, by kind."""
    space, _, last = name.rpartition(".")
    out: dict[str, str] = {}
    lowered = last[:1].lower() + last[1:] if last[:1].isupper() else last.lower()
    if lowered != last:
        out["lower-cased"] = f"{space}.{lowered}" if space else lowered
    old = _aliases(index).get(name)
    if old:
        out["deprecated"] = old[0]
    for other in ("Nat", "Int", "Real", "Finset", "Set", "Complex", "Polynomial", "Rat"):
        if other != space and index.get(f"{other}.{last}") is None and space:
            out["wrong namespace"] = f"{other}.{last}"
            break
    if len(last) >= 4:
        i = len(last) // 2
        typo = last[: i - 1] + last[i] + last[i - 1] + last[i + 1 :]  # two letters swapped
        if typo == last:
            typo = last[:i] + last[i + 1 :]  # one letter dropped
        out["one letter off"] = f"{space}.{typo}" if space else typo
    return {
        kind: wrong for kind, wrong in out.items() if kind == "deprecated" or not index.get(wrong)
    }


def repair(checker: Any, index: Any, texts: list[str]) -> dict[str, list[int]]:
    """Per perturbation kind: [cases, top suggestion right, original anywhere in the list]."""
    from formalize.names.check import _local
    from formalize.names.scan import scan

    tally: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for text in texts:
        found = scan(text)
        uses = [u for u in found.uses if "." in u.name and not _local(u, found)]
        target = next((u.name for u in uses if index.get(u.name) is not None), None)
        if target is None:
            continue
        for kind, wrong in perturbations(index, target).items():
            broken = _replace_name(text, target, wrong)
            report = checker.check_one(broken)
            counts = tally[kind]
            counts[0] += 1
            if kind == "deprecated":
                got = dict(report.deprecated).get(wrong)
                counts[1] += got == target
                counts[2] += got == target
                continue
            miss = next((u for u in report.unresolved if u.name == wrong), None)
            if miss is not None and miss.suggestions:
                counts[1] += miss.suggestions[0] == target
                counts[2] += target in miss.suggestions
    return tally


def _replace_name(text: str, old: str, new: str) -> str:
    """``text`` with the identifier ``old`` replaced by ``new`` wherever it is a whole name."""
    from formalize.lean.lexer import IDENT, tokenize

    out, last = [], 0
    for tok in tokenize(text):
        if tok.kind == IDENT and tok.text == old:
            out += [text[last : tok.offset], new]
            last = tok.end
    return "".join(out) + text[last:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="a declaration index file (default: the fixture's)")
    parser.add_argument("--closure", action="store_true", help="fixture + the references' names")
    parser.add_argument("--limit", type=int, default=None, help="statements per file")
    args = parser.parse_args()
    from formalize.names import NameChecker

    with tempfile.TemporaryDirectory() as tmp:
        index = build_index(args, Path(tmp))
        checker = NameChecker(index)
        print(f"index: {index.path.name}, revision {index.revision}, {len(index)} declarations")
        total_fp = [0, 0, 0, 0]
        total_repair: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
        print("| file | statements | flagged | global names | flagged | ms/statement |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        tops = []
        by_file: list[tuple[str, dict[str, list[int]]]] = []
        for path in sorted(SHARED.glob("*.jsonl")):
            texts = statements(path)[: args.limit]
            fp = false_positives(checker, texts)
            share = 100 * fp["flagged_names"] / max(1, fp["names"])
            print(
                f"| {path.stem} | {fp['statements']} | {fp['flagged_statements']} | "
                f"{fp['names']} | {fp['flagged_names']} ({share:.2f}%) | "
                f"{fp['ms_per_statement']:.2f} |"
            )
            for i, key in enumerate(("statements", "flagged_statements", "names", "flagged_names")):
                total_fp[i] += fp[key]
            tops.append((path.stem, fp["top"]))
            per_file = repair(checker, index, texts)
            by_file.append((path.stem, per_file))
            for kind, counts in per_file.items():
                total_repair[kind] = [
                    a + b for a, b in zip(total_repair[kind], counts, strict=True)
                ]
        share = 100 * total_fp[3] / max(1, total_fp[2])
        print(
            f"| all | {total_fp[0]} | {total_fp[1]} | {total_fp[2]} | {total_fp[3]} "
            f"({share:.2f}%) | |"
        )
        print("\nflagged most often:")
        for stem, top in tops:
            print(f"  {stem}: " + ", ".join(f"{n} ({c})" for n, c in top))
        print("\n| perturbation | cases | top suggestion right | in the suggestions |")
        print("| --- | ---: | ---: | ---: |")
        cases = right = anywhere = 0
        for kind, (n, top, any_) in sorted(total_repair.items()):
            print(f"| {kind} | {n} | {top} ({100 * top / max(1, n):.1f}%) | {any_} |")
            cases, right, anywhere = cases + n, right + top, anywhere + any_
        print(f"| all | {cases} | {right} ({100 * right / max(1, cases):.1f}%) | {anywhere} |")
        print("\nper file, top suggestion right (the ranking's tiers were chosen on minif2f):")
        kinds = sorted(total_repair)
        print("| file | " + " | ".join(kinds) + " | all |")
        print("| --- |" + " ---: |" * (len(kinds) + 1))
        for stem, tally in by_file:
            cells = [f"{tally[k][1]}/{tally[k][0]}" if k in tally else "-" for k in kinds]
            n, top = sum(c[0] for c in tally.values()), sum(c[1] for c in tally.values())
            print(
                f"| {stem} | "
                + " | ".join(cells)
                + f" | {top}/{n} ({100 * top / max(1, n):.1f}%) |"
            )
        index.close()


if __name__ == "__main__":
    main()
