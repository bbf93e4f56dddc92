/- Written for the tests; not Mathlib. -/

universe u v

/-- A `Monoid` is a type with an associative multiplication and a unit `1`. -/
@[to_additive "An `AddMonoid` is a type with an associative addition and a zero `0`."]
class Monoid (M : Type u) extends Semigroup M, MulOneClass M where
  /-- Raising to a natural power. -/
  protected npow : ℕ → M → M := npowRec
  npow_zero : ∀ x, npow 0 x = 1

/-- A point of the plane with two coordinates. -/
structure Point (α : Type u) where
  mkPoint ::
  x : α
  y : α
  deriving DecidableEq

/-- The colours used in the tests. -/
inductive Colour
  | red
  | green : Colour
  /-- A blue one. -/
  | blue (shade : ℕ) : Colour
  deriving Repr

/-- A type synonym for the tests. -/
abbrev Additive' (α : Type u) := α

/-- Choice, as an axiom of the tests. -/
axiom test_choice {α : Sort u} : Nonempty α → α

opaque secretNat : ℕ

class inductive Decidable' (p : Prop) where
  | isFalse (h : ¬p) : Decidable' p
  | isTrue (h : p) : Decidable' p

infixl:65 " +ᵥ' " => HVAdd.hVAdd

notation (name := dvdNotation) a " ∣' " b => Dvd.dvd a b

instance instMonoidNat : Monoid ℕ where
  npow n x := x ^ n
  npow_zero := sorry

namespace Point

variable {α : Type u} [Add α]

/-- Points add coordinatewise. -/
instance : Add (Point α) := ⟨fun p q => ⟨p.x + q.x, p.y + q.y⟩⟩

theorem add_x (p q : Point α) :
    (p + q).x =
      p.x + q.x := rfl

end Point

namespace Monoid

@[to_additive]
theorem npow_one_eq {M : Type u} [Monoid M] (x : M) : npow 1 x = x := sorry

@[to_additive existing]
theorem not_twinned : True := trivial

end Monoid
