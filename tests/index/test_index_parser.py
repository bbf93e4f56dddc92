"""The Lean source parser: on the committed fixture and on small snippets."""

from __future__ import annotations

import pytest
from index_fixture import FIXTURE

from formalize.index.locate import source_files
from formalize.index.parser import parse_source
from formalize.index.records import Declaration, DeclKind
from formalize.index.resolve import resolve


@pytest.fixture(scope="module")
def decls() -> dict[str, Declaration]:
    results = [parse_source(p.read_text(), m) for p, m in source_files(FIXTURE)]
    found, unresolved = resolve(results)
    assert unresolved == 0
    return {d.name: d for d in found}


def parse(text: str) -> list[Declaration]:
    found, _ = resolve([parse_source(text, "M")])
    return found


def test_every_kind_is_read(decls: dict[str, Declaration]) -> None:
    kinds = {d.kind for d in decls.values()}
    assert kinds == set(DeclKind)
    expected = {
        "Nat.Prime": DeclKind.DEF,
        "Nat.prime_three": DeclKind.THEOREM,  # `lemma`
        "Additive'": DeclKind.ABBREV,
        "Point": DeclKind.STRUCTURE,
        "Monoid": DeclKind.CLASS,
        "Decidable'": DeclKind.CLASS,  # `class inductive`
        "instMonoidNat": DeclKind.INSTANCE,
        "Colour": DeclKind.INDUCTIVE,
        "test_choice": DeclKind.AXIOM,
        "secretNat": DeclKind.OPAQUE,
        "√": DeclKind.NOTATION,
        "dvdNotation": DeclKind.NOTATION,
        "Complex.re": DeclKind.FIELD,
        "Colour.blue": DeclKind.CONSTRUCTOR,
        "Decidable'.isTrue": DeclKind.CONSTRUCTOR,
    }
    assert {n: decls[n].kind for n in expected} == expected


def test_namespaces_sections_and_root(decls: dict[str, Declaration]) -> None:
    assert "Nat.choose" in decls  # inside `section Choose` inside `namespace Nat`
    assert "Nat.Prime.two_le" in decls  # dotted name in a namespace
    assert "Irreducible.not_unit_of_nat" in decls  # `_root_.`
    assert "Nat.Prime.pos" in decls  # protected keeps its name
    assert "padicValNat.self" in decls and "padicValNat_factorial" in decls  # after `end`
    assert "Real.sqrt" in decls  # inside `noncomputable section`
    assert not any("helper_not_exported" in n for n in decls)  # private
    assert not any("NotADeclaration" in n or "hidden" in n for n in decls)  # comments


def test_signatures_stop_before_the_body(decls: dict[str, Declaration]) -> None:
    assert decls["Nat.Prime"].signature == "(p : ℕ) : Prop"
    assert decls["Nat.factorial"].signature == ": ℕ → ℕ"  # match arms are not signature
    assert decls["Point.add_x"].signature == "(p q : Point α) : (p + q).x = p.x + q.x"
    assert decls["Finset.Icc"].signature == "(a b : α) : Finset α"
    assert decls["Monoid"].signature == "(M : Type u) extends Semigroup M, MulOneClass M"
    assert decls["Colour.blue"].signature == "(shade : ℕ) : Colour"


def test_docstrings_modules_and_lines(decls: dict[str, Declaration]) -> None:
    prime = decls["Nat.Prime"]
    assert prime.docstring.startswith("`Nat.Prime p` means that `p` is a prime number")
    assert "\nat least 2" in prime.docstring  # indentation removed
    assert prime.module == "Mathlib.Data.Nat.Prime.Defs"
    assert prime.line == 21
    assert decls["Nat.prime_two"].docstring == "Two is prime."  # through `@[simp]` on its line
    assert decls["Real.log"].docstring.startswith("The natural logarithm")  # through an attribute
    assert decls["Complex.re"].docstring == "The real part of a complex number."
    assert decls["Nat.prime_three"].docstring == ""


def test_structure_fields_and_constructors(decls: dict[str, Declaration]) -> None:
    assert {"Point.x", "Point.y", "Point.mkPoint"} <= set(decls)
    assert "Point.mk" not in decls  # renamed with `mkPoint ::`
    assert {"LocallyFiniteOrder.finsetIco", "LocallyFiniteOrder.finsetIoc"} <= set(decls)
    assert decls["Monoid.npow"].signature == ": ℕ → M → M := npowRec"
    assert "Monoid.mk" in decls and "Complex.mk" in decls


def test_deprecations_resolve_to_full_names(decls: dict[str, Declaration]) -> None:
    old = decls["Int.mod_mod_of_dvd"]  # @[deprecated (since := …)] alias old := new
    assert old.deprecated_to == "Int.emod_emod_of_dvd"
    assert old.kind is DeclKind.THEOREM
    assert old.signature == decls["Int.emod_emod_of_dvd"].signature  # from the target
    assert decls["Nat.Prime.two_le_old"].deprecated_to == "Nat.Prime.two_le"  # relative target
    assert decls["Int.emod_emod_of_dvd'"].deprecated_to == "Int.emod_emod_of_dvd"
    # iff aliases are new names, not renames
    assert decls["Int.dvd_of_natAbs_dvd"].deprecated_to is None
    assert "Int.natAbs_dvd_of_dvd" in decls
    assert decls["Nat.Prime"].deprecated_to is None


def test_unparseable_spans_are_skipped_and_counted() -> None:
    path = FIXTURE / "Mathlib" / "Util" / "Broken.lean"
    result = parse_source(path.read_text(), "Mathlib.Util.Broken")
    names = [d.name for d in result.parsed.declarations]
    assert names == ["Broken.before", "Broken.unclosed_attribute", "Broken.after"]
    # a nameless theorem, an unclosed attribute, an unknown command, an unterminated comment
    assert result.parsed.skipped_lines == (8, 10, 13, 17)
    assert result.parsed.skipped == 4


def test_open_is_used_to_resolve_targets() -> None:
    text = (
        "namespace Foo\ntheorem bar : True := trivial\nend Foo\n"
        'namespace Baz\nopen Foo\n@[deprecated bar (since := "2024-01-01")]\n'
        "theorem old : True := trivial\nend Baz\n"
    )
    by_name = {d.name: d for d in parse(text)}
    assert by_name["Baz.old"].deprecated_to == "Foo.bar"


def test_unknown_target_is_kept_as_written_in_the_innermost_namespace() -> None:
    text = 'namespace A\n@[deprecated gone (since := "x")] def old : Nat := 1\nend A\n'
    (decl,) = parse(text)
    assert decl.deprecated_to == "A.gone"


def test_strings_and_char_literals_do_not_confuse_the_masking() -> None:
    text = (
        'def s : String := "-- not a comment /- nor this"\n'
        "def c : Char := '\"'\n"
        "/-- doc with `:=` inside -/\n"
        "theorem t' (x : Nat) : x = x := rfl\n"
    )
    decls = parse(text)
    assert [d.name for d in decls] == ["s", "c", "t'"]
    assert decls[2].docstring == "doc with `:=` inside"
    assert decls[2].signature == "(x : Nat) : x = x"


def test_nested_comments_and_guillemets() -> None:
    text = "/- outer /- inner -/ still comment -/\ndef «weird name».x : Nat := 1\n"
    (decl,) = parse(text)
    assert decl.name == "«weird name».x"
    assert decl.last == "x"


def test_mutual_and_universe_params() -> None:
    text = (
        "namespace N\nmutual\ndef even : Nat → Bool\n  | 0 => true\n  | n+1 => odd n\n"
        "def odd : Nat → Bool\n  | 0 => false\n  | n+1 => even n\nend\n"
        "def id'.{u} {α : Sort u} (a : α) : α := a\nend N\n"
    )
    assert [(d.name, d.signature) for d in parse(text)] == [
        ("N.even", ": Nat → Bool"),
        ("N.odd", ": Nat → Bool"),
        ("N.id'", "{α : Sort u} (a : α) : α"),
    ]


def test_multiline_strings_and_first_column_continuations() -> None:
    text = (
        '@[to_additive "The sum of a list,\n'
        "def not_a_command : Nat := 0\n"
        'is its total."]\n'
        "theorem prod_eq : True := trivial\n"
        '@[deprecated (since := "2024-11-13")] alias\n'
        "old_name := prod_eq\n"
        "theorem long_proof : True :=\n"
        "trivial\n"
    )
    result = parse_source(text, "M")
    assert result.parsed.skipped == 0
    decls = {d.name: d for d in resolve([result])[0]}
    assert set(decls) == {"prod_eq", "old_name", "long_proof", "sum_eq"}  # sum_eq: to_additive
    assert (
        decls["sum_eq"].docstring
        == "The sum of a list,\ndef not_a_command : Nat := 0\nis its total."
    )
    assert decls["old_name"].deprecated_to == "prod_eq"


def test_to_additive_twins(decls: dict[str, Declaration]) -> None:
    assert decls["Finset.sum"].docstring.startswith("`∑ x ∈ s, f x` is the sum")
    assert decls["Finset.sum"].kind is DeclKind.DEF
    twin = decls["Finset.sum_range_succ"]  # (attr := simp) skipped, name guessed
    assert twin.signature.endswith("= (Finset.range n).sum f + f n")  # names and `*` translated
    assert twin.module == decls["Finset.prod_range_succ"].module
    assert "Finset.add_nonneg_of_sum" in decls  # an explicit name
    assert "Finset.nonneg_sum" not in decls
    assert decls["AddMonoid"].kind is DeclKind.CLASS
    assert {"AddMonoid.nsmul", "AddMonoid.nsmul_zero", "AddMonoid.mk"} <= set(decls)  # fields
    assert "AddMonoid.nsmul_zero_eq" in decls  # Monoid.npow_one_eq, through the namespace
    assert "AddMonoid.not_twinned" not in decls  # `to_additive existing`


@pytest.mark.parametrize(
    ("source", "twin"),
    [
        ("prod_range_succ", "sum_range_succ"),
        ("mul_inv_cancel", "add_neg_cancel"),
        ("orderOf_dvd", "addOrderOf_dvd"),
        ("isUnit_iff", "isAddUnit_iff"),
        ("one_le_mul'", "nonneg_add'"),
        ("HMul", "HAdd"),
        ("zpow_natCast", "zsmul_natCast"),
        ("comm_mul", "comm_add"),
        ("mul_comm", "add_comm"),
        ("commMonoid", "addCommMonoid"),
    ],
)
def test_additive_name_guesses(source: str, twin: str) -> None:
    from formalize.index.additive import guess_name

    assert guess_name(source) == twin


def test_split_case() -> None:
    from formalize.index.additive import split_case

    assert split_case("InvHMulLEConjugate₂SMul_ne_top") == [
        "Inv", "HMul", "LE", "Conjugate₂", "SMul", "_", "ne", "_", "top"
    ]  # fmt: skip
