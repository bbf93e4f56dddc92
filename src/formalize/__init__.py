"""formalize: critic-guided autoformalization of natural-language mathematics into Lean 4."""

__version__ = "0.1.0"
