"""A corpus with known attempts, Lean signals and human labels, for the training exports and
recipes. ``EXPECTED`` says what each (problem, statement) pair must become.

    problem     statement  what the store holds                          label (source)
    agree       A1         accepted (+ a second sample, same statement), faithful (human 2/2)
                           human: ann, bob faithful
    agree       A2         critic: unfaithful                            critic only
    overruled   B1         accepted, critic 2 of 3 faithful; human: 2    unfaithful (human 2/3)
                           unfaithful (missing_hypothesis), 1 faithful
    tied        C1         critic: unfaithful; human: 1 faithful, 1 not  dropped: tie
    vacuous     D1         round 1: vacuous (Lean), no critic            unfaithful (lean)
    vacuous     D2         round 2: accepted, reference-equivalent       faithful (lean)
    refuted     E1         refuted (Lean); the problem has no entry      unfaithful (lean)
    conflict    F1         vacuous failed and reference passed           dropped: lean conflict
    stale       G2         critic: unfaithful; a human label on G1, the  critic only (1 stale)
                           statement the round held before a rerun
    criticonly  H1, H2     accepted / critic unfaithful                  critic only
    compiles    -          a Lean error only                             no pair
    humanreject I1         accepted, critic faithful                     critic only
    humanreject I2         critic faithful, human: unfaithful            unfaithful (human 1/1)
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from formalize.corpus import Store
from formalize.labels import add_label, lean_sha
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    CriticSample,
    ErrorType,
    Judgement,
    Label,
    LabelValue,
    Message,
    Problem,
    Severity,
    Signal,
    SignalOutcome,
    Verdict,
)

CRITIC = "openai:criticlean@http://127.0.0.1:9/v1"
PROVENANCE = {"critic": CRITIC, "translator": "openai:kimina@http://127.0.0.1:9/v1"}
OK = CheckResult(CheckStatus.OK, (), 0.1, "v4.15.0")

# (problem, statement) -> (label, source) or the drop reason
EXPECTED: dict[tuple[str, str], tuple[str, str] | str] = {
    ("agree", "A1"): ("faithful", "human"),
    ("agree", "A2"): ("unfaithful", "critic"),
    ("overruled", "B1"): ("unfaithful", "human"),
    ("tied", "C1"): "annotators_tied",
    ("vacuous", "D1"): ("unfaithful", "lean"),
    ("vacuous", "D2"): ("faithful", "lean"),
    ("refuted", "E1"): ("unfaithful", "lean"),
    ("conflict", "F1"): "lean_signals_conflict",
    ("stale", "G2"): ("unfaithful", "critic"),
    ("criticonly", "H1"): ("faithful", "critic"),
    ("criticonly", "H2"): ("unfaithful", "critic"),
    ("humanreject", "I1"): ("faithful", "critic"),
    ("humanreject", "I2"): ("unfaithful", "human"),
}


def lean(tag: str) -> str:
    """The statement called ``tag``: its number tells it apart (also after the corpus's
    normalisation, which ignores names and comments)."""
    number = zlib.crc32(tag.encode())
    return f"theorem formalize_{tag} (x : ℕ) (h : 0 < x) : x + {number} = {number} + x := by sorry"


def tag_of(statement: str) -> str:
    """The tag of a statement made by ``lean``."""
    return statement.split()[1].removeprefix("formalize_")


def answer(faithful: bool, reasons: str) -> str:
    """A critic answer in the CriticLean form."""
    verdict = "Correct" if faithful else "Incorrect"
    return json.dumps({"reasons": reasons, "is_assistant_correct": verdict})


def verdict(*samples: tuple[bool, str]) -> Verdict:
    """A majority verdict over samples given as (faithful, reasons)."""
    parsed = tuple(
        CriticSample(Judgement.FAITHFUL if ok else Judgement.UNFAITHFUL, answer(ok, why), why)
        for ok, why in samples
    )
    share = sum(ok for ok, _ in samples) / len(samples)
    judgement = Judgement.FAITHFUL if share > 0.5 else Judgement.UNFAITHFUL
    return Verdict(judgement, share, parsed)


def attempt(
    problem: str,
    tag: str,
    status: AttemptStatus,
    *,
    round_: int = 1,
    sample: int = 0,
    judged: Verdict | None = None,
    signals: tuple[Signal, ...] = (),
) -> Attempt:
    """A compiled attempt writing statement ``tag``."""
    raw = f"```lean4\n{lean(tag)}\n```"
    cand = Candidate(
        problem, CandidateStatus.EXTRACTED, lean(tag), raw, round=round_, sample=sample
    )
    return Attempt(
        problem,
        round_,
        sample,
        status,
        cand,
        OK,
        judged,
        provenance=dict(PROVENANCE),
        signals=signals,
    )


def signal(name: str, outcome: SignalOutcome) -> Signal:
    return Signal(name, "1", outcome, f"{name} probe {outcome.value}")


def label(store: Store, problem: str, tag: str, value: LabelValue, who: str, **kw: object) -> None:
    """A human label on the attempt (round 1, sample 0 unless given) writing ``tag``."""
    round_ = int(kw.pop("round_", 1))  # type: ignore[call-overload]
    sample = int(kw.pop("sample", 0))  # type: ignore[call-overload]
    add_label(store, Label(problem, round_, sample, lean_sha(lean(tag)), value, who, **kw))  # type: ignore[arg-type]


def build(db: Path) -> Path:
    """Write the corpus described above to ``db``."""
    accepted, faithful = AttemptStatus.ACCEPTED, AttemptStatus.FAITHFUL
    unfaithful = AttemptStatus.UNFAITHFUL
    good = (True, "Every hypothesis and the conclusion match.")
    with Store(db) as store:
        store.add_problems(
            [
                Problem(pid, f"Problem {pid}: show that x + 0 = x for every positive x.")
                for pid in (
                    "agree",
                    "overruled",
                    "tied",
                    "vacuous",
                    "refuted",
                    "conflict",
                    "stale",
                    "criticonly",
                    "compiles",
                    "humanreject",
                )
            ]
        )
        run = store.start_run({"test": True}, "test")

        def record(pid: str, round_: int, attempts: list[Attempt], last: bool = True) -> None:
            ranked = [i for i, a in enumerate(attempts) if a.status is accepted]
            store.record_round(run, pid, round_, attempts, ranked_faithful=ranked, last_round=last)

        record(
            "agree",
            1,
            [
                attempt("agree", "A1", accepted, judged=verdict((True, "A1 matches."))),
                attempt("agree", "A1", faithful, sample=1, judged=verdict((True, "A1 again."))),
                attempt(
                    "agree", "A2", unfaithful, sample=2, judged=verdict((False, "A2 drops h."))
                ),
            ],
        )
        label(store, "agree", "A1", LabelValue.FAITHFUL, "ann")
        label(store, "agree", "A1", LabelValue.FAITHFUL, "bob")

        b1 = verdict((True, "B1 fine."), (True, "B1 fine."), (False, "B1 misses x > 0."))
        record("overruled", 1, [attempt("overruled", "B1", accepted, judged=b1)])
        missing = ErrorType.MISSING_HYPOTHESIS
        label(store, "overruled", "B1", LabelValue.UNFAITHFUL, "ann", error_type=missing)
        label(store, "overruled", "B1", LabelValue.UNFAITHFUL, "bob", error_type=missing)
        label(store, "overruled", "B1", LabelValue.FAITHFUL, "cy")

        record("tied", 1, [attempt("tied", "C1", unfaithful, judged=verdict((False, "C1 off.")))])
        label(store, "tied", "C1", LabelValue.FAITHFUL, "ann")
        label(store, "tied", "C1", LabelValue.UNFAITHFUL, "bob")

        vacuous = signal("vacuous", SignalOutcome.FAILED)
        d1 = attempt("vacuous", "D1", AttemptStatus.VACUOUS, signals=(vacuous,))
        record("vacuous", 1, [d1], last=False)
        reference = signal("reference", SignalOutcome.PASSED)
        d2 = attempt(
            "vacuous",
            "D2",
            accepted,
            round_=2,
            judged=verdict((True, "D2 ok.")),
            signals=(reference,),
        )
        record("vacuous", 2, [d2])

        refuted = signal("refuted", SignalOutcome.FAILED)
        record("refuted", 1, [attempt("refuted", "E1", AttemptStatus.REFUTED, signals=(refuted,))])

        both = (signal("vacuous", SignalOutcome.FAILED), signal("reference", SignalOutcome.PASSED))
        record("conflict", 1, [attempt("conflict", "F1", AttemptStatus.VACUOUS, signals=both)])

        record("stale", 1, [attempt("stale", "G1", unfaithful, judged=verdict((False, "G1.")))])
        label(store, "stale", "G1", LabelValue.FAITHFUL, "ann")
        # a rerun of the round replaced its statement: the label now names an old one
        record("stale", 1, [attempt("stale", "G2", unfaithful, judged=verdict((False, "G2.")))])

        record(
            "criticonly",
            1,
            [
                attempt("criticonly", "H1", accepted, judged=verdict(good)),
                attempt("criticonly", "H2", unfaithful, sample=1, judged=verdict((False, "H2."))),
            ],
        )

        cand = Candidate("compiles", CandidateStatus.EXTRACTED, "theorem x : nope := by sorry", "r")
        error = CheckResult(CheckStatus.LEAN_ERROR, (Message(Severity.ERROR, 1, 12, "unknown"),))
        broken = Attempt("compiles", 1, 0, AttemptStatus.LEAN_ERROR, cand, error)
        store.record_round(run, "compiles", 1, [broken], last_round=True)

        record(
            "humanreject",
            1,
            [
                attempt("humanreject", "I1", accepted, judged=verdict((True, "I1 ok."))),
                attempt("humanreject", "I2", faithful, sample=1, judged=verdict((True, "I2 ok."))),
            ],
        )
        wrong = ErrorType.WRONG_CONCLUSION
        label(store, "humanreject", "I2", LabelValue.UNFAITHFUL, "ann", sample=1, error_type=wrong)
        store.finish_run(run, "completed", {})
    return db


def many_problems(db: Path, n: int) -> Path:
    """``n`` problems, each with an accepted statement and an unfaithful one (critic labels)."""
    with Store(db) as store:
        store.add_problems([Problem(f"q{k}", f"Problem q{k}.") for k in range(n)])
        run = store.start_run({}, "test")
        for k in range(n):
            pid = f"q{k}"
            good = attempt(pid, f"q{k}good", AttemptStatus.ACCEPTED, judged=verdict((True, "ok")))
            bad = attempt(
                pid, f"q{k}bad", AttemptStatus.UNFAITHFUL, sample=1, judged=verdict((False, "no"))
            )
            store.record_round(run, pid, 1, [good, bad], ranked_faithful=[0], last_round=True)
    return db
