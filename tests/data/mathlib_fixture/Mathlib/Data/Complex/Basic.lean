/- Written for the tests; not Mathlib. -/
import Mathlib.Analysis.SpecialFunctions.Sqrt

/-- Complex numbers: pairs of real numbers, the real and imaginary parts. -/
structure Complex : Type where
  /-- The real part of a complex number. -/
  re : ℝ
  /-- The imaginary part of a complex number. -/
  im : ℝ

@[inherit_doc] notation "ℂ" => Complex

namespace Complex

/-- The imaginary unit `I`, with `I * I = -1`. -/
def I : ℂ := ⟨0, 1⟩

@[simp] theorem I_sq : I ^ 2 = -1 := by sorry

/-- The absolute value (modulus) of a complex number. -/
noncomputable def abs (z : ℂ) : ℝ := Real.sqrt (z.re * z.re + z.im * z.im)

end Complex
