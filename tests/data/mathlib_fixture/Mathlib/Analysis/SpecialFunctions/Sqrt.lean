/- Written for the tests; not Mathlib. -/
import Mathlib.Algebra.Group.Defs

noncomputable section

namespace Real

/-- The square root of a real number. This returns 0 for negative inputs. -/
def sqrt (x : ℝ) : ℝ := sorry

@[inherit_doc]
prefix:100 "√" => Real.sqrt

theorem sqrt_nonneg (x : ℝ) : 0 ≤ √x := by sorry

@[simp]
theorem sq_sqrt {x : ℝ} (h : 0 ≤ x) : √x ^ 2 = x := by sorry

/-- The number π, half the period of the circle's parametrisation by `exp (i t)`. -/
protected def pi : ℝ := sorry

@[inherit_doc]
scoped notation "π" => Real.pi

/-- The exponential function on the reals. -/
def exp (x : ℝ) : ℝ := sorry

/-- The natural logarithm, `log 0 = 0` and `log |x|` for negative `x`. -/
@[pp_nodot]
def log (x : ℝ) : ℝ := sorry

theorem log_exp (x : ℝ) : log (exp x) = x := by sorry

end Real

end
