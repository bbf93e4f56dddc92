"""Properties of the statement gate on generated input (hypothesis): it never raises, it stays
(near) linear, and its verdict does not depend on comments or on the amount of whitespace.

The 50 ms-per-20 KB target is measured in ``benchmarks/gate.py`` (recorded there); here the
gate's steps are counted, not timed (``gate_work``): a complexity guard that a quadratic gate
fails and a busy machine cannot.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from gate_work import assert_linear, gate_steps, nested_braces, repeat
from hostile_candidates import BENIGN, HOSTILE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formalize.lean.statement import DEFAULT_MAX_LENGTH, SafetyReport, check_statement
from formalize.lean.tokens import token_table

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
_TABLE = sorted(token_table().tags)
_PIECES = [
    *_TABLE,
    "x",
    "h₀",
    "ℕ",
    "theorem",
    "t",
    ":",
    ":=",
    "sorry",
    "by",
    "(",
    ")",
    "0",
    "2.5",
    "'a'",
    '"s"',
    "«n»",
    "`n",
    "-- c\n",
    "/- c -/",
    "/--",
    "-/",
    "\n",
    " ",
    "\t",
    "\r",
    "\u2028",
    "\u202e",
    "é",
    "#",
]
SOUP = st.lists(st.sampled_from(_PIECES), max_size=400).map(" ".join)
GLUED = st.lists(st.sampled_from(_PIECES), max_size=400).map("".join)
SEEDS = [c for _, c in BENIGN] + [c for _, c, _ in HOSTILE]


def _decide(text: str) -> SafetyReport:
    report = check_statement(text)
    assert isinstance(report, SafetyReport)
    assert report.ok == (report.reason is None)
    if report.ok:
        assert report.text is not None and len(report.text) == len(text.replace("\r\n", "\n"))
    return report


@SETTINGS
@given(SOUP)
def test_token_soups_never_raise(text: str) -> None:
    _decide(text)


@SETTINGS
@given(GLUED)
def test_glued_token_soups_never_raise(text: str) -> None:
    _decide(text)


@SETTINGS
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False), st.integers(1, 12))
def test_mutated_statements_never_raise(seed: str, rng: random.Random, edits: int) -> None:
    text = list(seed)
    for _ in range(edits):
        op = rng.randrange(3)
        k = rng.randrange(len(text) + 1)
        piece = rng.choice(_PIECES)
        if op == 0:
            text[k:k] = list(piece)
        elif op == 1 and text:
            del text[k : k + rng.randrange(1, 6)]
        else:
            text[k : k + 1] = list(piece)
    _decide("".join(text))


_PADDING = [" ", "   ", " /- #eval 1; run_cmd -/ ", " /-- doc -/ ", " /-! m -/ "]


def _pad(text: str, rng: random.Random) -> str:
    """``text`` with comments inserted and spaces widened where it already has whitespace."""
    out, lines = [], text.split("\n")
    for n, line in enumerate(lines):
        if '"' in line:  # between tokens only: nothing goes into a string (a notation's atom)
            out.append(line + ("\n" if n < len(lines) - 1 else ""))
            continue
        pieces = re.split(r"( +)", line)
        for piece in pieces:
            if piece.startswith(" ") and rng.random() < 0.5:
                piece = piece + rng.choice(_PADDING)
            out.append(piece)
        if rng.random() < 0.3 and line.strip():
            out.append("  -- #exit ")
        if n < len(lines) - 1:
            out.append("\n")
    return "".join(out)


@SETTINGS
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_comments_or_whitespace(seed: str, rng: random.Random) -> None:
    padded = _pad(seed, rng)
    before, after = check_statement(seed), check_statement(padded)
    if len(padded) > DEFAULT_MAX_LENGTH or "\r" in seed or "\t" in seed:
        return
    assert before.ok == after.ok, (seed, padded, before.reason, after.reason)


@pytest.mark.parametrize(
    "body",
    [
        repeat("|\n"),
        repeat("∀ "),
        repeat("∀ x : "),
        nested_braces,
        repeat("{x | "),
        repeat("⟨1, by simp⟩ "),
        repeat("a1"),
        repeat("hend "),
        repeat("x"),
        repeat("(x : ℕ := "),
        repeat("/- "),
        repeat("'a' "),
    ],
    ids=[
        "bars",
        "foralls",
        "typed-foralls",
        "braces",
        "set-builders",
        "anonymous",
        "a1",
        "hend",
        "x",
        "defaults",
        "comments",
        "chars",
    ],
)
def test_pathological_inputs_stay_linear(
    body: Callable[[int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Complexity guard: the gate on adversarial text up to the maximum size, twice the text
    at most GROWTH times the steps (counted, not timed; the time, milliseconds, is measured in
    benchmarks/gate.py)."""

    def work(size: int) -> int:
        text = ("theorem t : " + body(size))[: size - 20] + " := by sorry"
        return gate_steps(monkeypatch, lambda: _decide(text))

    assert_linear(work, DEFAULT_MAX_LENGTH)
