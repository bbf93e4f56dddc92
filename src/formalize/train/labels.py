"""Which (problem, statement) pairs of a corpus are faithful, by whose word: the labels that
training data is made of.

A *pair* is one problem with one Lean statement; the k samples of a round often write the same
statement, so a pair gathers every compiled attempt that wrote it, with their human labels,
Lean signals and critic verdicts. Its label comes from the most trusted evidence there is:

1. **human** labels on the statement (``formalize.labels``): the annotators' majority, each
   annotator counted once; a tie drops the pair. A label made on an earlier statement of the
   attempt (its ``lean_sha`` differs) is stale and ignored.
2. **lean**, the Lean-verified signals: ``vacuous`` or ``refuted`` failed (Lean proved the
   hypotheses contradictory, or the negation) makes it unfaithful; ``reference`` passed (Lean
   proved it equivalent to the reference statement) makes it faithful. Both at once drops it.
3. **critic** verdicts, only when asked for: the critic's decision when every verdict on the
   statement agrees (unparsed ones aside); disagreeing verdicts drop it.

Anything else has no label and is dropped; every drop is counted with its reason.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from formalize.corpus import Store
from formalize.critic import lean_with_header
from formalize.labels import iter_labels, lean_sha
from formalize.records import (
    Attempt,
    AttemptStatus,
    ErrorType,
    Judgement,
    Label,
    LabelValue,
    Problem,
    SignalOutcome,
)

#: Lean signals that make a statement unfaithful when they fail, and faithful when they pass.
UNFAITHFUL_WHEN_FAILED = ("vacuous", "refuted")
FAITHFUL_WHEN_PASSED = ("reference",)


class LabelSource(str, enum.Enum):
    """Where a training label came from, most trusted first."""

    HUMAN = "human"
    LEAN = "lean"
    CRITIC = "critic"


class Drop(str, enum.Enum):
    """Why a pair has no training label."""

    ANNOTATORS_TIED = "annotators_tied"
    LEAN_CONFLICT = "lean_signals_conflict"
    CRITIC_DISAGREES = "critic_verdicts_disagree"
    NO_TRUSTED_LABEL = "no_trusted_label"  # nothing human or Lean-verified, critic not included
    NO_LABEL = "no_label"  # not even a critic verdict that parsed


@dataclass(frozen=True)
class PairLabel:
    """A pair's training label: the value, its source and the evidence in a few words
    (``detail``: "2 of 3 annotators", "vacuous: ...", "critic majority, share 1"); for human
    labels, how many annotators and the share that agreed, and their error type."""

    label: LabelValue
    source: LabelSource
    detail: str
    annotators: int = 0
    agreement: float | None = None
    error_type: ErrorType | None = None

    @property
    def faithful(self) -> bool:
        """True for a faithful label."""
        return self.label is LabelValue.FAITHFUL


@dataclass(frozen=True)
class Pair:
    """One problem with one Lean statement: the compiled attempts that wrote it (first one
    first) and the current human labels on them."""

    problem: Problem
    attempts: tuple[Attempt, ...]
    labels: tuple[Label, ...] = ()
    stale_labels: int = 0

    @property
    def first(self) -> Attempt:
        """The earliest attempt that wrote the statement (it names the pair in exports)."""
        return self.attempts[0]

    @property
    def lean(self) -> str:
        """The statement."""
        return self.first.candidate.lean

    @property
    def critic_lean(self) -> str:
        """The Lean code a critic sees for it (the statement after any non-import header)."""
        return lean_with_header(self.first.candidate.lean, self.first.candidate.header)

    @property
    def lean_sha(self) -> str:
        """The hash labels keep of the statement."""
        return lean_sha(self.lean)

    @property
    def accepted(self) -> bool:
        """True when the statement became the problem's corpus entry."""
        return any(a.status is AttemptStatus.ACCEPTED for a in self.attempts)


def iter_pairs(store: Store) -> Iterator[Pair]:
    """Every pair of compiled attempts in the store, problem by problem (sorted by id), in the
    order their first attempts were made."""
    for problem_id in sorted(store.progress()):
        problem = store.problem(problem_id)
        if problem is None:  # pragma: no cover - progress() lists stored problems
            continue
        labels = list(iter_labels(store, problem_id))
        yield from pairs_of(problem, store.attempts(problem_id), labels)


def pairs_of(problem: Problem, attempts: Iterable[Attempt], labels: Sequence[Label]) -> list[Pair]:
    """The pairs of one problem's compiled attempts, with the labels that name them."""
    groups: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        if attempt.check is None or not attempt.check.ok or not attempt.candidate.lean.strip():
            continue
        key = lean_with_header(attempt.candidate.lean, attempt.candidate.header)
        groups.setdefault(key, []).append(attempt)
    pairs = []
    for group in groups.values():
        keys = {(a.round, a.sample): lean_sha(a.candidate.lean) for a in group}
        mine = [x for x in labels if (x.round, x.sample) in keys]
        current = tuple(x for x in mine if keys[(x.round, x.sample)] == x.lean_sha)
        pairs.append(Pair(problem, tuple(group), current, len(mine) - len(current)))
    return pairs


def resolve(pair: Pair, include_critic: bool = False) -> PairLabel | Drop:
    """The pair's training label by the trust order (human, lean, critic if included), or
    why it has none."""
    human = human_label(pair.labels)
    if human is not None:
        return human
    lean = lean_label(pair.attempts)
    if lean is not None:
        return lean
    critic = critic_label(pair.attempts)
    if isinstance(critic, PairLabel) and not include_critic:
        return Drop.NO_TRUSTED_LABEL
    return critic


def human_label(labels: Sequence[Label]) -> PairLabel | Drop | None:
    """The annotators' majority (each counted once, by their latest label), ``ANNOTATORS_TIED``
    on a tie, None without labels."""
    latest: dict[str, Label] = {}
    for label in sorted(labels, key=lambda x: x.created_at):
        latest[label.annotator] = label
    if not latest:
        return None
    votes = Counter(x.label for x in latest.values())
    faithful, unfaithful = votes[LabelValue.FAITHFUL], votes[LabelValue.UNFAITHFUL]
    if faithful == unfaithful:
        return Drop.ANNOTATORS_TIED
    value = LabelValue.FAITHFUL if faithful > unfaithful else LabelValue.UNFAITHFUL
    errors = Counter(x.error_type for x in latest.values() if x.error_type is not None)
    error_type = errors.most_common(1)[0][0] if value is LabelValue.UNFAITHFUL and errors else None
    agreeing = max(faithful, unfaithful)
    return PairLabel(
        label=value,
        source=LabelSource.HUMAN,
        detail=f"{agreeing} of {len(latest)} annotators",
        annotators=len(latest),
        agreement=agreeing / len(latest),
        error_type=error_type,
    )


def lean_label(attempts: Sequence[Attempt]) -> PairLabel | Drop | None:
    """What the Lean-verified signals say (``LEAN_CONFLICT`` when they contradict each
    other), None when none of them decides."""
    against: dict[str, str] = {}
    for_: dict[str, str] = {}
    for attempt in attempts:
        for signal in attempt.signals:
            if signal.name in UNFAITHFUL_WHEN_FAILED and signal.outcome is SignalOutcome.FAILED:
                against.setdefault(signal.name, signal.reason)
            if signal.name in FAITHFUL_WHEN_PASSED and signal.outcome is SignalOutcome.PASSED:
                for_.setdefault(signal.name, signal.reason)
    if against and for_:
        return Drop.LEAN_CONFLICT
    found = against or for_
    if not found:
        return None
    name, reason = next(iter(found.items()))
    return PairLabel(
        label=LabelValue.UNFAITHFUL if against else LabelValue.FAITHFUL,
        source=LabelSource.LEAN,
        detail=f"{name}: {reason}" if reason else name,
    )


def critic_label(attempts: Sequence[Attempt]) -> PairLabel | Drop:
    """The critic's decision on the statement, when its verdicts agree."""
    verdicts = [
        a.verdict
        for a in attempts
        if a.verdict is not None and a.verdict.judgement is not Judgement.UNPARSED
    ]
    if not verdicts:
        return Drop.NO_LABEL
    judgements = {v.judgement for v in verdicts}
    if len(judgements) > 1:
        return Drop.CRITIC_DISAGREES
    verdict = verdicts[0]
    engine = attempts[0].provenance.get("critic")
    detail = f"critic {verdict.rule}, share {verdict.share:g}"
    return PairLabel(
        label=LabelValue.FAITHFUL if verdict.faithful else LabelValue.UNFAITHFUL,
        source=LabelSource.CRITIC,
        detail=f"{detail} ({engine})" if engine else detail,
    )


def agreeing_reasons(pair: Pair, label: PairLabel) -> tuple[str, Attempt] | None:
    """The reasons of the first critic answer on the pair whose verdict agrees with ``label``
    (with the attempt it was given on), None when no answer agrees or gives reasons."""
    wanted = Judgement.FAITHFUL if label.faithful else Judgement.UNFAITHFUL
    for attempt in pair.attempts:
        if attempt.verdict is None:
            continue
        for sample in attempt.verdict.samples:
            if sample.judgement is wanted and sample.reasons.strip():
                return sample.reasons.strip(), attempt
    return None
