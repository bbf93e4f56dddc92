"""The statement gate on public Lean 4 statement collections it was not tuned on.

    python benchmarks/gate_corpora.py [--corpora DIR] [--show N] [--examples K]

Reads three public corpora from bare git snapshots at pinned commits (``DIR`` defaults to
``$FORMALIZE_PUBLIC_CORPORA`` or ``/work/.mirror``; their data is never committed):

- google-deepmind/formal-conjectures, ``FormalConjectures/**.lean`` (its own helper library,
  ``FormalConjecturesForMathlib``, holds no problems); rows using its ``answer(sorry)``
  placeholder (an elaborator of its own, which no translator emits) are left out;
- MoonshotAI/CombiBench, ``lean/CombiBench/*.lean``;
- dwrensha/compfiles, ``Compfiles/*.lean``, its own commands read as a translator would write
  them: ``problem`` as ``theorem``, ``determine`` as ``abbrev``, ``snip begin … snip end``
  (proof helpers) dropped, ``module``, ``public``, ``@[expose]`` and ``problem_file`` dropped
  (``@[expose] public section`` read as ``section``).

How a file becomes statement rows (:func:`rows`): the file is cut into commands at lines that
start, in column 0, with a command keyword, a modifier or an attribute (a doc comment right
before one belongs to it; other top-level comments are dropped). Every ``theorem``/``lemma``/
``example`` makes one row: ``import Mathlib``, then every earlier command of the file that is
not itself a theorem (definitions, instances, structures, notations, ``open``, ``namespace``,
``section``, ``end``, ``variable``, ``universe``, ``set_option``, ``attribute``, … exactly as
written, proofs inside them included, but tactic macros: ``macro … : tactic =>``, proof
automation, which a translator writing ``by sorry`` statements does not emit, as compfiles'
snips are dropped), then the theorem with its proof replaced by
``by sorry`` (what a translator emits) and the corpus's own metadata attributes
(``@[category …, AMS …]``) dropped. Definitions keep their bodies: a translator writes the
problem's definitions whole.

The rows are what :func:`formalize.lean.statement.check_statement` is run on; the output is
the refusal rate per corpus and the refusals grouped by reason (line numbers stripped).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/work/.mirror")
ENV = "FORMALIZE_PUBLIC_CORPORA"


@dataclass(frozen=True)
class Corpus:
    """One public corpus: its snapshot folder under the root, pinned commit, and files."""

    name: str
    folder: str
    commit: str
    prefix: str
    dialect: str = "lean"


CORPORA = (
    Corpus(
        "formal-conjectures",
        "google-deepmind+formal-conjectures",
        "488aade228ec37880b8fec178c173c07d279bb53",
        "FormalConjectures/",
    ),
    Corpus(
        "CombiBench",
        "MoonshotAI+CombiBench",
        "84063de0347b3c3abfd4bf724b040dfb2f06dcdb",
        "lean/CombiBench/",
    ),
    Corpus(
        "compfiles",
        "dwrensha+compfiles",
        "8a363976ab59fef22acc2d3926430aeb14cecdcc",
        "Compfiles/",
        dialect="compfiles",
    ),
)

MAIN = ("theorem", "lemma", "example")
_START = re.compile(
    r"^(?:@\[|/--|theorem\b|lemma\b|example\b|def\b|abbrev\b|instance\b|structure\b|class\b"
    r"|inductive\b|noncomputable\b|private\b|protected\b|partial\b|open\b|namespace\b"
    r"|section\b|end\b|variable\b|universe\b|set_option\b|attribute\b|notation\b|local\b"
    r"|scoped\b|infix[lr]?\b|prefix\b|postfix\b|macro\b|syntax\b|macro_rules\b|elab\b|axiom\b"
    r"|opaque\b|mutual\b|include\b|omit\b|irreducible_def\b|alias\b|export\b|deriving\b"
    r"|unseal\b|seal\b|problem\b|determine\b|snip\b|public\b|module\b|problem_file\b|import\b"
    r"|#)"
)


def root() -> Path:
    """Where the corpora's snapshots are (``$FORMALIZE_PUBLIC_CORPORA`` or /work/.mirror)."""
    return Path(os.environ.get(ENV) or DEFAULT_ROOT)


def git_dir(corpus: Corpus, base: Path) -> Path | None:
    """The snapshot's git directory when it holds the pinned commit, else None."""
    for path in (base / corpus.folder / "repo", base / corpus.folder):
        if path.is_dir():
            ok = subprocess.run(
                ["git", "--git-dir", str(path), "cat-file", "-e", f"{corpus.commit}^{{commit}}"],
                capture_output=True,
            )
            if ok.returncode == 0:
                return path
    return None


def files(corpus: Corpus, path: Path) -> Iterator[tuple[str, str]]:
    """(path, text) of the corpus's ``.lean`` files at the pinned commit."""
    listing = subprocess.run(
        ["git", "--git-dir", str(path), "ls-tree", "-r", "--name-only", corpus.commit],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for name in sorted(n for n in listing if n.startswith(corpus.prefix) and n.endswith(".lean")):
        text = subprocess.run(
            ["git", "--git-dir", str(path), "show", f"{corpus.commit}:{name}"],
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        yield name, text


def commands(text: str) -> list[str]:
    """The file cut into top-level commands (see the module docstring)."""
    chunks: list[list[str]] = []
    current: list[str] | None = None
    doc: list[str] = []  # a doc comment waiting for its declaration
    depth = 0  # block comments open at the start of the line
    for line in text.split("\n"):
        if depth == 0 and line.startswith("/--") and current is not None and _prefix_only(current):
            current.append(line)  # `variable … in` then the declaration's doc comment
        elif depth == 0 and line.startswith("/--"):
            doc, current = [line], None
        elif depth == 0 and _START.match(line) and current is not None and _prefix_only(current):
            current.append(line)  # `@[attr]`, `noncomputable` or `open … in` on lines before
        elif depth == 0 and _START.match(line):
            current = [*doc, line]
            doc = []
            chunks.append(current)
        elif doc and depth > 0:
            doc.append(line)
        elif current is not None and (depth > 0 or not line.startswith(("/-", "--"))):
            current.append(line)
        else:
            current = None  # a top-level comment ends the command before it
        depth = _comment_depth(line, depth)
    return ["\n".join(c).rstrip() for c in chunks]


_MODIFIERS = ("noncomputable", "private", "protected", "public", "partial")


def _prefix_only(chunk: list[str]) -> bool:
    """Whether a command so far is only modifiers that need the next line's declaration
    (``@[…]`` attributes, ``noncomputable``, ``open … in``)."""
    code = re.sub(r"/-(?:.|\n)*?-/", "", "\n".join(chunk))
    code = re.sub(r"--.*$|@\[[^\]]*\]", "", code, flags=re.M)
    code = re.sub(r"^(?:open|variable|omit|include|set_option) [^\n]* in\s*$", "", code, flags=re.M)
    return all(w in _MODIFIERS for w in code.split())


def _comment_depth(line: str, depth: int) -> int:
    """Block-comment nesting after ``line`` (strings and line comments ignored, roughly)."""
    k = 0
    while k < len(line):
        two = line[k : k + 2]
        if depth == 0 and two == "--":
            break
        if two == "/-":
            depth, k = depth + 1, k + 2
        elif two == "-/" and depth:
            depth, k = depth - 1, k + 2
        else:
            k += 1
    return depth


def _compfiles(cmd: str) -> str | None:
    """A compfiles command as a translator would write it (None: dropped)."""
    head = cmd.lstrip()
    if head.startswith(("module", "problem_file", "import", "public import")):
        return None
    if re.match(r"^(@\[expose\]\s*)?public section\b", head):
        return "section"  # its `end` closes it
    cmd = re.sub(r"^@\[expose\]\s*", "", cmd, flags=re.M)
    cmd = re.sub(r"^public\s+", "", cmd, flags=re.M)
    lead = r"^(\s*(?:/--(?:.|\n)*?-/\s*)?(?:@\[[^\]]*\]\s*)?(?:noncomputable\s+)?)"
    cmd = re.sub(lead + r"problem\b", r"\1theorem", cmd)
    return re.sub(lead + r"determine\b", r"\1abbrev", cmd)


def _kind(cmd: str) -> str | None:
    body = cmd
    while True:
        stripped = re.sub(_PREFIX, "", body.lstrip())
        if stripped == body:
            break
        body = stripped
    body = re.sub(r"^(?:private|protected|noncomputable|nonrec)\s+", "", body)
    word = re.match(r"\w+", body)
    return word.group(0) if word else None


_PREFIX = re.compile(
    r"^(?:/--(?:.|\n)*?-/|@\[[^\]]*\]|(?:open|variable|omit|include|set_option) [^\n]* in)\s*"
)


def _drop_metadata(cmd: str) -> str:
    """``cmd`` without formal-conjectures' metadata attributes (``category …``, ``AMS …``,
    ``formal_proof …``), also where they share a list with others (``@[simp, category API]``)."""

    def keep(m: re.Match[str]) -> str:
        items = [x.strip() for x in m.group(1).split(",")]
        kept = [x for x in items if not re.match(r"(?:category|AMS|formal_proof)\b", x)]
        return f"@[{', '.join(kept)}]" if kept else ""

    return re.sub(r"@\[([^\]]*)\]", keep, cmd)


def with_sorry(cmd: str) -> str:
    """A theorem command with its proof replaced by ``by sorry`` and metadata attributes
    dropped (unchanged where Lean's lexer, as the gate has it, cannot read it: the gate then
    refuses the row for that reason)."""
    from formalize.lean.lexer import COMMENT_KINDS, LexError, tokenize

    doc = re.match(r"^/--(?:.|\n)*?-/\s*", cmd)
    head = doc.group(0) if doc else ""
    body = _drop_metadata(cmd[len(head) :])
    text = head + body
    try:
        code = [t for t in tokenize(text) if t.kind not in COMMENT_KINDS]
    except LexError:
        return text
    from formalize.lean.declaration import scan_signature

    k = next((i for i, t in enumerate(code) if t.text in MAIN), None)
    if k is None:
        return text
    sig = scan_signature(code, k + (1 if code[k].text == "example" else 2))
    stop = sig.assign if sig.assign is not None else sig.stop
    if stop <= k:
        return text
    return text[: code[stop - 1].end] + " := by sorry"


def rows(text: str, dialect: str = "lean") -> Iterator[str]:
    """The statement rows of one file (see the module docstring)."""
    context: list[str] = ["import Mathlib"]
    for cmd in commands(text):
        if dialect == "compfiles":
            converted = _compfiles(cmd)
            if converted is None:
                continue
            cmd = converted
            if cmd.startswith("snip"):
                continue
        cmd = _drop_metadata(cmd)
        if _kind(cmd) == "import" or _TACTIC_MACRO.match(cmd):
            continue
        if _kind(cmd) in MAIN:
            yield "\n\n".join([*context, with_sorry(cmd)]) + "\n"
        else:
            context.append(cmd)


#: A tactic macro (``local macro "eval_a" : tactic => …``): proof automation, like compfiles'
#: snips, which a translator writing ``by sorry`` statements has no use for.
_TACTIC_MACRO = re.compile(
    r"(?:/--(?:.|\n)*?-/\s*)?(?:@\[[^\]]*\]\s*)?(?:local |scoped )?macro\b[^\n]*:\s*tactic\s*=>"
)


def _drop_snips(text: str) -> str:
    return re.sub(r"^snip begin\b(?:.|\n)*?^snip end\b.*$", "", text, flags=re.M)


def corpus_rows(corpus: Corpus, path: Path) -> Iterator[tuple[str, str]]:
    """(file, row) for every statement row of ``corpus``."""
    for name, text in files(corpus, path):
        if corpus.dialect == "compfiles":
            text = _drop_snips(text)
        for row in rows(text, corpus.dialect):
            if corpus.name == "formal-conjectures" and "answer(" in row:
                continue
            yield name, row


def reason_class(reason: str) -> str:
    """A refusal reason without its positions and quoted specifics, for grouping."""
    reason = re.sub(r"\bat line \d+|\(line \d+\)|line \d+", "", reason)
    return re.sub(r"\s+", " ", reason).strip()


@dataclass
class Tally:
    """Rows and refusals of one corpus."""

    rows: int = 0
    refused: int = 0
    reasons: Counter[str] | None = None
    examples: dict[str, list[str]] | None = None


def measure(corpus: Corpus, path: Path, keep: int = 0) -> Tally:
    """Run the gate over every row of ``corpus``; ``keep`` examples kept per reason."""
    from formalize.lean.statement import check_statement

    tally = Tally(reasons=Counter(), examples={})
    assert tally.reasons is not None and tally.examples is not None
    for name, row in corpus_rows(corpus, path):
        tally.rows += 1
        report = check_statement(row)
        if not report.ok:
            tally.refused += 1
            key = reason_class(report.reason or "")
            tally.reasons[key] += 1
            if len(tally.examples.setdefault(key, [])) < keep:
                tally.examples[key].append(f"{name}: {report.reason}\n{row}")
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None)
    parser.add_argument("--show", type=int, default=15, help="reasons listed per corpus")
    parser.add_argument("--examples", type=int, default=0, help="rows printed per reason")
    parser.add_argument("--only", default=None, help="one corpus by name")
    args = parser.parse_args()
    base = args.corpora or root()
    print("| corpus | rows | refused | rate |")
    print("| --- | ---: | ---: | ---: |")
    details = []
    for corpus in CORPORA:
        if args.only and corpus.name != args.only:
            continue
        path = git_dir(corpus, base)
        if path is None:
            print(f"| {corpus.name} | absent at {corpus.commit[:8]} under {base} | | |")
            continue
        tally = measure(corpus, path, args.examples)
        assert tally.reasons is not None
        rate = 100 * tally.refused / max(tally.rows, 1)
        print(f"| {corpus.name} | {tally.rows} | {tally.refused} | {rate:.1f}% |")
        details.append((corpus.name, tally))
    for name, tally in details:
        assert tally.reasons is not None and tally.examples is not None
        print(f"\n{name}: refusals by reason")
        for reason, n in tally.reasons.most_common(args.show):
            print(f"  {n:5d}  {reason}")
            for example in tally.examples.get(reason, []):
                print("      " + example.replace("\n", "\n      ")[:3000])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
