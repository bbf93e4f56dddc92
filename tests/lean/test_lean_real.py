"""Real Lean: true, wrong and Mathlib statements through each backend.

Marked ``lean``: they run wherever ``lake`` is on PATH and the Lean project is built
(``formalize lean setup``; the project is ``$FORMALIZE_LEAN_PROJECT``, which ``make`` sets to the
checkout's ``lean_project/``, else the data home's), and skip with the reason everywhere else.
The kimina backend runs when ``FORMALIZE_KIMINA_URL`` names a running kimina-lean-server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from formalize.lean import LeanChecker, LeanConfig
from formalize.lean.config import default_lean_project
from formalize.lean.project import find_repl_binary
from formalize.records import CheckStatus

PROJECT = default_lean_project()
pytestmark = pytest.mark.lean

STATEMENTS = {
    "true": "theorem real_true : (2 : ℕ) + 2 = 4 := by sorry",
    "wrong": "theorem real_wrong : (2 : ℕ) + 2 = Nat.undefinedConstantXyz := by sorry",
    "mathlib": "theorem real_mathlib (x : ℝ) (hx : 0 ≤ x) : Real.sqrt (x ^ 2) = x := by sorry",
    "type": 'theorem real_type : (1 : ℕ) = "one" := by sorry',
    "own_header": (
        "import Mathlib\n\nopen Real in\ntheorem real_pi :\n"
        "    π > 3 ∧ Real.undefinedXyz := by sorry"
    ),
}
# Unknown names are dotted: with Lean's default autoImplicit an unknown atomic name in a
# signature becomes an implicit variable, and the statement compiles.
EXPECTED = {
    "true": CheckStatus.OK,
    "wrong": CheckStatus.LEAN_ERROR,
    "mathlib": CheckStatus.OK,
    "type": CheckStatus.LEAN_ERROR,
    "own_header": CheckStatus.LEAN_ERROR,
}


def backend_config(backend: str) -> LeanConfig:
    if shutil.which("lake") is None:
        pytest.skip(
            "no Lean toolchain: `lake` is not on PATH (install elan, then formalize lean setup)"
        )
    if backend == "kimina":
        url = os.environ.get("FORMALIZE_KIMINA_URL")
        if not url:
            pytest.skip("set FORMALIZE_KIMINA_URL to a running kimina-lean-server to test it")
        return LeanConfig(backend="kimina", kimina_url=url, workers=2, timeout_s=120)
    if find_repl_binary(PROJECT) is None or not (PROJECT / ".lake" / "packages").is_dir():
        pytest.skip(f"{PROJECT} is not built: run `formalize lean setup`")
    return LeanConfig(backend=backend, lean_project=PROJECT, workers=2, timeout_s=120)


@pytest.mark.parametrize("backend", ["repl", "file", "kimina"])
def test_real_statements(backend: str) -> None:
    with LeanChecker(backend_config(backend)) as checker:
        checker.preflight()
        results = dict(zip(STATEMENTS, checker.check(list(STATEMENTS.values())), strict=True))
    for name, status in EXPECTED.items():
        assert results[name].status is status, (name, results[name])
    assert any("sorry" in m.text for m in results["true"].messages)
    (err,) = [m for m in results["own_header"].errors() if "undefinedXyz" in m.text]
    lines = STATEMENTS["own_header"].split("\n")
    assert lines[err.line - 1][err.column :].startswith("Real.undefinedXyz")


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_header_that_does_not_import(backend: str) -> None:
    with LeanChecker(backend_config(backend)) as checker:
        (result,) = checker.check(
            ["theorem t : True := by sorry"], header="import Mathlib.NonexistentModuleXyz"
        )
    assert result.status is CheckStatus.LEAN_ERROR and "does not import" in str(result.reason)


# The Lean-verified filters on real Lean: one case per filter. The reference case is miniF2F's
# mathd_algebra_478 (its statement, with its variables renamed, against the original).
MATHD_478 = (
    "theorem mathd_algebra_478 (b h v : ℝ) (h₀ : 0 < b ∧ 0 < h ∧ 0 < v) "
    "(h₁ : v = 1 / 3 * (b * h))\n    (h₂ : b = 30) (h₃ : h = 13 / 2) : v = 65 := by sorry"
)
RENAMED_478 = (
    "theorem cone_volume (base height vol : ℝ) (hpos : 0 < base ∧ 0 < height ∧ 0 < vol)\n"
    "    (hv : vol = 1 / 3 * (base * height)) (hb : base = 30) (hh : height = 13 / 2) :\n"
    "    vol = 65 := by sorry"
)
FILTER_CASES = {
    "vacuous": "theorem real_vacuous (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x = 1 := by sorry",
    "refuted": "theorem real_refuted : (2 : ℕ) + 2 = 5 := by sorry",
    "trivial": "theorem real_trivial : (2 : ℕ) + 2 = 4 := by sorry",
    "equivalent": RENAMED_478,
    "not_equivalent": RENAMED_478.replace("vol = 65 :=", "vol = 66 :="),
}


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_filters(backend: str) -> None:
    from formalize.filters import DEFAULT_FILTERS, FilterItem, build_filters, run_filters
    from formalize.records import Problem

    problem = Problem("mathd_algebra_478", "The volume of a cone...", metadata={
        "formal_statement": MATHD_478.removesuffix(" sorry"),
        "header": "import Mathlib\nimport Aesop\n\nopen BigOperators Real Nat Topology Rat\n",
    })  # fmt: skip
    items = [FilterItem.of(problem, lean, "import Mathlib") for lean in FILTER_CASES.values()]
    with LeanChecker(backend_config(backend)) as checker:
        checker.preflight()
        assert all(r.ok for r in checker.check(list(FILTER_CASES.values())))
        found = run_filters(build_filters([*DEFAULT_FILTERS, "reference"], checker), items)
    outcome = {
        case: {s.name: s.outcome.value for s in signals}
        for case, signals in zip(FILTER_CASES, found, strict=True)
    }
    assert outcome["vacuous"]["vacuous"] == "failed"
    assert outcome["refuted"]["refuted"] == "failed"
    assert outcome["trivial"]["trivial"] == "failed"
    assert outcome["trivial"]["refuted"] == "passed"
    assert outcome["equivalent"]["reference"] == "passed"
    assert outcome["equivalent"]["vacuous"] == outcome["equivalent"]["refuted"] == "passed"
    assert outcome["not_equivalent"]["reference"] == "inconclusive"


# Issue 19's probe shapes on real Lean (written from reading Lean's and Mathlib's sources; they
# have not run on the project's machines, which have no Lean).
ISSUE_19 = {
    # `simp_all` rewrites and stops; `linarith` closes False in its own alternative
    "linarith": "theorem i19_lin (x : ℝ) (h₀ : 0 < x) (h₁ : x + 1 < 1) : x = 2 := by sorry",
    # `{x}` is ℝ from the conclusion; without it `0 < x ∧ x < 1` would default to ℕ, where it
    # is contradictory (the version 1 probe "proved" a vacuity the statement does not have)
    "untyped": (
        "theorem i19_untyped {x} (h₀ : 0 < x) (h₁ : x < 1) : x ∈ Set.Ioo (0 : ℝ) 1 := by sorry"
    ),
    # a "no such object" statement: never vacuous
    "no_object": "theorem i19_none (x : ℕ) (h : x + 1 = 0) : False := by sorry",
    # universe-polymorphic, against its renaming (the reference below)
    "universes": "theorem i19_grp {G : Type*} [Group G] (a : G) : a * 1 = a := by sorry",
    # [MOD n] no longer blinds the probes
    "modular": "theorem i19_mod (n : ℕ) (h : n % 4 = 3) : n ≡ 3 [MOD 4] := by sorry",
}
ISSUE_19_REFERENCES = {
    "universes": "theorem i19_ref {H : Type*} [Group H] (b : H) : b * 1 = b := by sorry",
    "modular": "theorem i19_mref (m : ℕ) (h : m % 4 = 3) : m ≡ 3 [MOD 4] := by sorry",
}
PUTNAM_ROW = (
    "import Mathlib\n\nabbrev i19_solution : ℕ := sorry\n-- 6\n"
    "theorem i19_putnam : i19_solution = 2 * 3 :=\nsorry\n"
)


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_filters_issue_19_shapes(backend: str) -> None:
    from formalize.filters import DEFAULT_FILTERS, FilterItem, build_filters, run_filters
    from formalize.records import Problem

    def problem(case: str) -> Problem:
        ref = ISSUE_19_REFERENCES.get(case)
        return Problem(case, "a problem", metadata={"reference": ref} if ref else {})

    items = [FilterItem.of(problem(c), lean, "import Mathlib") for c, lean in ISSUE_19.items()]
    answered = "abbrev i19_ans : ℕ := 6\ntheorem i19_c : i19_ans = 2 * 3 := by sorry"
    putnam = Problem("putnam", "a problem", metadata={"lean4_file": PUTNAM_ROW})
    unanswered = Problem("bare", "p", metadata={"lean4_file": PUTNAM_ROW.replace("-- 6\n", "")})
    items += [FilterItem.of(p, answered, "import Mathlib") for p in (putnam, unanswered)]
    with LeanChecker(backend_config(backend)) as checker:
        checker.preflight()
        assert all(r.ok for r in checker.check([i.lean for i in items]))
        found = run_filters(build_filters([*DEFAULT_FILTERS, "reference"], checker), items)
    by_case = dict(zip([*ISSUE_19, "putnam", "bare"], found, strict=True))
    signal = {case: {s.name: s for s in signals} for case, signals in by_case.items()}
    assert signal["linarith"]["vacuous"].outcome.value == "failed"
    assert signal["untyped"]["vacuous"].outcome.value == "passed"
    assert signal["no_object"]["vacuous"].outcome.value == "inconclusive"
    assert signal["universes"]["reference"].outcome.value == "passed"
    assert signal["modular"]["reference"].outcome.value == "passed"
    assert signal["modular"]["vacuous"].outcome.value == "passed"
    assert signal["putnam"]["reference"].outcome.value == "passed"
    assert signal["bare"]["reference"].reason == "the reference's answer is sorry"
    # no probe of these failed to elaborate
    for signals in signal.values():
        assert not any(s.reason.startswith("the probe did not elaborate") for s in signals.values())


# Lean's truth at run time (formalize.truth): the token-table command and the filters'
# self-test, on the real Lean. The token table must be readable and hold core's and Mathlib's
# atoms; every filter must agree with the self-test's known verdicts (a failure here names
# the filter and the case: what would be switched off for this Lean).
@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_token_table_and_selftest(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formalize.lean.tokens import packaged_table, use_lean_tokens
    from formalize.truth import measure_and_cache

    monkeypatch.setenv("FORMALIZE_HOME", str(tmp_path))
    try:
        with LeanChecker(backend_config(backend)) as checker:
            checker.preflight()
            truth, _ = measure_and_cache(checker)
    finally:
        use_lean_tokens(())
    assert truth.token_error is None and truth.lean_tokens is not None
    assert {"theorem", ":=", "∑", "ℝ"} <= set(truth.lean_tokens)
    diff = truth.diff
    assert diff is not None
    # the gate's table is built from the sources of the pinned Leans: few tokens are new
    assert len(diff.extra) < 0.01 * len(packaged_table().tags), diff.summary()
    wrong = {n: v.reason for n, v in truth.selftest.verdicts.items() if not v.ok}
    assert not wrong, wrong


# Shadowing (issue 21): REPL and file mode answer alike. `Nat.Prime` declared again at the top
# is "already declared" (file mode checks it alone, at the root); inside a namespace it is a new
# constant that the statement then names, and the gate reports it as shadowing.
SHADOWING = {
    "top": (
        "def Nat.Prime (n : ℕ) : Prop := True\ntheorem real_shadow_top : Nat.Prime 4 := by sorry"
    ),
    "namespace": (
        "namespace RealShadow\ndef Nat.Prime (n : ℕ) : Prop := True\n"
        "theorem real_shadow_ns : Nat.Prime 4 := by sorry\nend RealShadow"
    ),
}


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_real_shadowing(backend: str) -> None:
    with LeanChecker(backend_config(backend)) as checker:
        top, inside = checker.check(list(SHADOWING.values()))
    assert top.status is CheckStatus.LEAN_ERROR
    assert any("already been declared" in m.text for m in top.errors()), top
    assert inside.status is CheckStatus.OK, inside
