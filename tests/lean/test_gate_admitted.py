"""Legitimate Lean the gate refused before issue 21, one test per admitted class, each beside
the attack on the same form that must stay refused (tactic blocks: test_tactic_blocks.py)."""

from __future__ import annotations

import pytest

from formalize.lean.statement import check_statement

T = "\ntheorem t : True := sorry"

ADMITTED = {
    "open … in as a definition's body": "noncomputable def f (n : ℕ) : ℕ :=\n"
    "  open scoped Classical in if n = 0 then 0 else 1",
    "cardinality notation": "theorem u (s : Finset ℕ) (α : Type) [Fintype α] : #s = #s ∧ #α = #α"
    " := sorry",
    "«» in a namespace": "namespace Arxiv.«2501.03234»" + T + "\nend Arxiv.«2501.03234»",
    "keyword as a name part": "theorem erdos_12.variants.example : True := sorry",
    "keyword as a field": "theorem u (p : ℕ → Prop) (h : ∃ n, p n) : h.exists = h.exists := sorry",
    "termination_by": "def f (n : ℕ) : ℕ := if n = 0 then 0 else f (n - 1)\ntermination_by n",
    "type_of%": "theorem u (x : ℕ) : type_of% x = ℕ := sorry",
    "include": "section\nvariable (n : ℕ) (h : 0 < n)\ninclude h\ntheorem u : 0 < n := sorry\nend",
    "omit … in": "section\nvariable (n : ℕ) (h : 0 < n)\ninclude h\nomit h in\n"
    "theorem u : 0 ≤ n := sorry\nend",
    "inferInstanceAs": "instance : Inhabited ℕ := inferInstanceAs (Inhabited ℕ)",
    "pattern matching and where": "def f : ℕ → ℕ\n  | 0 => 1\n  | n + 1 => g n\nwhere\n"
    "  g (n : ℕ) : ℕ := n",
    "partial def": "partial def f (n : ℕ) : ℕ := f n",
    "Id.run do": "def f (n : ℕ) : ℕ := Id.run do\n  let mut s := 0\n  for i in [0:n] do\n"
    "    s := s + i\n  return s",
    "set_option autoImplicit false": "set_option autoImplicit false",
    "a linter option": "set_option linter.unusedVariables false in\ndef f (n : ℕ) : ℕ := 1",
    "local instance": "local instance : Inhabited ℕ := ⟨0⟩",
    "harmless attributes": "@[simp, reducible] def f (n : ℕ) : ℕ := n\n@[inline] def g := 1\n"
    "@[stacks 09GF] theorem u : f 1 = 1 := sorry",
    "inherit_doc on a notation": "def f (n : ℕ) : ℕ := n\n@[inherit_doc f] local notation"
    ' "⋄" n => f n',
    "existing tokens after a notation's first atom": "def f (n : ℕ) : ℕ := n\n"
    'local notation "⌊⌊(" n ")" => f n\nlocal notation "⟪⟪" x ", " y "⟫⟫" => f x',
    "scoped notation": 'namespace X\nscoped notation "⋄" => (1 : ℕ)\ntheorem u : ⋄ = 1 := sorry'
    "\nend X",
    "end A.B": "namespace A\nnamespace B" + T + "\nend A.B",
    "ⱼ (U+2C7C) in a name": "theorem u (xⱼ : ℕ) : xⱼ = xⱼ := sorry",
    "Latin-1 letters in a name": "theorem u (é : ℕ) : é = é := sorry",
    "a soft hyphen in a comment": "/-- a soft\u00adhyphen -/\ntheorem u : True := sorry",
    "maxRecDepth above 10000": "set_option maxRecDepth 40000 in\ndef f := 1",
}

REFUSED = {
    "open … in without a term": ("def f : ℕ := open Nat\n", "`open … in <term>`"),
    "a # command in a term": ("theorem u (x : ℕ) : #eval x = 0 := sorry", "no `:=`"),
    "«» holding code": ("theorem u : «#eval 1» = 1 := sorry", "escaped identifier"),
    "a forbidden name escaped": ("theorem u : Nat.«IO» = 1 := sorry", "refers to `IO`"),
    "a command word after a dot in a name": (
        "theorem u : Nat.set_option = 1 := sorry",
        "set_option",
    ),
    "eval%": ("theorem u (x : ℕ) : eval% x = 1 := sorry", "`eval%`"),
    "termination_by?": ("def f (n : ℕ) : ℕ := f n\ntermination_by?", "termination_by?"),
    "autoImplicit true": ("set_option autoImplicit true", "autoImplicit"),
    "a linter option with a number": ("set_option linter.foo 3", "linter.foo"),
    "an attribute registering code": ("@[norm_num f _] def e := 1", "attribute `norm_num`"),
    "@[csimp]": ("@[csimp] def f := 1", "attribute `csimp`"),
    "an existing token first in a notation": (
        'local notation "!" n => n + 1',
        "existing Lean token",
    ),
    "an atom that is a word": ('local notation "Fx" => 1', "never a word"),
    "a one-letter atom in an infix": ('infixl:65 "F" => Nat.add', "atoms must be new symbols"),
    "a later atom closing a bracket it did not open": (
        'local notation "⌊⌊" n ")" => n',
        "closes a bracket the notation did not open",
    ),
    "a later atom separating tactics": (
        'local notation "⌊⌊" n ";" => n',
        "redefines an existing Lean token",
    ),
    "a # word longer than a letter": (
        "theorem u (s : Finset ℕ) : #newsearch = s.card := sorry",
        "`#newsearch`",
    ),
    "a bidi control in a comment": ("-- \u202e x" + T, "U+202E"),
    "a soft hyphen in a name": ("theorem u (a\u00adb : ℕ) : True := sorry", "U+00AD"),
    "a keyword after é (Lean v4.15 reads it)": (
        "theorem u (x : ℕ) : xésorry = 1 := sorry",
        "sorry",
    ),
    "a refused word before é (Lean v4.15 ends the name there)": (
        "theorem u (x : ℕ) : x = native_decideé := sorry",
        "native_decide",
    ),
    "a keyword escaped": ("theorem u (x : ℕ) : x = Nat.«by» := sorry", "`by`"),
    "a later atom the grammar reads by": (
        'local notation "⋄" x ":=" y => x = y',
        "existing Lean token",
    ),
    "a scoped atom after its namespace": (
        'namespace X\nscoped notation "⋄" => (1 : ℕ)\nend X\ntheorem u : ⋄ = 1 := sorry',
        "read where Lean does not have it",
    ),
    "mismatched end A.B": ("namespace A\nnamespace B" + T + "\nend B.A", "expected `end B`"),
    "maxRecDepth 0": ("set_option maxRecDepth 0 in\ndef f := 1", "from 1 to"),
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


def test_global_effects_are_reported() -> None:
    """Admitted forms that outlive the candidate's scopes are global effects (checked alone in
    file mode); a local instance too: it changes what notation means in the statement, which
    the judges must be told (the red team's `local instance : Add ℕ := myAdd`)."""
    simp = check_statement("@[simp] def f (n : ℕ) : ℕ := n" + T)
    assert any("simp" in e for e in simp.global_effects)
    scoped = check_statement("namespace X\nscoped instance : Inhabited ℕ := ⟨0⟩" + T + "\nend X")
    assert any("instance" in e for e in scoped.global_effects)
    local = check_statement("section\nlocal instance : Inhabited ℕ := ⟨0⟩" + T + "\nend")
    assert local.ok and any("local instance" in e for e in local.global_effects)
