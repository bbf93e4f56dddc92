"""The statistics of the review report: proportions with Wilson score intervals, the stratified
estimate of a proportion, and Cohen's kappa. Pure functions, no I/O.

- ``wilson``: the Wilson (1927) score interval, without continuity correction. Unlike the
  normal ("Wald") interval it stays inside [0, 1] and does not collapse to a point when every
  labelled item agrees (a corpus whose audit found no error still gets an upper bound on its
  error rate), which is the common case for precision.
- ``stratified``: the stratified estimate ``sum_h W_h p_h`` with weights ``W_h`` (each stratum's
  share of the population) and variance ``sum_h W_h^2 p_h (1 - p_h) / n_h``; its interval is
  Wilson's formula at the effective sample size ``n_eff = p (1 - p) / variance`` (capped at the
  number of items), the design-effect adjustment Korn and Graubard (1998) apply to the
  Clopper-Pearson interval. With one stratum it is exactly ``wilson``. No finite-population
  correction: where a stratum's sample is a large share of the stratum the interval is wider
  than it needs to be, never narrower.
- ``cohen_kappa``: (observed - chance agreement) / (1 - chance agreement), chance from each
  rater's own marginals (Cohen 1960).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

#: The normal quantile for a two-sided 95% interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A proportion's estimate with its interval; ``n`` the (effective) number of items."""

    estimate: float
    low: float
    high: float
    n: float

    def to_dict(self) -> dict[str, float]:
        """Plain JSON-ready dict."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "n": self.n}


def wilson_bounds(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` observed on ``n`` > 0 items."""
    if n <= 0:
        raise ValueError("the Wilson interval needs n > 0")
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """``successes`` of ``n`` with the Wilson interval; None when there are no items."""
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    if n == 0:
        return None
    low, high = wilson_bounds(successes / n, n, z)
    return Interval(successes / n, low, high, n)


@dataclass(frozen=True)
class Stratum:
    """One stratum's part in a stratified estimate: its population weight and what was found
    in its sample (``successes`` of ``n`` items)."""

    weight: float
    successes: int
    n: int


def stratified(strata: Sequence[Stratum], z: float = Z95) -> Interval | None:
    """The stratified estimate of a proportion and its interval (see the module docstring).

    Strata with no items are left out and the other weights renormalised; None when no
    stratum has items."""
    used = [s for s in strata if s.n > 0]
    total_weight = sum(s.weight for s in used)
    if not used or total_weight <= 0:
        return None
    estimate = 0.0
    variance = 0.0
    for s in used:
        w = s.weight / total_weight
        p = s.successes / s.n
        estimate += w * p
        variance += w * w * p * (1 - p) / s.n
    items = sum(s.n for s in used)
    n_eff = estimate * (1 - estimate) / variance if variance > 0 else float(items)
    n_eff = min(n_eff, float(items))
    estimate = min(max(estimate, 0.0), 1.0)
    low, high = wilson_bounds(estimate, n_eff, z)
    return Interval(estimate, low, high, n_eff)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters over ``pairs`` (rater A's value, rater B's value) of the
    items both rated; None when undefined (no items, or chance agreement is 1: both raters
    gave one and the same value to everything)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    chance = sum(first[v] * second[v] for v in first) / (n * n)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)
