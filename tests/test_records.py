"""Records: invariants at construction and JSON round-trips."""

from __future__ import annotations

import pytest

from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    CriticSample,
    Entry,
    Judgement,
    Message,
    Problem,
    Severity,
    Verdict,
)

LEAN = "theorem t (x : ℕ) (h : x = 2) : x + x = 4 := by sorry"


def candidate(**kw: object) -> Candidate:
    base = dict(
        problem_id="p1", status=CandidateStatus.EXTRACTED, lean=LEAN, raw_output="```lean\n…"
    )
    base.update(kw)
    return Candidate(**base)  # type: ignore[arg-type]


def ok_check() -> CheckResult:
    warn = Message(Severity.WARNING, 1, 8, "declaration uses 'sorry'", None, None)
    return CheckResult(CheckStatus.OK, (warn,), 0.25, toolchain="leanprover/lean4:v4.15.0")


def verdict(*judgements: Judgement) -> Verdict:
    samples = tuple(CriticSample(j, raw=f"raw {j.value}", reasons="r") for j in judgements)
    share = sum(j is Judgement.FAITHFUL for j in judgements) / len(judgements)
    decided = Judgement.FAITHFUL if share > 0.5 else Judgement.UNFAITHFUL
    return Verdict(decided, share, samples, summary="s")


def all_records() -> list[object]:
    p = Problem("p1", "Show that 2 + 2 = 4.", answer="4", source="toy", metadata={"k": [1, 2]})
    c = candidate()
    chk = ok_check()
    v = verdict(Judgement.FAITHFUL, Judgement.FAITHFUL, Judgement.UNPARSED)
    a = Attempt("p1", 1, 0, AttemptStatus.ACCEPTED, c, chk, v, feedback=None, provenance={"x": 1})
    e = Entry("p1", p.informal, LEAN, "import Mathlib", 1, v.share, answer="4", provenance={"r": 1})
    return [p, c, chk, v, a, e, CandidateStatus.NO_CODE]


@pytest.mark.parametrize("record", [r for r in all_records() if not isinstance(r, CandidateStatus)])
def test_json_round_trip(record: object) -> None:
    cls = type(record)
    text = record.to_json()  # type: ignore[attr-defined]
    back = cls.from_json(text)  # type: ignore[attr-defined]
    assert back == record
    assert back.to_json() == text


def test_round_trip_keeps_enums_and_tuples() -> None:
    a = all_records()[4]
    back = Attempt.from_json(a.to_json())  # type: ignore[attr-defined]
    assert back.status is AttemptStatus.ACCEPTED
    assert isinstance(back.check.messages, tuple)
    assert back.check.messages[0].severity is Severity.WARNING
    assert back.verdict.samples[2].judgement is Judgement.UNPARSED


def test_unknown_field_is_an_error() -> None:
    data = Problem("p", "x").to_dict() | {"bogus": 1}
    with pytest.raises(ValueError, match="bogus"):
        Problem.from_dict(data)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Problem("", "text"),
        lambda: Problem("p", "   "),
        lambda: candidate(status=CandidateStatus.NO_CODE),  # no_code with Lean text
        lambda: candidate(lean=""),  # extracted without Lean text
        lambda: candidate(round=0),
        lambda: CheckResult(CheckStatus.OK, (Message(Severity.ERROR, 1, 0, "boom"),)),
        lambda: CheckResult(CheckStatus.LEAN_ERROR, ()),
        lambda: CheckResult(CheckStatus.TIMEOUT, ()),  # infrastructure status needs a reason
        lambda: CheckResult(CheckStatus.REJECTED, ()),
        lambda: CheckResult(CheckStatus.OK, (), elapsed_s=-1.0),
        lambda: Message(Severity.INFO, -1, 0, "x"),
        lambda: Verdict(Judgement.FAITHFUL, 0.5, ()),
        lambda: Verdict(
            Judgement.FAITHFUL, 0.9, verdict(Judgement.FAITHFUL, Judgement.UNFAITHFUL).samples
        ),
        lambda: Verdict(Judgement.UNPARSED, 0.0, verdict(Judgement.UNFAITHFUL).samples),
        lambda: Verdict(Judgement.FAITHFUL, 0.0, verdict(Judgement.UNFAITHFUL).samples),
        lambda: Attempt("p2", 1, 0, AttemptStatus.LEAN_ERROR, candidate(), ok_check()),
        lambda: Attempt("p1", 2, 0, AttemptStatus.LEAN_ERROR, candidate(), ok_check()),
        lambda: Attempt("p1", 1, 0, AttemptStatus.ACCEPTED, candidate(), ok_check()),  # no verdict
        lambda: Attempt(
            "p1",
            1,
            0,
            AttemptStatus.ACCEPTED,
            candidate(),
            ok_check(),
            verdict(Judgement.UNFAITHFUL),
        ),
        lambda: Attempt(
            "p1",
            1,
            0,
            AttemptStatus.UNFAITHFUL,
            candidate(),
            CheckResult(CheckStatus.LEAN_ERROR, (Message(Severity.ERROR, 1, 0, "e"),)),
            verdict(Judgement.UNFAITHFUL),
        ),
        lambda: Attempt("p1", 1, 0, AttemptStatus.REJECTED, candidate(), ok_check()),
        lambda: Entry("p", "x", "theorem t : True := by sorry", "", 1, 0.0),
        lambda: Entry("p", "x", "  ", "", 1, 1.0),
    ],
)
def test_invariants_rejected_at_construction(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_records_are_frozen() -> None:
    p = Problem("p", "x")
    with pytest.raises(AttributeError):
        p.id = "q"  # type: ignore[misc]


def test_check_status_infrastructure_split() -> None:
    infra = {s for s in CheckStatus if s.is_infrastructure}
    assert infra == {
        CheckStatus.TIMEOUT,
        CheckStatus.OUT_OF_MEMORY,
        CheckStatus.CRASHED,
        CheckStatus.PROTOCOL_ERROR,
    }
