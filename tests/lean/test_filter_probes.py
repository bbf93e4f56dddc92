"""The probe shapes issue 19 asked for, on the generated text and through the checker with the
fake REPL (``--prove`` rules, ``tactic`` rules, ``--probe-error``): alternatives that close or
fail on their own, statements that are their own vacuity probe, binders elaborated as in the
statement, and a ``reference`` filter that can succeed (answers, universes, variables, file
mode, header lines, order, global effects)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lean_fakes import fake_config, log_path
from test_filters import HEADER, item, probe_requests, probes_of

from formalize.filters import REGISTRY, FilterSettings, build_filters, run_filters
from formalize.filters.comparing import UNIVERSE, pin_universes, variable_binders, with_answers
from formalize.lean import LeanChecker
from formalize.records import SignalOutcome

EQUIV = r"formalize_probe_reference_\w+ : Prop :="


def checker(tmp_path: Path, rules: list[dict[str, str]], *flags: str, **kw: Any) -> LeanChecker:
    args = ("--log", str(log_path(tmp_path)), "--prove", json.dumps(rules), *flags)
    return LeanChecker(fake_config(tmp_path, *args, **kw))


# --------------------------------------------------------------------------- item 1


def test_linarith_is_reached_when_simp_all_leaves_the_goal_open(tmp_path: Path) -> None:
    """`0 < x`, `x + 1 < 1` over ℝ: `simp_all` rewrites and stops (the fake REPL proves only the
    alternative whose block is `linarith`, as Lean would); in version 1's `first | …` block
    `simp_all` came first and `linarith` was never run."""
    lean = "theorem t (x : ℝ) (h₀ : 0 < x) (h₁ : x + 1 < 1) : x = 2 := by sorry"
    rule = {"probe": "vacuous", "when": r"x \+ 1 < 1", "tactic": r"\n  linarith\s*$"}
    with checker(tmp_path, [rule]) as lean_checker:
        (signal,) = build_filters(["vacuous"], lean_checker)[0].run([item(lean)])
    assert signal.outcome is SignalOutcome.FAILED
    assert signal.evidence.endswith(":= by\n  show _root_.False\n  linarith")
    assert "simp_all" not in signal.evidence and "omega" not in signal.evidence
    (sent,) = probe_requests(tmp_path)
    # simp_all is tried first, and did not hide linarith
    simp_all = sent.index("show _root_.False\n  simp_all")
    assert simp_all < sent.index("show _root_.False\n  linarith")


# --------------------------------------------------------------------------- items 2 and 3


def test_a_false_or_negated_conclusion_is_never_vacuous(tmp_path: Path) -> None:
    """A "no such object exists" statement is its own vacuity probe: proved, it is solved."""
    no_root = "theorem no_root (x : ℤ) (h : x ^ 2 = 2) : False := by sorry"
    negated = "theorem neg (x : ℕ) (h : x + 1 = 0) : ¬ (x = 5) := by sorry"
    anything = [
        {"probe": "vacuous", "when": "."},
        {"probe": "trivial", "when": r"h : x \^ 2 = 2"},
    ]
    with checker(tmp_path, anything) as lean_checker:
        found = run_filters(
            build_filters(["vacuous", "trivial"], lean_checker), [item(no_root), item(negated)]
        )
    for vacuous, _ in found:
        assert vacuous.outcome is SignalOutcome.INCONCLUSIVE
        assert "the conclusion is False or a negation" in vacuous.reason
    assert found[0][1].outcome is SignalOutcome.FAILED  # recorded as trivial: it is solved
    assert probes_of("vacuous", "theorem p (x : ℕ) (h : x = 1) : (False) := by sorry") is None
    assert probes_of("vacuous", "theorem p (x : ℕ) (h : x = 1) : (¬ x = 2) ∧ True := sorry")


def test_untyped_binders_elaborate_as_in_the_statement() -> None:
    """imo1960_p2's shape: `{x}` gets its type from the conclusion, so the conclusion stays in
    the probe (inert: `(fun _ : Prop => _root_.False) (…)`), not re-elaborated without it."""
    lean = (
        "def IsGood (x : ℝ) : Prop := 0 ≤ 2 * x + 1\n"
        "theorem imo1960_p2 {x} : IsGood x ↔ x ∈ Set.Icc (-1 / 2 : ℝ) 0 := by sorry"
    )
    (probe,) = probes_of("vacuous", lean) or []
    assert (
        "theorem formalize_probe_vacuous_1 {x} :\n"
        "    (fun _ : Prop => _root_.False) ( IsGood x ↔ x ∈ Set.Icc (-1 / 2 : ℝ) 0 ) := by\n"
        "  show _root_.False\n"
    ) in probe.body


# --------------------------------------------------------------------------- item 4


PUTNAM = (
    "import Mathlib\n\nopen Real\n\n"
    "abbrev putnam_x_solution : ℕ := sorry\n-- 6\n"
    "/-- Find the answer. -/\n"
    "theorem putnam_x : putnam_x_solution = 2 * 3 :=\nsorry\n"
)
ANSWERED = "abbrev answer : ℕ := 6\ntheorem t : answer = 2 * 3 := by sorry"


def test_putnambench_answers_are_substituted_or_the_signal_says_why(tmp_path: Path) -> None:
    assert "abbrev putnam_x_solution : ℕ := 6\n-- 6\n" in with_answers(PUTNAM)
    (probe,) = probes_of("reference", ANSWERED, lean4_file=PUTNAM) or []
    assert "abbrev formalize_ref_putnam_x_solution : ℕ := 6" in probe.body
    assert "sorry" not in probe.body
    unanswered = PUTNAM.replace("-- 6\n", "")
    assert probes_of("reference", ANSWERED, lean4_file=unanswered) is None
    rules = [{"probe": "equiv", "when": r"formalize_ref_putnam_x_solution : ℕ := 6"}]
    with checker(tmp_path, rules) as lean_checker:
        (reference,) = build_filters(["reference"], lean_checker)
        found = reference.run(
            [item(ANSWERED, lean4_file=PUTNAM), item(ANSWERED, lean4_file=unanswered)]
        )
    assert found[0].outcome is SignalOutcome.PASSED
    assert found[1].outcome is SignalOutcome.INCONCLUSIVE
    assert found[1].reason == "the reference's answer is sorry"


def test_universe_polymorphic_statements_are_pinned_to_one_universe() -> None:
    cand = "theorem c {G : Type*} [Group G] (a : G) : a * 1 = a := by sorry"
    ref = "theorem r {H : Type _} [Group H] (b : H) : b * 1 = b := by sorry"
    (probe,) = probes_of("reference", cand, reference=ref) or []
    body = probe.body
    assert body.startswith(f"universe {UNIVERSE}\n")
    assert f"∀ {{G : Type {UNIVERSE}}} [Group G]" in body
    assert f"∀ {{H : Type {UNIVERSE}}} [Group H]" in body
    names = re.findall(r"def _root_\.(\w+)", body)
    assert len(names) == 2
    assert f"{names[1]}.{{{UNIVERSE}}} → {names[0]}.{{{UNIVERSE}}} := by" in body
    assert pin_universes("(α : Sort*) (β : Type 1)") == f"(α : Sort {UNIVERSE}) (β : Type 1)"
    plain = probes_of("reference", "theorem c : 1 = 1 := sorry", reference=ref.replace("_", "1"))
    assert plain is not None and UNIVERSE not in plain[0].body


def test_references_with_variables_are_closed_over_them() -> None:
    ref = "variable {N : ℕ} (k : ℕ) [Fact (1 < N)]\ntheorem r (h : 0 < N) : N ≠ 0 := by sorry"
    (probe,) = probes_of(
        "reference", "theorem c (n : ℕ) (h : 0 < n) : n ≠ 0 := sorry", reference=ref
    )
    assert re.search(
        EQUIV + r"\n  \(∀ \{N : ℕ\} \[Fact \(1 < N\)\] \(h : 0 < N\) , N ≠ 0 \)", probe.body
    )
    assert variable_binders("variable (a b : ℕ) (h : a < b)", ["a = a"]) == ["(a b : ℕ)"]


def test_file_mode_checks_several_reference_probes_in_one_file(tmp_path: Path) -> None:
    ref = "theorem ref (m : ℕ) (h : 0 < m) : m = m + 0 := by sorry"
    items = [
        item("theorem a (n : ℕ) (h : 0 < n) : n + 0 = n := by sorry", reference=ref),
        item("theorem b (k : ℕ) (h : 0 < k) : k = k := by sorry", reference=ref),
    ]
    rules = [{"probe": "equiv", "when": r"\(∀ \(m : ℕ\)"}]
    with checker(tmp_path, rules, backend="file") as lean_checker:
        found = build_filters(["reference"], lean_checker)[0].run(items)
    assert [s.outcome for s in found] == [SignalOutcome.PASSED, SignalOutcome.PASSED]
    names = [set(re.findall(r"def _root_\.(\w+)", s.evidence)) for s in found]
    assert len(names[0] | names[1]) == 4  # no "already declared" between the two


def test_the_run_header_lines_stay_with_the_candidate() -> None:
    """A candidate checked under `open Real` (the run's header) keeps it in its section."""
    lean = "theorem c (x : ℝ) (h : x = π) : x = π := by sorry"
    ref = "theorem r (y : ℝ) (h : y = Real.pi) : y = Real.pi := by sorry"
    filt = REGISTRY["reference"](None, FilterSettings())  # type: ignore[arg-type]
    found = item(lean, reference=ref)
    found = type(found)(found.problem, found.lean, "import Mathlib\nopen Real", found.report)
    (probe,) = filt.probes(found) or []
    assert probe.header == HEADER
    assert "section\nopen Real\n\ndef _root_.formalize_probe_candidate_" in probe.body
    assert probe.body.count("open Real") == 1  # the reference was not checked under it


def test_a_candidate_with_global_effects_never_passes_reference(tmp_path: Path) -> None:
    """`instance : Add ℕ := ⟨Nat.mul⟩` would change what `+` means in the reference."""
    hostile = "instance : Add ℕ := ⟨Nat.mul⟩\ntheorem c (n : ℕ) (h : 0 < n) : n + 0 = n := by sorry"
    ref = "theorem ref (m : ℕ) (h : 0 < m) : m = m + 0 := by sorry"
    found = item(hostile, reference=ref)
    assert found.report.ok  # the gate lets instances through; the reference filter must not
    assert found.report.global_effects
    with checker(tmp_path, [{"probe": "equiv", "when": "."}]) as lean_checker:
        (signal,) = build_filters(["reference"], lean_checker)[0].run([found])
    assert signal.outcome is SignalOutcome.INCONCLUSIVE
    assert "global effects" in signal.reason


def test_a_notation_candidate_is_not_compared() -> None:
    lean = 'infixl:65 " +++ " => Nat.mul\ntheorem c (n : ℕ) : n +++ 0 = 0 := by sorry'
    found = item(lean, reference="theorem r (m : ℕ) : m * 0 = 0 := by sorry")
    assert found.report.ok and found.report.global_effects
    filt = REGISTRY["reference"](None, FilterSettings())  # type: ignore[arg-type]
    assert filt.probes(found) is None
    assert "global effects (notation at line 1)" in filt.skip_reason(found)


def test_the_reference_is_elaborated_before_the_candidate() -> None:
    ref = "theorem ref (m : ℕ) : m = m := by sorry"
    (probe,) = probes_of("reference", "theorem c (n : ℕ) : n = n := sorry", reference=ref) or []
    assert probe.body.index("formalize_probe_reference_") < probe.body.index(
        "formalize_probe_candidate_"
    )


def test_probe_texts_of_a_plain_statement() -> None:
    """What a self-test runs: every filter's probes for a statement text, no Lean needed."""
    from formalize.filters import probe_texts

    lean = "theorem t (n : ℕ) (h : n ≡ 3 [MOD 4]) : n % 4 = 3 := by sorry"
    for name in ("vacuous", "refuted", "trivial"):
        (probe,) = probe_texts(name, lean) or []
        assert f"formalize_probe_{name}_1" in probe.body and "[MOD 4]" in probe.body
    (reference,) = probe_texts("reference", lean, reference=lean) or []
    assert reference.goals == ("equiv_mp", "equiv_mpr")
    assert probe_texts("vacuous", "theorem f : False := sorry") is None


def test_probes_set_the_limits_a_statement_may_lower_again() -> None:
    """`set_option synthInstance.maxSize 3` at the top would hold in the probes, which follow
    the statement's text, and starve their tactics into "not proved" (the red team's way to
    dodge the filters): every probe theorem sets each limit again, never below Lean's default,
    never below what the statement itself set (PutnamBench's putnam_1989_a6 lowers maxSize)."""
    low = (
        "set_option synthInstance.maxSize 3\nset_option maxRecDepth 60\n"
        "theorem t (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x = 1 := by sorry"
    )
    high = "set_option maxRecDepth 4096\n" + low.split("\n", 2)[2]
    for name in ("vacuous", "refuted", "trivial"):
        (probe,) = probes_of(name, low) or []
        theorems = probe.body.count(f"theorem formalize_probe_{name}_")
        assert theorems >= 1
        for option in (
            "synthInstance.maxSize 128",
            "maxRecDepth 512",
            "synthInstance.maxHeartbeats 20000",
        ):
            assert probe.body.count(f"set_option {option} in\n") == theorems, (name, option)
        (raised,) = probes_of(name, high) or []
        assert raised.body.count("set_option maxRecDepth 4096 in\n") == theorems
    (reference,) = probes_of("reference", low, formal_statement=high) or []
    assert "set_option maxRecDepth 4096 in\n" in reference.body


def test_universe_parameters_are_declared_on_every_probe() -> None:
    """`theorem t.{u} (α : Sort u) …` was parsed with no binders and no conclusion, so no
    filter could build a probe (all inconclusive: the red team's way around them)."""
    lean = "theorem t.{u, v} (α : Sort u) (β : Sort v) (h₀ : 0 < 1) (h₁ : 1 < 0) : False := sorry"
    for name in ("refuted", "trivial"):
        (probe,) = probes_of(name, lean) or []
        assert f"theorem formalize_probe_{name}_1.{{u, v}}" in probe.body
        assert "(α : Sort u)" in probe.body
    vacuous = lean.replace(": False :=", ": α = α :=")
    (probe,) = probes_of("vacuous", vacuous) or []
    assert "theorem formalize_probe_vacuous_1.{u, v} (α : Sort u) (β : Sort v)" in probe.body
    assert probes_of("reference", lean, formal_statement=lean) is None


def test_only_leans_sorry_warning_makes_an_alternative_unproved() -> None:
    """An unused binder named `xsorry` gets Lean's "unused variable `xsorry`" warning on
    every probe theorem that succeeds; read as a sorry warning, it made every filter "passed"
    (the red team's dodge). Only `declaration uses 'sorry'` counts."""
    from formalize.filters.base import proved_alternatives
    from formalize.records import CheckResult, CheckStatus, Message, Severity

    lean = "theorem t (n : ℕ) (h1 : n = 1) (h2 : n = 2) (xsorry : ℕ) : n = 3 := sorry"
    (probe,) = probes_of("vacuous", lean) or []
    first = probe.alternatives[0]
    line, column = probe.position(first.start)
    unused = Message(Severity.WARNING, line, column, "unused variable `xsorry`")
    ok = CheckResult(CheckStatus.OK, (unused,))
    assert first in proved_alternatives(ok, probe)
    uses = Message(Severity.WARNING, line, column, "declaration uses 'sorry'")
    assert first not in proved_alternatives(CheckResult(CheckStatus.OK, (uses,)), probe)


def test_an_in_prefix_covers_every_probe_theorem() -> None:
    """`open Real in theorem …`: Lean expands `a in b` to `section a b end`, so left in the
    context it would cover the first probe theorem only; the others failed on `sqrt`, every
    filter inconclusive (the red team's dodge, honest candidates included)."""
    lean = (
        "open Nat\nopen Real in\nset_option linter.unusedVariables false in\n"
        "theorem t (x : ℝ) (h1 : x = 1) (h2 : x = 2) : sqrt x = 3 := sorry"
    )
    for name in ("vacuous", "refuted", "trivial"):
        (probe,) = probes_of(name, lean) or []
        assert " in\ntheorem formalize_probe" in probe.body  # its own set_options only
        assert "open Real in" not in probe.body and "unusedVariables false in" not in probe.body
        opened = probe.body.index("section\nopen Real\nset_option linter.unusedVariables false\n")
        assert probe.body.index("open Nat") < opened < probe.body.index("formalize_probe_")
        assert probe.body.rstrip().endswith("end")
    (reference,) = probes_of("reference", lean, formal_statement=lean) or []
    assert (
        reference.body.count("section\nopen Real\nset_option linter.unusedVariables false\n") == 2
    )


def test_refuted_and_vacuous_take_the_variables_the_statement_uses() -> None:
    """`variable (n : ℕ)` then `theorem t : n = 0`: Lean's statement is `∀ n, n = 0`; the
    refutation `¬ (n = 0)` had `n` added outside the negation (`∀ n, n ≠ 0`, false), so a
    false statement passed; and vacuous skipped it for want of hypotheses (red team)."""
    lean = "variable (n : ℕ) (h : n = 1) [Fact (1 = 2)]\ninclude h\ntheorem t : n = 0 := sorry"
    (refuted,) = probes_of("refuted", lean) or []
    assert "¬ (∀ (n : ℕ) (h : n = 1) [Fact (1 = 2)] , n = 0 )" in refuted.body
    (vacuous,) = probes_of("vacuous", lean) or []
    assert "formalize_probe_vacuous_1 (n : ℕ) (h : n = 1) [Fact (1 = 2)] :" in vacuous.body
    plain = "variable (m : ℕ)\ntheorem t (k : ℕ) : k = k := sorry"  # `m` unused: not taken
    (refuted,) = probes_of("refuted", plain) or []
    assert "(m : ℕ)" not in refuted.body.split("theorem formalize_probe")[1]
