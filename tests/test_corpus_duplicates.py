"""Duplicates name the entry they duplicate and are counted apart; a store written before
that (schema 1) is migrated on open, its old duplicates filled in."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from formalize.corpus import ProblemState, Store
from formalize.migrations import MIGRATIONS
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    CriticSample,
    Judgement,
    Problem,
    Verdict,
)

FIRST = "theorem p1 (x : ℕ) (h : 0 < x) : x + 1 > 1 := by sorry"
RENAMED = "theorem p2 (y : ℕ) (h : 0 < y) : y + 1 > 1 := by sorry"  # the same, alpha-renamed


def faithful(problem_id: str, lean: str, sample: int = 0) -> Attempt:
    cand = Candidate(problem_id, CandidateStatus.EXTRACTED, lean, "raw", round=1, sample=sample)
    check = CheckResult(CheckStatus.OK, (), 0.1, "v4.15.0")
    verdict = Verdict(Judgement.FAITHFUL, 1.0, (CriticSample(Judgement.FAITHFUL, "{}", "ok"),))
    return Attempt(problem_id, 1, sample, AttemptStatus.FAITHFUL, cand, check, verdict)


def record(store: Store, run: str, problem_id: str, lean: str) -> None:
    store.record_round(
        run, problem_id, 1, [faithful(problem_id, lean)], ranked_faithful=[0], last_round=False
    )


def test_a_duplicate_names_its_entry_and_the_funnel_counts_it_apart(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run = store.start_run({}, "test")
        store.add_problems([Problem("p1", "One."), Problem("p2", "Two."), Problem("p3", "Three.")])
        record(store, run, "p1", FIRST)
        record(store, run, "p2", RENAMED)
        store.record_round(run, "p3", 1, [], last_round=True)
        (dup,) = store.attempts("p2")
        assert dup.status is AttemptStatus.DUPLICATE and dup.duplicate_of == "p1"
        progress = store.progress()
        assert progress["p2"].state is ProblemState.EXHAUSTED
        assert progress["p2"].duplicate_of == "p1" and progress["p3"].duplicate_of is None
        funnel = store.funnel()
        assert (funnel.problems_exhausted, funnel.problems_duplicate) == (1, 1)
        row = store._query_one("SELECT duplicate_of FROM attempts WHERE problem_id = 'p2'")
        assert row == ("p1",)


def old_store(path: Path) -> None:
    """A corpus as formalize wrote it at schema 1: a faithful statement of p2 duplicating the
    entry of p1 (after normalisation), stored without naming it."""
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at REAL NOT NULL)"
    )
    for statement in MIGRATIONS[0].statements:
        con.execute(statement)
    con.execute("INSERT INTO migrations VALUES (1, 'initial schema', 0)")
    con.execute("INSERT INTO runs VALUES ('r', 0, 1, 'completed', '{}', 'old', '{}')")
    now = time.time()
    for pid, state in (("p1", "done"), ("p2", "exhausted")):
        problem = Problem(pid, f"Problem {pid}.")
        con.execute(
            "INSERT INTO problems VALUES (?, ?, ?, ?, 1, NULL, ?)",
            (pid, problem.to_json(), problem.informal, state, now),
        )
    with Store(path.with_name("scratch.db")) as scratch:  # the hashes the store dedups with
        run = scratch.start_run({}, "t")
        scratch.add_problems([Problem("p1", "Problem p1.")])
        record(scratch, run, "p1", FIRST)
        exact, norm, entry = scratch._query_one("SELECT exact_hash, norm_hash, record FROM entries")
    con.execute(
        "INSERT INTO entries(problem_id, run_id, exact_hash, norm_hash, record, created_at) "
        "VALUES ('p1', 'r', ?, ?, ?, ?)",
        (exact, norm, entry, now),
    )
    for pid, lean, status in (("p1", FIRST, "accepted"), ("p2", RENAMED, "duplicate")):
        data = json.loads(faithful(pid, lean).to_json())
        data["status"] = status
        del data["duplicate_of"]  # the field did not exist yet
        con.execute(
            "INSERT INTO attempts(run_id, problem_id, round, sample, status, lean, check_status, "
            "judgement, record, created_at) VALUES ('r', ?, 1, 0, ?, ?, 'ok', 'faithful', ?, ?)",
            (pid, status, lean, json.dumps(data), now),
        )
    con.commit()
    con.close()


def test_an_old_store_migrates_on_open_and_its_duplicates_name_their_entry(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    old_store(db)
    with Store(db) as store:
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
        versions = [r[0] for r in store._query("SELECT version FROM migrations ORDER BY version")]
        assert versions == [m.version for m in MIGRATIONS]
        (dup,) = store.attempts("p2")
        assert dup.duplicate_of == "p1"
        assert store.progress()["p2"].duplicate_of == "p1"
        funnel = store.funnel()
        assert (funnel.problems_done, funnel.problems_exhausted, funnel.problems_duplicate) == (
            1,
            0,
            1,
        )
    with Store(db) as store:  # reopening applies nothing twice
        assert len(store._query("SELECT version FROM migrations")) == len(MIGRATIONS)
