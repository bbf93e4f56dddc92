"""The failure fed back into the next round: the nearest miss wins."""

from __future__ import annotations

from formalize.outcome import attempt_status, choose_feedback
from formalize.records import (
    Attempt,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    CriticSample,
    Judgement,
    Message,
    Severity,
    Verdict,
)
from formalize.translate import FeedbackKind


def attempt(sample: int, lean: str, check: CheckResult | None, verdict: Verdict | None = None):
    status = CandidateStatus.EXTRACTED if lean else CandidateStatus.NO_CODE
    cand = Candidate("p", status, lean, "raw", round=1, sample=sample)
    return Attempt("p", 1, sample, attempt_status(cand, check, verdict), cand, check, verdict)


def error(n: int) -> CheckResult:
    msgs = tuple(Message(Severity.ERROR, 1, i, f"error {i}") for i in range(n))
    return CheckResult(CheckStatus.LEAN_ERROR, msgs)


OK = CheckResult(CheckStatus.OK)
NO = Verdict(
    Judgement.UNFAITHFUL,
    0.0,
    (CriticSample(Judgement.UNFAITHFUL, "raw", "drops the hypothesis x > 0"),),
    summary="drops the hypothesis x > 0",
)
REFUSED = CheckResult(CheckStatus.REJECTED, reason="forbidden command `#eval` at line 1")
TIMEOUT = CheckResult(CheckStatus.TIMEOUT, reason="timed out after 60 s")


def test_critic_objection_beats_compile_errors() -> None:
    attempts = [
        attempt(0, "theorem a : foo := by sorry", error(1)),
        attempt(1, "theorem b : x = 1 := by sorry", OK, NO),
    ]
    fb = choose_feedback(attempts)
    assert fb.kind is FeedbackKind.CRITIC
    assert fb.previous == "theorem b : x = 1 := by sorry" and "x > 0" in fb.detail


def test_fewest_errors_beats_more_errors_and_infrastructure() -> None:
    attempts = [
        attempt(0, "theorem a : foo bar := by sorry", error(3)),
        attempt(1, "theorem b : slow := by sorry", TIMEOUT),
        attempt(2, "theorem c : foo := by sorry", error(1)),
    ]
    fb = choose_feedback(attempts)
    assert (fb.kind, fb.previous) == (FeedbackKind.LEAN, "theorem c : foo := by sorry")
    assert "error 0" in fb.detail and "error 2" not in fb.detail


def test_checker_failure_then_refusal_then_no_code() -> None:
    timeout = choose_feedback(
        [attempt(0, "#eval 1\ntheorem a : True := by sorry", REFUSED), attempt(1, "t", TIMEOUT)]
    )
    assert "could not check" in timeout.detail and "timed out" in timeout.detail
    refused = choose_feedback([attempt(0, "", None), attempt(1, "x", REFUSED)])
    assert "refused before compiling: forbidden command `#eval`" in refused.detail
    nothing = choose_feedback([attempt(0, "", None)])
    assert nothing.previous == "" and "No Lean 4 theorem was found" in nothing.detail
