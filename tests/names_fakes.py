"""An in-memory stand-in for ``formalize.index.DeclarationIndex`` (the contract of issue 22),
for the name-check and prompt tests: a few dozen Mathlib-shaped declarations written for the
tests. ``search`` ranks by shared words (a crude bm25 stand-in)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FakeDecl:
    """The fields of ``formalize.index.records.Declaration`` the callers read."""

    name: str
    kind: str = "def"
    signature: str = ""
    docstring: str = ""
    module: str = "Mathlib.Fake"
    line: int = 1
    deprecated_to: str | None = None


DECLS = [
    FakeDecl("Nat", "inductive", "Type", "The natural numbers."),
    FakeDecl("Nat.succ", "def", "(n : ℕ) : ℕ"),
    FakeDecl("Nat.Prime", "def", "(p : ℕ) : Prop", "`p` is prime: at least 2, no divisors."),
    FakeDecl("Nat.Prime.two_le", "theorem", "{p : ℕ} (hp : p.Prime) : 2 ≤ p"),
    FakeDecl("Nat.card", "def", "(α : Type*) : ℕ", "The cardinality of a type, 0 if infinite."),
    FakeDecl("Nat.factorial", "def", "(n : ℕ) : ℕ", "The factorial `n!`."),
    FakeDecl("Nat.choose", "def", "(n k : ℕ) : ℕ", "Binomial coefficients."),
    FakeDecl("Nat.digits", "def", "(b n : ℕ) : List ℕ", "The digits of `n` in base `b`."),
    FakeDecl("Nat.gcd", "def", "(m n : ℕ) : ℕ", "Greatest common divisor."),
    FakeDecl("Nat.totient", "def", "(n : ℕ) : ℕ", "Euler's totient function."),
    FakeDecl("Nat.ModEq", "def", "(n a b : ℕ) : Prop", "Congruence modulo `n`."),
    FakeDecl("Int", "inductive", "Type", "The integers."),
    FakeDecl("Int.natAbs", "def", "(m : ℤ) : ℕ", "Absolute value as a natural number."),
    FakeDecl("Int.emod", "def", "(a b : ℤ) : ℤ"),
    FakeDecl(
        "Int.emod_emod_of_dvd", "theorem", "(n : ℤ) {m k : ℤ} (h : m ∣ k) : n % k % m = n % m"
    ),
    FakeDecl("Int.mod_mod_of_dvd", "theorem", "", "", deprecated_to="Int.emod_emod_of_dvd"),
    FakeDecl("Int.gcd", "def", "(m n : ℤ) : ℕ", "Greatest common divisor of integers."),
    FakeDecl("Prime", "def", "{α : Type*} [CommMonoidWithZero α] (p : α) : Prop", "Prime element."),
    FakeDecl("Real", "structure", "Type", "The real numbers."),
    FakeDecl("Real.sqrt", "def", "(x : ℝ) : ℝ", "The square root of a real number, 0 if x < 0."),
    FakeDecl("Real.pi", "def", "ℝ", "The number π."),
    FakeDecl("Real.log", "def", "(x : ℝ) : ℝ", "The real logarithm."),
    FakeDecl("Real.exp", "def", "(x : ℝ) : ℝ", "The real exponential."),
    FakeDecl("Real.cos", "def", "(x : ℝ) : ℝ", "The real cosine."),
    FakeDecl("Real.sin", "def", "(x : ℝ) : ℝ", "The real sine."),
    FakeDecl("Real.sqrt_two_mul_self", "theorem", ": √2 * √2 = 2"),
    FakeDecl("Complex.abs", "def", "ℂ →*₀ ℝ", "The complex absolute value."),
    FakeDecl("Complex.exp", "def", "(z : ℂ) : ℂ", "The complex exponential."),
    FakeDecl("Finset", "structure", "(α : Type*) : Type*", "A finite set."),
    FakeDecl("Finset.Icc", "def", "(a b : α) : Finset α", "The closed interval [a, b]."),
    FakeDecl("Finset.Ico", "def", "(a b : α) : Finset α", "The interval [a, b)."),
    FakeDecl("Finset.range", "def", "(n : ℕ) : Finset ℕ", "`{0, …, n - 1}` as a finset."),
    FakeDecl("Finset.card", "def", "(s : Finset α) : ℕ", "The number of elements."),
    FakeDecl("Finset.prod", "def", "(s : Finset ι) (f : ι → M) : M", "Product over a finset."),
    FakeDecl("Finset.filter", "def", "(p : α → Prop) (s : Finset α) : Finset α"),
    FakeDecl("Set", "def", "(α : Type u) : Type u", "A set of elements of `α`."),
    FakeDecl("Set.ncard", "def", "(s : Set α) : ℕ", "Cardinality of a set, 0 if infinite."),
    FakeDecl("Set.Icc", "def", "(a b : α) : Set α", "The closed interval."),
    FakeDecl("Set.univ", "def", "Set α", "The whole type as a set."),
    FakeDecl("Multiset.card", "def", "Multiset α → ℕ"),
    FakeDecl("Fintype.card", "def", "(α : Type*) [Fintype α] : ℕ", "Cardinality of a fintype."),
    FakeDecl("Fintype", "class", "(α : Type*)", "A type with finitely many elements."),
    FakeDecl("padicValNat", "def", "(p n : ℕ) : ℕ", "The p-adic valuation of a natural number."),
    FakeDecl("Even", "def", "[Add α] (a : α) : Prop", "`a` is even: `a = r + r`."),
    FakeDecl("Odd", "def", "[Semiring α] (a : α) : Prop", "`a` is odd: `a = 2 * m + 1`."),
    FakeDecl("abs", "def", "[Lattice α] [AddGroup α] (a : α) : α", "The absolute value."),
    FakeDecl("deriv", "def", "(f : 𝕜 → F) (x : 𝕜) : F", "The derivative of `f` at `x`."),
    FakeDecl("Function.Injective", "def", "(f : α → β) : Prop", "An injective function."),
    FakeDecl("Polynomial", "structure", "(R : Type*) [Semiring R]", "Polynomials over R."),
    FakeDecl("Polynomial.eval", "def", "(x : R) (p : R[X]) : R", "Evaluate at x."),
    FakeDecl("Polynomial.degree", "def", "(p : R[X]) : WithBot ℕ", "The degree."),
    FakeDecl("True", "inductive", "Prop"),
    FakeDecl("Fin", "structure", "(n : ℕ) : Type"),
    FakeDecl("Option", "inductive", "(α : Type u) : Type u"),
    FakeDecl("False", "inductive", "Prop"),
    FakeDecl("id", "def", "(a : α) : α"),
    FakeDecl("max", "def", "[Max α] (a b : α) : α"),
    FakeDecl("Monoid", "class", "(M : Type u)", "A monoid."),
    FakeDecl("Subgroup", "structure", "(G : Type*) [Group G]", "A subgroup."),
    FakeDecl("List.sum", "def", "[Add α] [Zero α] : List α → α"),
    FakeDecl("Inhabited", "class", "(α : Sort u)"),
    FakeDecl("Dist", "class", "(α : Type*)", "A distance function."),
    FakeDecl("Dist.dist", "field", ": α → α → ℝ", "The distance between two points."),
    FakeDecl("EuclideanSpace", "abbrev", "(𝕜 : Type*) (n : Type*) : Type*"),
    FakeDecl("Pt", "structure", ""),
]


class FakeIndex:
    """An in-memory ``DeclarationIndex`` with the contract's query methods."""

    def __init__(
        self, decls: Sequence[FakeDecl] = tuple(DECLS), revision: str = "fake-rev"
    ) -> None:
        self.decls = {d.name: d for d in decls}
        self.revision = revision
        self.calls = 0

    def get(self, name: str) -> FakeDecl | None:
        self.calls += 1
        return self.decls.get(name)

    def get_many(self, names: Sequence[str]) -> list[FakeDecl | None]:
        self.calls += 1
        return [self.decls.get(n) for n in names]

    def is_namespace(self, name: str) -> bool:
        return any(n.startswith(name + ".") for n in self.decls)

    def by_last_component(self, last: str, *, casefold: bool = False, limit: int = 50) -> list[str]:
        def key(n: str) -> str:
            tail = n.rpartition(".")[2]
            return tail.casefold() if casefold else tail

        want = last.casefold() if casefold else last
        return sorted(n for n in self.decls if key(n) == want)[:limit]

    def names_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        return sorted(n for n in self.decls if n.startswith(prefix))[:limit]

    def search(self, query: str, k: int) -> list[FakeDecl]:
        words = set(re.findall(r"\w+", query.lower()))

        def score(d: FakeDecl) -> int:
            text = f"{d.name} {d.docstring}".lower().replace(".", " ")
            return len(words & set(re.findall(r"\w+", text)))

        ranked = sorted(self.decls.values(), key=lambda d: (-score(d), d.name))
        return [d for d in ranked if score(d) > 0][:k]

    def close(self) -> None:
        pass
