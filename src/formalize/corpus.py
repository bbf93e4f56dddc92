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
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.cache_packing import pack, stored_key, unpack
from formalize.errors import FormalizeError
from formalize.home import data_home
from formalize.liveness import ProcessIdentity, process_gone
from formalize.migrations import (
    ENTRY_OWN_PROVENANCE,
    MIGRATIONS,
    canonical_json,
    provenance_id,
    split_provenance,
)
from formalize.records import Attempt, AttemptStatus, Entry, Problem
from formalize.store_queries import (
    ATTEMPT_COUNTS,
    ENTRIES_WITH_ATTEMPTS,
    FIRST_PROVENANCE_OF_RUN,
    PROBLEM_COUNTS,
    REJECTED_WITH_PROBLEMS,
    attempt_from_row,
    entry_from_row,
    provenance_of,
)


def default_db_path() -> Path:
    """The corpus file used when no ``--db`` is given."""
    return data_home() / "corpus.db"


class ProblemState(str, enum.Enum):
    """Where a problem stands in the store."""

    NEW = "new"  # known, no round finished yet
    IN_FLIGHT = "in_flight"  # some rounds finished, not yet accepted or exhausted
    DONE = "done"  # an entry was accepted
    EXHAUSTED = "exhausted"  # every round ran without an accepted entry


#: The key of :attr:`Funnel.signal_counts` counting probes that did not elaborate.
PROBE_ERRORS = "probe error"


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
    # does not reject), and PROBE_ERRORS: the inconclusive ones whose probe did not elaborate
    signal_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # attempts by how they ended (AttemptStatus values: no_code, lean_error, accepted, ...)
    statuses: dict[str, int] = field(default_factory=dict)
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
        row = self._store._query_one("SELECT value FROM cache WHERE key = ?", (stored_key(key),))
        return None if row is None else unpack(row[0])

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (upsert), packed (``formalize.cache_packing``)."""
        kind = key.split(":", 1)[0]
        with self._store._write() as con:
            con.execute(
                "INSERT INTO cache(key, kind, value, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (stored_key(key), kind, pack(value), time.time()),
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
        self._mark_lost_runs()
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
        """Record a new run with its resolved config and this process; returns its id."""
        run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"
        me = ProcessIdentity.current()
        now = time.time()
        with self._write() as con:
            con.execute(
                "INSERT INTO runs(id, started_at, status, config, code_version, pid, host, "
                "process_start, heartbeat_at) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    json.dumps(config, sort_keys=True, default=str),
                    code_version,
                    me.pid,
                    me.host,
                    me.start,
                    now,
                ),
            )
        return run_id

    def heartbeat(self, run_id: str) -> None:
        """Note that ``run_id`` is still running (what tells it from a run on another host
        whose node was lost; ``formalize.liveness``)."""
        with self._write() as con:
            con.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                (time.time(), run_id),
            )

    def _mark_lost_runs(self) -> None:
        """Mark ``interrupted`` every ``running`` run whose process is gone."""
        rows = self._query(
            "SELECT id, pid, host, process_start, heartbeat_at FROM runs "
            "WHERE status = 'running' AND pid IS NOT NULL"
        )
        now = time.time()
        lost = [
            (beat, run_id)
            for run_id, pid, host, start, beat in rows
            if process_gone(
                ProcessIdentity(int(pid), str(host), start), None if beat is None else now - beat
            )
        ]
        if lost:
            with self._write() as con:
                con.executemany(
                    "UPDATE runs SET status = 'interrupted', ended_at = ? "
                    "WHERE id = ? AND status = 'running'",
                    lost,
                )

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any]) -> None:
        """Mark a run finished (``completed``, ``interrupted``, ``failed``) with its counts."""
        with self._write() as con:
            con.execute(
                "UPDATE runs SET ended_at = ?, status = ?, counts = ? WHERE id = ?",
                (time.time(), status, json.dumps(counts, sort_keys=True), run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first (a ``running`` one whose process is gone is marked
        ``interrupted`` first: a long-open store, the review app's, sees it too)."""
        self._mark_lost_runs()
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
                record, shared = split_provenance(entry.to_dict(), ENTRY_OWN_PROVENANCE)
                con.execute(
                    "INSERT INTO entries(problem_id, run_id, exact_hash, norm_hash, record, "
                    "created_at, provenance_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        problem_id,
                        run_id,
                        exact,
                        norm,
                        canonical_json(record),
                        time.time(),
                        provenance_id(con, shared),
                    ),
                )
                break
            con.execute(
                "DELETE FROM attempts WHERE problem_id = ? AND round = ?", (problem_id, round_)
            )
            con.execute(
                "DELETE FROM signals WHERE problem_id = ? AND round = ?", (problem_id, round_)
            )
            for a in final:
                record, shared = split_provenance(a.to_dict())
                con.execute(
                    "INSERT INTO attempts(run_id, problem_id, round, sample, status, lean, "
                    "check_status, judgement, record, created_at, duplicate_of, provenance_id) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        problem_id,
                        a.round,
                        a.sample,
                        a.status.value,
                        a.candidate.lean,
                        None if a.check is None else a.check.status.value,
                        None if a.verdict is None else a.verdict.judgement.value,
                        canonical_json(record),
                        time.time(),
                        a.duplicate_of,
                        provenance_id(con, shared),
                    ),
                )
                con.executemany(
                    "INSERT OR REPLACE INTO signals(problem_id, round, sample, name, version,"
                    " outcome, probe_error) VALUES (?,?,?,?,?,?,?)",
                    [
                        (
                            problem_id,
                            a.round,
                            a.sample,
                            s.name,
                            s.version,
                            s.outcome.value,
                            _probe_error(s),
                        )
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
        select = f"SELECT a.record, {provenance_of('a')} FROM attempts a"
        if problem_id is None:
            rows = self._query(f"{select} ORDER BY a.problem_id, a.round, a.sample")
        else:
            rows = self._query(
                f"{select} WHERE a.problem_id = ? ORDER BY a.round, a.sample", (problem_id,)
            )
        return [attempt_from_row(*row) for row in rows]

    def entries(self) -> list[Entry]:
        """Accepted entries, in acceptance order."""
        return list(self.iter_entries())

    def iter_entries(self, page: int = 1000) -> Iterator[Entry]:
        """Accepted entries in acceptance order, read a page at a time (for large exports)."""
        for record, provenance in self._pages("entries", page):
            yield entry_from_row(record, provenance)

    def iter_attempts(self, page: int = 1000) -> Iterator[Attempt]:
        """Every attempt in the order written, read a page at a time (for large exports)."""
        for record, provenance in self._pages("attempts", page):
            yield attempt_from_row(record, provenance)

    def iter_entries_with_attempts(
        self, page: int = 1000
    ) -> Iterator[tuple[Entry, Attempt | None]]:
        """Each accepted entry with the attempt it was accepted from (its verdict, every critic
        sample), in acceptance order, a page at a time."""
        last = 0
        while True:
            rows = self._query(ENTRIES_WITH_ATTEMPTS, (last, page))
            if not rows:
                return
            for row_id, entry, entry_provenance, attempt, attempt_provenance in rows:
                last = row_id
                yield (
                    entry_from_row(entry, entry_provenance),
                    None if attempt is None else attempt_from_row(attempt, attempt_provenance),
                )

    def iter_rejected(self, page: int = 1000) -> Iterator[tuple[Attempt, Problem | None]]:
        """Every attempt that was not accepted, with its problem, in the order written, a page
        at a time."""
        last = 0
        while True:
            rows = self._query(REJECTED_WITH_PROBLEMS, (last, page))
            if not rows:
                return
            for row_id, record, provenance, problem in rows:
                last = row_id
                yield (
                    attempt_from_row(record, provenance),
                    None if problem is None else Problem.from_json(problem),
                )

    def provenance_variants(self) -> list[dict[str, Any]]:
        """Every distinct provenance of the stored attempts and entries, without the keys that
        differ from one entry to the next (``sample``, ``critic_summary``): what an export's
        column types are derived from. Each is stored once, so this reads a few rows, in the
        order of their text (the order the types were merged in before migration 6)."""
        rows = self._query("SELECT value FROM provenances ORDER BY value")
        return [json.loads(r[0]) for r in rows]

    def last_translators(self, problem_ids: Sequence[str]) -> Counter[str]:
        """How many of ``problem_ids`` each translator (the spec in its run's config) worked on
        last: the run of each problem's last round. Problems with no attempt are left out."""
        runs = {run["id"]: str(run["config"].get("translator")) for run in self.runs()}
        found: Counter[str] = Counter()
        for start in range(0, len(problem_ids), 500):
            part = list(problem_ids[start : start + 500])
            marks = ", ".join("?" * len(part))
            rows = self._query(
                "SELECT (SELECT a.run_id FROM attempts a WHERE a.problem_id = p.id "
                f"AND a.round = p.rounds_done LIMIT 1) FROM problems p WHERE p.id IN ({marks})",
                part,
            )
            found.update(runs.get(r[0], "?") for r in rows if r[0] is not None)
        return found

    def run_provenance(self) -> dict[str, dict[str, Any]]:
        """Each run's provenance (models and their parameters, prompts, code version), read from
        the first attempt it wrote."""
        out = {}
        for (run_id,) in self._query("SELECT id FROM runs ORDER BY started_at"):
            row = self._query_one(FIRST_PROVENANCE_OF_RUN, (run_id,))
            if row is not None and row[0]:
                out[str(run_id)] = json.loads(row[0])
        return out

    def _pages(self, table: str, page: int) -> Iterator[tuple[str, str | None]]:
        # keyset pagination: no cursor stays open between pages, so writers are never blocked
        last = 0
        while True:
            rows = self._query(
                f"SELECT t.id, t.record, {provenance_of('t')} FROM {table} t WHERE t.id > ? "
                "ORDER BY t.id LIMIT ?",
                (last, page),
            )
            if not rows:
                return
            for row_id, record, provenance in rows:
                last = row_id
                yield record, provenance

    def funnel(self) -> Funnel:
        """The counts behind ``formalize corpus stats``."""

        def count(sql: str) -> int:
            row = self._query_one(sql)
            return int(row[0]) if row else 0

        problems: dict[tuple[str, bool], int] = {}
        for state, duplicate, n in self._query(PROBLEM_COUNTS):
            problems[(str(state), bool(duplicate))] = int(n)
        outcomes = self._query(ATTEMPT_COUNTS)  # (status, check_status, judgement, count)

        def attempts(column: int, value: str) -> int:
            return sum(int(row[3]) for row in outcomes if row[column] == value)

        return Funnel(
            problems=sum(problems.values()),
            problems_done=sum(n for (state, _), n in problems.items() if state == "done"),
            problems_exhausted=problems.get(("exhausted", False), 0),
            problems_duplicate=problems.get(("exhausted", True), 0),
            candidates=sum(int(row[3]) for row in outcomes),
            rejected=attempts(0, "rejected"),
            compiled=attempts(1, "ok"),
            judged_faithful=attempts(2, "faithful"),
            accepted=count("SELECT COUNT(*) FROM entries"),
            duplicates=attempts(0, "duplicate"),
            runs=count("SELECT COUNT(*) FROM runs"),
            filter_rejected=self._filter_rejections(outcomes),
            signal_counts=self._signal_counts(),
            statuses=self._statuses(outcomes),
            names_unknown=attempts(0, "unknown_name"),
            names_stale=count(
                "SELECT COUNT(*) FROM signals WHERE name = 'names' AND outcome = 'inconclusive'"
            ),
        )

    @staticmethod
    def _statuses(outcomes: list[tuple[Any, ...]]) -> dict[str, int]:
        found: dict[str, int] = {}
        for status, _, _, n in outcomes:
            found[str(status)] = found.get(str(status), 0) + int(n)
        return found

    @staticmethod
    def _filter_rejections(outcomes: list[tuple[Any, ...]]) -> dict[str, int]:
        found: dict[str, int] = {}
        for status, _, _, n in outcomes:
            found[str(status)] = found.get(str(status), 0) + int(n)
        statuses = [s.value for s in AttemptStatus if s.filtered]
        return {status: found[status] for status in statuses if status in found}

    def _signal_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        rows = self._query(
            "SELECT name, outcome, COUNT(*) FROM signals GROUP BY name, outcome ORDER BY name"
        )
        for name, outcome, n in rows:
            out.setdefault(str(name), {})[str(outcome)] = int(n)
        # probes that did not elaborate (a share of the inconclusive; migration 8)
        broken = self._query(
            "SELECT name, COUNT(*) FROM signals WHERE probe_error = 1 GROUP BY name"
        )
        for name, n in broken:
            out.setdefault(str(name), {})[PROBE_ERRORS] = int(n)
        return out


def _probe_error(signal: Any) -> int:
    """1 for an inconclusive signal whose probe did not elaborate (its reason says so)."""
    from formalize.filters.base import PROBE_ERROR

    return int(signal.outcome.value == "inconclusive" and signal.reason.startswith(PROBE_ERROR))


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
