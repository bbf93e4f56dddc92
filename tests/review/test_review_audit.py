"""`formalize review sample`: stratified uniform draws of accepted entries, stored and
reproducible."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.labels import lean_sha
from formalize.review.audit import audit_items, audit_sample, draw_sample


def accepted(store: Store) -> dict[str, tuple[int, int, str, str]]:
    rows = store._query(
        "SELECT a.problem_id, a.round, a.sample, a.lean, json_extract(p.record, '$.source')"
        " FROM attempts a JOIN problems p ON p.id = a.problem_id WHERE a.status = 'accepted'"
    )
    return {r[0]: (r[1], r[2], lean_sha(r[3]), r[4]) for r in rows}


def test_a_stratified_sample_is_stored_with_its_strata(store: Store) -> None:
    sample = draw_sample(store, 10, stratify="source", seed=3)
    # 30 accepted entries: 15 from minif2f (even k), 15 from proofnet (odd k)
    assert {h: (s.population, s.drawn) for h, s in sample.strata.items()} == {
        "minif2f": (15, 5),
        "proofnet": (15, 5),
    }
    assert sample.population == 30 and sample.drawn == 10
    items = audit_items(store, sample.id)
    assert [i.position for i in items] == list(range(1, 11))
    truth = accepted(store)
    for item in items:  # every item is an accepted entry's attempt, in its own stratum
        round_, sample_no, sha, source = truth[item.problem_id]
        assert (item.round, item.sample, item.lean_sha, item.stratum) == (
            round_,
            sample_no,
            sha,
            source,
        )
    assert len({i.problem_id for i in items}) == 10
    assert audit_sample(store) == sample  # the newest sample, read back


def test_the_same_seed_draws_the_same_sample(store: Store) -> None:
    first = draw_sample(store, 8, stratify="source", seed=7)
    second = draw_sample(store, 8, stratify="source", seed=7)
    other = draw_sample(store, 8, stratify="source", seed=8)

    def keys(sample_id: int) -> list[str]:
        return [i.problem_id for i in audit_items(store, sample_id)]

    assert keys(first.id) == keys(second.id)
    assert keys(first.id) != keys(other.id)
    assert audit_sample(store, first.id) == first


def test_draws_are_uniform_within_a_stratum(tmp_path: Path, corpus: Path) -> None:
    """Over many seeds every accepted entry is drawn about equally often."""
    counts: Counter[str] = Counter()
    draws = 300
    with Store(corpus) as store:
        for seed in range(draws):
            sample = draw_sample(store, 6, stratify="source", seed=seed)
            counts.update(i.problem_id for i in audit_items(store, sample.id))
    assert len(counts) == 30  # every entry can be drawn
    expected = draws * 3 / 15  # 3 of each stratum's 15 per draw: 60
    # binomial(300, 0.2): sd 6.9; 5 sd either side, so a fair sampler practically never fails
    # while a sampler that favoured the first entries would
    assert all(expected - 35 < c < expected + 35 for c in counts.values()), counts


def test_unstratified_census_and_errors(store: Store) -> None:
    whole = draw_sample(store, 1000)
    assert whole.drawn == 30 and list(whole.strata) == [""]
    with pytest.raises(InputError, match="at least one"):
        draw_sample(store, 0)
    with pytest.raises(InputError, match="cannot stratify"):
        draw_sample(store, 5, stratify="colour")
    with pytest.raises(InputError, match="no audit sample 99"):
        audit_sample(store, 99)


def test_a_corpus_without_entries_has_nothing_to_audit(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.db") as store:
        assert audit_sample(store) is None
        with pytest.raises(InputError, match="no accepted entries"):
            draw_sample(store, 5)
