"""The store's read queries that several modules share, and how a row becomes a record again.

An attempt's or entry's provenance (models, parameters, prompts, code version) is the same for
every row of a run: it is stored once in ``provenances`` and each row refers to it
(migration 6); an entry keeps its own ``sample`` and ``critic_summary``. Every read path's
query plan is checked by tests/test_query_plans.py: each uses the index it needs.
"""

from __future__ import annotations

import json

from formalize.records import Attempt, Entry


def provenance_of(alias: str) -> str:
    """SQL for the shared provenance (JSON text) of the attempt or entry row ``alias``."""
    return f"(SELECT value FROM provenances WHERE id = {alias}.provenance_id)"


# an entry with the attempt it was accepted from; `+a.status` keeps the planner on the
# (problem_id, round, sample) key: through the status index, every entry would walk every
# accepted attempt (quadratic export)
ENTRIES_WITH_ATTEMPTS = (
    f"SELECT e.id, e.record, {provenance_of('e')}, a.record, {provenance_of('a')} "
    "FROM entries e LEFT JOIN attempts a "
    "ON a.problem_id = e.problem_id AND +a.status = 'accepted' "
    "WHERE e.id > ? ORDER BY e.id LIMIT ?"
)
REJECTED_WITH_PROBLEMS = (
    f"SELECT a.id, a.record, {provenance_of('a')}, "
    "(SELECT p.record FROM problems p WHERE p.id = a.problem_id) "
    "FROM attempts a WHERE a.id > ? AND a.status != 'accepted' ORDER BY a.id LIMIT ?"
)
FIRST_PROVENANCE_OF_RUN = (
    f"SELECT {provenance_of('a')} FROM attempts a WHERE a.run_id = ? ORDER BY a.id LIMIT 1"
)
PROBLEM_COUNTS = "SELECT state, duplicate_of IS NOT NULL, COUNT(*) FROM problems GROUP BY state, 2"
ATTEMPT_COUNTS = (
    "SELECT status, check_status, judgement, COUNT(*) FROM attempts "
    "GROUP BY status, check_status, judgement"
)


def attempt_from_row(record: str, provenance: str | None) -> Attempt:
    """An attempt from its row's ``record`` and its shared provenance (``provenance_of``)."""
    data = json.loads(record)
    if provenance is not None:
        data["provenance"] = json.loads(provenance)
    return Attempt.from_dict(data)


def entry_from_row(record: str, provenance: str | None) -> Entry:
    """An entry from its row's ``record`` (its own sample and critic summary) and its shared
    provenance (``provenance_of``), keys in the order they were written in."""
    data = json.loads(record)
    if provenance is not None:
        merged = {**json.loads(provenance), **(data.get("provenance") or {})}
        data["provenance"] = dict(sorted(merged.items()))
    return Entry.from_dict(data)
