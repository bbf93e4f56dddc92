"""The corpus store: one SQLite file holding runs, problems, every attempt, accepted entries and
the content-hash cache of model calls and Lean checks.

WAL mode with a busy timeout, so a second process can read while a run writes and a second writer
waits its turn instead of corrupting anything. Every write that moves a problem forward is one
``BEGIN IMMEDIATE`` transaction: a process killed at any point leaves the problem either at its
previous step or at its next one, never half-way.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import FormalizeError
from formalize.home import data_home
from formalize.migrations import MIGRATIONS
from formalize.records import Attempt, AttemptStatus, Entry, Problem


def default_db_path() -> Path:
    """The corpus file used when no ``--db`` is given."""
    return data_home() / "corpus.db"


class ProblemState(str, enum.Enum):
    """Where a problem stands in the store."""

    NEW = "new"  # known, no round finished yet
    IN_FLIGHT = "in_flight"  # some rounds finished, not yet accepted or exhausted
    DONE = "done"  # an entry was accepted
    EXHAUSTED = "exhausted"  # every round ran without an accepted entry


@dataclass(frozen=True)
class ProblemProgress:
    """A problem's standing: its state, rounds finished and the feedback for the next round;
    ``duplicate_of`` names the problem whose entry its faithful statements duplicated, when it
    ended that way."""

    problem_id: str
    state: ProblemState
    rounds_done: int
    feedback: str | None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class Funnel:
    """Counts from problems to accepted entries (``formalize corpus stats``)."""

    problems: int
    problems_done: int
    problems_exhausted: int  # every round ran and none was accepted (duplicates not counted)
    problems_duplicate: int  # judged faithful, but each statement duplicated another entry
    candidates: int
    rejected: int
    compiled: int
    judged_faithful: int
    accepted: int
    duplicates: int
    runs: int
    # attempts each Lean-verified filter rejected, by status (vacuous, refuted, ...)
    filter_rejected: dict[str, int] = field(default_factory=dict)
    # every signal (filters, judges): name -> {outcome: count} (trivial is counted even when it
    # does not reject)
    signal_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # the name check: candidates whose names did not resolve (sent back with names = precheck),
    # and compiled ones Lean accepted with names the index lacks (a stale or incomplete index)
    names_unknown: int = 0
    names_stale: int = 0

    @property
    def attempts_per_accepted(self) -> float | None:
        """Candidates tried per accepted pair (None before the first acceptance)."""
        return self.candidates / self.accepted if self.accepted else None


class StoreCache:
    """The store's content-hash cache (implements ``formalize.cache.Cache``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str) -> str | None:
        """The stored value, or None."""
        row = self._store._query_one("SELECT value FROM cache WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (upsert)."""
        kind = key.split(":", 1)[0]
        with self._store._write() as con:
            con.execute(
                "INSERT INTO cache(key, kind, value, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, kind, value, time.time()),
            )


class Store:
    """An open corpus file. Thread-safe; use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._con = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            mode = self._con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._con.execute("PRAGMA synchronous = NORMAL")
            self._con.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise FormalizeError(
                f"{self.path} is not a formalize corpus ({exc}); give another --db path"
            ) from exc
        if str(mode).lower() != "wal":
            raise FormalizeError(f"{self.path}: could not enable WAL mode (got {mode!r})")
        self._migrate()
        self.cache = StoreCache(self)

    # ----------------------------------------------------------------- plumbing

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: writers queue on the busy timeout)."""
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise FormalizeError(
                    f"{self.path} is locked by another writer ({exc}); "
                    "wait for it or use another --db"
                ) from exc
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            else:
                self._con.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._con.execute(sql, params).fetchall())

    def _query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def _migrate(self) -> None:
        with self._write() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS migrations("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            done = {row[0] for row in con.execute("SELECT version FROM migrations")}
            newest = max((m.version for m in MIGRATIONS), default=0)
            if done and max(done) > newest:
                raise FormalizeError(
                    f"{self.path} was written by a newer formalize (schema {max(done)} > {newest});"
                    " upgrade formalize to read it"
                )
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    con.execute(statement)
                if migration.backfill is not None:
                    migration.backfill(con)
                con.execute(
                    "INSERT INTO migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )

    def schema_version(self) -> int:
        """The newest migration applied."""
        row = self._query_one("SELECT MAX(version) FROM migrations")
        return int(row[0]) if row and row[0] is not None else 0

    # ----------------------------------------------------------------- runs

    def start_run(self, config: dict[str, Any], code_version: str) -> str:
        """Record a new run with its resolved config; returns its id."""
        run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"
        with self._write() as con:
            con.execute(
                "INSERT INTO runs(id, started_at, status, config, code_version) "
                "VALUES (?, ?, 'running', ?, ?)",
                (
                    run_id,
                    time.time(),
                    json.dumps(config, sort_keys=True, default=str),
                    code_version,
                ),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        """Mark a run finished (``completed``, ``interrupted``, ``failed``) with its counts."""
        with self._write() as con:
            con.execute(
                "UPDATE runs SET ended_at = ?, status = ?, counts = ? WHERE id = ?",
                (time.time(), status, json.dumps(counts, sort_keys=True), run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        rows = self._query(
            "SELECT id, started_at, ended_at, status, config, code_version, counts FROM runs "
            "ORDER BY started_at"
        )
        keys = ("id", "started_at", "ended_at", "status", "config", "code_version", "counts")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["config"] = json.loads(item["config"] or "{}")
            item["counts"] = json.loads(item["counts"] or "{}")
            out.append(item)
        return out

    # ----------------------------------------------------------------- problems

    def add_problems(self, problems: Sequence[Problem]) -> int:
        """Insert problems not yet known (by id); returns how many were new.

        A known id keeps its stored text: a changed statement under the same id is an error,
        since its attempts were made for the old text.
        """
        new = 0
        with self._write() as con:
            for p in problems:
                row = con.execute("SELECT informal FROM problems WHERE id = ?", (p.id,)).fetchone()
                if row is not None:
                    if row[0] != p.informal:
                        raise FormalizeError(
                            f"problem {p.id!r} is already in {self.path} with a different "
                            "statement; give it a new id or use another --db"
                        )
                    continue
                con.execute(
                    "INSERT INTO problems(id, record, informal, state, rounds_done, updated_at) "
                    "VALUES (?, ?, ?, 'new', 0, ?)",
                    (p.id, p.to_json(), p.informal, time.time()),
                )
                new += 1
        return new

    def problem(self, problem_id: str) -> Problem | None:
        """A stored problem by id."""
        row = self._query_one("SELECT record FROM problems WHERE id = ?", (problem_id,))
        return None if row is None else Problem.from_json(row[0])

    def progress(self, ids: Sequence[str] | None = None) -> dict[str, ProblemProgress]:
        """Standing of the given problems (all when None); unknown ids are absent."""
        rows = self._query("SELECT id, state, rounds_done, feedback, duplicate_of FROM problems")
        wanted = None if ids is None else set(ids)
        return {
            r[0]: ProblemProgress(r[0], ProblemState(r[1]), int(r[2]), r[3], r[4])
            for r in rows
            if wanted is None or r[0] in wanted
        }

    # ----------------------------------------------------------------- the step

    def record_round(
        self,
        run_id: str,
        problem_id: str,
        round_: int,
        attempts: Sequence[Attempt],
        *,
        ranked_faithful: Sequence[int] = (),
        feedback: str | None = None,
        last_round: bool = False,
    ) -> Entry | None:
        """Write one finished round of one problem in a single transaction.

        ``attempts`` are every candidate of the round; ``ranked_faithful`` indexes the faithful
        ones in order of preference. The first whose statement the corpus does not already hold
        (exactly or in normalised form) becomes the accepted entry; the ones before it that were
        duplicates are stored as ``duplicate``, each naming the problem whose entry it
        duplicates; when all were, the problem is exhausted as a duplicate of the first such
        entry (its faithful formalization is already in the corpus). Re-recording a round (a
        resumed run) replaces its attempts and never adds a second entry for the problem.
        """
        from formalize.lean.statement import normalize_statement

        with self._write() as con:
            state = con.execute("SELECT state FROM problems WHERE id = ?", (problem_id,)).fetchone()
            if state is None:
                raise FormalizeError(f"problem {problem_id!r} is not in the store")
            if state[0] == ProblemState.DONE.value:
                return None
            final = list(attempts)
            entry: Entry | None = None
            duplicate_of: str | None = None
            for index in ranked_faithful:
                attempt = final[index]
                lean = attempt.candidate.lean
                exact, norm = _hash(lean), _hash(normalize_statement(lean))
                clash = con.execute(
                    "SELECT problem_id FROM entries WHERE exact_hash = ? OR norm_hash = ?",
                    (exact, norm),
                ).fetchone()
                if clash is not None:
                    final[index] = dataclasses.replace(
                        attempt, status=AttemptStatus.DUPLICATE, duplicate_of=clash[0]
                    )
                    duplicate_of = duplicate_of or clash[0]
                    continue
                final[index] = dataclasses.replace(attempt, status=AttemptStatus.ACCEPTED)
                entry = _entry_for(con, final[index], run_id)
                con.execute(
                    "INSERT INTO entries(problem_id, run_id, exact_hash, norm_hash, record, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (problem_id, run_id, exact, norm, entry.to_json(), time.time()),
                )
                break
            con.execute(
                "DELETE FROM attempts WHERE problem_id = ? AND round = ?", (problem_id, round_)
            )
            con.execute(
                "DELETE FROM signals WHERE problem_id = ? AND round = ?", (problem_id, round_)
            )
            for a in final:
                con.execute(
                    "INSERT INTO attempts(run_id, problem_id, round, sample, status, lean, "
                    "check_status, judgement, record, created_at, duplicate_of) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        problem_id,
                        a.round,
                        a.sample,
                        a.status.value,
                        a.candidate.lean,
                        None if a.check is None else a.check.status.value,
                        None if a.verdict is None else a.verdict.judgement.value,
                        a.to_json(),
                        time.time(),
                        a.duplicate_of,
                    ),
                )
                con.executemany(
                    "INSERT OR REPLACE INTO signals(problem_id, round, sample, name, version,"
                    " outcome) VALUES (?,?,?,?,?,?)",
                    [
                        (problem_id, a.round, a.sample, s.name, s.version, s.outcome.value)
                        for s in a.signals
                    ],
                )
            if entry is not None:
                new_state = ProblemState.DONE
                duplicate_of = None
            elif last_round or ranked_faithful:
                # every faithful candidate duplicated an entry: retrying would find it again
                new_state = ProblemState.EXHAUSTED
            else:
                new_state = ProblemState.IN_FLIGHT
            con.execute(
                "UPDATE problems SET state = ?, rounds_done = ?, feedback = ?, updated_at = ?, "
                "duplicate_of = ? WHERE id = ?",
                (new_state.value, round_, feedback, time.time(), duplicate_of, problem_id),
            )
            return entry

    # ----------------------------------------------------------------- reading

    def attempts(self, problem_id: str | None = None) -> list[Attempt]:
        """Stored attempts in (problem, round, sample) order."""
        if problem_id is None:
            rows = self._query("SELECT record FROM attempts ORDER BY problem_id, round, sample")
        else:
            rows = self._query(
                "SELECT record FROM attempts WHERE problem_id = ? ORDER BY round, sample",
                (problem_id,),
            )
        return [Attempt.from_json(r[0]) for r in rows]

    def entries(self) -> list[Entry]:
        """Accepted entries, in acceptance order."""
        return list(self.iter_entries())

    def iter_entries(self, page: int = 1000) -> Iterator[Entry]:
        """Accepted entries in acceptance order, read a page at a time (for large exports)."""
        for record in self._pages("entries", page):
            yield Entry.from_json(record)

    def iter_attempts(self, page: int = 1000) -> Iterator[Attempt]:
        """Every attempt in the order written, read a page at a time (for large exports)."""
        for record in self._pages("attempts", page):
            yield Attempt.from_json(record)

    def iter_entries_with_attempts(
        self, page: int = 1000
    ) -> Iterator[tuple[Entry, Attempt | None]]:
        """Each accepted entry with the attempt it was accepted from (its verdict, every critic
        sample), in acceptance order, a page at a time."""
        last = 0
        while True:
            rows = self._query(
                "SELECT e.id, e.record, a.record FROM entries e LEFT JOIN attempts a "
                "ON a.problem_id = e.problem_id AND a.status = 'accepted' "
                "WHERE e.id > ? ORDER BY e.id LIMIT ?",
                (last, page),
            )
            if not rows:
                return
            for row_id, entry, attempt in rows:
                last = row_id
                yield (
                    Entry.from_json(entry),
                    None if attempt is None else Attempt.from_json(attempt),
                )

    def provenance_variants(self) -> list[dict[str, Any]]:
        """Every distinct provenance of the stored attempts and entries, without the keys that
        differ from one entry to the next (``sample``, ``critic_summary``): what an export's
        column types are derived from."""
        rows = self._query(
            "SELECT DISTINCT json_extract(record, '$.provenance') FROM attempts "
            "UNION SELECT DISTINCT json_remove(json_extract(record, '$.provenance'), "
            "'$.sample', '$.critic_summary') FROM entries"
        )
        return [json.loads(r[0]) for r in rows if r[0]]

    def run_provenance(self) -> dict[str, dict[str, Any]]:
        """Each run's provenance (models and their parameters, prompts, code version), read from
        the first attempt it wrote."""
        rows = self._query(
            "SELECT run_id, json_extract(record, '$.provenance') FROM attempts "
            "WHERE id IN (SELECT MIN(id) FROM attempts GROUP BY run_id)"
        )
        return {r[0]: json.loads(r[1]) for r in rows if r[1]}

    def _pages(self, table: str, page: int) -> Iterator[str]:
        # keyset pagination: no cursor stays open between pages, so writers are never blocked
        last = 0
        while True:
            rows = self._query(
                f"SELECT id, record FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (last, page)
            )
            if not rows:
                return
            for row_id, record in rows:
                last = row_id
                yield record

    def funnel(self) -> Funnel:
        """The counts behind ``formalize corpus stats``."""

        def count(sql: str) -> int:
            row = self._query_one(sql)
            return int(row[0]) if row else 0

        return Funnel(
            problems=count("SELECT COUNT(*) FROM problems"),
            problems_done=count("SELECT COUNT(*) FROM problems WHERE state = 'done'"),
            problems_exhausted=count(
                "SELECT COUNT(*) FROM problems WHERE state = 'exhausted' AND duplicate_of IS NULL"
            ),
            problems_duplicate=count(
                "SELECT COUNT(*) FROM problems WHERE state = 'exhausted' "
                "AND duplicate_of IS NOT NULL"
            ),
            candidates=count("SELECT COUNT(*) FROM attempts"),
            rejected=count("SELECT COUNT(*) FROM attempts WHERE status = 'rejected'"),
            compiled=count("SELECT COUNT(*) FROM attempts WHERE check_status = 'ok'"),
            judged_faithful=count("SELECT COUNT(*) FROM attempts WHERE judgement = 'faithful'"),
            accepted=count("SELECT COUNT(*) FROM entries"),
            duplicates=count("SELECT COUNT(*) FROM attempts WHERE status = 'duplicate'"),
            runs=count("SELECT COUNT(*) FROM runs"),
            filter_rejected=self._filter_rejections(),
            signal_counts=self._signal_counts(),
            names_unknown=count("SELECT COUNT(*) FROM attempts WHERE status = 'unknown_name'"),
            names_stale=count(
                "SELECT COUNT(*) FROM signals WHERE name = 'names' AND outcome = 'inconclusive'"
            ),
        )

    def _filter_rejections(self) -> dict[str, int]:
        statuses = [s.value for s in AttemptStatus if s.filtered]
        marks = ", ".join("?" * len(statuses))
        rows = self._query(
            f"SELECT status, COUNT(*) FROM attempts WHERE status IN ({marks}) GROUP BY status",
            tuple(statuses),
        )
        found = {str(r[0]): int(r[1]) for r in rows}
        return {status: found[status] for status in statuses if status in found}

    def _signal_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        rows = self._query(
            "SELECT name, outcome, COUNT(*) FROM signals GROUP BY name, outcome ORDER BY name"
        )
        for name, outcome, n in rows:
            out.setdefault(str(name), {})[str(outcome)] = int(n)
        return out


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry_for(con: sqlite3.Connection, attempt: Attempt, run_id: str) -> Entry:
    from formalize.critic import explain_verdict

    row = con.execute("SELECT record FROM problems WHERE id = ?", (attempt.problem_id,)).fetchone()
    problem = Problem.from_json(row[0])
    assert attempt.verdict is not None and attempt.check is not None
    provenance = dict(attempt.provenance)
    provenance.update(
        run_id=run_id,
        toolchain=attempt.check.toolchain,
        sample=attempt.sample,
        critic_summary=explain_verdict(attempt.verdict),
    )
    return Entry(
        problem_id=problem.id,
        informal=problem.informal,
        lean=attempt.candidate.lean,
        header=attempt.candidate.header,
        round=attempt.round,
        critic_share=attempt.verdict.share,
        answer=problem.answer,
        source=problem.source,
        provenance=provenance,
    )
