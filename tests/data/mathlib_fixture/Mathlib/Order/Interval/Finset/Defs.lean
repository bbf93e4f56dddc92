/- Written for the tests; not Mathlib. -/
import Mathlib.Algebra.Group.Defs

/-- A locally finite order: every closed interval is finite, given as a finset. -/
class LocallyFiniteOrder (α : Type*) [Preorder α] where
  /-- The closed interval `[a, b]` as a finset. -/
  finsetIcc : α → α → Finset α
  finsetIco finsetIoc : α → α → Finset α
  finset_mem_Icc : ∀ a b x : α, x ∈ finsetIcc a b ↔ a ≤ x ∧ x ≤ b

namespace Finset

variable {α : Type*} [Preorder α] [LocallyFiniteOrder α]

/-- The finset `Finset.Icc a b` of the elements `x` with `a ≤ x ∧ x ≤ b`: the closed
interval. -/
def Icc (a b : α) : Finset α :=
  LocallyFiniteOrder.finsetIcc a b

/-- The finset of elements `x` with `a ≤ x < b`. -/
def Ico (a b : α) : Finset α := LocallyFiniteOrder.finsetIco a b

@[simp]
theorem mem_Icc {a b x : α} : x ∈ Icc a b ↔ a ≤ x ∧ x ≤ b :=
  LocallyFiniteOrder.finset_mem_Icc a b x

/-- `∏ x ∈ s, f x` is the product of `f x` over the finset `s`. -/
@[to_additive "`∑ x ∈ s, f x` is the sum of `f x` over the finset `s`."]
def prod {β : Type*} [CommMonoid β] (s : Finset α) (f : α → β) : β := sorry

@[to_additive (attr := simp)]
theorem prod_range_succ {β : Type*} [CommMonoid β] (f : ℕ → β) (n : ℕ) :
    (Finset.range (n + 1)).prod f = (Finset.range n).prod f * f n := sorry

@[to_additive add_nonneg_of_sum]
theorem one_le_prod {β : Type*} [CommMonoid β] : True := trivial

/-- The number of elements of a finset. -/
def card (s : Finset α) : ℕ := sorry

end Finset
