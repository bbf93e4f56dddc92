"""The name check over many candidate shapes: no false positive on right names, the wrong
ones found with their suggestions in the documented order."""

from __future__ import annotations

import pytest
from names_fakes import DECLS, FakeDecl, FakeIndex

from formalize.names import NameChecker, edit_distance, scan
from formalize.records import SignalOutcome


@pytest.fixture
def checker() -> NameChecker:
    return NameChecker(FakeIndex())


# Each compiles in Lean (with Mathlib): every global name resolves, none may be flagged.
RIGHT = [
    "theorem t (p : ℕ) (hp : Nat.Prime p) : 2 ≤ p := sorry",
    "open Nat in\ntheorem t (p : ℕ) (hp : Prime p) : 2 ≤ p.factorial := sorry",
    "open Nat Real\ntheorem t (n : ℕ) : sqrt (factorial n) ≥ 0 := sorry",
    "open Finset in\ntheorem t (n : ℕ) : ∑ i ∈ range n, i = n * (n - 1) / 2 := sorry",
    "theorem t (n : ℕ) : ∑ i ∈ Finset.range n, i = n * (n - 1) / 2 := sorry",
    "theorem t (n : ℕ) : ∏ i ∈ Finset.Icc 1 n, i = Nat.factorial n := sorry",
    # binders of every kind
    "theorem t : ∀ x y : ℝ, ∃ z, x + y = z := sorry",
    "theorem t : ∀ (x : ℝ) (hx : 0 < x), ∃! y : ℝ, y * y = x ∧ 0 ≤ y := sorry",
    "theorem t (f : ℕ → ℕ) (hf : ∀ n, f (n + 1) > f n) : Function.Injective f := sorry",
    "theorem t : (fun (xx : ℕ) => xx + 1) 1 = 2 ∧ (λ yy => yy) 3 = 3 := sorry",
    "theorem t : {xx : ℕ | xx < 3}.ncard = 3 := sorry",
    "theorem t : Set.ncard {xx : ℕ | 0 < xx ∧ xx < 3} = 2 := sorry",
    "theorem t : {(aa, bb) : ℕ × ℕ | aa = bb}.Nonempty := sorry",
    "theorem t (S : Finset ℕ) (hS : ∀ nn ∈ S, Even nn) : Even (∑ kk ∈ S, kk) := sorry",
    "theorem t {ι : Type*} [Fintype ι] (w : ι → ℝ) : ∑ ii, w ii = ∑ ii, w ii := sorry",
    "theorem t (ab : ℕ × ℕ) : (match ab with | (aa, bb) => aa + bb) = ab.1 + ab.2 := sorry",
    "theorem t : let yy := 2; yy + yy = 4 := sorry",
    "theorem t : ⨆ ii : Fin 3, (ii : ℕ) = 2 := sorry",
    # field notation on locals, dot notation
    "theorem t (s : Finset ℕ) (hs : s.card = 3) (p : ℕ) (hp : p.Prime) :\n"
    "    hp.two_le = hp.two_le := sorry",
    "theorem t (xs : List ℕ) : xs.sum = xs.sum ∧ (Finset.range 3).card = 3 := sorry",
    "theorem t : (Finset.range 3 |>.card) = 3 := sorry",
    "theorem t (o : Option ℕ) : o = .none ∨ o ≠ .none := sorry",
    # auto-bound and short names, universe names
    "theorem t (h : a ≤ b) : a ≤ b := sorry",
    "universe u\ntheorem t (α : Sort u) (x₁ : α) : x₁ = x₁ := sorry",
    # local definitions, namespaces, variables
    "def sq (x : ℕ) : ℕ := x * x\ntheorem t : sq 3 = 9 := sorry",
    "namespace Foo\ndef bar : ℕ := 1\ntheorem t : bar = Foo.bar := sorry\nend Foo",
    "namespace Nat\ntheorem t (p : ℕ) (hp : Prime p) : card ℕ = 0 := sorry\nend Nat",
    "section\nvariable (n : ℕ)\ntheorem t : Nat.choose n 0 = 1 := sorry\nend",
    "structure Pt where\n  px : ℝ\n  py : ℝ\n"
    "theorem t (q : Pt) : q.px = Pt.px q ∧ Pt.mk 0 0 = Pt.mk 0 0 := sorry",
    "inductive Col where\n  | red\n  | blue\ntheorem t : Col.red ≠ Col.blue := sorry",
    # named arguments, attributes, proofs' field notation, generated and to_additive names
    "theorem t : Finset.card (α := ℕ) ∅ = 0 := sorry",
    "@[simp] theorem t (p : ℕ) (hp : Nat.Prime p) : 2 ≤ p := Nat.Prime.two_le hp",
    "theorem t (n : ℕ) : Finset.sum (Finset.range n) id = 0 := sorry",
    "theorem t (n : ℕ) : Nat.succ.inj = Nat.succ.inj := sorry",
    "theorem t : _root_.Prime (2 : ℤ) := sorry",
    "theorem t (S : Subgroup G) : S = S ∧ Subgroup.mk = Subgroup.mk := sorry",
    # namespaces that are types even where the index lacks the type
    "theorem t : (Nat : Type) = ℕ ∧ (Int : Type) = ℤ := sorry",
    # tactic blocks (side proofs, solution definitions): tactic names and what they bind
    "theorem t : ∃ nn : ℕ, nn = 2 := ⟨2, by norm_num [Nat.factorial]; rfl⟩",
    "def sol : ℕ := by\n  intro hx\n  exact hx\ntheorem t : sol = 2 := sorry",
    # instance fields and structure fields with binders
    "structure Good (g : ℕ → ℕ) : Prop where\n  map_twice x : g (g x) = x\n"
    "theorem t (g : ℕ → ℕ) (hg : Good g) : hg.map_twice 1 = hg.map_twice 1 := sorry",
    "instance : Inhabited Pt where\n  default := ⟨0⟩\ntheorem t : True := sorry",
    # exported class fields, auto-bound heads, letI, parenthesised binders, default values
    "theorem t (P Q : EuclideanSpace ℝ (Fin 2)) : dist P Q ≥ 0 := sorry",
    "theorem t (hm : 2 ≤ m) : m.Prime := sorry",
    "theorem t : letI half := Real.pi / 2; half = half := sorry",
    "theorem t (hb : ∀ᵉ (nn ≥ 1) (ab), ab = nn) : True := sorry",
    "theorem t (fa := fun nn : ℕ => nn + 1) : fa 1 = 2 := sorry",
    # comments and strings are not code
    "-- Nat.prime is wrong\n/- so is Real.sqroot -/\n"
    "theorem t (p : ℕ) : Nat.Prime p → 2 ≤ p := sorry",
]


@pytest.mark.parametrize("text", RIGHT)
def test_no_false_positive(checker: NameChecker, text: str) -> None:
    report = checker.check_one(text)
    assert report.ok, report.unresolved
    assert report.signal().outcome is SignalOutcome.PASSED


def test_a_dotted_namespace_is_not_a_constant() -> None:
    index = FakeIndex([*DECLS, FakeDecl("Int.Prime.dvd_mul", "theorem")])
    (miss,) = NameChecker(index).check_one("theorem t : Int.Prime 3 := sorry").unresolved
    assert miss.name == "Int.Prime" and miss.suggestions[0] == "Nat.Prime"


def test_a_field_of_a_structure_is_not_exported() -> None:
    index = FakeIndex([FakeDecl("Pt", "structure"), FakeDecl("Pt.px", "field")])
    (miss,) = NameChecker(index).check_one("theorem t : px = 1 := sorry").unresolved
    assert miss.name == "px" and miss.suggestions[0] == "Pt.px"


def test_checks_the_global_names() -> None:
    index = FakeIndex()
    report = NameChecker(index).check_one(
        "theorem t (p : ℕ) (hp : Nat.Prime p) : Nat.card ℕ = padicValNat p 1 := sorry"
    )
    assert report.checked == 3
    assert index.calls >= 1


@pytest.mark.parametrize(
    ("text", "wrong", "best"),
    [
        ("theorem t (p : ℕ) (hp : Nat.prime p) : 2 ≤ p := sorry", "Nat.prime", "Nat.Prime"),
        ("theorem t : padicvalnat 2 8 = 3 := sorry", "padicvalnat", "padicValNat"),
        ("theorem t : Real.sqroot 4 = 2 := sorry", "Real.sqroot", "Real.sqrt"),
        ("theorem t (s : Finset ℕ) : Finset.crad s = 0 := sorry", "Finset.crad", "Finset.card"),
        ("theorem t : Int.factorial 3 = 6 := sorry", "Int.factorial", "Nat.factorial"),
        ("open Real in\ntheorem t : sqrtt 4 = 2 := sorry", "sqrtt", "Real.sqrt"),
        ("theorem t : Nat.Pirme 3 := sorry", "Nat.Pirme", "Nat.Prime"),
    ],
)
def test_wrong_names_found_with_the_right_one_first(
    checker: NameChecker, text: str, wrong: str, best: str
) -> None:
    report = checker.check_one(text)
    assert [u.name for u in report.unresolved] == [wrong]
    assert report.unresolved[0].suggestions[0] == best
    signal = report.signal()
    assert signal.outcome is SignalOutcome.FAILED
    assert signal.details["unresolved"][wrong][0] == best
    assert wrong in signal.reason and best in signal.reason


def test_suggestion_order_deprecated_then_same_last_then_edit_distance() -> None:
    decls = [
        FakeDecl("Old.size", "def", deprecated_to="New.size"),
        FakeDecl("New.size"),
        FakeDecl("Foo.size"),
        FakeDecl("Bar.SIZE"),
        FakeDecl("Baz.sizes"),
        FakeDecl("Baz.other"),
    ]
    from formalize.names import suggest

    index = FakeIndex(decls)
    got = suggest(index, "Baz.size", ["Baz.size"], deprecated_to=["New.size"], limit=10)
    # the deprecated target first, then the same last component (exact case, then folded),
    # then the edit-distance neighbours in the written namespace
    assert got[0] == "New.size"
    assert got.index("Foo.size") < got.index("Bar.SIZE") < got.index("Baz.sizes")
    assert "Baz.other" not in got


def test_a_deprecated_alias_found_gives_way_to_its_target(checker: NameChecker) -> None:
    report = checker.check_one("theorem t : Nat.mod_mod_of_dvd = 1 := sorry")
    (miss,) = report.unresolved
    assert miss.suggestions[0] == "Int.emod_emod_of_dvd"
    assert "Int.mod_mod_of_dvd" not in miss.suggestions


def test_context_namespace_ranks_first_among_equals() -> None:
    index = FakeIndex()
    text = "theorem t (n : ℕ) : Set.card (Finset.range n) = n := sorry"
    report = NameChecker(index).check_one(text)
    assert report.unresolved[0].suggestions[0] == "Finset.card"


def test_deprecated_alias_resolves_and_names_its_target(checker: NameChecker) -> None:
    report = checker.check_one("theorem t : Int.mod_mod_of_dvd = Int.mod_mod_of_dvd := sorry")
    assert report.ok
    assert dict(report.deprecated) == {"Int.mod_mod_of_dvd": "Int.emod_emod_of_dvd"}
    assert report.signal().details["deprecated"] == {"Int.mod_mod_of_dvd": "Int.emod_emod_of_dvd"}


def test_open_in_lasts_one_command(checker: NameChecker) -> None:
    text = "open Nat in\ndef two : ℕ := factorial 2\ntheorem t : factorial 2 = two := sorry"
    report = checker.check_one(text)
    assert [u.name for u in report.unresolved] == ["factorial"]
    assert report.unresolved[0].line == 3
    assert report.unresolved[0].suggestions[0] == "Nat.factorial"


def test_namespace_ends(checker: NameChecker) -> None:
    text = (
        "namespace Nat\ntheorem a : card ℕ = 0 := sorry\nend Nat\ntheorem b : card ℕ = 0 := sorry"
    )
    report = checker.check_one(text)
    assert [(u.name, u.line) for u in report.unresolved] == [("card", 4)]


def test_stale_index_signal_is_inconclusive(checker: NameChecker) -> None:
    report = checker.check_one("theorem t : Nat.brandNew 1 = 1 := sorry")
    assert not report.ok
    signal = report.signal(lean_accepted=True)
    assert signal.outcome is SignalOutcome.INCONCLUSIVE
    assert "Nat.brandNew" in signal.reason


def test_scan_lists_uses_with_scope() -> None:
    found = scan("namespace A\nopen B C\ntheorem t (x : ℕ) : Foo x := sorry\nend A")
    uses = [u for u in found.uses if u.name not in found.locals]
    assert [(u.name, u.namespace, u.opens) for u in uses] == [("Foo", "A", ("B", "C"))]
    assert "x" in found.locals


def test_unlexable_text_has_no_uses() -> None:
    assert scan('theorem t : "unterminated := sorry').uses == ()


def test_edit_distance() -> None:
    assert edit_distance("Prime", "Pirme") == 1
    assert edit_distance("sqrt", "sqroot") == 2
    assert edit_distance("abc", "xyzabc", cap=2) == 2


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("theorem t (x : ℝ) : Int.sqrt x = 1 := sorry", "Real.sqrt"),
        ("theorem t (n : ℕ) : Int.sqrt n = 1 := sorry", "Nat.sqrt"),
        ("theorem t : ∑ i ∈ Nat.Icc 1 3, i = 6 := sorry", "Finset.Icc"),
        ("theorem t : ∏ i in Nat.Icc 1 3, i = 6 := sorry", "Finset.Icc"),
    ],
)
def test_the_position_points_to_a_namespace(text: str, best: str) -> None:
    index = FakeIndex(
        [FakeDecl(n) for n in ("Real.sqrt", "Nat.sqrt", "Set.Icc", "Finset.Icc", "Nat.add")]
    )
    (miss,) = NameChecker(index).check_one(text).unresolved
    assert miss.suggestions[0] == best


def test_a_name_the_candidate_declares_in_its_namespace_is_its_own() -> None:
    """Inside ``namespace Foo`` after ``def Nat.Prime``, Lean reads ``Nat.Prime`` as
    ``Foo.Nat.Prime``: the critic must not be shown the library's ``Nat.Prime`` for it."""
    checker = NameChecker(FakeIndex())
    shadow = (
        "namespace Foo\ndef Nat.Prime (n : ℕ) : Prop := n = n\n"
        "theorem t : Nat.Prime 4 ∧ Nat.card ℕ = 0 := sorry\nend Foo"
    )
    names = [str(getattr(d, "name", d)) for d in checker.constants(shadow)]
    assert "Nat.Prime" not in names and "Nat.card" in names
    plain = "theorem t : Nat.Prime 4 := sorry"
    assert [str(getattr(d, "name", d)) for d in checker.constants(plain)] == ["Nat.Prime"]
