"""Everything that talks to Lean: statement lexing and gating, the REPL process, the pool.

``LeanChecker`` and ``LeanConfig`` are the public entry points; they are imported lazily so
that importing ``formalize.lean`` (e.g. for the statement gate) starts and loads nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from formalize.lean.checker import LeanChecker
    from formalize.lean.config import LeanConfig

__all__ = ["LeanChecker", "LeanConfig"]


def __getattr__(name: str) -> Any:
    if name == "LeanChecker":
        from formalize.lean.checker import LeanChecker

        return LeanChecker
    if name == "LeanConfig":
        from formalize.lean.config import LeanConfig

        return LeanConfig
    raise AttributeError(f"module 'formalize.lean' has no attribute {name!r}")
