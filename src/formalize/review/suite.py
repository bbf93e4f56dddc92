"""Labels as a critic benchmark (``formalize review export``): one JSONL row per labelled
attempt, in the generic suite format ``formalize bench critic --suite FILE`` reads as it is
(``formalize.bench.suites``: ``id``, ``informal``, ``lean``, ``header``, ``label``,
``error_type``, ``answer``), plus ``annotator`` (who labelled it, comma-separated), ``source``
and ``note``, which the suite loader ignores.

An attempt's label is the annotators' majority (``formalize.review.labelled``); disputed
attempts are left out and counted. The file is written to a temporary name and renamed into
place.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.review.labelled import LabelledAttempt, labelled_attempts


@dataclass(frozen=True)
class SuiteExport:
    """What an export wrote."""

    path: Path
    rows: int
    faithful: int
    disputed: int
    stale: int


def suite_row(item: LabelledAttempt) -> dict[str, object]:
    """The suite row of a decided labelled attempt."""
    decision = item.decision
    if decision is None:
        raise ValueError("a disputed attempt has no suite row")
    attempt = item.attempt
    error_type = item.error_type
    notes = [f"{lab.annotator}: {lab.note}" for lab in item.labels if lab.note.strip()]
    return {
        "id": f"{attempt.problem_id}/r{attempt.round}s{attempt.sample}",
        "informal": item.problem.informal,
        "lean": attempt.candidate.lean,
        "header": attempt.candidate.header,
        "label": decision.value,
        "error_type": None if error_type is None else error_type.value,
        "annotator": ",".join(lab.annotator for lab in item.labels),
        "answer": item.problem.answer,
        "source": item.problem.source,
        "note": "\n".join(notes),
    }


def export_suite(store: Store, output: str | Path, *, annotator: str | None = None) -> SuiteExport:
    """Write every decided labelled attempt (only ``annotator``'s labels, when given) to
    ``output``; an ``InputError`` when there is nothing to write."""
    labelled = labelled_attempts(store, annotator)
    decided = [a for a in labelled.attempts if a.decision is not None]
    if not decided:
        who = f" by {annotator!r}" if annotator else ""
        raise InputError(f"{store.path} has no decided labels{who} to export")
    path = Path(output).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    faithful = 0
    try:
        with partial.open("w", encoding="utf-8") as handle:
            for item in decided:
                row = suite_row(item)
                faithful += row["label"] == "faithful"
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return SuiteExport(
        path=path,
        rows=len(decided),
        faithful=faithful,
        disputed=len(labelled.attempts) - len(decided),
        stale=labelled.stale,
    )
