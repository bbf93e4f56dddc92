"""The corpus store: migrations, resume states, dedup, cache, faults, concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formalize.corpus import ProblemState, Store, default_db_path
from formalize.errors import FormalizeError
from formalize.home import data_home
from formalize.migrations import MIGRATIONS
from formalize.records import AttemptStatus, Problem

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus_writer  # noqa: E402


def fill(store: Store, n: int) -> str:
    run = store.start_run({"n": n}, "test")
    store.add_problems([Problem(f"p{k}", f"Problem number {k}.") for k in range(n)])
    return run


def test_migrations_recorded_and_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        assert store.schema_version() == MIGRATIONS[-1].version
    with Store(db) as store:  # reopening applies nothing twice
        rows = store._query("SELECT version, name FROM migrations")
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO migrations VALUES (999, 'future', 0)")
    con.commit()
    con.close()
    with pytest.raises(FormalizeError, match="newer formalize"):
        Store(db)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(FormalizeError, match="not a formalize corpus"):
        Store(bad)


def test_data_home_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FORMALIZE_HOME", str(tmp_path / "h"))
    assert data_home() == tmp_path / "h"
    assert default_db_path() == tmp_path / "h" / "corpus.db"
    monkeypatch.delenv("FORMALIZE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "x"))
    assert data_home() == tmp_path / "x" / "formalize"


def test_states_move_new_in_flight_done(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run = fill(store, 3)
        assert {p.state for p in store.progress().values()} == {ProblemState.NEW}
        store.record_round(run, "p0", 1, corpus_writer.attempts_for(0, 1), feedback="fb")
        entry = store.record_round(
            run, "p1", 2, corpus_writer.attempts_for(1, 2), ranked_faithful=(1, 0)
        )
        store.record_round(run, "p2", 1, corpus_writer.attempts_for(2, 1), last_round=True)
        prog = store.progress()
    assert prog["p0"].state is ProblemState.IN_FLIGHT
    assert prog["p0"].rounds_done == 1 and prog["p0"].feedback == "fb"
    assert prog["p1"].state is ProblemState.DONE
    assert prog["p2"].state is ProblemState.EXHAUSTED
    assert entry is not None and entry.provenance["sample"] == 1  # the ranking was followed


def test_reopened_store_tells_what_is_done(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        run = fill(store, 2)
        store.record_round(run, "p0", 2, corpus_writer.attempts_for(0, 2), ranked_faithful=(0,))
    with Store(db) as store:
        prog = store.progress()
        assert prog["p0"].state is ProblemState.DONE
        assert prog["p1"].state is ProblemState.NEW
        assert len(store.entries()) == 1


def test_dedup_exact_and_normalised(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run = fill(store, 8)
        assert store.record_round(
            run, "p3", 2, corpus_writer.attempts_for(3, 2), ranked_faithful=(0, 1)
        )
        # p7's statement is p3's with another theorem name and bound variable: a duplicate.
        entry = store.record_round(
            run, "p7", 2, corpus_writer.attempts_for(7, 2), ranked_faithful=(0, 1)
        )
        assert entry is None
        statuses = [a.status for a in store.attempts("p7")]
        assert statuses == [AttemptStatus.DUPLICATE, AttemptStatus.DUPLICATE]
        assert store.progress()["p7"].state is ProblemState.EXHAUSTED
        assert store.funnel().duplicates == 2


def test_rerecording_a_round_replaces_it_and_never_adds_an_entry(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run = fill(store, 1)
        store.record_round(run, "p0", 1, corpus_writer.attempts_for(0, 1))
        store.record_round(run, "p0", 1, corpus_writer.attempts_for(0, 1))
        assert len(store.attempts("p0")) == 1
        store.record_round(run, "p0", 2, corpus_writer.attempts_for(0, 2), ranked_faithful=(0,))
        again = store.record_round(
            run, "p0", 2, corpus_writer.attempts_for(0, 2), ranked_faithful=(0,)
        )
        assert again is None
        assert len(store.entries()) == 1


def test_changed_statement_under_known_id_is_an_error(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        store.add_problems([Problem("a", "one")])
        assert store.add_problems([Problem("a", "one"), Problem("b", "two")]) == 1
        with pytest.raises(FormalizeError, match="different statement"):
            store.add_problems([Problem("a", "changed")])


def test_cache_round_trip_and_persistence(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        assert store.cache.get("model:abc") is None
        store.cache.put("model:abc", '{"x": 1}')
        store.cache.put("model:abc", '{"x": 2}')
    with Store(db) as store:
        assert store.cache.get("model:abc") == '{"x": 2}'
        assert store._query("SELECT kind FROM cache")[0][0] == "model"


def test_run_records_config_and_counts(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        run = store.start_run({"rounds": 3, "translator": "hf:x"}, "0.1.0+gabc")
        store.finish_run(run, "completed", {"accepted": 2})
        (only,) = store.runs()
    assert only["config"] == {"rounds": 3, "translator": "hf:x"}
    assert only["counts"] == {"accepted": 2}
    assert only["status"] == "completed" and only["ended_at"] >= only["started_at"]


def run_writer(db: Path, n: int, sleep: float = 0.0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(HERE / "corpus_writer.py"), str(db), str(n), "--sleep", str(sleep)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


snapshot = corpus_writer.snapshot
count_entries = corpus_writer.count_entries


def test_sigkill_mid_run_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    n = 120
    reference = tmp_path / "ref.db"
    assert run_writer(reference, n).wait(timeout=120) == 0
    expected = snapshot(reference)
    assert len(expected[0]) == n - n // 10  # every k % 10 == 7 is a duplicate

    db = tmp_path / "killed.db"
    kills = 0
    for threshold in (10, 45, 80):
        proc = run_writer(db, n)
        deadline = time.monotonic() + 60
        while count_entries(db) < threshold and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        with Store(db) as store:  # opens cleanly after every kill
            assert store._query("PRAGMA integrity_check")[0][0] == "ok"
    assert kills >= 2, "the writer finished before it could be killed; the test proved nothing"
    assert run_writer(db, n).wait(timeout=120) == 0
    assert snapshot(db) == expected


def test_two_writers_at_once_both_succeed(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Store(db).close()
    procs = [run_writer(db, 60), run_writer(db, 60)]
    codes = [p.wait(timeout=120) for p in procs]
    errs = [p.stderr.read().decode() for p in procs if p.stderr]
    assert codes == [0, 0], errs
    with Store(db) as store:
        assert store._query("PRAGMA integrity_check")[0][0] == "ok"
        assert len(store.entries()) == 60 - 6
        assert len(store.runs()) == 2


def test_locked_writer_gets_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(db).close()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(FormalizeError, match="locked by another writer"):
            Store(db, busy_timeout_s=0.2)  # its migration check needs the write lock
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
