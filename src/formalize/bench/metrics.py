"""Critic benchmark metrics, with the CriticLean paper's conventions.

Positives are the faithful pairs; a pair counts as accepted only when the critic's decision is
``faithful``, so an unparsed answer is a rejection (and is also reported on its own).

- TPR = faithful pairs accepted / faithful pairs; TNR = unfaithful pairs rejected / unfaithful.
- ``acc`` is the paper's ACC = (TPR + TNR) / 2 (balanced accuracy); ``accuracy`` is plain
  (TP + TN) / N. On a balanced suite such as CriticLeanBench the two coincide.
- precision = TP / accepted; F1 from precision and TPR; ``fpr`` = 1 - TNR and ``fnr`` =
  1 - TPR in the standard sense (the paper's table headed "FPR"/"FNR" prints 1 - TPR and
  1 - TNR: the two names are swapped there).
- A metric whose denominator is empty (no faithful pairs, no unfaithful pairs, nothing
  accepted) is undefined and reported as ``None`` (JSON ``null``), never as 0 or 1.
- 95% intervals for acc, TPR and TNR: stratified percentile bootstrap (faithful and unfaithful
  pairs resampled separately, so every replicate keeps the suite's class sizes), seeded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from formalize.records import Judgement, Verdict

LEVEL = 0.95


@dataclass(frozen=True)
class Outcome:
    """One benchmark item as the metrics see it."""

    label: bool  # True: the pair is faithful
    accepted: bool  # the critic's decision was faithful
    unparsed: bool = False  # no critic sample could be parsed
    votes: int = 1  # critic samples
    faithful_votes: int = 0  # samples that said faithful
    error_type: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.faithful_votes <= self.votes:
            raise ValueError("faithful_votes must be between 0 and votes")
        if self.unparsed and self.accepted:
            raise ValueError("an unparsed outcome cannot be accepted")

    @classmethod
    def of(cls, label: bool, verdict: Verdict, error_type: str | None = None) -> Outcome:
        """The outcome of a critic ``verdict`` on a pair labelled ``label``."""
        return cls(
            label=label,
            accepted=verdict.faithful,
            unparsed=verdict.judgement is Judgement.UNPARSED,
            votes=len(verdict.samples),
            faithful_votes=sum(s.judgement is Judgement.FAITHFUL for s in verdict.samples),
            error_type=error_type,
        )


@dataclass(frozen=True)
class Confusion:
    """Counts of the 2x2 table, positives = faithful."""

    tp: int = 0
    fn: int = 0
    tn: int = 0
    fp: int = 0

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Confusion:
        """The table of ``outcomes``."""
        tp = sum(o.label and o.accepted for o in outcomes)
        fn = sum(o.label and not o.accepted for o in outcomes)
        tn = sum(not o.label and not o.accepted for o in outcomes)
        fp = sum(not o.label and o.accepted for o in outcomes)
        return cls(tp=tp, fn=fn, tn=tn, fp=fp)

    @property
    def total(self) -> int:
        """All items."""
        return self.tp + self.fn + self.tn + self.fp

    def rates(self) -> dict[str, float | None]:
        """tpr, tnr, acc, accuracy, precision, recall, f1, fpr, fnr (None when undefined)."""
        tpr = _ratio(self.tp, self.tp + self.fn)
        tnr = _ratio(self.tn, self.tn + self.fp)
        precision = _ratio(self.tp, self.tp + self.fp)
        if precision is None or tpr is None:
            f1 = None
        elif precision + tpr == 0:
            f1 = 0.0
        else:
            f1 = 2 * precision * tpr / (precision + tpr)
        return {
            "acc": None if tpr is None or tnr is None else (tpr + tnr) / 2,
            "accuracy": _ratio(self.tp + self.tn, self.total),
            "tpr": tpr,
            "tnr": tnr,
            "precision": precision,
            "recall": tpr,
            "f1": f1,
            "fpr": None if tnr is None else 1 - tnr,
            "fnr": None if tpr is None else 1 - tpr,
        }


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def bootstrap_intervals(
    outcomes: Sequence[Outcome], *, replicates: int = 1000, seed: int = 0, level: float = LEVEL
) -> dict[str, tuple[float, float] | None]:
    """Percentile intervals for acc, tpr and tnr (None where the metric is undefined)."""
    pos = [o.accepted for o in outcomes if o.label]
    neg = [not o.accepted for o in outcomes if not o.label]
    if replicates < 1:
        return {"acc": None, "tpr": None, "tnr": None}
    rng = random.Random(seed)
    tprs: list[float] = []
    tnrs: list[float] = []
    for _ in range(replicates):
        if pos:
            tprs.append(sum(rng.choices(pos, k=len(pos))) / len(pos))
        if neg:
            tnrs.append(sum(rng.choices(neg, k=len(neg))) / len(neg))
    accs = [(a + b) / 2 for a, b in zip(tprs, tnrs, strict=True)] if pos and neg else []
    return {
        "acc": _interval(accs, level),
        "tpr": _interval(tprs, level),
        "tnr": _interval(tnrs, level),
    }


def _interval(values: list[float], level: float) -> tuple[float, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    alpha = (1 - level) / 2
    return _quantile(ordered, alpha), _quantile(ordered, 1 - alpha)


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def error_type_rates(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Per ``error_type`` of the unfaithful pairs: how many there are and the share rejected."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if not o.label and o.error_type:
            groups.setdefault(o.error_type, []).append(o)
    rows = [
        {
            "error_type": name,
            "n": len(group),
            "rejected": sum(not o.accepted for o in group),
            "detection_rate": sum(not o.accepted for o in group) / len(group),
            "unparsed": sum(o.unparsed for o in group),
        }
        for name, group in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r["n"], r["error_type"]))


def threshold_curve(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """TPR/TNR when a pair is accepted iff at least k of its m samples said faithful, for
    k = 1..m (m > 1; empty otherwise). Each point names the vote rule that reproduces it."""
    if not outcomes:
        return []
    votes = {o.votes for o in outcomes}
    if len(votes) != 1:
        raise ValueError(f"items have different sample counts {sorted(votes)}")
    m = votes.pop()
    if m < 2:
        return []
    points = []
    for k in range(1, m + 1):
        shifted = [
            Outcome(o.label, o.faithful_votes >= k, o.unparsed, o.votes, o.faithful_votes)
            for o in outcomes
        ]
        table = Confusion.of(shifted)
        rates = table.rates()
        points.append(
            {
                "k": k,
                "threshold": k / m,
                "rule": f"min:{k}/{m}",
                "tpr": rates["tpr"],
                "tnr": rates["tnr"],
                "acc": rates["acc"],
                "accepted": table.tp + table.fp,
            }
        )
    return points


def summarize(
    outcomes: Sequence[Outcome], *, seed: int = 0, replicates: int = 1000
) -> dict[str, Any]:
    """Everything ``results.json`` reports about ``outcomes``.

    ``metrics`` holds ``acc``/``tpr``/``tnr`` as ``{"value", "ci"}`` and the other metrics as
    plain numbers (``None`` when undefined).
    """
    table = Confusion.of(outcomes)
    rates = table.rates()
    intervals = bootstrap_intervals(outcomes, replicates=replicates, seed=seed)
    unparsed = sum(o.unparsed for o in outcomes)
    metrics: dict[str, Any] = {}
    for name, value in rates.items():
        if name in intervals:
            ci = intervals[name]
            metrics[name] = {"value": value, "ci": list(ci) if ci else None}
        else:
            metrics[name] = value
    metrics["unparsed_rate"] = _ratio(unparsed, len(outcomes))
    return {
        "metrics": metrics,
        "confusion": {"tp": table.tp, "fn": table.fn, "tn": table.tn, "fp": table.fp},
        "counts": {
            "items": len(outcomes),
            "faithful": table.tp + table.fn,
            "unfaithful": table.tn + table.fp,
            "accepted": table.tp + table.fp,
            "unparsed": unparsed,
            "unparsed_faithful": sum(o.unparsed and o.label for o in outcomes),
            "unparsed_unfaithful": sum(o.unparsed and not o.label for o in outcomes),
        },
        "error_types": error_type_rates(outcomes),
        "threshold_curve": threshold_curve(outcomes),
        "bootstrap": {
            "method": "stratified percentile",
            "replicates": replicates,
            "seed": seed,
            "level": LEVEL,
        },
    }


def metric_value(entry: Any) -> float | None:
    """The number of a ``metrics`` entry (plain or ``{"value", "ci"}``)."""
    if isinstance(entry, dict):
        return entry.get("value")
    return entry
