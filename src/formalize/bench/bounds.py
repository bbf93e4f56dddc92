"""Exact (Clopper–Pearson) confidence bounds on a binomial rate, without scipy.

The one-sided Clopper–Pearson bounds at level C on a rate p from k successes in n trials are
beta quantiles:

- upper: ``U = Beta.ppf(C, k + 1, n - k)`` (``U = 1`` when ``k = n``), the p at which seeing
  at most k successes has probability 1 - C;
- lower: ``L = Beta.ppf(1 - C, k, n - k + 1)`` (``L = 0`` when ``k = 0``).

With no trials (n = 0) nothing is known: ``U = 1``, ``L = 0``. The beta quantile is found by
bisection on the regularized incomplete beta function, computed with its continued fraction
(modified Lentz); ``tests/test_bench_bounds.py`` checks both against scipy.
"""

from __future__ import annotations

import functools
import math

_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 100_000


def regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)``: the beta(a, b) distribution function at x (a, b > 0)."""
    if a <= 0 or b <= 0:
        raise ValueError("the beta function needs a > 0 and b > 0")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast for x below the mean; above it, use the symmetry
    # I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            delta = c * d
            h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (x={x}, a={a}, b={b})")


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x with ``I_x(a, b) = q`` (the beta(a, b) quantile), by bisection to machine
    precision; ``I_x`` increases in x, so the root is unique."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("a quantile level must be in [0, 1]")
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if regularized_beta(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _check(k: int, n: int, confidence: float) -> None:
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError("the confidence level must be in (0, 1)")


@functools.lru_cache(maxsize=65536)
def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper bound at level ``confidence`` on a rate with k successes in n trials."""
    _check(k, n, confidence)
    if k == n:
        return 1.0
    return beta_quantile(confidence, k + 1, n - k)


@functools.lru_cache(maxsize=65536)
def clopper_pearson_lower(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided lower bound at level ``confidence`` on a rate with k successes in n trials."""
    _check(k, n, confidence)
    if k == 0:
        return 0.0
    return beta_quantile(1.0 - confidence, k, n - k + 1)
