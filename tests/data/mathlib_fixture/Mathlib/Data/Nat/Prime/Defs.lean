/-
Copyright (c) 2026 formalize tests. Written for the tests; not Mathlib.
-/
import Mathlib.Algebra.Group.Defs

/-!
# Prime numbers (test fixture)

This module doc mentions `def NotADeclaration` and must not be read as code.
-/

open Function

namespace Nat

variable {n m : ℕ}

/-- `Nat.Prime p` means that `p` is a prime number, that is, a natural number
  at least 2 whose only divisors are `p` and `1`. -/
@[pp_nodot]
def Prime (p : ℕ) : Prop :=
  Irreducible p

theorem Prime.two_le {p : ℕ} (hp : p.Prime) : 2 ≤ p := by
  sorry

/-- Two is prime. -/
@[simp] theorem prime_two : Prime 2 := by decide

lemma prime_three : Prime 3 := by decide

@[deprecated Prime.two_le (since := "2024-05-01")]
theorem Prime.two_le_old {p : ℕ} (hp : p.Prime) : 2 ≤ p := hp.two_le

/-- The factorial of a natural number: `n ! = 1 * 2 * ... * n`. -/
def factorial : ℕ → ℕ
  | 0 => 1
  | succ n => succ n * factorial n

/-- `n !` is the factorial of `n`. -/
scoped notation:10000 n "!" => Nat.factorial n

section Choose

/-- `choose n k` is the number of `k`-element subsets of an `n`-element set: the binomial
coefficient. -/
def choose : ℕ → ℕ → ℕ
  | _, 0 => 1
  | 0, _ + 1 => 0
  | n + 1, k + 1 => choose n k + choose n (k + 1)

theorem choose_symm_diff {n k : ℕ} (hk : k ≤ n) :
    choose n (n - k) = choose n k := by
  sorry

end Choose

protected theorem Prime.pos {p : ℕ} (pp : p.Prime) : 0 < p := by sorry

private theorem helper_not_exported : True := trivial

theorem _root_.Irreducible.not_unit_of_nat {p : ℕ} (h : Irreducible p) : p ≠ 1 := by sorry

instance : DecidablePred Nat.Prime := fun _ => sorry

instance (priority := 100) instDecidablePrime' : DecidablePred Prime := fun _ => sorry

end Nat
