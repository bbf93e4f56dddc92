"""Benchmark metrics against hand-computed cases, degenerate ones included."""

from __future__ import annotations

import pytest

from formalize.bench.metrics import (
    Confusion,
    Outcome,
    bootstrap_intervals,
    error_type_rates,
    metric_value,
    summarize,
    threshold_curve,
)
from formalize.records import CriticSample, Judgement, Verdict


def outcomes(pos: str, neg: str) -> list[Outcome]:
    """'a' accepted, 'r' rejected, 'u' unparsed (a rejection) for faithful / unfaithful pairs."""
    out = [Outcome(True, c == "a", c == "u", 1, int(c == "a")) for c in pos]
    out += [Outcome(False, c == "a", c == "u", 1, int(c == "a")) for c in neg]
    return out


def test_hand_computed_case() -> None:
    # 5 faithful: 2 accepted; 3 unfaithful: 1 accepted, 1 rejected, 1 unparsed.
    result = summarize(outcomes("aarrr", "aru"), replicates=200)
    m = result["metrics"]
    assert result["confusion"] == {"tp": 2, "fn": 3, "tn": 2, "fp": 1}
    assert metric_value(m["tpr"]) == pytest.approx(2 / 5)
    assert metric_value(m["tnr"]) == pytest.approx(2 / 3)
    assert metric_value(m["acc"]) == pytest.approx((2 / 5 + 2 / 3) / 2)
    assert m["accuracy"] == pytest.approx(4 / 8)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 5)
    assert m["f1"] == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))  # = 0.5
    assert m["f1"] == pytest.approx(0.5)
    assert m["fpr"] == pytest.approx(1 / 3)
    assert m["fnr"] == pytest.approx(3 / 5)
    assert m["unparsed_rate"] == pytest.approx(1 / 8)
    assert result["counts"] == {
        "items": 8,
        "faithful": 5,
        "unfaithful": 3,
        "accepted": 3,
        "unparsed": 1,
        "unparsed_faithful": 0,
        "unparsed_unfaithful": 1,
    }


def test_paper_acc_on_a_balanced_suite_equals_plain_accuracy() -> None:
    rates = Confusion(tp=225, fn=25, tn=180, fp=70).rates()  # 250 / 250
    assert rates["tpr"] == 0.9 and rates["tnr"] == 0.72
    assert rates["acc"] == pytest.approx(0.81)
    assert rates["accuracy"] == pytest.approx(0.81)


def test_all_accepted() -> None:
    m = summarize(outcomes("aaa", "a"), replicates=50)["metrics"]
    assert metric_value(m["tpr"]) == 1.0
    assert metric_value(m["tnr"]) == 0.0
    assert metric_value(m["acc"]) == 0.5
    assert m["accuracy"] == 0.75
    assert m["precision"] == 0.75
    assert m["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert m["tnr"]["ci"] == [0.0, 0.0]


def test_none_parsed_rejects_everything_and_precision_is_undefined() -> None:
    result = summarize(outcomes("uu", "uuu"), replicates=50)
    m = result["metrics"]
    assert metric_value(m["tpr"]) == 0.0
    assert metric_value(m["tnr"]) == 1.0
    assert metric_value(m["acc"]) == 0.5
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["precision"] is None  # nothing accepted: undefined, not 0
    assert m["f1"] is None
    assert m["unparsed_rate"] == 1.0
    assert result["counts"]["unparsed"] == 5


def test_no_unfaithful_pairs_leaves_tnr_and_acc_undefined() -> None:
    m = summarize(outcomes("aar", ""), replicates=50)["metrics"]
    assert metric_value(m["tpr"]) == pytest.approx(2 / 3)
    assert m["tnr"] == {"value": None, "ci": None}
    assert m["acc"] == {"value": None, "ci": None}
    assert m["fpr"] is None
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["precision"] == 1.0


def test_no_faithful_pairs_leaves_tpr_precision_f1_undefined() -> None:
    m = summarize(outcomes("", "ra"), replicates=50)["metrics"]
    assert m["tpr"] == {"value": None, "ci": None}
    assert metric_value(m["tnr"]) == 0.5
    assert m["acc"]["value"] is None
    assert m["precision"] == 0.0  # one accepted, none of them faithful
    assert m["f1"] is None
    assert m["fnr"] is None


def test_f1_is_zero_when_nothing_faithful_is_accepted() -> None:
    rates = Confusion(tp=0, fn=3, tn=1, fp=2).rates()
    assert rates["precision"] == 0.0 and rates["tpr"] == 0.0
    assert rates["f1"] == 0.0


def test_empty_run() -> None:
    result = summarize([], replicates=10)
    assert all(metric_value(v) is None for v in result["metrics"].values())
    assert result["threshold_curve"] == []
    assert result["error_types"] == []


def test_bootstrap_is_seeded_stratified_and_brackets_the_value() -> None:
    data = outcomes("a" * 30 + "r" * 10, "r" * 25 + "a" * 15)
    first = bootstrap_intervals(data, replicates=300, seed=7)
    assert first == bootstrap_intervals(data, replicates=300, seed=7)
    assert first != bootstrap_intervals(data, replicates=300, seed=8)
    for name, value in (("tpr", 0.75), ("tnr", 0.625), ("acc", 0.6875)):
        lo, hi = first[name]  # type: ignore[misc]
        assert 0 <= lo < value < hi <= 1
    lo_big, hi_big = bootstrap_intervals(data * 10, replicates=300, seed=7)["acc"]  # type: ignore[misc]
    lo_small, hi_small = first["acc"]  # type: ignore[misc]
    assert hi_big - lo_big < hi_small - lo_small  # more data, narrower interval


def test_error_type_detection_rates() -> None:
    data = [
        Outcome(False, False, error_type="missing_premise"),
        Outcome(False, True, votes=1, faithful_votes=1, error_type="missing_premise"),
        Outcome(False, False, unparsed=True, error_type="missing_premise"),
        Outcome(False, False, error_type="wrong_type"),
        Outcome(False, True, faithful_votes=1),  # unfaithful without a type: not grouped
        Outcome(True, True, faithful_votes=1, error_type="ignored_for_positives"),
    ]
    assert error_type_rates(data) == [
        {
            "error_type": "missing_premise",
            "n": 3,
            "rejected": 2,
            "detection_rate": pytest.approx(2 / 3),
            "unparsed": 1,
        },
        {"error_type": "wrong_type", "n": 1, "rejected": 1, "detection_rate": 1.0, "unparsed": 0},
    ]


def test_threshold_curve_with_three_samples() -> None:
    # faithful pairs with 3, 2, 1, 0 faithful votes; unfaithful with 2, 0, 0, 1.
    data = [Outcome(True, v >= 2, False, 3, v) for v in (3, 2, 1, 0)]
    data += [Outcome(False, v >= 2, False, 3, v) for v in (2, 0, 0, 1)]
    curve = threshold_curve(data)
    assert [p["rule"] for p in curve] == ["min:1/3", "min:2/3", "min:3/3"]
    assert [p["tpr"] for p in curve] == [0.75, 0.5, 0.25]
    assert [p["tnr"] for p in curve] == [0.5, 0.75, 1.0]
    assert [p["accepted"] for p in curve] == [5, 3, 1]
    assert curve[1]["acc"] == pytest.approx(0.625)


def test_threshold_curve_needs_several_samples_and_one_sample_count() -> None:
    assert threshold_curve(outcomes("ar", "ra")) == []
    with pytest.raises(ValueError, match="different sample counts"):
        threshold_curve([Outcome(True, True, False, 2, 2), Outcome(True, True, False, 3, 3)])


def test_outcome_from_a_verdict() -> None:
    def sample(j: Judgement) -> CriticSample:
        return CriticSample(j, raw="")

    verdict = Verdict(
        judgement=Judgement.FAITHFUL,
        share=2 / 3,
        samples=(
            sample(Judgement.FAITHFUL),
            sample(Judgement.FAITHFUL),
            sample(Judgement.UNPARSED),
        ),
    )
    o = Outcome.of(False, verdict, "constant")
    assert (o.label, o.accepted, o.unparsed, o.votes, o.faithful_votes) == (
        False,
        True,
        False,
        3,
        2,
    )
    unparsed = Verdict(Judgement.UNPARSED, 0.0, (sample(Judgement.UNPARSED),))
    assert Outcome.of(True, unparsed).unparsed
    assert not Outcome.of(True, unparsed).accepted


def test_outcome_invariants() -> None:
    with pytest.raises(ValueError):
        Outcome(True, True, unparsed=True)
    with pytest.raises(ValueError):
        Outcome(True, True, votes=2, faithful_votes=3)
