"""The name check's records and feedback: the ``names`` signal on attempts that did not
compile, the ``unknown_name`` status, and the suggestions in the repair prompt."""

from __future__ import annotations

import pytest

from formalize.outcome import attempt_status, choose_feedback
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    Message,
    Severity,
    Signal,
    SignalOutcome,
)
from formalize.translate import lean_error_feedback

LEAN = "theorem t (p : ℕ) (hp : Nat.prime p) : 2 ≤ p := sorry"


def names_signal(outcome: SignalOutcome = SignalOutcome.FAILED) -> Signal:
    return Signal(
        "names",
        "1",
        outcome,
        "`Nat.prime` (line 1) is not a Mathlib name; did you mean Nat.Prime, Prime?",
        details={"unresolved": {"Nat.prime": ["Nat.Prime", "Prime"]}},
    )


def candidate(sample: int = 0) -> Candidate:
    return Candidate("p", CandidateStatus.EXTRACTED, LEAN, "raw", sample=sample)


def unknown_identifier(text: str) -> CheckResult:
    return CheckResult(
        CheckStatus.LEAN_ERROR, (Message(Severity.ERROR, 1, 24, text, 1, 33),), toolchain="t"
    )


@pytest.mark.parametrize(
    "message", ["unknown identifier 'Nat.prime'", "Unknown identifier `Nat.prime`"]
)
def test_suggestions_join_lean_unknown_identifier(message: str) -> None:
    text = lean_error_feedback(LEAN, unknown_identifier(message), {"Nat.prime": ["Nat.Prime"]})
    assert message in text
    assert "did you mean: Nat.Prime?" in text
    other = lean_error_feedback(LEAN, unknown_identifier("type mismatch"), {"x": ["y"]})
    assert "did you mean" not in other
    assert lean_error_feedback(LEAN, unknown_identifier(message)) == lean_error_feedback(
        LEAN, unknown_identifier(message), {}
    )


def test_a_lean_error_attempt_carries_the_names_signal_into_the_feedback() -> None:
    check = unknown_identifier("unknown constant 'Nat.prime'")
    signals = (names_signal(),)
    status = attempt_status(candidate(), check, None, signals)
    assert status is AttemptStatus.LEAN_ERROR
    attempt = Attempt("p", 1, 0, status, candidate(), check, signals=signals)
    feedback = choose_feedback([attempt])
    assert "unknown constant 'Nat.prime'" in feedback.detail
    assert "did you mean: Nat.Prime, Prime?" in feedback.detail


def test_unknown_name_status_and_its_feedback() -> None:
    signals = (names_signal(),)
    assert attempt_status(candidate(), None, None, signals) is AttemptStatus.UNKNOWN_NAME
    attempt = Attempt("p", 1, 0, AttemptStatus.UNKNOWN_NAME, candidate(), signals=signals)
    feedback = choose_feedback([attempt])
    assert feedback.previous == LEAN
    assert "`Nat.prime` is not a Mathlib name; did you mean Nat.Prime, Prime?" in feedback.detail
    assert "not sent to Lean" in feedback.detail
    # a compile error elsewhere in the round is the nearer miss: Lean's own words go back
    lean_error = Attempt(
        "p",
        1,
        1,
        AttemptStatus.LEAN_ERROR,
        candidate(1),
        unknown_identifier("unknown identifier 'Nat.prime'"),
        signals=signals,
    )
    assert "unknown identifier" in choose_feedback([attempt, lean_error]).detail


def test_unknown_name_needs_the_failed_signal_and_no_check() -> None:
    with pytest.raises(ValueError, match="unknown_name"):
        Attempt("p", 1, 0, AttemptStatus.UNKNOWN_NAME, candidate())
    with pytest.raises(ValueError, match="unknown_name"):
        Attempt(
            "p",
            1,
            0,
            AttemptStatus.UNKNOWN_NAME,
            candidate(),
            unknown_identifier("unknown identifier 'Nat.prime'"),
            signals=(names_signal(),),
        )


def test_only_the_names_signal_may_ride_on_an_attempt_that_did_not_compile() -> None:
    check = unknown_identifier("unknown identifier 'Nat.prime'")
    Attempt("p", 1, 0, AttemptStatus.LEAN_ERROR, candidate(), check, signals=(names_signal(),))
    vacuous = Signal("vacuous", "1", SignalOutcome.PASSED)
    with pytest.raises(ValueError, match="compiled"):
        Attempt("p", 1, 0, AttemptStatus.LEAN_ERROR, candidate(), check, signals=(vacuous,))
