/- Written for the tests; not Mathlib. This file has spans the parser cannot read. -/

namespace Broken

/-- Read before the broken spans. -/
def before : ℕ := 1

theorem (x : ℕ) : x = x := rfl

@[simp
theorem unclosed_attribute : True := trivial

frobnicate the widgets

def after : ℕ := 2

/- an unterminated comment runs to the end of the file
def hidden : ℕ := 3
