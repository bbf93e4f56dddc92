/- Written for the tests; not Mathlib. -/
import Mathlib.Algebra.Group.Defs

namespace Int

/-- If `n ∣ m`, reducing modulo `m` then modulo `n` is reducing modulo `n`. -/
theorem emod_emod_of_dvd (k : ℤ) {m n : ℤ} (h : m ∣ n) : k % n % m = k % m := by
  sorry

@[deprecated (since := "2024-04-02")] alias mod_mod_of_dvd := emod_emod_of_dvd

theorem natAbs_dvd_natAbs {a b : ℤ} : a.natAbs ∣ b.natAbs ↔ a ∣ b := by sorry

alias ⟨dvd_of_natAbs_dvd, natAbs_dvd_of_dvd⟩ := natAbs_dvd_natAbs

/-- `toNat` of a nonnegative integer. -/
def toNat' : ℤ → ℕ
  | (n : ℕ) => n
  | -[_+1] => 0

end Int

@[deprecated Int.emod_emod_of_dvd (since := "2024-04-02")]
theorem Int.emod_emod_of_dvd' (k : ℤ) {m n : ℤ} (h : m ∣ n) : k % n % m = k % m :=
  Int.emod_emod_of_dvd k h
