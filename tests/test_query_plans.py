"""Every query of the store's read paths uses the index it needs.

The read paths (export in every format, with and without rejected attempts, ``corpus stats``,
the store's iterators, the review app's pages and API, what a resumed run reads) are run
against a corpus with every kind of row, and every statement they send to SQLite is recorded
at the connection (so a query added later is checked without being listed here). Each
recorded statement's ``EXPLAIN QUERY PLAN`` must not

- read a whole table of attempts, entries or signals row by row (a ``SCAN`` other than of a
  covering index: a count's pass over a compact index is allowed; ``READ_WHOLE`` lists the
  statements meant to return every row);
- run an inner loop (a join's second table, a correlated subquery) that is not a search by a
  key that picks a few rows (``problem_id``, a row id, a hash, a cache key): through a
  non-selective index (``status``, ``run_id``) every outer row walks a large share of the
  table, which is quadratic;
- sort a whole table to return a page (``USE TEMP B-TREE FOR ORDER BY`` with ``LIMIT`` over
  a scan): every page would cost a pass over the table. (A page of the review list filtered
  by a condition no index orders by row id, e.g. a source or a critic-share range, sorts the
  rows that match the filter: that stays allowed.)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review.review_corpus import build_corpus

from formalize.cli.main import main
from formalize.corpus import Store

BIG = {"attempts", "entries", "signals"}  # grow with problems x candidates
SELECTIVE = re.compile(r"\b(rowid|id|problem_id|key|digest|exact_hash|norm_hash|sample_id)=")
# statements whose job is to return every row of a big table (linear, in key order)
READ_WHOLE = {
    "SELECT a.record, (SELECT value FROM provenances WHERE id = a.provenance_id) FROM attempts a "
    "ORDER BY a.problem_id": "Store.attempts() without a problem: every attempt, in key order",
}
NOT_ALIAS = {"where", "on", "left", "join", "order", "group", "limit", "inner", "cross", "using"}


def tables_of(sql: str) -> dict[str, str]:
    """Name or alias in the statement -> table."""
    names: dict[str, str] = {}
    for table, alias in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", sql, re.I):
        names[table] = table
        if alias and alias.lower() not in NOT_ALIAS:
            names[alias] = table
    return names


def plan_problems(sql: str, plan: list[tuple[Any, ...]]) -> list[str]:
    """What is wrong with ``plan`` (rows of ``EXPLAIN QUERY PLAN sql``); empty when nothing."""
    names = tables_of(sql)
    rows = {row[0]: (row[1], str(row[3])) for row in plan}
    keyed = BIG | {"problems", "provenances", "labels", "cache"}  # looked up from another row
    problems = []
    seen_loop: set[int] = set()  # parents under which a loop was already opened
    unfiltered = False  # a big table read whole (by a scan, or a row-id range)
    for parent, detail in rows.values():
        found = re.match(r"(SCAN|SEARCH) (\w+)(.*)", detail)
        if found is None:
            paged = re.search(r"\bLIMIT\b", sql, re.I)
            if detail.startswith("USE TEMP B-TREE FOR ORDER BY") and paged and unfiltered:
                problems.append(f"sorts every row for one page: {detail}")
            continue
        kind, name, rest = found.groups()
        table = names.get(name, name)
        ancestors, up = [], parent
        while up in rows:
            ancestors.append(rows[up][1])
            up = rows[up][0]
        inner = parent in seen_loop or any(a.startswith("CORRELATED") for a in ancestors)
        seen_loop.add(parent)
        if table in BIG and (kind == "SCAN" or re.search(r"\(rowid[<>]", rest)):
            unfiltered = True
        whole = kind == "SCAN" and "COVERING INDEX" not in rest
        if whole and table in BIG and not any(sql.startswith(p) for p in READ_WHOLE):
            problems.append(f"reads all of {table}: {detail}")
        selective = kind == "SEARCH" and SELECTIVE.search(rest)
        if inner and table in keyed and not selective:
            problems.append(f"inner loop over {table} not by a selective key: {detail}")
    return problems


def explain(con: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    """``EXPLAIN QUERY PLAN sql``, its parameters (if any are left unbound) as NULL."""
    marks = re.sub(r"'(?:[^']|'')*'", "", sql).count("?")
    return con.execute("EXPLAIN QUERY PLAN " + sql, (None,) * marks).fetchall()


def test_the_checker_catches_the_plans_it_exists_for(tmp_path: Path) -> None:
    """The quadratic export join of 0482441, a count that reads every row, a page sorted whole:
    each is caught; their fixed forms pass."""
    with Store(tmp_path / "c.db") as store:
        con = store._con
        old_join = (
            "SELECT e.id, e.record, a.record FROM entries e LEFT JOIN attempts a "
            "ON a.problem_id = e.problem_id AND a.status = 'accepted' "
            "WHERE e.id > ? ORDER BY e.id LIMIT ?"
        )
        bad = {
            old_join: "inner loop over attempts",
            "SELECT COUNT(*) FROM signals WHERE version = 'x'": "reads all of signals",
            "SELECT id FROM attempts ORDER BY created_at LIMIT 10": "sorts every row",
        }
        for sql, what in bad.items():
            found = plan_problems(sql, explain(con, sql))
            assert any(what in p for p in found), (sql, found)
        good = old_join.replace("a.status", "+a.status")
        assert plan_problems(good, explain(con, good)) == []


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """The corpus, and every statement the read paths sent to it."""
    pytest.importorskip("pyarrow", reason="the parquet and datasets exports need pyarrow")
    pytest.importorskip("starlette", reason="the review app needs starlette")
    tmp = tmp_path_factory.mktemp("plans")
    db = build_corpus(tmp / "corpus.db")
    statements: list[str] = []
    original = Store.__init__

    def traced(self: Store, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._con.set_trace_callback(statements.append)

    mp = pytest.MonkeyPatch()
    mp.setattr(Store, "__init__", traced)
    try:
        read_everything(db, tmp, statements)
    finally:
        mp.undo()
    yield db, statements


def read_everything(db: Path, tmp: Path, statements: list[str]) -> None:
    """Every read path, through the CLI where there is one."""
    # corpus stats, and every export format with and without the rejected attempts
    assert main(["corpus", "stats", "--db", str(db)]) == 0
    for target, flags in (
        ("a.jsonl", []),
        ("b.parquet", []),
        ("hf", ["--format", "hf"]),
    ):
        for more in ([], ["--include-rejected", "--critic-raw"]):
            out = tmp / f"{len(statements)}-{target}"
            assert main(["corpus", "export", "--db", str(db), "-o", str(out), *flags, *more]) == 0
    with Store(db) as store:
        # the iterators, and what a resumed run reads before it goes on
        store.attempts()
        store.attempts("p1")
        store.entries()
        list(store.iter_attempts())
        list(store.iter_entries_with_attempts())
        list(store.iter_rejected())
        store.run_provenance()
        ids = [row[0] for row in store._query("SELECT id FROM problems")]
        store.add_problems([store.problem(i) for i in ids])  # type: ignore[misc]
        store.progress(ids)
        store.cache.get("generation:nothing")
        review_pages(store)


def review_pages(store: Store) -> None:
    """The review app's pages and API, with each filter the list takes, after a label and an
    audit sample; the labelled-suite export and the audit report."""
    from starlette.testclient import TestClient

    from formalize.labels import add_label, lean_sha
    from formalize.records import Label, LabelValue
    from formalize.review.app import ReviewSettings, create_app
    from formalize.review.audit import draw_sample
    from formalize.review.labelled import labelled_attempts
    from formalize.review.suite import export_suite

    for attempt in store.attempts("p1"):
        sha = lean_sha(attempt.candidate.lean)
        label = Label("p1", attempt.round, attempt.sample, sha, LabelValue.FAITHFUL, "alice")
        add_label(store, label)
    draw_sample(store, 5, stratify="source", seed=1)
    labelled_attempts(store)
    export_suite(store, store.path.parent / "suite.jsonl")

    app = create_app(store, ReviewSettings(annotator="alice", csrf_token="csrf-for-tests"))
    run = store.runs()[0]["id"]
    filters: list[dict[str, str]] = [
        {},
        {"status": "accepted"},
        {"status": "lean_error", "round": "1"},
        {"run": run},
        {"source": "minif2f"},
        {"min_share": "0.5", "max_share": "1"},
        {"problem": "p1"},
        {"labelled": "yes"},
        {"labelled": "no", "annotator": "alice"},
    ]
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        for path in ("/", "/audit", "/api/session", "/api/report"):
            assert client.get(path).status_code < 500, path
        for params in filters:
            for path in ("/attempts", "/api/attempts"):
                response = client.get(path, params={**params, "limit": "5"})
                assert response.status_code == 200, (path, params, response.text[:300])
            page = client.get("/api/attempts", params={**params, "limit": "2"}).json()
            if page["items"]:
                last = str(page["items"][-1]["attempt_id"])
                client.get("/api/attempts", params={**params, "limit": "2", "after": last})
                client.get("/api/attempts", params={**params, "limit": "2", "before": last})
        for problem in ("p1", "p2", "vac"):
            assert client.get(f"/problems/{problem}").status_code == 200
            assert client.get(f"/api/problems/{problem}").status_code == 200


def test_every_read_query_uses_the_index_it_needs(recorded: tuple[Path, list[str]]) -> None:
    db, statements = recorded
    checked: dict[str, list[str]] = {}
    with sqlite3.connect(db) as con:
        for sql in dict.fromkeys(s.strip() for s in statements):
            if not re.match(r"(SELECT|WITH|UPDATE|DELETE)\b", sql, re.I):
                continue
            plan = explain(con, sql)
            checked[sql] = plan_problems(sql, plan)
    # the read paths were all there: the export join, the funnel, the review list and detail
    joined = "\n".join(checked)
    for needle in (
        "FROM entries e LEFT JOIN attempts a",
        "GROUP BY status, check_status",
        "FROM attempts a WHERE",
        "FROM provenances",
        "FROM labels",
    ):
        assert needle in joined, needle
    bad = {sql: found for sql, found in checked.items() if found}
    assert not bad, "\n\n".join(f"{sql}\n  " + "\n  ".join(p) for sql, p in bad.items())
