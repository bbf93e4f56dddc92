"""Numbered schema migrations of the corpus store, applied in order and recorded in a table.

Never edit a released migration: add a new one. A migration is SQL statements and, where old
rows must be filled in with what SQL cannot compute, a ``backfill`` run in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    statements: tuple[str, ...]
    backfill: Callable[[sqlite3.Connection], None] | None = None


def _name_duplicated_entries(con: sqlite3.Connection) -> None:
    """Migration 2's backfill: each ``duplicate`` attempt names the entry it duplicates (found
    by the hashes the store deduplicates with), and so does each problem that ended that way."""
    from formalize.lean.statement import normalize_statement

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    rows = con.execute(
        "SELECT id, lean, record FROM attempts WHERE status = 'duplicate'"
    ).fetchall()
    for attempt_id, lean, record in rows:
        found = con.execute(
            "SELECT problem_id FROM entries WHERE exact_hash = ? OR norm_hash = ?",
            (digest(lean), digest(normalize_statement(lean))),
        ).fetchone()
        if found is None:
            continue
        data = json.loads(record)
        data["duplicate_of"] = found[0]
        con.execute(
            "UPDATE attempts SET duplicate_of = ?, record = ? WHERE id = ?",
            (
                found[0],
                json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                attempt_id,
            ),
        )
    con.execute(
        "UPDATE problems SET duplicate_of = (SELECT a.duplicate_of FROM attempts a "
        "WHERE a.problem_id = problems.id AND a.round = problems.rounds_done "
        "AND a.duplicate_of IS NOT NULL ORDER BY a.sample LIMIT 1) WHERE state = 'exhausted'"
    )


# The provenance keys that differ from one entry to the next; the rest is shared by a run's
# entries and kept once in ``provenances``.
ENTRY_OWN_PROVENANCE = ("sample", "critic_summary")


def canonical_json(value: object) -> str:
    """The stored form of a JSON value: compact, keys sorted (``Record.to_json``'s form)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def provenance_id(con: sqlite3.Connection, provenance: dict[str, object]) -> int:
    """The ``provenances`` row holding ``provenance`` (added when new)."""
    text = canonical_json(provenance)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = con.execute("SELECT id FROM provenances WHERE digest = ?", (digest,)).fetchone()
    if row is not None:
        return int(row[0])
    cursor = con.execute("INSERT INTO provenances(digest, value) VALUES (?, ?)", (digest, text))
    return int(cursor.lastrowid or 0)


def split_provenance(
    data: dict[str, object], own: tuple[str, ...] = ()
) -> tuple[dict[str, object], dict[str, object]]:
    """A record's dict without its shared provenance, and that provenance: the keys in ``own``
    (an entry's sample and critic summary) stay in the record."""
    provenance = data.get("provenance")
    shared = dict(provenance) if isinstance(provenance, dict) else {}
    kept = {key: shared.pop(key) for key in own if key in shared}
    rest = {key: value for key, value in data.items() if key != "provenance"}
    if own:
        rest["provenance"] = kept
    return rest, shared


def _share_provenances(con: sqlite3.Connection) -> None:
    """Migration 6's backfill: each attempt's and entry's provenance moves to ``provenances``
    (stored once however many rows refer to it) and the row refers to it."""
    for table, own in (("attempts", ()), ("entries", ENTRY_OWN_PROVENANCE)):
        last = 0
        while rows := con.execute(
            f"SELECT id, record FROM {table} WHERE id > ? ORDER BY id LIMIT 1000", (last,)
        ).fetchall():
            for row_id, record in rows:
                rest, shared = split_provenance(json.loads(record), own)
                con.execute(
                    f"UPDATE {table} SET record = ?, provenance_id = ? WHERE id = ?",
                    (canonical_json(rest), provenance_id(con, shared), row_id),
                )
            last = rows[-1][0]


def _pack_cache(con: sqlite3.Connection) -> None:
    """Migration 6's second backfill: cache values stored as text are packed, content keys
    stored as their digest."""
    from formalize.cache_packing import pack, stored_key

    last = 0
    while rows := con.execute(
        "SELECT rowid, key, value FROM cache WHERE rowid > ? ORDER BY rowid LIMIT 1000", (last,)
    ).fetchall():
        con.executemany(
            "UPDATE cache SET key = ?, value = ? WHERE rowid = ?",
            [
                (stored_key(key), pack(value), rowid)
                for rowid, key, value in rows
                if isinstance(value, str)
            ],
        )
        last = rows[-1][0]


def _migrate_6(con: sqlite3.Connection) -> None:
    _share_provenances(con)
    _pack_cache(con)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        (
            """CREATE TABLE runs(
                id TEXT PRIMARY KEY,
                started_at REAL NOT NULL,
                ended_at REAL,
                status TEXT NOT NULL,
                config TEXT NOT NULL,
                code_version TEXT NOT NULL,
                counts TEXT)""",
            """CREATE TABLE problems(
                id TEXT PRIMARY KEY,
                record TEXT NOT NULL,
                informal TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('new', 'in_flight', 'done', 'exhausted')),
                rounds_done INTEGER NOT NULL DEFAULT 0,
                feedback TEXT,
                updated_at REAL NOT NULL)""",
            """CREATE TABLE attempts(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL REFERENCES runs(id),
                problem_id TEXT NOT NULL REFERENCES problems(id),
                round INTEGER NOT NULL,
                sample INTEGER NOT NULL,
                status TEXT NOT NULL,
                lean TEXT NOT NULL,
                check_status TEXT,
                judgement TEXT,
                record TEXT NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE(problem_id, round, sample))""",
            "CREATE INDEX attempts_status ON attempts(status)",
            """CREATE TABLE entries(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                problem_id TEXT NOT NULL UNIQUE REFERENCES problems(id),
                run_id TEXT NOT NULL REFERENCES runs(id),
                exact_hash TEXT NOT NULL UNIQUE,
                norm_hash TEXT NOT NULL UNIQUE,
                record TEXT NOT NULL,
                created_at REAL NOT NULL)""",
            """CREATE TABLE cache(
                key TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                value TEXT NOT NULL,
                created_at REAL NOT NULL)""",
        ),
    ),
    Migration(
        2,
        "duplicates name the entry they duplicate",
        (
            "ALTER TABLE attempts ADD COLUMN duplicate_of TEXT",
            "ALTER TABLE problems ADD COLUMN duplicate_of TEXT",
        ),
        _name_duplicated_entries,
    ),
    Migration(
        3,
        "filter and judge signals per attempt",
        (
            """CREATE TABLE signals(
                problem_id TEXT NOT NULL REFERENCES problems(id),
                round INTEGER NOT NULL,
                sample INTEGER NOT NULL,
                name TEXT NOT NULL,
                version TEXT NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'inconclusive')),
                PRIMARY KEY(problem_id, round, sample, name))""",
            "CREATE INDEX signals_outcome ON signals(name, outcome)",
        ),
    ),
    Migration(
        4,
        "human labels",
        (
            """CREATE TABLE labels(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                problem_id TEXT NOT NULL REFERENCES problems(id),
                round INTEGER NOT NULL,
                sample INTEGER NOT NULL,
                lean_sha TEXT NOT NULL,
                label TEXT NOT NULL CHECK (label IN ('faithful', 'unfaithful')),
                error_type TEXT,
                note TEXT NOT NULL DEFAULT '',
                annotator TEXT NOT NULL,
                created_at REAL NOT NULL,
                UNIQUE(problem_id, round, sample, annotator))""",
            "CREATE INDEX labels_attempt ON labels(problem_id, round, sample)",
        ),
    ),
    Migration(
        5,
        "audit samples; indexes the review app filters by",
        (
            # one `formalize review sample` draw: its settings and each stratum's size then
            """CREATE TABLE audit_samples(
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                created_at REAL NOT NULL,
                seed INTEGER NOT NULL,
                requested INTEGER NOT NULL,
                stratify TEXT,
                population INTEGER NOT NULL,
                strata TEXT NOT NULL)""",
            # the entries drawn, in the (shuffled) order the queue presents them
            """CREATE TABLE audit_items(
                sample_id INTEGER NOT NULL REFERENCES audit_samples(id),
                position INTEGER NOT NULL,
                stratum TEXT NOT NULL,
                problem_id TEXT NOT NULL REFERENCES problems(id),
                round INTEGER NOT NULL,
                sample INTEGER NOT NULL,
                lean_sha TEXT NOT NULL,
                PRIMARY KEY(sample_id, position),
                UNIQUE(sample_id, problem_id))""",
            "CREATE INDEX audit_items_attempt ON audit_items(problem_id, round, sample)",
            "CREATE INDEX attempts_run ON attempts(run_id)",
            "CREATE INDEX attempts_critic_share"
            " ON attempts(json_extract(record, '$.verdict.share'))",
            "CREATE INDEX problems_source ON problems(json_extract(record, '$.source'))",
        ),
    ),
    Migration(
        6,
        "provenance stored once; cache values packed; indexes for the funnel and the runs page",
        (
            """CREATE TABLE provenances(
                id INTEGER PRIMARY KEY,
                digest TEXT NOT NULL UNIQUE,
                value TEXT NOT NULL)""",
            "ALTER TABLE attempts ADD COLUMN provenance_id INTEGER REFERENCES provenances(id)",
            "ALTER TABLE entries ADD COLUMN provenance_id INTEGER REFERENCES provenances(id)",
            # `corpus stats` counts from these indexes alone, not from the rows
            "CREATE INDEX attempts_outcome ON attempts(status, check_status, judgement, run_id)",
            "CREATE INDEX problems_state ON problems(state, duplicate_of)",
            # the review app's runs page counts entries per run
            "CREATE INDEX entries_run ON entries(run_id)",
        ),
        _migrate_6,
    ),
    Migration(
        7,
        "each run records its process, so a run whose process is gone shows as interrupted",
        (
            "ALTER TABLE runs ADD COLUMN pid INTEGER",
            "ALTER TABLE runs ADD COLUMN host TEXT",
            "ALTER TABLE runs ADD COLUMN process_start TEXT",
            "ALTER TABLE runs ADD COLUMN heartbeat_at REAL",
            # a run recorded without its process cannot be checked: one still `running` when
            # the store is upgraded was stopped without a word (a SIGTERM or SIGKILL before)
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running'",
        ),
    ),
    Migration(
        8,
        "signals say whether their probe failed to elaborate (corpus stats counts them by index)",
        (
            # no earlier store holds such a signal (the reason is new with this column)
            "ALTER TABLE signals ADD COLUMN probe_error INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX signals_probe_error ON signals(probe_error, name)",
        ),
    ),
)
