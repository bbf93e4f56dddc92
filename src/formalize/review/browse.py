"""What the review app reads from the store: runs with their funnel, pages of attempts under
filters, one problem with every attempt and its labels, and the audit queue.

Attempts are named by their row id (``attempt_id``, the ``attempts`` table's INTEGER key; never
reused, as the table is AUTOINCREMENT). Labels name an attempt by (problem, round, sample) and
the hash of its statement, which survive a resumed run re-recording a round under new row
ids; ``attempt_key`` maps one to the other.

Paging is by keyset over attempt ids (``after``/``before``), with every filter an indexed SQL
condition (migration 5 adds the indexes): a page costs the same on page 1 and page 2,000.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from formalize.corpus import ProblemProgress, ProblemState, Store
from formalize.errors import InputError
from formalize.labels import iter_labels, lean_sha
from formalize.records import Attempt, AttemptStatus, Entry, Label, Problem
from formalize.review.audit import AuditSample, audit_sample
from formalize.store_queries import attempt_from_row, entry_from_row, provenance_of

# The expressions migration 5 indexes; a query must use them exactly for the index to serve.
SHARE = "json_extract(a.record, '$.verdict.share')"
SOURCE = "json_extract(record, '$.source')"
MAX_PAGE = 500
SNIPPET = 240


@dataclass(frozen=True)
class AttemptFilter:
    """Which attempts a list shows; every field optional."""

    run: str | None = None
    statuses: tuple[str, ...] = ()
    source: str | None = None
    round: int | None = None
    min_share: float | None = None
    max_share: float | None = None
    problem: str | None = None
    labelled: bool | None = None  # with ``annotator``: labelled by that annotator
    annotator: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> AttemptFilter:
        """Parse URL query parameters (each a list of values); an ``InputError`` names a bad
        one."""

        def one(name: str) -> str | None:
            values = [v for v in query.get(name, ()) if v.strip()]
            return values[-1].strip() if values else None

        statuses = tuple(v.strip() for v in query.get("status", ()) if v.strip())
        known = {s.value for s in AttemptStatus}
        for status in statuses:
            if status not in known:
                raise InputError(f"unknown status {status!r} (one of {', '.join(sorted(known))})")
        labelled = one("labelled")
        if labelled not in (None, "yes", "no"):
            raise InputError("labelled is yes or no")
        return cls(
            run=one("run"),
            statuses=statuses,
            source=one("source"),
            round=_number(one("round"), "round", int),
            min_share=_number(one("min_share"), "min_share", float),
            max_share=_number(one("max_share"), "max_share", float),
            problem=one("problem"),
            labelled=None if labelled is None else labelled == "yes",
            annotator=one("annotator"),
        )

    def query(self) -> list[tuple[str, str]]:
        """The URL query parameters that give this filter back."""
        out: list[tuple[str, str]] = []
        for name in ("run", "source", "round", "min_share", "max_share", "problem", "annotator"):
            value = getattr(self, name)
            if value is not None:
                out.append((name, str(value)))
        out.extend(("status", s) for s in self.statuses)
        if self.labelled is not None:
            out.append(("labelled", "yes" if self.labelled else "no"))
        return out

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on ``attempts a`` and their parameters."""
        conditions: list[str] = []
        params: list[Any] = []
        if self.run is not None:
            conditions.append("a.run_id = ?")
            params.append(self.run)
        if self.statuses:
            conditions.append(f"a.status IN ({','.join('?' * len(self.statuses))})")
            params.extend(self.statuses)
        if self.source is not None:
            conditions.append(f"a.problem_id IN (SELECT id FROM problems WHERE {SOURCE} = ?)")
            params.append(self.source)
        if self.round is not None:
            conditions.append("a.round = ?")
            params.append(self.round)
        if self.min_share is not None:
            conditions.append(f"{SHARE} >= ?")
            params.append(self.min_share)
        if self.max_share is not None:
            conditions.append(f"{SHARE} <= ?")
            params.append(self.max_share)
        if self.problem is not None:
            conditions.append("a.problem_id = ?")
            params.append(self.problem)
        if self.labelled is not None:
            # attempts with labels, found from the (small) labels table through its index
            who = " WHERE l.annotator = ?" if self.annotator is not None else ""
            labelled = (
                "a.id IN (SELECT b.id FROM labels l JOIN attempts b ON b.problem_id ="
                f" l.problem_id AND b.round = l.round AND b.sample = l.sample{who})"
            )
            conditions.append(labelled if self.labelled else f"NOT {labelled}")
            if self.annotator is not None:
                params.append(self.annotator)
        return conditions, params


def _number(text: str | None, name: str, kind: type) -> Any:
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise InputError(f"{name} must be a number, not {text!r}") from None


@dataclass(frozen=True)
class AttemptRow:
    """One line of an attempt list."""

    attempt_id: int
    run_id: str
    problem_id: str
    round: int
    sample: int
    status: str
    check_status: str | None
    critic_share: float | None
    source: str
    lean: str  # the start of the statement (``SNIPPET`` characters)
    labels: tuple[tuple[str, str], ...] = ()  # (annotator, label) on this attempt

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        data = dataclasses.asdict(self)
        data["labels"] = [{"annotator": a, "label": v} for a, v in self.labels]
        return data


@dataclass(frozen=True)
class Page:
    """One page of attempts; ``next_after`` / ``prev_before``: the cursors of the pages
    beside it (None at either end)."""

    rows: tuple[AttemptRow, ...]
    next_after: int | None
    prev_before: int | None
    total: int


def page_attempts(
    store: Store,
    flt: AttemptFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """The attempts matching ``flt`` with ids above ``after`` (or below ``before``), in id
    order, at most ``limit``."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}")
    conditions, params = flt.where()
    where = " AND ".join(conditions) or "1"
    backwards = before is not None
    cursor = "a.id < ?" if backwards else "a.id > ?"
    sql = (
        "SELECT a.id, a.run_id, a.problem_id, a.round, a.sample, a.status, a.check_status,"
        f" {SHARE}, (SELECT {SOURCE} FROM problems p WHERE p.id = a.problem_id),"
        f" substr(a.lean, 1, {SNIPPET}) FROM attempts a WHERE {where} AND {cursor}"
        f" ORDER BY a.id {'DESC' if backwards else 'ASC'} LIMIT ?"
    )
    mark = before if backwards else (after or 0)
    rows = store._query(sql, [*params, mark, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    found = [
        AttemptRow(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5], r[6], r[7], r[8] or "", r[9])
        for r in rows
    ]
    found = _with_labels(store, found)

    def exists(condition: str, value: int) -> bool:
        probe = f"SELECT 1 FROM attempts a WHERE {where} AND {condition} LIMIT 1"
        return store._query_one(probe, [*params, value]) is not None

    if backwards:
        next_after = (
            found[-1].attempt_id if found and exists("a.id > ?", found[-1].attempt_id) else None
        )
        prev_before = found[0].attempt_id if found and more else None
    else:
        next_after = found[-1].attempt_id if found and more else None
        prev_before = (
            found[0].attempt_id if found and exists("a.id < ?", found[0].attempt_id) else None
        )
    total_row = store._query_one(f"SELECT COUNT(*) FROM attempts a WHERE {where}", params)
    return Page(tuple(found), next_after, prev_before, int(total_row[0]) if total_row else 0)


def _with_labels(store: Store, rows: list[AttemptRow]) -> list[AttemptRow]:
    """The rows with the labels on their current statements."""
    if not rows:
        return rows
    ids = [r.attempt_id for r in rows]
    labels: dict[int, list[tuple[str, str]]] = {}
    for attempt_id, who, value, sha, lean in store._query(
        "SELECT a.id, l.annotator, l.label, l.lean_sha, a.lean FROM labels l JOIN attempts a"
        " ON a.problem_id = l.problem_id AND a.round = l.round AND a.sample = l.sample"
        f" WHERE a.id IN ({','.join('?' * len(ids))}) ORDER BY l.annotator",
        ids,
    ):
        if sha == lean_sha(lean):
            labels.setdefault(int(attempt_id), []).append((who, value))
    return [dataclasses.replace(r, labels=tuple(labels.get(r.attempt_id, ()))) for r in rows]


# --------------------------------------------------------------------------- one problem


@dataclass(frozen=True)
class AttemptView:
    """An attempt as its problem page shows it, with the labels on its current statement
    (``stale``: labels on a statement it no longer holds)."""

    attempt_id: int
    run_id: str
    attempt: Attempt
    lean_sha: str
    labels: tuple[Label, ...]
    stale: int = 0

    def label_of(self, annotator: str) -> Label | None:
        """This annotator's label, if any."""
        return next((lab for lab in self.labels if lab.annotator == annotator), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: the attempt record with its id, hash and labels."""
        return {
            "attempt_id": self.attempt_id,
            "run_id": self.run_id,
            "lean_sha": self.lean_sha,
            "attempt": self.attempt.to_dict(),
            "labels": [lab.to_dict() for lab in self.labels],
            "stale_labels": self.stale,
        }


@dataclass(frozen=True)
class ProblemView:
    """A problem with its standing, its entry (if accepted) and every attempt by round."""

    problem: Problem
    progress: ProblemProgress | None
    entry: Entry | None
    attempts: tuple[AttemptView, ...]

    def rounds(self) -> list[tuple[int, list[AttemptView]]]:
        """The attempts grouped by round, in order."""
        grouped: dict[int, list[AttemptView]] = {}
        for view in self.attempts:
            grouped.setdefault(view.attempt.round, []).append(view)
        return sorted(grouped.items())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        progress = self.progress
        return {
            "problem": self.problem.to_dict(),
            "state": None if progress is None else progress.state.value,
            "rounds_done": None if progress is None else progress.rounds_done,
            "entry": None if self.entry is None else self.entry.to_dict(),
            "attempts": [a.to_dict() for a in self.attempts],
        }


def problem_view(store: Store, problem_id: str) -> ProblemView | None:
    """Everything the problem page shows; None for an unknown problem."""
    problem = store.problem(problem_id)
    if problem is None:
        return None
    row = store._query_one(
        "SELECT state, rounds_done, feedback, duplicate_of FROM problems WHERE id = ?",
        (problem_id,),
    )
    progress = None
    if row is not None:
        progress = ProblemProgress(problem_id, ProblemState(row[0]), int(row[1]), row[2], row[3])
    entry_row = store._query_one(
        f"SELECT e.record, {provenance_of('e')} FROM entries e WHERE e.problem_id = ?",
        (problem_id,),
    )
    labels: dict[tuple[int, int], list[Label]] = {}
    for label in iter_labels(store, problem_id):
        labels.setdefault((label.round, label.sample), []).append(label)
    views = []
    for attempt_id, run_id, record, provenance in store._query(
        f"SELECT a.id, a.run_id, a.record, {provenance_of('a')} FROM attempts a"
        " WHERE a.problem_id = ? ORDER BY a.round, a.sample",
        (problem_id,),
    ):
        attempt = attempt_from_row(record, provenance)
        sha = lean_sha(attempt.candidate.lean)
        mine = labels.get((attempt.round, attempt.sample), [])
        current = tuple(lab for lab in mine if lab.lean_sha == sha)
        views.append(
            AttemptView(int(attempt_id), run_id, attempt, sha, current, len(mine) - len(current))
        )
    entry = None if entry_row is None else entry_from_row(*entry_row)
    return ProblemView(problem, progress, entry, tuple(views))


@dataclass(frozen=True)
class AttemptKey:
    """What a label names an attempt by, read from its row id."""

    attempt_id: int
    problem_id: str
    round: int
    sample: int
    lean_sha: str


def attempt_key(store: Store, attempt_id: int) -> AttemptKey | None:
    """The (problem, round, sample) and statement hash of attempt row ``attempt_id``."""
    row = store._query_one(
        "SELECT problem_id, round, sample, lean FROM attempts WHERE id = ?", (attempt_id,)
    )
    if row is None:
        return None
    return AttemptKey(attempt_id, row[0], int(row[1]), int(row[2]), lean_sha(row[3]))


def attempt_id_of(store: Store, problem_id: str, round_: int, sample: int) -> int | None:
    """The row id of the attempt (problem, round, sample), if stored."""
    row = store._query_one(
        "SELECT id FROM attempts WHERE problem_id = ? AND round = ? AND sample = ?",
        (problem_id, round_, sample),
    )
    return None if row is None else int(row[0])


# --------------------------------------------------------------------------- runs, audit


@dataclass(frozen=True)
class RunSummary:
    """A run with its attempts counted by status."""

    id: str
    started_at: float
    ended_at: float | None
    status: str
    code_version: str
    attempts: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    translator: str = ""
    critic: str = ""


def run_summaries(store: Store) -> list[RunSummary]:
    """Every run, newest first, with its attempts by status and its entries."""
    by_status: dict[str, dict[str, int]] = {}
    for run_id, status, count in store._query(  # counted in an index: no row is read
        "SELECT run_id, status, COUNT(*) FROM attempts INDEXED BY attempts_outcome"
        " GROUP BY run_id, status"
    ):
        by_status.setdefault(run_id, {})[status] = int(count)
    entries = dict(store._query("SELECT run_id, COUNT(*) FROM entries GROUP BY run_id"))
    out = []
    for run in reversed(store.runs()):
        config = run["config"]
        out.append(
            RunSummary(
                id=run["id"],
                started_at=run["started_at"],
                ended_at=run["ended_at"],
                status=run["status"],
                code_version=run["code_version"],
                attempts=dict(sorted(by_status.get(run["id"], {}).items())),
                entries=int(entries.get(run["id"], 0)),
                translator=str(config.get("translator", "")),
                critic=str(config.get("critic", "")),
            )
        )
    return out


def sources(store: Store) -> list[str]:
    """The distinct problem sources (for the filter form)."""
    return [
        r[0] for r in store._query(f"SELECT DISTINCT {SOURCE} FROM problems ORDER BY 1") if r[0]
    ]


@dataclass(frozen=True)
class QueueItem:
    """An audit item with its attempt's row id and who labelled it."""

    position: int
    stratum: str
    problem_id: str
    round: int
    sample: int
    attempt_id: int | None
    labels: tuple[tuple[str, str], ...]  # (annotator, label) on the statement drawn


def audit_queue(
    store: Store, sample_id: int | None = None
) -> tuple[AuditSample | None, list[QueueItem]]:
    """The newest (or given) audit sample and its items in queue order."""
    sample = audit_sample(store, sample_id)
    if sample is None:
        return None, []
    rows = store._query(
        "SELECT i.position, i.stratum, i.problem_id, i.round, i.sample, a.id,"
        " (SELECT json_group_array(json_array(l.annotator, l.label)) FROM labels l"
        "  WHERE l.problem_id = i.problem_id AND l.round = i.round AND l.sample = i.sample"
        "  AND l.lean_sha = i.lean_sha)"
        " FROM audit_items i LEFT JOIN attempts a ON a.problem_id = i.problem_id"
        " AND a.round = i.round AND a.sample = i.sample"
        " WHERE i.sample_id = ? ORDER BY i.position",
        (sample.id,),
    )
    items = [
        QueueItem(
            int(r[0]),
            r[1],
            r[2],
            int(r[3]),
            int(r[4]),
            None if r[5] is None else int(r[5]),
            tuple((a, v) for a, v in json.loads(r[6] or "[]")),
        )
        for r in rows
    ]
    return sample, items


def next_in_queue(store: Store, annotator: str, sample_id: int | None = None) -> QueueItem | None:
    """The first item of the audit queue that ``annotator`` has not labelled."""
    _, items = audit_queue(store, sample_id)
    return next(
        (i for i in items if i.attempt_id is not None and all(a != annotator for a, _ in i.labels)),
        None,
    )


__all__ = [
    "AttemptFilter",
    "AttemptKey",
    "AttemptRow",
    "AttemptView",
    "Page",
    "ProblemView",
    "QueueItem",
    "RunSummary",
    "attempt_id_of",
    "attempt_key",
    "audit_queue",
    "next_in_queue",
    "page_attempts",
    "problem_view",
    "run_summaries",
    "sources",
]
