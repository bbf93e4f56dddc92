"""The report's statistics against hand computations and published values."""

from __future__ import annotations

import math

import pytest

from formalize.review.audit import allocate
from formalize.review.stats import Stratum, cohen_kappa, stratified, wilson, wilson_bounds


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # by hand: p = 0.8, z^2 = 3.8415; centre (0.8 + 0.19207) / 1.38415 = 0.71674,
        # half 1.95996 * sqrt(0.016 + 0.0096037) / 1.38415 = 0.22657
        (8, 10, 0.4902, 0.9433),
    ],
)
def test_wilson_matches_published_values(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson(successes, n)
    assert interval is not None
    assert interval.estimate == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_at_the_edges() -> None:
    assert wilson(0, 0) is None
    every = wilson(20, 20)
    assert (
        every is not None and every.high == 1.0 and every.low == pytest.approx(1 - 0.1611, abs=5e-5)
    )
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson_bounds(0.5, 0)


def test_wilson_against_scipy_where_installed() -> None:
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed (optional check)")
    for successes, n in [(0, 7), (3, 7), (50, 61), (99, 100), (100, 100)]:
        ours = wilson(successes, n)
        theirs = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
        assert ours is not None
        assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high), abs=1e-9)


def test_one_stratum_is_plain_wilson() -> None:
    alone = stratified([Stratum(1.0, 17, 20)])
    plain = wilson(17, 20)
    assert alone is not None and plain is not None
    assert (alone.estimate, alone.low, alone.high) == pytest.approx(
        (plain.estimate, plain.low, plain.high)
    )
    assert alone.n == pytest.approx(20)


def test_stratified_estimate_by_hand() -> None:
    # stratum A: 600 of 1000 entries, 9/10 faithful; stratum B: 400 entries, 3/5 faithful
    result = stratified([Stratum(0.6, 9, 10), Stratum(0.4, 3, 5)])
    assert result is not None
    assert result.estimate == pytest.approx(0.6 * 0.9 + 0.4 * 0.6)  # 0.78, not 12/15 pooled
    # variance 0.36 * 0.09 / 10 + 0.16 * 0.24 / 5 = 0.01092, so n_eff = 0.78 * 0.22 / 0.01092
    # = 15.7: more than the 15 items, capped at 15
    assert result.n == pytest.approx(15)
    assert (result.low, result.high) == pytest.approx(wilson_bounds(0.78, 15))
    assert not math.isclose(result.estimate, 12 / 15)


def test_a_lopsided_sample_has_a_smaller_effective_size() -> None:
    # equal strata, 18 items drawn from one and 2 from the other, half faithful in each:
    # variance 0.25 * 0.25 / 18 + 0.25 * 0.25 / 2 = 0.034722, n_eff = 0.25 / 0.034722 = 7.2
    result = stratified([Stratum(0.5, 9, 18), Stratum(0.5, 1, 2)])
    assert result is not None
    assert result.estimate == pytest.approx(0.5)
    assert result.n == pytest.approx(7.2)
    assert (result.low, result.high) == pytest.approx(wilson_bounds(0.5, 7.2))
    plain = wilson(10, 20)
    assert plain is not None and result.high - result.low > plain.high - plain.low


def test_stratified_when_every_item_agrees_or_strata_are_empty() -> None:
    perfect = stratified([Stratum(0.5, 10, 10), Stratum(0.5, 4, 4)])
    assert perfect is not None and perfect.estimate == 1.0 and perfect.high == 1.0
    assert perfect.low == pytest.approx(wilson_bounds(1.0, 14)[0])  # n_eff falls back to n
    partial = stratified([Stratum(0.7, 7, 10), Stratum(0.3, 0, 0)])
    assert partial is not None and partial.estimate == pytest.approx(0.7)  # renormalised
    assert stratified([Stratum(1.0, 0, 0)]) is None


def test_cohen_kappa_by_hand() -> None:
    # Wikipedia's example: 50 items, A says yes to 25, B to 30; 20 yes-yes, 15 no-no
    pairs = [(1, 1)] * 20 + [(1, 0)] * 5 + [(0, 1)] * 10 + [(0, 0)] * 15
    # observed 0.7, chance 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa (0.7 - 0.5) / 0.5 = 0.4
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([(1, 1), (0, 0)]) == pytest.approx(1.0)
    assert cohen_kappa([(1, 0), (0, 1)]) == pytest.approx(-1.0)
    assert cohen_kappa([("f", "f")] * 5) is None  # chance agreement is 1
    assert cohen_kappa([]) is None


def test_allocation_is_proportional_with_at_least_one_per_stratum() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 98, "b": 1, "c": 1}, 10) == {"a": 8, "b": 1, "c": 1}
    assert allocate({"a": 5, "b": 3}, 100) == {"a": 5, "b": 3}  # a census
    assert allocate({"a": 10, "b": 10, "c": 10}, 2) == {"a": 1, "b": 1, "c": 0}
    spread = allocate({"a": 333, "b": 333, "c": 334}, 100)
    assert sum(spread.values()) == 100 and max(spread.values()) - min(spread.values()) <= 1
