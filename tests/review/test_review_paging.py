"""Paging over a corpus of 100,000 attempts: each filter is served by an index (read from
SQLite's query plans, which do not flake) and a page, the first and the last alike, costs at
most a few passes over the table (counted in SQLite's virtual-machine steps, not timed; the
worst filter, which matches nothing, walks the table once; measured: 2-340 ms per page)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from formalize.corpus import Store
from formalize.review.browse import AttemptFilter, page_attempts

from .review_corpus import bulk_corpus

ATTEMPTS = 100_000
T = TypeVar("T")
PASSES = 5  # scans of the table a page may cost (measured: up to 1.8; 3.2 for the HTML page)


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = bulk_corpus(tmp_path_factory.mktemp("bulk") / "bulk.db", ATTEMPTS)
    with Store(path) as store:
        yield store


def vm_steps(store: Store, run: Callable[[], T]) -> tuple[int, T]:
    """The SQLite virtual-machine steps (in thousands) ``run()`` takes on ``store``'s
    connection, and what it returned."""
    ticks = 0

    def tick() -> int:
        nonlocal ticks
        ticks += 1
        return 0  # go on

    store._con.set_progress_handler(tick, 1000)
    try:
        result = run()
    finally:
        store._con.set_progress_handler(None, 1000)
    return ticks, result


def one_scan(store: Store) -> int:
    """The steps of one plain pass over the attempts table (no index)."""
    sql = "SELECT COUNT(*) FROM attempts a WHERE length(a.record) > 0"
    assert "SCAN a" in store._query("EXPLAIN QUERY PLAN " + sql)[0][3]
    return vm_steps(store, lambda: store._query(sql))[0]


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
def test_first_and_deep_pages_are_cheap(bulk: Store, flt: AttemptFilter) -> None:
    budget = PASSES * one_scan(bulk)
    for after in (None, ATTEMPTS * 95 // 100):
        run = functools.partial(page_attempts, bulk, flt, after=after, limit=50)
        steps, page = vm_steps(bulk, run)
        assert steps <= budget, f"{steps}K steps for a page after {after}, over {budget}K"
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

    budget = PASSES * one_scan(bulk)
    with TestClient(create_app(bulk, ReviewSettings()), base_url="http://127.0.0.1:8765") as c:
        params = {"status": "accepted", "after": "90000"}
        steps, response = vm_steps(bulk, lambda: c.get("/attempts", params=params))
        assert steps <= budget, f"{steps}K steps for the page, over {budget}K"
        assert response.status_code == 200 and 'id="next"' in response.text
