"""Numbered schema migrations of the corpus store, applied in order and recorded in a table.

Never edit a released migration: add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    statements: tuple[str, ...]


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
)
