/- Written for the tests; not Mathlib. -/
import Mathlib.Data.Nat.Prime.Defs

open Nat

/-- `padicValNat p n` is the `p`-adic valuation of the natural number `n`: the largest
power of the prime `p` that divides `n` (zero when `n = 0`). -/
def padicValNat (p : ℕ) (n : ℕ) : ℕ := sorry

namespace padicValNat

/-- `padicValNat p p = 1` for a prime `p`. -/
@[simp]
theorem self {p : ℕ} (hp : 1 < p) : padicValNat p p = 1 := by sorry

theorem zero {p : ℕ} : padicValNat p 0 = 0 := by sorry

end padicValNat

open scoped Nat in
theorem padicValNat_factorial {p n : ℕ} [hp : Fact p.Prime] :
    padicValNat p (n)! = 0 := by sorry
