"""A deterministic measure of the statement gate's work, for its complexity tests: the lexer's
steps (one match of its master pattern per token start) plus the scanners' (each look at a
token's brackets, ``lexer.brackets``, the step of every bracket-aware scan in binders,
cursor, declaration, grammar, notations and tactics). Counted, not timed: a busy machine
cannot change it. What a single step costs (a regular-expression match, a character scan of
``exposure``) is not counted; the gate's time is measured in ``benchmarks/gate.py``."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from types import ModuleType

import pytest

import formalize.lean
from formalize.lean import binders, cursor, declaration, grammar, lexer, notations, tactics

SCANNERS: tuple[ModuleType, ...] = (binders, cursor, declaration, grammar, notations, tactics)
GROWTH = 3  # doubling the text may at most triple the work: linear doubles it, quadratic x4


def scanner_modules() -> set[str]:
    """The modules of ``formalize.lean`` that use ``lexer.brackets`` (all must be counted)."""
    found = set()
    for info in pkgutil.iter_modules(formalize.lean.__path__):
        module = importlib.import_module(f"formalize.lean.{info.name}")
        if module is not lexer and getattr(module, "brackets", None) is lexer.brackets:
            found.add(module.__name__)
    return found


class _CountedPattern:
    """A compiled pattern whose ``match`` calls are counted."""

    def __init__(self, pattern: re.Pattern[str], count: Callable[[], None]) -> None:
        self.pattern = pattern
        self.count = count

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        self.count()
        return self.pattern.match(text, pos)


def gate_steps(monkeypatch: pytest.MonkeyPatch, run: Callable[[], object]) -> int:
    """How many lexer and scanner steps ``run()`` takes."""
    steps = 0
    brackets = lexer.brackets

    def step() -> None:
        nonlocal steps
        steps += 1

    def counted(tok: lexer.Token) -> tuple[int, int]:
        step()
        return brackets(tok)

    with monkeypatch.context() as patch:
        patch.setattr(lexer, "_MASTER", _CountedPattern(lexer._MASTER, step))
        for module in SCANNERS:
            patch.setattr(module, "brackets", counted)
        run()
    return steps


def repeat(unit: str) -> Callable[[int], str]:
    """A body of ``unit`` repeated to ``size`` characters."""
    return lambda size: unit * (size // len(unit))


def nested_braces(size: int) -> str:
    """``{{…}}`` nested ``size // 4`` deep (the worst case of the bracket scans)."""
    return "{" * (size // 4) + "}" * (size // 4)


def assert_linear(work: Callable[[int], int], size: int) -> None:
    """Assert that ``work`` at ``size`` characters is at most GROWTH times ``work`` at half."""
    half, full = work(size // 2), work(size)
    assert full <= GROWTH * half, f"work {half} at {size // 2} characters, {full} at {size}"
