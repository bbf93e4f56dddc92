/- Written for the tests; not Mathlib. -/
import Mathlib.Algebra.Group.Defs

namespace Nat

/-- `Nat.card α` is the cardinality of `α` as a natural number.
  If `α` is infinite, `Nat.card α = 0`. -/
protected def card (α : Type*) : ℕ := sorry

@[simp]
theorem card_eq_fintype_card {α : Type*} [Fintype α] : Nat.card α = Fintype.card α := sorry

end Nat
