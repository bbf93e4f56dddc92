"""Human labels in the corpus store: written by the review app, read by the review report, the
suite export and the training exports.

A label names its attempt by the stable key (problem, round, sample) and the hash of the
statement it judged; one label per attempt and annotator (labelling again replaces it).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.records import ErrorType, Label, LabelValue


def lean_sha(lean: str) -> str:
    """The hash a label keeps of the statement it judged."""
    return hashlib.sha256(lean.encode("utf-8")).hexdigest()


def add_label(store: Store, label: Label) -> Label:
    """Store ``label`` (replacing the same annotator's earlier label on that attempt); the
    stored label. ``InputError`` when the attempt is not in the store or its statement is not
    the one labelled."""
    with store._write() as con:
        row = con.execute(
            "SELECT lean FROM attempts WHERE problem_id = ? AND round = ? AND sample = ?",
            (label.problem_id, label.round, label.sample),
        ).fetchone()
        if row is None:
            raise InputError(
                f"no attempt {label.problem_id!r} round {label.round} sample {label.sample}"
            )
        if lean_sha(row[0]) != label.lean_sha:
            raise InputError("the attempt's statement is not the one labelled (it changed)")
        stamped = label if label.created_at else _stamp(label)
        con.execute(
            "INSERT INTO labels(problem_id, round, sample, lean_sha, label, error_type, note,"
            " annotator, created_at) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(problem_id, round, sample, annotator) DO UPDATE SET"
            " lean_sha = excluded.lean_sha, label = excluded.label,"
            " error_type = excluded.error_type, note = excluded.note,"
            " created_at = excluded.created_at",
            (
                stamped.problem_id,
                stamped.round,
                stamped.sample,
                stamped.lean_sha,
                stamped.label.value,
                None if stamped.error_type is None else stamped.error_type.value,
                stamped.note,
                stamped.annotator,
                stamped.created_at,
            ),
        )
    return stamped


def iter_labels(store: Store, problem_id: str | None = None) -> Iterator[Label]:
    """Every stored label (of one problem, if given), in the order they were made."""
    sql = (
        "SELECT problem_id, round, sample, lean_sha, label, error_type, note, annotator,"
        " created_at FROM labels"
    )
    params: tuple[str, ...] = ()
    if problem_id is not None:
        sql += " WHERE problem_id = ?"
        params = (problem_id,)
    for row in store._query(sql + " ORDER BY id", params):
        yield Label(
            problem_id=row[0],
            round=row[1],
            sample=row[2],
            lean_sha=row[3],
            label=LabelValue(row[4]),
            error_type=None if row[5] is None else ErrorType(row[5]),
            note=row[6],
            annotator=row[7],
            created_at=row[8],
        )


def _stamp(label: Label) -> Label:
    import dataclasses

    return dataclasses.replace(label, created_at=time.time())
