"""The gate on public Lean statement collections it was not tuned on (issue 21).

Reads formal-conjectures, CombiBench and compfiles from bare git snapshots at pinned commits
under ``$FORMALIZE_PUBLIC_CORPORA`` (default ``/work/.mirror``; their data is never committed),
turns each file into statement rows as ``benchmarks/gate_corpora.py`` defines, and checks that
the refusal rate stays within what is recorded in benchmarks/README.md and that every
refusal is one of the named dangers of docs/security.md. Skips, saying why, where a snapshot
(at its pinned commit) is absent.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    path = REPO / "benchmarks" / "gate_corpora.py"
    spec = importlib.util.spec_from_file_location("gate_corpora", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gate_corpora"] = module
    spec.loader.exec_module(module)
    return module


BENCH = _bench()

#: The refusal rate each corpus must stay within: the issue's goal, 2% (measured:
#: benchmarks/README.md), every remaining row a named danger below.
CEILING = {"formal-conjectures": 0.02, "CombiBench": 0.02, "compfiles": 0.02}

#: The named dangers of docs/security.md ("Public corpora: what stays refused"), as the
#: patterns of the reasons that stand for them.
NAMED_DANGERS = {
    "syntax definitions (macros, elaborators)": r"macros, syntax and elaborators",
    "a notation atom that is a word or reads as an operand": (
        r"atoms must be new symbols|reads as `"
    ),
    "a notation redefining an existing token": r"redefines an existing Lean token",
    "a notation atom used outside its scope": r"is read where Lean does not have it",
    "names reaching IO or the meta API": r"forbidden name",
    "tactics off the allow-list": r"not allowed in a side proof|its alternatives run tactics",
    "a tactic choosing a term of the statement": r"in the statement running",
    "`‹t›` (runs assumption)": r"runs a tactic",
    "binder defaults (code run at elaboration)": r"binder default value",
    "a `#` word a newer library could read as a command": r"`#` before a word",
    "commands off the grammar (attribute, alias, meta import, … in section)": (
        r"the `attribute` command|`alias` here|unexpected `meta`|`\.\.\. in` must be followed"
    ),
}


@pytest.fixture(scope="module")
def base() -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the corpora are read from git snapshots")
    return BENCH.root()


@pytest.mark.slow  # about 5,000 rows through the gate: 10-15 s on an idle core
@pytest.mark.parametrize("corpus", BENCH.CORPORA, ids=[c.name for c in BENCH.CORPORA])
def test_public_corpus_refusals_are_few_and_named(corpus: object, base: Path) -> None:
    path = BENCH.git_dir(corpus, base)
    if path is None:
        pytest.skip(
            f"{corpus.name} at {corpus.commit[:12]} is not under {base}"  # type: ignore[attr-defined]
            f" (set ${BENCH.ENV} to a folder of bare snapshots, {corpus.folder}/repo)"  # type: ignore[attr-defined]
        )
    tally = BENCH.measure(corpus, path, keep=1)
    assert tally.rows > 100
    rate = tally.refused / tally.rows
    assert rate <= CEILING[corpus.name], (rate, tally.reasons.most_common(10))  # type: ignore[attr-defined]
    unnamed = {
        reason: n
        for reason, n in tally.reasons.items()
        if not any(re.search(p, reason) for p in NAMED_DANGERS.values())
    }
    assert not unnamed, unnamed


def test_rows_follow_the_documented_definition() -> None:
    """A file becomes one row per theorem, with the file's context and `by sorry` proofs."""
    text = (
        "import FormalConjecturesUtil\n\nopen Nat\n\nnamespace X\n\n/-- doc -/\n"
        "def f (n : ℕ) : ℕ := n\n\n@[category research open, AMS 11]\n"
        "theorem a : f 1 = 1 := by\n  simp [f]\n\nopen Classical in\n@[simp, category API]\n"
        "lemma b : f 2 = 2 := rfl\n\nend X\n"
    )
    rows = list(BENCH.rows(text))
    assert len(rows) == 2
    assert rows[0].startswith("import Mathlib\n\nopen Nat\n\nnamespace X\n\n/-- doc -/\ndef f")
    assert rows[0].endswith("theorem a : f 1 = 1 := by sorry\n")
    assert "theorem a" not in rows[1] and "category" not in rows[1]
    assert rows[1].rstrip().endswith("open Classical in\n@[simp]\nlemma b : f 2 = 2 := by sorry")
    compfiles = "problem_file\n\nsnip begin\nlemma h : True := trivial\nsnip end\n\n" + (
        "determine s : ℕ := 3\n\nproblem p : s = 3 := by\n  rfl\n"
    )
    (row,) = BENCH.rows(BENCH._drop_snips(compfiles), "compfiles")
    assert "abbrev s : ℕ := 3" in row and row.rstrip().endswith("theorem p : s = 3 := by sorry")
    assert "lemma h" not in row
    tactic = 'def a : ℕ := 2\n\nlocal macro "eval_a" : tactic => `(tactic| rfl)\n\n' + (
        "theorem t : a = 2 := by eval_a\n"
    )
    (row,) = BENCH.rows(tactic)
    assert "macro" not in row and row.rstrip().endswith("theorem t : a = 2 := by sorry")
    term = 'local macro "𝕊" : term => `(Nat)\n\ntheorem t : True := trivial\n'
    assert "macro" in next(iter(BENCH.rows(term)))  # a term macro stays (and is refused)
