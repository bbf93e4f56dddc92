"""Tactic blocks wherever they stand (issue 21): admitted when every tactic they run is on the
allow-list, refused otherwise, with Lean's own reading of where a block and a tactic start."""

from __future__ import annotations

import pytest

from formalize.lean.statement import check_statement

T = "\ntheorem t : True := sorry"

ADMITTED = {
    "definition by tactics": "def f : ℕ := by\n  classical\n  exact 1",
    "instance with one side proof": "instance : Fact (1 < 2) := ⟨by norm_num⟩",
    "side proof not last": "def x : {n : ℕ // n < 3} := ⟨by exact 1, by decide⟩",
    "have and simp only": "def f : ℕ := by\n  have h : ∀ x : ℕ, x = x := fun _ => rfl\n  exact 1",
    "simpa using": "def p : 1 = 1 ∧ True := by simpa only [and_true] using rfl",
    "lemma list at a location": "def p (h : 1 = 1) : True := by simp only [h] at h ⊢ <;> trivial",
    "focusing dots": "def p : True ∧ True := by\n  constructor\n  · trivial\n  · trivial",
    "letI": "noncomputable def f : ℕ := by\n  letI : DecidableEq ℕ := inferInstance\n  exact 1",
    "nested blocks": "def f : ℕ := by\n  have h : 1 = 1 := by\n    rfl\n  exact 1",
    "structure instance field": "def s : {n : ℕ // n = 0} := { val := 0, property := by rfl }",
    "termination_by and decreasing_by": "def f (n : ℕ) : ℕ := if n = 0 then 0 else f (n - 1)\n"
    "termination_by n\ndecreasing_by omega",
    "pattern matching with a side proof": "def f : ℕ → Fin 3\n  | 0 => ⟨0, by omega⟩\n"
    "  | _ => ⟨1, by omega⟩",
    "statement side proof": "def g (x : Fin 3) : ℕ := x\ntheorem u : g ⟨1, by omega⟩ = 1 := sorry",
    "a proof argument in the statement": "theorem u : Fin.mk 0 (by omega) = (0 : Fin 1) := sorry",
    "a type ascription after a block": "abbrev s := f (by norm_num : 2 ≤ 4)",
    "a term tactic's argument on the next line": "def f : ℕ := by\n  classical exact\n  1",
    "convert using": "def p : 1 = 1 := by convert rfl using 1",
}

REFUSED = {
    "configuration after decide": ("def p : True := by decide +native", "unexpected `+`"),
    "configuration after simp": ("def p : True := by simp (config := {})", "unexpected `(`"),
    "tactic off the list": ("def p : True := by\n  exact trivial\n  plausible", "`plausible`"),
    "native_decide": ("def p : 2 = 2 := by native_decide", "native_decide"),
    "sorry in a block": ("def p : True := by\n  sorry", "`sorry`"),
    "a line at the block's column after a term": (
        "def p : True := by\n  have h : ∀ x : ℕ, x = x := fun _ => rfl\n  decide +native",
        "unexpected `+`",
    ),
    "the next tactic after a semicolon, left of the column": (
        "def p : ℕ := by exact\n  foo; decide +native",
        "unexpected `+`",
    ),
    "an outer block's column after an inner block": (
        "def p : ℕ := by\n        have h : True := by\n  exact trivial\n        decide +native",
        "unexpected `+`",
    ),
    "inside a focused block": (
        "def p : ℕ := by\n  · exact foo\n    decide +native",
        "unexpected `+`",
    ),
    "a combinator's block": ("def p : True := by try decide +native", "unexpected `+`"),
    "an optional argument's line is a tactic": (
        "def p : True := by\n  intro\n  decide +native",
        "unexpected `+`",
    ),
    "a keyword left of the block goes on with the term": (
        "def p : ℕ := by\n    exact match 1\n  with\n    | _ => 0\n    decide +native",
        "not allowed in a side proof",
    ),
    "use with a discharger": ("def p : ∃ n : ℕ, n = n := by use (discharger := skip) 1", "`use`"),
    "a block computing the statement": ("theorem u : (by exact True) := sorry", "in the statement"),
    "a data-choosing block as a statement's argument": (
        "theorem u (h : ℕ) : (by assumption : ℕ) = 0 := sorry",
        "in the statement",
    ),
    "a combinator's block in the statement": (
        "theorem u : Fin.mk 0 (by try exact 0) = (0 : Fin 1) := sorry",
        "in the statement",
    ),
    "a notation hiding a block": (
        'notation "⧫" => by simp\n' + "theorem u : True := sorry",
        "notation",
    ),
    "decreasing_by inside a term": (
        "def f (n : ℕ) : ℕ := (decreasing_by omega)",
        "only after a body",
    ),
    "empty block": ("def p : True := by", "empty tactic block"),
}


@pytest.mark.parametrize("name", sorted(ADMITTED))
def test_admitted(name: str) -> None:
    text = ADMITTED[name]
    report = check_statement(text if "theorem" in text else text + T)
    assert report.ok, report.reason


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused(name: str) -> None:
    text, fragment = REFUSED[name]
    report = check_statement(text if "theorem" in text else text + T)
    assert not report.ok, name
    assert fragment in (report.reason or ""), report.reason
