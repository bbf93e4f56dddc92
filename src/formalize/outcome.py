"""How a candidate's attempt ends, and which failure of a round the next round is told about.

Pure functions over records, used by the pipeline when it records a round.
"""

from __future__ import annotations

from collections.abc import Sequence

from formalize.filters import FilterPolicy
from formalize.records import (
    NAMES_SIGNAL,
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    Judgement,
    Signal,
    SignalOutcome,
    Verdict,
)
from formalize.translate import Feedback, FeedbackKind, lean_error_feedback

# How much of a probe's text goes into a repair prompt (the evidence can be long: the
# candidate's whole context).
_EVIDENCE_CHARS = 1500


def attempt_status(
    cand: Candidate,
    check: CheckResult | None,
    verdict: Verdict | None,
    signals: Sequence[Signal] = (),
    policy: FilterPolicy | None = None,
) -> AttemptStatus:
    """How a candidate ended, before the store picks the accepted one among the faithful: the
    gate and Lean first, then the filters (their policy), then the critic."""
    if cand.status is CandidateStatus.GENERATION_FAILED:
        return AttemptStatus.GENERATION_FAILED
    if check is None and any(s.name == NAMES_SIGNAL and s.failed for s in signals):
        return AttemptStatus.UNKNOWN_NAME  # the name check sent it back (names = precheck)
    if cand.status is CandidateStatus.NO_CODE or check is None:
        return AttemptStatus.NO_CODE
    if check.status is CheckStatus.REJECTED:
        return AttemptStatus.REJECTED
    if check.status is CheckStatus.LEAN_ERROR:
        return AttemptStatus.LEAN_ERROR
    if check.status.is_infrastructure:
        return AttemptStatus.CHECK_FAILED
    filtered = (policy or FilterPolicy()).status(signals)
    if filtered is not None:
        return filtered
    assert verdict is not None, "a compiled candidate that passed the filters is always judged"
    return {
        Judgement.FAITHFUL: AttemptStatus.FAITHFUL,
        Judgement.UNFAITHFUL: AttemptStatus.UNFAITHFUL,
        Judgement.UNPARSED: AttemptStatus.UNPARSED,
    }[verdict.judgement]


def filter_finding(attempt: Attempt) -> str:
    """What the filters found about a filtered attempt, for the repair prompt: each failing
    filter's reason and the probe Lean accepted."""
    parts = []
    for signal in attempt.signals:
        if signal.is_judge:
            continue
        if signal.name == "reference" and signal.outcome is not SignalOutcome.PASSED:
            parts.append(f"- {signal.name}: {signal.reason}")
        elif signal.failed:
            evidence = signal.evidence.strip()
            if len(evidence) > _EVIDENCE_CHARS:
                evidence = evidence[:_EVIDENCE_CHARS] + "\n..."
            block = f"\n  Lean accepted:\n```lean4\n{evidence}\n```" if evidence else ""
            parts.append(f"- {signal.name}: {signal.reason}{block}")
    return "\n".join(parts) or "A Lean-verified check rejected the statement."


def choose_feedback(attempts: Sequence[Attempt]) -> Feedback:
    """The most useful failure of a round: the nearest miss, with what was wrong with it.

    A compiled statement the critic objected to beats one a Lean-verified filter rejected
    (vacuous, refuted, ...), which beats a compile error (with the name check's suggestions
    under its unknown-name errors), names the name check did not find (``names = precheck``),
    a checker failure, a refused statement, and no code at all.
    """
    judged = [a for a in attempts if a.status in (AttemptStatus.UNFAITHFUL, AttemptStatus.UNPARSED)]
    if judged:
        best = min(judged, key=lambda a: (-critic_share(a), a.status.value, len(a.candidate.lean)))
        assert best.verdict is not None
        detail = best.verdict.summary.strip() or (
            "The reviewer could not confirm that the statement is faithful. Re-check every "
            "hypothesis, the quantifiers, the types and the conclusion against the problem."
        )
        return Feedback(FeedbackKind.CRITIC, best.candidate.lean, detail)
    filtered = [a for a in attempts if a.status.filtered]
    if filtered:
        best = min(filtered, key=lambda a: (len(a.candidate.lean), a.sample))
        return Feedback(FeedbackKind.FILTER, best.candidate.lean, filter_finding(best))
    errors = [a for a in attempts if a.status is AttemptStatus.LEAN_ERROR and a.check is not None]
    if errors:
        best = min(errors, key=lambda a: (len(a.check.errors()) if a.check else 0, a.sample))
        assert best.check is not None
        return Feedback(
            FeedbackKind.LEAN,
            best.candidate.lean,
            lean_error_feedback(best.candidate.lean, best.check, name_suggestions(best)),
        )
    unknown = [a for a in attempts if a.status is AttemptStatus.UNKNOWN_NAME]
    if unknown:
        best = min(unknown, key=lambda a: (len(name_suggestions(a)), a.sample))
        lines = [
            f"- `{name}` is not a Mathlib name" + (f"; did you mean {', '.join(s)}?" if s else "")
            for name, s in name_suggestions(best).items()
        ]
        detail = "The name check found names Mathlib does not have (not sent to Lean):\n"
        return Feedback(FeedbackKind.LEAN, best.candidate.lean, detail + "\n".join(lines))
    for status, prefix in (
        (AttemptStatus.CHECK_FAILED, "Lean could not check the statement"),
        (AttemptStatus.REJECTED, "The statement was refused before compiling"),
    ):
        for a in attempts:
            if a.status is status and a.check is not None:
                return Feedback(FeedbackKind.LEAN, a.candidate.lean, f"{prefix}: {a.check.reason}")
    return Feedback(
        FeedbackKind.LEAN,
        "",
        "No Lean 4 theorem was found in the answer. Answer with one ```lean4 code block holding "
        "the header and a single theorem whose proof is `sorry`.",
    )


def name_suggestions(attempt: Attempt) -> dict[str, list[str]]:
    """The name check's did-you-mean for an attempt's unresolved names (empty without it)."""
    names = attempt.signal(NAMES_SIGNAL)
    unresolved = names.details.get("unresolved") if names is not None else None
    return dict(unresolved) if isinstance(unresolved, dict) else {}


def critic_share(attempt: Attempt) -> float:
    """The share of critic samples that found the attempt faithful (0 when not judged)."""
    return attempt.verdict.share if attempt.verdict is not None else 0.0
