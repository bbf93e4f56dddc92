"""The classes the second red team found (issue 21), each tested as a class, not one example.

- binder default values and auto-params, whatever names the binder (``_``, several names)
  and wherever the binder stands;
- ``attribute [… instance]`` changes what notation means, like an ``instance``: a global
  effect, reported;
- every symbol on the deny list is a token Lean reads (or its absence is explained).

The atom-scope check's cost is measured in ``benchmarks/gate.py`` (no wall-clock asserts
here); its meaning is tested below on many sections.
"""

from __future__ import annotations

import pytest

from formalize.lean.policy import DENIED_SYMBOLS
from formalize.lean.statement import check_statement
from formalize.lean.tokens import token_table

T = "theorem t (n : ℕ) : n + 0 = n := by sorry"

# Every binder place Lean has, each written with every bracket that can hold a default.
_PLACES = {
    "theorem": "theorem t {B} : True := by sorry",
    "def": "def f {B} : ℕ := 1\n" + T,
    "abbrev": "abbrev f {B} : ℕ := 1\n" + T,
    "instance": "instance {B} : Inhabited ℕ := ⟨0⟩\n" + T,
    "example": "example {B} : True := by sorry",
    "variable": "variable {B}\n" + T,
    "fun": "theorem t : (fun {B} => (1 : ℕ)) = fun _ => 1 := by sorry",
    "∀": "theorem t : ∀ {B}, True := by sorry",
    "∃": "theorem t : ∃ {B}, True := by sorry",
    "arrow": "theorem t : ({B} → ℕ) = (ℕ → ℕ) := by sorry",
    "structure parameter": "structure S {B} where\n  x : ℕ\n" + T,
    "structure field": "structure S where\n  {B}\n" + T,
    "class field": "class C where\n  {B}\n" + T,
    "constructor": "inductive I where\n  | mk {B} : I\n" + T,
    "constructor type": "inductive I where\n  | mk : {B} → I\n" + T,
    "hypothesis type": "theorem t (h : ∀ {B}, True) : True := by sorry",
}
_BINDERS = {
    "_ (paren)": "(_ : ℕ := 5)",
    "_ (brace)": "{_ : ℕ := 5}",
    "_ (strict)": "⦃_ : ℕ := 5⦄",
    "_ (instance)": "[_ : Inhabited ℕ := ⟨5⟩]",
    "names": "(x y : ℕ := 5)",
    "_ and a name": "(_ y : ℕ := 5)",
    "name and _": "{x _ : ℕ := 5}",
    "spaced": "( _ : ℕ := 5 )",
    "auto-param _": "(_ : 1 = 1 := by rfl)",
    "auto-param name": "⦃h : 1 = 1 := by decide⦄",
    "a hole type": "(x : _ := 5)",
    "a word the table holds": "(ℝ : ℕ := 5)",
}


# Without a type (Lean's `binderType (requireType := false)`): declarations, `variable`, `∀`,
# structure fields and constructors take them; a dependent arrow requires the type.
_UNTYPED = {
    "name": "(x := 5)",
    "_": "(_ := 5)",
    "names (brace)": "{x y := 5}",
    "strict": "⦃x := 5⦄",
    "auto-param": "(h := by decide)",
    "an application": "(x := Nat.succ 1)",
}
_UNTYPED_PLACES = sorted(set(_PLACES) - {"arrow", "constructor type"})


@pytest.mark.parametrize("place", sorted(_PLACES))
@pytest.mark.parametrize("binder", sorted(_BINDERS))
def test_binder_defaults_are_refused_in_every_place(place: str, binder: str) -> None:
    text = _PLACES[place].replace("{B}", _BINDERS[binder])
    report = check_statement(text)
    assert not report.ok, text
    assert "binder default value" in (report.reason or ""), (text, report.reason)


@pytest.mark.parametrize("place", _UNTYPED_PLACES)
@pytest.mark.parametrize("binder", sorted(_UNTYPED))
def test_untyped_binder_defaults_are_refused_in_every_place(place: str, binder: str) -> None:
    text = _PLACES[place].replace("{B}", _UNTYPED[binder])
    report = check_statement(text)
    assert not report.ok, text
    assert "binder default value" in (report.reason or ""), (text, report.reason)


@pytest.mark.parametrize(
    "text",
    [
        "structure S where\n  y : ℕ\n  (x := 5)\n" + T,
        "structure S\n    (n : ℕ) where\n  y : ℕ\n  (x := 5)\n" + T,
        "structure S where\n  mk :: (x := 5)\n" + T,
        "inductive I where\n  | a\n  | mk (y : ℕ) (x := 5) : I\n" + T,
        "theorem t.{u} (x := 5) : True := by sorry",
        "theorem t : ∀ x (y := 5), True := by sorry",
        "theorem t : ∃ x, ∃ (y := 5), True := by sorry",
    ],
)
def test_untyped_binder_defaults_in_later_fields_and_chains(text: str) -> None:
    assert "binder default value" in (check_statement(text).reason or ""), text


@pytest.mark.parametrize(
    "text",
    [
        "theorem t (_ : 0 < 1) : True := by sorry",
        "theorem t {_ : ℕ} ⦃_ : ℕ⦄ [_ : Inhabited ℕ] : True := by sorry",
        "theorem t : (fun (_ : ℕ) => (1 : ℕ)) = fun _ => 1 := by sorry",
        "theorem t : Nat.add (n := 1) 2 = 3 := by sorry",
        "theorem t (h : letI x : ℕ := 1; x = 1) : True := by sorry",
        "theorem t : (let x : ℕ := 1; x) = 1 := by sorry",
        "theorem t : ({ fst := 1, snd := fun x : ℕ => x } : ℕ × (ℕ → ℕ)).1 = 1 := by sorry",
        "theorem t (p : ℕ × ℕ) : ({ p with fst := 1 } : ℕ × ℕ).1 = 1 := by sorry",
        "theorem t : (show ℕ from 1) = 1 := by sorry",
        "def init (n : ℕ) : ℕ × ℕ where\n  fst := n\n  snd := 0\n" + T,
        "instance (priority := 100) : Inhabited ℕ := ⟨0⟩\n" + T,
        "theorem t : ∃ x, Nat.add (n := x) 1 = 2 := by sorry",
        "def f : ℕ × ℕ := { fst := 1, snd := 2 }\n" + T,
        # a field's type continued on a deeper line, starting with a named argument
        # (formal-conjectures' HartshorneConjecture)
        "structure S where\n  y : ℕ\n  z : Fin 3 → Nat.add 1\n    (n := 3) = 4\n" + T,
    ],
)
def test_terms_that_are_not_binder_defaults_pass(text: str) -> None:
    report = check_statement(text)
    assert report.ok, report.reason


def test_local_atoms_in_many_sections_keep_their_scopes() -> None:
    """The atom-scope check computes each atom's scopes once; what it decides is unchanged:
    a local atom is read only between its command and the next `end`, a global one after
    its command."""
    local = 'section\nlocal notation "⧫" => (1 : ℕ)\nend\n'
    inside = 'section\nlocal notation "⧫" => (1 : ℕ)\ntheorem t : ⧫ + ⧫ = 2 := by sorry\nend'
    assert check_statement(local * 50 + inside).ok
    after = local * 50 + "theorem t : ⧫ = 1 := by sorry"
    assert "is read where Lean does not have it" in (check_statement(after).reason or "")
    before = "theorem t : ⧫ = 1 := by sorry\n" + 'notation "⧫" => (1 : ℕ)'
    assert "is read where Lean does not have it" in (check_statement(before).reason or "")
    # a global notation after many local ones of the same atom: read everywhere after it
    late = local * 50 + 'notation "⧫" => (1 : ℕ)\ntheorem t : ⧫ = 1 := by sorry'
    assert check_statement(late).ok


@pytest.mark.parametrize("symbol", sorted(DENIED_SYMBOLS))
def test_every_denied_symbol_is_a_token_lean_reads(symbol: str) -> None:
    """A deny-list entry that is no token would never match: the list and the table agree."""
    assert token_table().is_token(symbol), symbol


@pytest.mark.parametrize("symbol", sorted(DENIED_SYMBOLS))
def test_every_denied_symbol_is_refused_in_a_statement(symbol: str) -> None:
    text = f"theorem t (x : ℕ) : {symbol} x = x := by sorry"
    report = check_statement(text)
    assert not report.ok, text


@pytest.mark.parametrize(
    "text",
    [
        "theorem t (f : ℕ → ℕ) : f $(1) = f 1 := by sorry",
        "theorem t (f : ℕ → ℕ) : f $(f 1) = f 1 := by sorry",
    ],
)
def test_antiquotation_spellings_are_read_as_dollar_and_paren(text: str) -> None:
    """``$(`` is not a token (Lean reads ``$`` and ``(``, an antiquotation only inside a
    quotation): the gate's lexer reads the same two tokens, so no deny-list entry is needed."""
    from formalize.lean.lexer import tokenize

    code = [t.text for t in tokenize(text) if t.is_code]
    assert "$(" not in code
    assert code[code.index("$") + 1] == "("


@pytest.mark.parametrize(
    "text",
    [
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [local instance] myAdd\n"
        "theorem t : 2 + 2 = 4 := by sorry",
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nsection\nattribute [local instance] myAdd\n"
        "theorem t : 2 + 2 = 4 := by sorry\nend",
        "attribute [local instance] Classical.propDecidable\n"
        "theorem t (p : Prop) : p ∨ ¬p := sorry",
        "instance : Add ℕ := ⟨Nat.mul⟩\ntheorem t : 2 + 2 = 4 := by sorry",
    ],
)
def test_instances_however_made_are_global_effects(text: str) -> None:
    """An instance changes what notation means beside the statement: whether declared or made
    from a definition with ``attribute [local instance]``, it is reported (file mode checks the
    candidate alone; the effect names the line)."""
    report = check_statement(text)
    assert report.ok, report.reason
    assert any("instance" in effect for effect in report.global_effects), report.global_effects


@pytest.mark.parametrize(
    "text",
    [
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nlocal instance : Add ℕ := myAdd\n"
        "theorem t : 2 + 2 = 4 := by sorry",
        "namespace Foo\ndef myAdd : Add ℕ := ⟨Nat.mul⟩\nscoped instance : Add ℕ := myAdd\n"
        "end Foo\nopen Foo\ntheorem t : 2 + 2 = 4 := by sorry",
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [instance] myAdd\n"
        "theorem t : 2 + 2 = 4 := by sorry",
        "@[instance] def myAdd : Add ℕ := ⟨Nat.mul⟩\ntheorem t : 2 + 2 = 4 := by sorry",
        "instance (priority := 10000) myAdd : Add ℕ := ⟨Nat.mul⟩\n"
        "theorem t : 2 + 2 = 4 := by sorry",
    ],
)
def test_an_accepted_instance_is_always_reported(text: str) -> None:
    """Whatever spelling the gate admits (some of these are refused here, and a looser gate
    may admit them), an instance it accepts is a reported effect: the red team found `local
    instance : Add ℕ := myAdd` accepted with none by a gate that admitted it."""
    report = check_statement(text)
    if report.ok:
        assert any("instance" in e for e in report.global_effects), report.global_effects


@pytest.mark.parametrize(
    "text",
    [
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [instance] myAdd\n" + T,
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [scoped instance] myAdd\n" + T,
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [-instance] instAddNat\n" + T,
        "def myAdd : Add ℕ := ⟨Nat.mul⟩\nattribute [local instance 1000] myAdd\n" + T,
    ],
)
def test_other_instance_attributes_stay_refused(text: str) -> None:
    assert not check_statement(text).ok


@pytest.mark.parametrize(
    "text",
    [
        "abbrev cheat : False := sorry\ndef x : {n : ℕ // n = 5} := ⟨3, cheat.elim⟩\n"
        "theorem t : x.val = 3 := by sorry",
        "abbrev ans : ℕ := sorry\ndef g : ℕ := ans + 1\ntheorem t : g = 3 := by sorry",
        "namespace Foo\nabbrev bad : (1 : ℕ) = 2 := sorry\nend Foo\n"
        "def x : {n : ℕ // n = 2} := ⟨1, Foo.bad ▸ rfl⟩\ntheorem t : x.val = 1 := by sorry",
    ],
)
def test_answer_placeholders_are_used_by_the_statement_only(text: str) -> None:
    """A `:= sorry` declaration is an unproved assumption: PutnamBench's answers are used by the
    theorem's statement, anything else using one proves what it likes."""
    assert "answer placeholder" in (check_statement(text).reason or ""), text


def test_answer_placeholders_in_the_statement_pass() -> None:
    text = "abbrev ans : ℝ := sorry\ntheorem t (x : ℝ) (h : x = ans) : x = ans := by sorry"
    assert check_statement(text).ok
