"""Checking plain setting values (from TOML files and flags) against their declared types.

Shared by the run settings (``formalize.config``) and the Lean settings
(``formalize.lean.config``), so that a value of the wrong type is named with its key and the
type expected, instead of failing later in a comparison.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NAMES: dict[Any, str] = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
    Path: "a path (a string)",
    dict: "a table",
    tuple: "a list",
    frozenset: "a list",
}


@dataclass(frozen=True)
class SettingIssue:
    """A setting that cannot be used as given: its key and what is wrong with it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def describe(value: Any) -> str:
    """A value as a user wrote it: ``the string 'two'``, ``the number 1.5``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known`` to a misspelt ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def type_problem(value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit the type ``hint`` (None when it does)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        inner = [o for o in options if o is not type(None)]
        if any(type_problem(value, o) is None for o in inner):
            return None
        wanted = " or ".join(_name(o) for o in inner)
        return f"expected {wanted}, got {describe(value)}"
    base = origin or hint
    if base is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif base is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif base is Path:
        ok = isinstance(value, (str, Path))
    elif base in (tuple, frozenset):
        ok = isinstance(value, (list, tuple, set, frozenset, str))
    elif base is Any:
        ok = True
    elif isinstance(base, type):
        ok = isinstance(value, base)
    else:  # pragma: no cover - a type this checker does not know: accept
        ok = True
    return None if ok else f"expected {_name(hint)}, got {describe(value)}"


def _name(hint: Any) -> str:
    base = typing.get_origin(hint) or hint
    return _NAMES.get(base, getattr(base, "__name__", str(base)))


def render_issues(issues: list[SettingIssue], where: str) -> str:
    """One message naming every bad setting."""
    lines = "\n".join(f"  - {issue}" for issue in issues)
    count = "a setting" if len(issues) == 1 else f"{len(issues)} settings"
    return f"{count} in {where} cannot be used:\n{lines}"
