"""The in-project Clopper–Pearson bounds against scipy's beta distribution (an independent
implementation; scipy is a test dependency only, the runtime does not need it)."""

from __future__ import annotations

import math

import pytest

from formalize.bench.bounds import (
    beta_quantile,
    clopper_pearson_lower,
    clopper_pearson_upper,
    regularized_beta,
)

scipy_stats = pytest.importorskip("scipy.stats")

CASES = [(0, 1), (0, 10), (1, 10), (9, 10), (3, 30), (24, 30), (0, 60), (5, 60), (59, 60)]
CASES += [(17, 200), (250, 500), (1, 2000), (480, 19400), (19399, 19400)]
LEVELS = (0.8, 0.9, 0.95, 0.975, 0.99)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("k", "n"), CASES)
def test_bounds_match_scipy_beta_quantiles(k: int, n: int, level: float) -> None:
    upper = 1.0 if k == n else scipy_stats.beta.ppf(level, k + 1, n - k)
    lower = 0.0 if k == 0 else scipy_stats.beta.ppf(1 - level, k, n - k + 1)
    assert clopper_pearson_upper(k, n, level) == pytest.approx(upper, rel=1e-9, abs=1e-12)
    assert clopper_pearson_lower(k, n, level) == pytest.approx(lower, rel=1e-9, abs=1e-12)
    assert clopper_pearson_lower(k, n, level) <= k / n <= clopper_pearson_upper(k, n, level)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (1, 1), (2, 7), (31, 4), (400, 1200)])
@pytest.mark.parametrize("x", [1e-6, 0.01, 0.2, 0.5, 0.77, 0.999])
def test_incomplete_beta_matches_scipy(a: float, b: float, x: float) -> None:
    assert regularized_beta(x, a, b) == pytest.approx(
        scipy_stats.beta.cdf(x, a, b), rel=1e-9, abs=1e-13
    )


def test_closed_forms() -> None:
    # No successes in n trials: U = 1 - (1 - C)^(1/n); all successes: L = (1 - C)^(1/n).
    for n in (1, 7, 60, 1000):
        assert clopper_pearson_upper(0, n, 0.95) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)
        assert clopper_pearson_lower(n, n, 0.95) == pytest.approx(0.05 ** (1 / n), rel=1e-12)
    assert beta_quantile(0.3, 1, 1) == pytest.approx(0.3)  # uniform


def test_edges_and_bad_input() -> None:
    assert clopper_pearson_upper(0, 0) == 1.0  # nothing observed: nothing known
    assert clopper_pearson_lower(0, 0) == 0.0
    assert clopper_pearson_upper(5, 5) == 1.0
    assert math.isclose(regularized_beta(0.0, 2, 3), 0.0)
    assert math.isclose(regularized_beta(1.0, 2, 3), 1.0)
    for bad in ((3, 2, 0.95), (-1, 2, 0.95), (1, 2, 1.0), (1, 2, 0.0)):
        with pytest.raises(ValueError):
            clopper_pearson_upper(*bad)
