"""Paging over a corpus of 100,000 attempts: each filter is served by an index (read from
SQLite's query plans, which do not flake) and a page costs milliseconds on the first page and
the last alike (measured; the bound is generous)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from formalize.corpus import Store
from formalize.review.browse import AttemptFilter, page_attempts

from .review_corpus import bulk_corpus

ATTEMPTS = 100_000
BOUND_S = 1.0  # measured: 2-50 ms per page, counting the matches included


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = bulk_corpus(tmp_path_factory.mktemp("bulk") / "bulk.db", ATTEMPTS)
    with Store(path) as store:
        yield store


def plan(store: Store, flt: AttemptFilter) -> str:
    conditions, params = flt.where()
    where = " AND ".join(conditions) or "1"
    sql = f"SELECT a.id FROM attempts a WHERE {where} AND a.id > ? ORDER BY a.id LIMIT 51"
    return " / ".join(r[3] for r in store._query("EXPLAIN QUERY PLAN " + sql, [*params, 0]))


def test_every_filter_is_served_by_an_index(bulk: Store) -> None:
    run = bulk.runs()[2]["id"]
    assert plan(bulk, AttemptFilter()) == "SEARCH a USING INTEGER PRIMARY KEY (rowid>?)"
    assert "INDEX attempts_status (status=? AND rowid>?)" in plan(
        bulk, AttemptFilter(statuses=("rejected",))
    )
    assert "INDEX attempts_run (run_id=? AND rowid>?)" in plan(bulk, AttemptFilter(run=run))
    assert "INDEX problems_source" in plan(bulk, AttemptFilter(source="src3"))
    assert "labels_attempt" in plan(bulk, AttemptFilter(labelled=True))
    assert "SCAN a " not in plan(bulk, AttemptFilter(labelled=True))
    for flt in (AttemptFilter(round=2), AttemptFilter(min_share=0.5)):
        # dense conditions: walk the ids in order and stop after a page
        assert plan(bulk, flt).startswith("SEARCH a USING INTEGER PRIMARY KEY (rowid>?)")
    count = bulk._query(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM attempts a"
        " WHERE json_extract(a.record, '$.verdict.share') >= 0.9"
    )
    assert "attempts_critic_share" in count[0][3]


@pytest.mark.parametrize(
    "flt",
    [
        AttemptFilter(),
        AttemptFilter(statuses=("rejected",)),
        AttemptFilter(statuses=("accepted", "faithful")),
        AttemptFilter(source="src7"),
        AttemptFilter(round=2, min_share=0.6),
        AttemptFilter(max_share=0.2),
        AttemptFilter(min_share=0.4, max_share=0.5),  # matches nothing: the worst case
        AttemptFilter(labelled=False),
        AttemptFilter(statuses=("vacuous",), source="src1", round=1),
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.query()) or "none",
)
def test_first_and_deep_pages_are_fast(bulk: Store, flt: AttemptFilter) -> None:
    for after in (None, ATTEMPTS * 95 // 100):
        started = time.perf_counter()
        page = page_attempts(bulk, flt, after=after, limit=50)
        elapsed = time.perf_counter() - started
        assert elapsed < BOUND_S, f"{elapsed:.3f}s for a page after {after}"
        assert all(r.attempt_id > (after or 0) for r in page.rows)


def test_keyset_pages_cover_a_filter_exactly(bulk: Store) -> None:
    flt = AttemptFilter(statuses=("rejected",), source="src2")
    want = [
        r[0]
        for r in bulk._query(
            "SELECT a.id FROM attempts a JOIN problems p ON p.id = a.problem_id"
            " WHERE a.status = 'rejected' AND json_extract(p.record, '$.source') = 'src2'"
            " ORDER BY a.id"
        )
    ]
    assert len(want) > 20
    got: list[int] = []
    after = None
    while True:
        page = page_attempts(bulk, flt, after=after, limit=9)
        got += [r.attempt_id for r in page.rows]
        assert page.total == len(want)
        if page.next_after is None:
            break
        after = page.next_after
    assert got == want


def test_the_list_page_renders_deep_in_a_large_corpus(bulk: Store, tmp_path: Path) -> None:
    pytest.importorskip("starlette", reason="the review extra is not installed")
    from starlette.testclient import TestClient

    from formalize.review.app import ReviewSettings, create_app

    with TestClient(create_app(bulk, ReviewSettings()), base_url="http://127.0.0.1:8765") as c:
        started = time.perf_counter()
        response = c.get("/attempts", params={"status": "accepted", "after": "90000"})
        assert time.perf_counter() - started < BOUND_S * 3
        assert response.status_code == 200 and 'id="next"' in response.text
