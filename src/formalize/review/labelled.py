"""Labelled attempts as the report and the suite export read them: each attempt with the labels
on its current statement, and the one decision taken from them.

A label counts for an attempt only while the attempt still holds the statement labelled (the
label's ``lean_sha``); a label whose statement was since replaced (a resumed run re-recorded
the round with other text) is *stale*, counted and otherwise ignored. Several annotators'
labels on one attempt are combined by majority; a tie is *disputed* and decides nothing (label
it once more to settle it). The error type of an unfaithful decision is the one most of its
unfaithful labels name (ties in the taxonomy's order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from formalize.corpus import Store
from formalize.labels import lean_sha
from formalize.records import Attempt, ErrorType, Label, LabelValue, Problem
from formalize.store_queries import attempt_from_row, provenance_of


@dataclass(frozen=True)
class LabelledAttempt:
    """An attempt (store row ``attempt_id``), its problem and its current labels, one per
    annotator."""

    attempt_id: int
    attempt: Attempt
    problem: Problem
    labels: tuple[Label, ...]

    @property
    def key(self) -> tuple[str, int, int]:
        """(problem, round, sample): what labels and audit items name an attempt by."""
        return (self.attempt.problem_id, self.attempt.round, self.attempt.sample)

    @property
    def decision(self) -> LabelValue | None:
        """The majority label; None when disputed."""
        return consensus(self.labels)

    @property
    def error_type(self) -> ErrorType | None:
        """The error type most unfaithful labels name, for an unfaithful decision."""
        if self.decision is not LabelValue.UNFAITHFUL:
            return None
        named = Counter(lab.error_type for lab in self.labels if lab.error_type is not None)
        if not named:
            return None
        order = list(ErrorType)
        return max(named, key=lambda e: (named[e], -order.index(e)))

    def label_of(self, annotator: str) -> Label | None:
        """This annotator's label, if any."""
        return next((lab for lab in self.labels if lab.annotator == annotator), None)


def consensus(labels: Sequence[Label]) -> LabelValue | None:
    """The majority of ``labels``; None for a tie (or no label)."""
    faithful = sum(lab.label is LabelValue.FAITHFUL for lab in labels)
    unfaithful = len(labels) - faithful
    if faithful == unfaithful:
        return None
    return LabelValue.FAITHFUL if faithful > unfaithful else LabelValue.UNFAITHFUL


@dataclass(frozen=True)
class Labelled:
    """Every labelled attempt, and how many labels were stale."""

    attempts: tuple[LabelledAttempt, ...]
    stale: int

    def by_key(self) -> dict[tuple[str, int, int], LabelledAttempt]:
        """The labelled attempts by (problem, round, sample)."""
        return {a.key: a for a in self.attempts}


def labelled_attempts(store: Store, annotator: str | None = None) -> Labelled:
    """The attempts that have labels (only ``annotator``'s, when given), in (problem, round,
    sample) order."""
    sql = (
        f"SELECT a.id, a.record, {provenance_of('a')}, p.record, l.lean_sha, l.label,"
        " l.error_type, l.note,"
        " l.annotator, l.created_at FROM labels l"
        " JOIN attempts a ON a.problem_id = l.problem_id AND a.round = l.round"
        " AND a.sample = l.sample JOIN problems p ON p.id = l.problem_id"
    )
    params: tuple[str, ...] = ()
    if annotator is not None:
        sql += " WHERE l.annotator = ?"
        params = (annotator,)
    rows = store._query(sql + " ORDER BY l.problem_id, l.round, l.sample, l.annotator", params)
    grouped: dict[int, tuple[Attempt, Problem, list[Label]]] = {}
    stale = 0
    for row in rows:
        (
            attempt_id,
            attempt_json,
            provenance,
            problem_json,
            sha,
            value,
            error,
            note,
            who,
            created,
        ) = row
        if attempt_id not in grouped:
            grouped[attempt_id] = (
                attempt_from_row(attempt_json, provenance),
                Problem.from_json(problem_json),
                [],
            )
        attempt, _, labels = grouped[attempt_id]
        if sha != lean_sha(attempt.candidate.lean):
            stale += 1
            continue
        labels.append(
            Label(
                problem_id=attempt.problem_id,
                round=attempt.round,
                sample=attempt.sample,
                lean_sha=sha,
                label=LabelValue(value),
                annotator=who,
                error_type=None if error is None else ErrorType(error),
                note=note,
                created_at=created,
            )
        )
    found = tuple(
        LabelledAttempt(attempt_id, attempt, problem, tuple(labels))
        for attempt_id, (attempt, problem, labels) in grouped.items()
        if labels
    )
    return Labelled(found, stale)
