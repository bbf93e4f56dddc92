"""Corpus export: accepted entries (and, on request, every rejected attempt) as JSONL, parquet
or a Hugging Face datasets folder (``formalize.export_hub``).

Every row carries its provenance: flat columns for what is filtered on (models, prompts,
toolchain, code version) and the whole record as a nested ``provenance`` column; Lean's
messages are a nested list, and a parquet file's metadata holds each run's provenance and
config. Files are written to a temporary name beside the target and renamed into place, so a
failed or killed export never leaves a half-written file; ``-`` writes to stdout.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from formalize.corpus import Store
from formalize.errors import InputError
from formalize.records import Attempt, Entry, Verdict
from formalize.version import code_version

FORMATS = ("jsonl", "parquet", "hf")
SUFFIXES = {".jsonl": "jsonl", ".parquet": "parquet"}
STDOUT = "-"
METADATA_KEY = "formalize"

# Column name -> arrow type name, in the file's column order; ``None``: nested, typed below.
COLUMNS: dict[str, str | None] = {
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
    "check_messages": None,
    "critic_share": "float64",
    "critic_summary": "string",
    # one column per Lean-verified filter: its outcome (passed, failed, inconclusive; null
    # when it did not run); the whole signals, evidence included, in ``signals``
    "filter_vacuous": "string",
    "filter_refuted": "string",
    "filter_trivial": "string",
    "filter_reference": "string",
    "signals": None,
    "duplicate_of": "string",
    "feedback": "string",
    "run_id": "string",
    "translator": "string",
    "critic": "string",
    "translate_prompt": "string",
    "critic_prompt": "string",
    "toolchain": "string",
    "code_version": "string",
    "provenance": None,
}
CRITIC_ANSWERS = "critic_answers"  # with ``critic_raw``: every critic answer, thinking included


def choose_format(output: str, fmt: str | None) -> str:
    """The format to write ``output`` in: from its suffix, or ``fmt``; an unknown suffix or a
    suffix that disagrees with ``fmt`` is an ``InputError``."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if output == STDOUT:
        if fmt == "hf":
            raise InputError("--format hf writes a folder: give -o DIR, not -")
        return fmt or "jsonl"
    suffix = Path(output).suffix.lower()
    if fmt == "hf":
        if suffix in SUFFIXES:
            raise InputError(
                f"-o {output} names a {SUFFIXES[suffix]} file but --format hf writes a folder"
            )
        return fmt
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise InputError(
            f"-o {output}: unknown suffix {suffix or '(none)'!r}; use {known}, `-` for stdout, "
            "or --format hf with a folder"
        )
    if fmt is not None and fmt != SUFFIXES[suffix]:
        raise InputError(f"-o {output} has the suffix {suffix} but --format is {fmt}")
    return SUFFIXES[suffix]


def iter_rows(
    store: Store, include_rejected: bool = False, critic_raw: bool = False
) -> Iterator[dict[str, Any]]:
    """Export rows: one per accepted entry, then (optionally) one per non-accepted attempt."""
    for entry, attempt in store.iter_entries_with_attempts():
        yield _entry_row(entry, attempt, critic_raw)
    if include_rejected:
        yield from iter_rejected(store, critic_raw)


def iter_rejected(store: Store, critic_raw: bool = False) -> Iterator[dict[str, Any]]:
    """One row per attempt that was not accepted, with how it ended."""
    for attempt, problem in store.iter_rejected():
        yield _attempt_row(attempt, problem, critic_raw)


def export_corpus(
    store: Store,
    output: str | Path,
    fmt: str | None = None,
    include_rejected: bool = False,
    critic_raw: bool = False,
    stdout: IO[Any] | None = None,
) -> int:
    """Write the export to ``output`` (``-``: stdout); returns the number of rows."""
    name = str(output)
    fmt = choose_format(name, fmt)
    if fmt == "hf":
        from formalize.export_hub import write_dataset_folder

        return write_dataset_folder(store, Path(name), include_rejected, critic_raw)
    rows = iter_rows(store, include_rejected, critic_raw)
    if name == STDOUT:
        return _to_stdout(store, rows, fmt, critic_raw, stdout or sys.stdout)
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as fh:
                count = write_jsonl(rows, fh)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            count = write_parquet(rows, tmp, parquet_schema(store, critic_raw))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def _to_stdout(
    store: Store, rows: Iterator[dict[str, Any]], fmt: str, critic_raw: bool, stream: IO[Any]
) -> int:
    if fmt == "jsonl":
        count = write_jsonl(rows, stream)
        stream.flush()
        return count
    if stream.isatty():
        raise InputError("refusing to write parquet (binary) to a terminal; redirect stdout")
    import pyarrow as pa

    binary = getattr(stream, "buffer", stream)
    return write_parquet(rows, pa.PythonFile(binary, mode="w"), parquet_schema(store, critic_raw))


def write_jsonl(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    """One JSON object per line; returns the number of rows."""
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def write_parquet(
    rows: Iterator[dict[str, Any]], where: Any, schema: Any, batch: int = 1000
) -> int:
    """Write in row groups of ``batch`` rows, so that memory holds one group at a time
    whatever the corpus's size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    where = str(where) if isinstance(where, Path) else where
    with pq.ParquetWriter(where, schema) as writer:
        while chunk := list(itertools.islice(rows, batch)):
            writer.write_table(pa.Table.from_pylist(conform_rows(chunk, schema), schema=schema))
            count += len(chunk)
    return count


def conform_rows(rows: list[dict[str, Any]], schema: Any) -> list[dict[str, Any]]:
    """``rows`` shaped to ``schema``; a provenance shared by many rows (a run's attempts) is
    shaped once."""
    import pyarrow as pa

    if schema.get_field_index("provenance") < 0:  # e.g. the training exports
        return [conform(row, pa.struct(list(schema))) for row in rows]
    others = pa.struct([f for f in schema if f.name != "provenance"])
    kind = schema.field("provenance").type
    shaped: dict[str, Any] = {}
    out = []
    for row in rows:
        value = row.get("provenance")
        key = json.dumps(value, sort_keys=True, default=str)
        if key not in shaped:
            shaped[key] = conform(value, kind)
        out.append({**conform(row, others), "provenance": shaped[key]})
    return out


# --------------------------------------------------------------------------- the parquet schema


def parquet_schema(store: Store, critic_raw: bool = False) -> Any:
    """The columns with their types (nested ones derived from what the store holds), and the
    runs' provenance and config in the file's metadata."""
    import pyarrow as pa

    provenance: Any = pa.null()
    for variant in store.provenance_variants():
        provenance = merge_types(provenance, arrow_type(variant))
    extras = [("sample", pa.int64()), ("critic_summary", pa.string())]
    provenance = merge_types(provenance, pa.struct(extras))
    nested = {
        "check_messages": pa.list_(message_type()),
        "signals": pa.list_(signal_type()),
        "provenance": writable(provenance),
    }
    fields = [
        (name, nested[name] if kind is None else getattr(pa, kind)())
        for name, kind in COLUMNS.items()
    ]
    if critic_raw:
        fields.append((CRITIC_ANSWERS, pa.list_(critic_answer_type())))
    metadata = {METADATA_KEY: json.dumps(export_metadata(store), ensure_ascii=False, default=str)}
    return pa.schema(fields, metadata=metadata)


def export_metadata(store: Store) -> dict[str, Any]:
    """What produced the corpus: every run's config, counts and provenance."""
    provenance = store.run_provenance()
    runs = [{**run, "provenance": provenance.get(run["id"])} for run in store.runs()]
    return {
        "exported_by": code_version(),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "schema_version": store.schema_version(),
        "runs": runs,
    }


def _struct(**fields: str) -> Any:
    import pyarrow as pa

    return pa.struct([(k, getattr(pa, v)()) for k, v in fields.items()])


def message_type() -> Any:
    """The type of one Lean message in ``check_messages``."""
    return _struct(
        severity="string",
        line="int64",
        column="int64",
        end_line="int64",
        end_column="int64",
        text="string",
    )


def signal_type() -> Any:
    """The type of one filter's or judge's signal in ``signals`` (``details`` as JSON)."""
    return _struct(
        name="string",
        version="string",
        outcome="string",
        reason="string",
        evidence="string",
        elapsed_s="float64",
        score="float64",
        details="string",
    )


def critic_answer_type() -> Any:
    """The type of one critic answer in ``critic_answers``."""
    return _struct(judgement="string", reasons="string", raw="string")


def arrow_type(value: Any) -> Any:
    """The arrow type of a JSON-like value (nested dicts become structs)."""
    import pyarrow as pa

    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    if isinstance(value, (list, tuple)):
        inner: Any = pa.null()
        for item in value:
            inner = merge_types(inner, arrow_type(item))
        return pa.list_(inner)
    if isinstance(value, dict):
        return pa.struct([(str(k), arrow_type(v)) for k, v in sorted(value.items())])
    return pa.string()


def merge_types(a: Any, b: Any) -> Any:
    """A type both values fit: structs take the union of their fields, integers widen to
    floats, and anything else that disagrees becomes a string (holding JSON)."""
    import pyarrow as pa

    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    numbers = {pa.int64(), pa.float64()}
    if a in numbers and b in numbers:
        return pa.float64()
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        names = [f.name for f in a] + [f.name for f in b if a.get_field_index(f.name) < 0]
        merged = []
        for name in names:
            left = a.field(name).type if a.get_field_index(name) >= 0 else pa.null()
            right = b.field(name).type if b.get_field_index(name) >= 0 else pa.null()
            merged.append((name, merge_types(left, right)))
        return pa.struct(merged)
    if pa.types.is_list(a) and pa.types.is_list(b):
        return pa.list_(merge_types(a.value_type, b.value_type))
    return pa.string()


def writable(kind: Any) -> Any:
    """``kind`` with empty structs (which parquet cannot store) replaced by nulls."""
    import pyarrow as pa

    if pa.types.is_struct(kind):
        if kind.num_fields == 0:
            return pa.null()
        return pa.struct([(f.name, writable(f.type)) for f in kind])
    if pa.types.is_list(kind):
        return pa.list_(writable(kind.value_type))
    return kind


def conform(value: Any, kind: Any) -> Any:
    """``value`` shaped to the arrow type ``kind`` (missing fields null, strings for values of
    another type as JSON)."""
    import pyarrow as pa

    if value is None or pa.types.is_null(kind):
        return None
    if pa.types.is_struct(kind):
        if not isinstance(value, dict):
            return None
        return {f.name: conform(value.get(f.name), f.type) for f in kind}
    if pa.types.is_list(kind):
        return [conform(v, kind.value_type) for v in value] if isinstance(value, list) else None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if pa.types.is_floating(kind):
        return float(value) if isinstance(value, (int, float)) else None
    if pa.types.is_integer(kind):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if pa.types.is_boolean(kind):
        return value if isinstance(value, bool) else None
    return value


# --------------------------------------------------------------------------- rows


def _base_row(provenance: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    for key in ("run_id", "translator", "critic", "translate_prompt", "critic_prompt"):
        row[key] = provenance.get(key)
    row["toolchain"] = provenance.get("toolchain")
    row["code_version"] = provenance.get("code_version")
    row["provenance"] = provenance
    return row


def _critic_columns(verdict: Verdict | None, critic_raw: bool) -> dict[str, Any]:
    from formalize.critic import explain_verdict

    if verdict is None:
        out: dict[str, Any] = {"critic_share": None, "critic_summary": None}
    else:
        out = {"critic_share": verdict.share, "critic_summary": explain_verdict(verdict)}
    if critic_raw:
        out[CRITIC_ANSWERS] = (
            None
            if verdict is None
            else [
                {"judgement": s.judgement.value, "reasons": s.reasons, "raw": s.raw}
                for s in verdict.samples
            ]
        )
    return out


def _signal_columns(attempt: Attempt | None) -> dict[str, Any]:
    """The ``filter_<name>`` outcome columns and the ``signals`` list of an attempt."""
    out: dict[str, Any] = {name: None for name in COLUMNS if name.startswith("filter_")}
    if attempt is None:
        return out
    for signal in attempt.signals:
        key = f"filter_{signal.name}"
        if key in out:
            out[key] = signal.outcome.value
    out["signals"] = [signal.to_dict() for signal in attempt.signals]
    return out


def _entry_row(entry: Entry, attempt: Attempt | None, critic_raw: bool) -> dict[str, Any]:
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
    )
    verdict = None if attempt is None else attempt.verdict
    row.update(_critic_columns(verdict, critic_raw))
    row.update(_signal_columns(attempt))
    if verdict is None:  # an entry without its attempt: what the entry itself recorded
        row.update(critic_share=entry.critic_share)
        row["critic_summary"] = entry.provenance.get("critic_summary")
    return row


def _attempt_row(attempt: Attempt, problem: Any, critic_raw: bool) -> dict[str, Any]:
    row = _base_row(attempt.provenance)
    check = attempt.check
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
        check_messages=None if check is None else [m.to_dict() for m in check.messages],
        duplicate_of=attempt.duplicate_of,
        feedback=attempt.feedback,
    )
    row.update(_critic_columns(attempt.verdict, critic_raw))
    row.update(_signal_columns(attempt))
    if check is not None and row["toolchain"] is None:
        row["toolchain"] = check.toolchain
    return row
