"""Corpus export: accepted entries (and, on request, every rejected attempt) as JSONL or parquet.

Every row carries its provenance columns. Files are written to a temporary name beside the
target and renamed into place, so a failed or killed export never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from formalize.corpus import Store
from formalize.errors import FormalizeError
from formalize.records import Attempt, AttemptStatus, Entry

FORMATS = ("jsonl", "parquet")

# Column name -> arrow type name; the order is the file's column order.
COLUMNS: dict[str, str] = {
    "kind": "string",
    "status": "string",
    "problem_id": "string",
    "source": "string",
    "informal": "string",
    "answer": "string",
    "header": "string",
    "lean": "string",
    "round": "int64",
    "sample": "int64",
    "check_status": "string",
    "check_reason": "string",
    "check_messages": "string",
    "critic_share": "float64",
    "critic_summary": "string",
    "feedback": "string",
    "run_id": "string",
    "translator": "string",
    "critic": "string",
    "translate_prompt": "string",
    "critic_prompt": "string",
    "toolchain": "string",
    "code_version": "string",
    "provenance": "string",
}


def iter_rows(store: Store, include_rejected: bool = False) -> Iterator[dict[str, Any]]:
    """Export rows: one per accepted entry, then (optionally) one per non-accepted attempt."""
    for entry in store.iter_entries():
        yield _entry_row(entry)
    if include_rejected:
        problems: dict[str, Any] = {}
        for attempt in store.iter_attempts():
            if attempt.status is AttemptStatus.ACCEPTED:
                continue
            if attempt.problem_id not in problems:
                problems[attempt.problem_id] = store.problem(attempt.problem_id)
            yield _attempt_row(attempt, problems[attempt.problem_id])


def export_corpus(store: Store, output: Path, fmt: str, include_rejected: bool = False) -> int:
    """Write the export to ``output``; returns the number of rows."""
    if fmt not in FORMATS:
        raise FormalizeError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    rows = iter_rows(store, include_rejected)
    try:
        count = _write_jsonl(rows, tmp) if fmt == "jsonl" else _write_parquet(rows, tmp)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def _write_jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        fh.flush()
        os.fsync(fh.fileno())
    return count


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path, batch_rows: int = 10_000) -> int:
    """Write in row groups of ``batch_rows``, so a large corpus never sits in memory whole."""
    import itertools

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in COLUMNS.items()])
    count = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        while batch := list(itertools.islice(rows, batch_rows)):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def _base_row(provenance: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    for key in ("run_id", "translator", "critic", "translate_prompt", "critic_prompt"):
        row[key] = provenance.get(key)
    row["toolchain"] = provenance.get("toolchain")
    row["code_version"] = provenance.get("code_version")
    row["provenance"] = json.dumps(provenance, sort_keys=True, ensure_ascii=False, default=str)
    return row


def _entry_row(entry: Entry) -> dict[str, Any]:
    row = _base_row(entry.provenance)
    row.update(
        kind="entry",
        status=entry.status.value,
        problem_id=entry.problem_id,
        source=entry.source,
        informal=entry.informal,
        answer=entry.answer,
        header=entry.header,
        lean=entry.lean,
        round=entry.round,
        sample=entry.provenance.get("sample"),
        check_status="ok",
        critic_share=entry.critic_share,
        critic_summary=entry.provenance.get("critic_summary"),
    )
    return row


def _attempt_row(attempt: Attempt, problem: Any) -> dict[str, Any]:
    row = _base_row(attempt.provenance)
    check, verdict = attempt.check, attempt.verdict
    row.update(
        kind="attempt",
        status=attempt.status.value,
        problem_id=attempt.problem_id,
        source=None if problem is None else problem.source,
        informal=None if problem is None else problem.informal,
        answer=None if problem is None else problem.answer,
        header=attempt.candidate.header,
        lean=attempt.candidate.lean or attempt.candidate.raw_output,
        round=attempt.round,
        sample=attempt.sample,
        check_status=None if check is None else check.status.value,
        check_reason=None if check is None else check.reason,
        check_messages=None
        if check is None
        else json.dumps([m.to_dict() for m in check.messages], ensure_ascii=False),
        critic_share=None if verdict is None else verdict.share,
        critic_summary=None if verdict is None else verdict.summary,
        feedback=attempt.feedback,
    )
    if check is not None and row["toolchain"] is None:
        row["toolchain"] = check.toolchain
    return row
