"""Calibrating an acceptance policy on several judges' benchmark runs over one suite.

The runs (``formalize.bench.judges``: one ``bench critic`` run folder per judge) are joined by
item id, and every policy they allow is scored on the joined items:

- a non-empty subset of the judges;
- a combination rule: ``all`` (every judge accepts), ``any``, ``majority`` (more than half of
  the judges accept; a tie rejects), each judge accepting when its share is at least its own
  threshold X (``min:X``, X one of the shares the judge gave on this suite); or ``weighted:T``
  (equal weights): the mean of the judges' shares is at least T, T one of the achievable means.
  Rules that coincide are searched once (one judge: ``all`` only; two: no ``majority``).

A policy is *feasible* when the one-sided Clopper–Pearson upper bound at level C on its
false-accept rate FP / (FP + TN) is at most the budget A; the chosen policy has the highest TPR
among the feasible ones (ties: higher TNR, fewer judges, the simpler rule in the order all, any,
majority, weighted, then the stricter thresholds, then the judges' order on the command line).

Precision form (``--min-precision P --base-rate R``): with TPR_lo and FAR_hi the one-sided
Clopper–Pearson bounds at level (1 + C) / 2 each (so that both hold together with probability
at least C, by Bonferroni), a policy is feasible when
``R·TPR_lo / (R·TPR_lo + (1 − R)·FAR_hi) >= P``; precision at base rate R increases with TPR
and decreases with the false-accept rate, so this is a lower bound on it at level C.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from formalize.bench.bounds import clopper_pearson_lower, clopper_pearson_upper
from formalize.bench.judges import Joined
from formalize.errors import InputError

RULES = ("all", "any", "majority", "weighted")
RULE_RANK = {name: rank for rank, name in enumerate(RULES)}
MAX_EVALUATIONS = 20_000_000  # policies x distinct share patterns scored in one search


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Policy:
    """Judges (indices into the joined runs), a combination rule and its thresholds.

    For ``all``/``any``/``majority``, ``thresholds`` holds each judge's X (accept when its
    share >= X). For ``weighted``, ``weight_threshold`` is T (an achievable mean share) and
    ``weight_floor`` the next lower achievable mean (0 if none): any written T' with
    floor < T' <= T takes the same decisions on these items.
    """

    combine: str
    judges: tuple[int, ...]
    thresholds: tuple[Fraction, ...] = ()
    weight_threshold: Fraction | None = None
    weight_floor: Fraction = Fraction(0)

    def accepts(self, shares: Sequence[Fraction]) -> bool:
        """The decision on an item whose shares (one per judge of the policy) are given."""
        if self.combine == "weighted":
            assert self.weight_threshold is not None
            return sum(shares, Fraction(0)) / len(shares) >= self.weight_threshold
        votes = [s >= t for s, t in zip(shares, self.thresholds, strict=True)]
        if self.combine == "all":
            return all(votes)
        if self.combine == "any":
            return any(votes)
        return sum(votes) * 2 > len(votes)

    def sort_key(self) -> tuple[Any, ...]:
        """Ties after TPR and TNR: fewer judges, simpler rule, stricter thresholds, order."""
        strict = tuple(-t for t in self.thresholds)
        return (len(self.judges), RULE_RANK[self.combine], strict, -(self.weight_threshold or 0))


@dataclass(frozen=True)
class Scored:
    """A policy with its confusion counts on the joined items and its bounds."""

    policy: Policy
    tp: int
    fn: int
    fp: int
    tn: int
    far_upper: float  # one-sided Clopper-Pearson upper bound at level C
    tpr_lower: float | None = None  # precision form: bounds at level (1 + C) / 2
    far_upper_joint: float | None = None
    precision_lower: float | None = None

    @property
    def tpr(self) -> float | None:
        """Faithful items accepted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def tnr(self) -> float | None:
        """Unfaithful items rejected."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else None

    @property
    def far(self) -> float | None:
        """False-accept rate FP / (FP + TN)."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None

    def key(self) -> tuple[Any, ...]:
        """Best first: highest TPR, then TNR, then the policy's tie-breaks."""
        return (-self.tp, -self.tn, *self.policy.sort_key(), self.policy.judges)


@dataclass(frozen=True)
class Objective:
    """What a policy must satisfy: a false-accept budget, or a precision at a base rate."""

    confidence: float = 0.95
    max_false_accept: float | None = None
    min_precision: float | None = None
    base_rate: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise InputError("--confidence must be in (0, 1), e.g. 0.95")
        far_form = self.max_false_accept is not None
        precision_form = self.min_precision is not None or self.base_rate is not None
        if far_form == precision_form:
            raise InputError(
                "give either --max-false-accept A, or --min-precision P with --base-rate R"
            )
        for flag, value in (
            ("--max-false-accept", self.max_false_accept),
            ("--min-precision", self.min_precision),
            ("--base-rate", self.base_rate),
        ):
            if value is not None and not 0.0 < value < 1.0:
                raise InputError(f"{flag} must be in (0, 1), got {value}")
        if precision_form and (self.min_precision is None or self.base_rate is None):
            raise InputError("--min-precision needs --base-rate (the share of faithful inputs)")

    @property
    def precision_form(self) -> bool:
        """True for ``--min-precision P --base-rate R``."""
        return self.min_precision is not None

    @property
    def joint_level(self) -> float:
        """The level of each of the two bounds of the precision form (Bonferroni)."""
        return (1.0 + self.confidence) / 2.0

    def score(self, policy: Policy, tp: int, fn: int, fp: int, tn: int) -> Scored:
        """The policy's counts with the bounds this objective needs."""
        far_upper = clopper_pearson_upper(fp, fp + tn, self.confidence)
        if not self.precision_form:
            return Scored(policy, tp, fn, fp, tn, far_upper)
        assert self.base_rate is not None
        tpr_lo = clopper_pearson_lower(tp, tp + fn, self.joint_level)
        far_hi = clopper_pearson_upper(fp, fp + tn, self.joint_level)
        rate = self.base_rate
        den = rate * tpr_lo + (1 - rate) * far_hi
        precision_lo = rate * tpr_lo / den if den > 0 else 0.0
        return Scored(policy, tp, fn, fp, tn, far_upper, tpr_lo, far_hi, precision_lo)

    def feasible(self, s: Scored) -> bool:
        """Whether ``s`` meets the objective."""
        if self.precision_form:
            assert s.precision_lower is not None and self.min_precision is not None
            return s.tp > 0 and s.precision_lower >= self.min_precision
        assert self.max_false_accept is not None
        return s.far_upper <= self.max_false_accept

    def closeness(self, s: Scored) -> tuple[Any, ...]:
        """How near an infeasible policy comes (smaller is nearer)."""
        if self.precision_form:
            return (-(s.precision_lower or 0.0), *s.key())
        return (s.far_upper, *s.key())


# --------------------------------------------------------------------------- search


Patterns = dict[tuple[Fraction, ...], list[int]]  # shares -> [faithful items, unfaithful items]


def _patterns(joined: Joined, subset: Sequence[int]) -> Patterns:
    patterns: Patterns = {}
    for shares, label in zip(joined.shares, joined.labels, strict=True):
        counts = patterns.setdefault(tuple(shares[j] for j in subset), [0, 0])
        counts[0 if label else 1] += 1
    return patterns


def _rules(size: int) -> tuple[str, ...]:
    if size == 1:
        return ("all",)  # any, majority and weighted decide the same as all with one judge
    if size == 2:
        return ("all", "any")  # majority of two is all
    return ("all", "any", "majority")


def candidate_policies(joined: Joined, subset: Sequence[int]) -> Iterable[Policy]:
    """Every policy over the judges ``subset`` (indices), rules that coincide searched once."""
    subset = tuple(subset)
    per_judge = [sorted({s[j] for s in joined.shares if s[j] > 0}) for j in subset]
    if any(not values for values in per_judge):
        return  # a judge that never accepted anything: no threshold accepts
    for combine in _rules(len(subset)):
        for thresholds in itertools.product(*per_judge):
            yield Policy(combine, subset, tuple(thresholds))
    if len(subset) > 1:
        means = sorted(
            {sum((s[j] for j in subset), Fraction(0)) / len(subset) for s in joined.shares}
        )
        positive = [m for m in means if m > 0]
        for index, value in enumerate(positive):
            floor = positive[index - 1] if index else Fraction(0)
            yield Policy("weighted", subset, (), value, floor)


def _accepted(policy: Policy, patterns: Patterns) -> tuple[int, int]:
    """(faithful, unfaithful) items the policy accepts."""
    tp = fp = 0
    for shares, (pos, neg) in patterns.items():
        if policy.accepts(shares):
            tp += pos
            fp += neg
    return tp, fp


def score_all(joined: Joined, objective: Objective) -> list[Scored]:
    """Every policy the runs allow, scored (refused when the search would be too large)."""
    indices = range(len(joined.judges))
    subsets = [
        c for size in range(1, len(indices) + 1) for c in itertools.combinations(indices, size)
    ]
    plans = [(subset, _patterns(joined, subset)) for subset in subsets]
    work = 0
    for subset, patterns in plans:
        sizes = [len({s[j] for s in joined.shares if s[j] > 0}) for j in subset]
        product = 1
        for size in sizes:
            product *= size
        work += (product * len(_rules(len(subset))) + len(patterns)) * len(patterns)
    if work > MAX_EVALUATIONS:
        raise InputError(
            f"the search over {len(joined.judges)} runs would score about {work:,} policy-pattern "
            f"pairs (limit {MAX_EVALUATIONS:,}); calibrate fewer runs at once"
        )
    positives, negatives = joined.positives, joined.negatives
    scored = []
    for subset, patterns in plans:
        for policy in candidate_policies(joined, subset):
            tp, fp = _accepted(policy, patterns)
            scored.append(objective.score(policy, tp, positives - tp, fp, negatives - fp))
    return scored


def pareto_front(scored: Sequence[Scored]) -> list[Scored]:
    """The policies no other beats on both TPR and the false-accept bound, by rising bound
    (the best of equals by the selection's tie-breaks)."""
    best: dict[int, Scored] = {}
    for s in scored:
        if s.fp not in best or s.key() < best[s.fp].key():
            best[s.fp] = s
    front: list[Scored] = []
    for fp in sorted(best):
        if not front or best[fp].tp > front[-1].tp:
            front.append(best[fp])
    return front


@dataclass(frozen=True)
class Calibration:
    """What the search found; with ``checked``, the one given policy measured instead (a
    held-out check: ``chosen`` is it when it meets the objective)."""

    joined: Joined
    objective: Objective
    chosen: Scored | None
    closest: tuple[Scored, ...]
    front: tuple[Scored, ...]
    alone: tuple[Scored | None, ...]  # per judge: its best feasible policy on its own
    searched: int
    cloud: tuple[tuple[float, float], ...] = ()  # distinct (false-accept bound, TPR) points
    checked: Scored | None = None


def calibrate(joined: Joined, objective: Objective, closest: int = 5) -> Calibration:
    """Search every policy and choose (see the module docstring)."""
    scored = score_all(joined, objective)
    feasible = sorted((s for s in scored if objective.feasible(s)), key=Scored.key)
    near = sorted((s for s in scored if not objective.feasible(s)), key=objective.closeness)
    alone = []
    for j in range(len(joined.judges)):
        own = [s for s in feasible if s.policy.judges == (j,)]
        alone.append(own[0] if own else None)
    return Calibration(
        joined=joined,
        objective=objective,
        chosen=feasible[0] if feasible else None,
        closest=tuple(near[:closest]) if not feasible else (),
        front=tuple(pareto_front(scored)),
        alone=tuple(alone),
        searched=len(scored),
        cloud=tuple(sorted({(s.far_upper, s.tpr or 0.0) for s in scored})),
    )


def nothing_to_choose_from(searched: int, joined: Joined) -> str | None:
    """Why the search had nothing to weigh (no policy, or no unfaithful item to bound false
    accepts with), with what to do; None when it had."""
    n = len(joined.ids)
    if searched == 0:
        return (
            f"nothing to search: no judge voted faithful on any of the {n} items, so every "
            "policy accepts nothing. A judge that rejects everything usually means its answers "
            "did not parse (see the `unparsed` share in each run's report.md) or a wrong prompt "
            "template; fix the judge and rerun `formalize bench critic`."
        )
    if joined.negatives == 0:
        return (
            f"none of the {n} items is unfaithful, so a false-accept rate cannot be bounded "
            "(every policy's bound is 100%). Calibrate on a suite with unfaithful items "
            "(label false), e.g. proofnet-dev."
        )
    return None


def check(joined: Joined, objective: Objective, policy: Policy) -> Calibration:
    """Measure one given policy on the joined items (no search)."""
    tp, fp = _accepted(policy, _patterns(joined, policy.judges))
    scored = objective.score(policy, tp, joined.positives - tp, fp, joined.negatives - fp)
    ok = objective.feasible(scored)
    return Calibration(
        joined=joined,
        objective=objective,
        chosen=scored if ok else None,
        closest=() if ok else (scored,),
        front=(scored,),
        alone=(None,) * len(joined.judges),
        searched=1,
        cloud=((scored.far_upper, scored.tpr or 0.0),),
        checked=scored,
    )


def describe(policy: Policy, joined: Joined) -> str:
    """A policy in one line: ``all(a min:2/3, b min:1/2)`` or ``weighted:0.8(a, b)``."""
    names = [joined.judges[j].name for j in policy.judges]
    if policy.combine == "weighted":
        return f"weighted:{weighted_text(policy)}({', '.join(names)})"
    parts = [f"{n} {vote_text(t)}" for n, t in zip(names, policy.thresholds, strict=True)]
    return f"{policy.combine}({', '.join(parts)})"


def vote_text(threshold: Fraction) -> str:
    """A threshold in the vote-rule syntax (``formalize.critic.VoteRule``): ``min:2/3``."""
    if threshold.denominator == 1:
        return f"min:{threshold.numerator}"
    return f"min:{threshold.numerator}/{threshold.denominator}"


def weighted_text(policy: Policy, margin: float = 1e-6) -> str:
    """T as a short decimal that takes the policy's decisions: the fewest digits with
    floor + margin < T' <= T (the margin keeps a reader's rounding tolerance harmless)."""
    value = policy.weight_threshold
    assert value is not None
    for digits in range(1, 13):
        scale = 10**digits
        written = Fraction(value.numerator * scale // value.denominator, scale)
        if written > policy.weight_floor + Fraction(margin):
            return f"{float(written):.{digits}f}".rstrip("0").rstrip(".") or "0"
    return f"{float(value):.12f}"
