"""What the labels say (``formalize review report``): the corpus's precision estimated from the
audit sample, the critic's agreement with the annotators, and the annotators' agreement with
each other.

- **Precision**: per stratum, the share of the sample's decided items that the annotators
  judged faithful, with its Wilson interval; overall, the stratified estimate with each
  stratum weighted by its share of the accepted entries at the draw (``formalize.review.stats``).
  Items not labelled yet, disputed ones and ones whose statement changed since the draw are
  not counted (each is reported). Strata with no decided item yet are left out and the others'
  weights renormalised; ``covered`` says what share of the corpus the estimate then speaks for.
- **Critic agreement**: over every labelled attempt that has a critic verdict, the annotators'
  decision is the truth: TPR = faithful ones the critic accepted, TNR = unfaithful ones it
  rejected (an unparsed verdict is a rejection, as in ``formalize bench critic``), with Wilson
  intervals. The labelled attempts are the ones people chose to label, not a random sample.
- **Annotator agreement**: Cohen's kappa for each pair of annotators over the attempts both
  labelled (always over every annotator's labels).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from formalize.bench.metrics import Confusion, Outcome
from formalize.corpus import Store
from formalize.labels import lean_sha
from formalize.records import LabelValue
from formalize.review.audit import AuditSample, audit_items, audit_sample
from formalize.review.labelled import Labelled, labelled_attempts
from formalize.review.stats import Interval, Stratum, cohen_kappa, stratified, wilson


@dataclass(frozen=True)
class StratumPrecision:
    """One stratum of the audit sample and what its labels found."""

    stratum: str
    population: int
    drawn: int
    labelled: int  # items with a decision
    faithful: int
    disputed: int
    changed: int  # the entry's statement is no longer the one drawn
    interval: Interval | None

    @property
    def unlabelled(self) -> int:
        """Items nobody labelled yet."""
        return self.drawn - self.labelled - self.disputed - self.changed


@dataclass(frozen=True)
class Precision:
    """The corpus precision estimated from one audit sample."""

    sample: AuditSample
    strata: tuple[StratumPrecision, ...]
    overall: Interval | None
    covered: float  # share of the accepted entries the estimate speaks for

    @property
    def labelled(self) -> int:
        """Decided items of the sample."""
        return sum(s.labelled for s in self.strata)


@dataclass(frozen=True)
class CriticAgreement:
    """The critic's decisions against the annotators' on the labelled attempts."""

    confusion: Confusion
    tpr: Interval | None
    tnr: Interval | None
    no_verdict: int  # labelled attempts the critic never judged (did not compile, ...)


@dataclass(frozen=True)
class AnnotatorPair:
    """Two annotators over the attempts both labelled."""

    first: str
    second: str
    items: int
    agreement: float
    kappa: float | None


@dataclass(frozen=True)
class ReviewReport:
    """Everything ``formalize review report`` prints."""

    labels: int
    labelled_attempts: int
    annotators: tuple[str, ...]
    disputed: int
    stale: int
    precision: Precision | None
    critic: CriticAgreement
    pairs: tuple[AnnotatorPair, ...]
    error_types: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``--json``)."""
        precision = None
        if self.precision is not None:
            p = self.precision
            precision = {
                "sample": {
                    "id": p.sample.id,
                    "seed": p.sample.seed,
                    "stratify": p.sample.stratify,
                    "population": p.sample.population,
                    "drawn": p.sample.drawn,
                },
                "interval": "wilson",
                "overall": None if p.overall is None else p.overall.to_dict(),
                "covered": p.covered,
                "strata": [
                    {
                        "stratum": s.stratum,
                        "population": s.population,
                        "drawn": s.drawn,
                        "labelled": s.labelled,
                        "faithful": s.faithful,
                        "disputed": s.disputed,
                        "changed": s.changed,
                        "precision": None if s.interval is None else s.interval.to_dict(),
                    }
                    for s in p.strata
                ],
            }
        c = self.critic
        return {
            "labels": self.labels,
            "labelled_attempts": self.labelled_attempts,
            "annotators": list(self.annotators),
            "disputed": self.disputed,
            "stale": self.stale,
            "precision": precision,
            "critic": {
                "tp": c.confusion.tp,
                "fn": c.confusion.fn,
                "tn": c.confusion.tn,
                "fp": c.confusion.fp,
                "tpr": None if c.tpr is None else c.tpr.to_dict(),
                "tnr": None if c.tnr is None else c.tnr.to_dict(),
                "no_verdict": c.no_verdict,
            },
            "annotator_agreement": [
                {
                    "annotators": [pair.first, pair.second],
                    "items": pair.items,
                    "agreement": pair.agreement,
                    "kappa": pair.kappa,
                }
                for pair in self.pairs
            ],
            "error_types": self.error_types,
        }


def build_report(
    store: Store, *, sample_id: int | None = None, annotator: str | None = None
) -> ReviewReport:
    """The report over the store's labels (only ``annotator``'s for precision and the critic,
    when given) and its newest audit sample (or ``sample_id``)."""
    everyone = labelled_attempts(store)
    chosen = everyone if annotator is None else labelled_attempts(store, annotator)
    sample = audit_sample(store, sample_id)
    decided = [a for a in chosen.attempts if a.decision is not None]
    errors = Counter(a.error_type.value for a in decided if a.error_type is not None)
    return ReviewReport(
        labels=sum(len(a.labels) for a in chosen.attempts),
        labelled_attempts=len(chosen.attempts),
        annotators=tuple(sorted({lab.annotator for a in chosen.attempts for lab in a.labels})),
        disputed=len(chosen.attempts) - len(decided),
        stale=chosen.stale,
        precision=None if sample is None else precision(store, sample, chosen),
        critic=critic_agreement(chosen),
        pairs=annotator_pairs(everyone),
        error_types=dict(sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def precision(store: Store, sample: AuditSample, labelled: Labelled) -> Precision:
    """The precision estimate from ``sample``'s items and their labels."""
    by_key = labelled.by_key()
    counts: dict[str, Counter[str]] = {h: Counter() for h in sample.strata}
    for item in audit_items(store, sample.id):
        found = by_key.get((item.problem_id, item.round, item.sample))
        tally = counts.setdefault(item.stratum, Counter())
        if found is None:
            continue
        if lean_sha(found.attempt.candidate.lean) != item.lean_sha:
            tally["changed"] += 1
        elif found.decision is None:
            tally["disputed"] += 1
        else:
            tally["labelled"] += 1
            tally["faithful"] += found.decision is LabelValue.FAITHFUL
    strata = []
    for name, size in sample.strata.items():
        tally = counts[name]
        strata.append(
            StratumPrecision(
                stratum=name,
                population=size.population,
                drawn=size.drawn,
                labelled=tally["labelled"],
                faithful=tally["faithful"],
                disputed=tally["disputed"],
                changed=tally["changed"],
                interval=wilson(tally["faithful"], tally["labelled"]),
            )
        )
    total = sample.population or 1
    overall = stratified([Stratum(s.population / total, s.faithful, s.labelled) for s in strata])
    covered = sum(s.population for s in strata if s.labelled) / total
    return Precision(sample, tuple(strata), overall, covered)


def critic_agreement(labelled: Labelled) -> CriticAgreement:
    """The critic's TPR and TNR against the annotators' decisions."""
    outcomes = []
    no_verdict = 0
    for item in labelled.attempts:
        decision = item.decision
        if decision is None:
            continue
        verdict = item.attempt.verdict
        if verdict is None:
            no_verdict += 1
            continue
        outcomes.append(Outcome.of(decision is LabelValue.FAITHFUL, verdict))
    table = Confusion.of(outcomes)
    return CriticAgreement(
        confusion=table,
        tpr=wilson(table.tp, table.tp + table.fn),
        tnr=wilson(table.tn, table.tn + table.fp),
        no_verdict=no_verdict,
    )


def annotator_pairs(labelled: Labelled) -> tuple[AnnotatorPair, ...]:
    """Cohen's kappa for each pair of annotators that labelled an attempt in common."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for item in labelled.attempts:
        ordered = sorted(item.labels, key=lambda lab: lab.annotator)
        for a, b in itertools.combinations(ordered, 2):
            pairs.setdefault((a.annotator, b.annotator), []).append((a.label.value, b.label.value))
    return tuple(
        AnnotatorPair(
            first=first,
            second=second,
            items=len(values),
            agreement=sum(x == y for x, y in values) / len(values),
            kappa=cohen_kappa(values),
        )
        for (first, second), values in sorted(pairs.items())
    )
