"""Reading problem files: JSONL, JSON, CSV or parquet, with field names picked automatically.

Bad rows never stop a read: each becomes an ``InputIssue`` naming file and line (or row), and
every good row is still returned, in file order.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import InputError
from formalize.records import Problem

# Candidates for each role, most specific first. Covers the four files in shared/data/translation
# (name + informal_prefix, name + informal_statement/informal_solution) and CriticLean-style
# ``problem``/``answer`` files.
ID_FIELDS = ("id", "problem_id", "name", "uuid", "custom_id")
TEXT_FIELDS = (
    "informal",
    "informal_statement",
    "informal_stmt",
    "problem",
    "nl_statement",
    "statement",
    "question",
    "informal_prefix",
)
ANSWER_FIELDS = ("answer", "final_answer", "gt_answer")
SOLUTION_FIELDS = ("solution", "informal_solution", "informal_proof")
SOURCE_FIELDS = ("source", "dataset")
SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
_DOC_COMMENT = re.compile(r"^\s*/-[-!]?(.*?)-/\s*$", re.DOTALL)


@dataclass(frozen=True)
class InputIssue:
    """A row that could not be read, with where it is."""

    path: str
    line: int
    message: str
    skipped: bool = True  # False: the row was read, with a change the message describes

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class FieldMap:
    """Which field holds which part of a problem (None: pick automatically)."""

    id: str | None = None
    text: str | None = None
    answer: str | None = None


ROLES = (("id", "id"), ("text", "statement"), ("answer", "answer"))


@dataclass
class ReadResult:
    """Problems read from a file, the rows that were skipped, and which field gave each part
    of a problem (role -> field name -> rows; ``None`` when no row had one)."""

    problems: list[Problem] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    fields: dict[str, collections.Counter[str | None]] = field(
        default_factory=lambda: {role: collections.Counter() for role, _ in ROLES}
    )
    explicit: FieldMap = field(default_factory=lambda: FieldMap())

    @property
    def skipped(self) -> int:
        """How many rows were left out."""
        return sum(issue.skipped for issue in self.issues)

    def describe_fields(self) -> str:
        """Which input fields were used for id, statement and answer, for the user to see."""
        parts = []
        for role, label in ROLES:
            used = self.fields[role]
            names = [(name, n) for name, n in used.most_common() if name is not None]
            if not names:
                what = {
                    "id": "none (ids made from the file name and row)",
                    "text": "none",
                    "answer": "none",
                }[role]
            elif len(names) == 1 and used[None] == 0:
                what = repr(names[0][0])
            else:
                rows = [f"{name!r} ({n} rows)" for name, n in names]
                if used[None]:
                    rows.append(f"none ({used[None]} rows)")
                what = ", ".join(rows)
            how = "given" if getattr(self.explicit, role) else "picked automatically"
            parts.append(f"{label} <- {what}" + (f" [{how}]" if names else ""))
        return "fields: " + "; ".join(parts) + " (--id-field / --text-field / --answer-field)"


def read_problems(path: str | Path, fields: FieldMap | None = None) -> ReadResult:
    """Read every problem in ``path`` (``-`` for stdin JSONL); skipped rows are in ``issues``."""
    fields = fields or FieldMap()
    name = str(path)
    rows = _rows(name)
    result = ReadResult(explicit=fields)
    seen: dict[str, tuple[int, str]] = {}
    for line, row in rows:
        if isinstance(row, InputIssue):
            result.issues.append(row)
            continue
        try:
            problem, used = _problem(row, fields, default_source=Path(name).stem, line=line)
        except InputError as exc:
            result.issues.append(InputIssue(name, line, str(exc)))
            continue
        for role, key in used.items():
            result.fields[role][key] += 1
        if problem.id in seen:
            first, text = seen[problem.id]
            if text == problem.informal:
                message = f"duplicate of line {first} (same id {problem.id!r}, same statement)"
                result.issues.append(InputIssue(name, line, message))
                continue
            # Real data reuses ids for different problems (ProofNet's exercise numbers repeat
            # across textbooks): keep the problem under an id that is stable for this file.
            new_id = _free_id(problem.id, seen)
            message = f"id {problem.id!r} already used at line {first}; read as {new_id!r}"
            result.issues.append(InputIssue(name, line, message, skipped=False))
            problem = dataclasses.replace(problem, id=new_id)
        seen[problem.id] = (line, problem.informal)
        result.problems.append(problem)
    return result


def _free_id(base: str, seen: dict[str, tuple[int, str]]) -> str:
    n = 2
    while f"{base}~{n}" in seen:
        n += 1
    return f"{base}~{n}"


def _rows(name: str) -> Iterator[tuple[int, dict[str, Any] | InputIssue]]:
    if name == "-":
        yield from _jsonl_rows("<stdin>", sys.stdin.buffer)
        return
    path = Path(name)
    if path.is_dir():
        raise InputError(directory_message(path, "a problems file", SUFFIXES))
    if not path.exists():
        raise InputError(f"input file {name} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open("rb") as fh:
            yield from _jsonl_rows(name, fh)
    elif suffix == ".json":
        yield from _json_rows(path)
    elif suffix == ".csv":
        yield from _csv_rows(path)
    elif suffix == ".parquet":
        yield from _parquet_rows(path)
    else:
        raise InputError(
            f"{name}: unknown input format {suffix!r}; use one of {', '.join(SUFFIXES)}"
        )


def directory_message(path: Path, wanted: str, suffixes: tuple[str, ...]) -> str:
    """What to say when a directory is given where a file is expected: what is there that fits."""
    found = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    there = f"; files there that would do: {', '.join(found[:5])}" if found else ""
    more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
    return f"{path} is a directory; give {wanted} ({', '.join(suffixes)}) instead{there}{more}"


def _jsonl_rows(name: str, fh: io.BufferedIOBase | Any) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(fh, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield (
                number,
                InputIssue(name, number, f"not valid UTF-8 ({exc.reason} at byte {exc.start})"),
            )
            continue
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            yield (
                number,
                InputIssue(name, number, f"malformed JSON: {exc.msg} (column {exc.colno})"),
            )
            continue
        if not isinstance(row, dict):
            yield (
                number,
                InputIssue(name, number, f"expected a JSON object, got {type(row).__name__}"),
            )
            continue
        yield number, row


def _json_rows(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read as JSON ({exc})") from exc
    if isinstance(data, dict):
        # {"problems": [...]} or {"id": {...}, ...}
        items = data.get("problems") or data.get("data")
        if isinstance(items, list):
            data = items
        else:
            data = [{"id": k, **v} if isinstance(v, dict) else v for k, v in data.items()]
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of problem objects")
    for index, row in enumerate(data, start=1):
        if isinstance(row, dict):
            yield index, row
        else:
            yield index, InputIssue(str(path), index, f"item {index} is not an object")


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 at byte {exc.start}") from exc
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, InputIssue(str(path), line, "more cells than header columns")
            continue
        yield line, {k: v for k, v in row.items() if v not in (None, "")}


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(str(path))
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputError(f"{path}: cannot read as parquet ({exc})") from exc
    yield from enumerate(table.to_pylist(), start=1)


def _pick(row: Mapping[str, Any], explicit: str | None, names: tuple[str, ...]) -> str | None:
    if explicit is not None:
        return explicit
    return next((n for n in names if n in row), None)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = (
            json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
        )
    match = _DOC_COMMENT.match(value)
    if match:  # informal_prefix holds a Lean doc comment around the statement
        value = match.group(1)
    return value.strip()


def _problem(
    row: Mapping[str, Any], fields: FieldMap, default_source: str, line: int
) -> tuple[Problem, dict[str, str | None]]:
    text_key = _pick(row, fields.text, TEXT_FIELDS)
    if text_key is None or text_key not in row:
        wanted = fields.text or " / ".join(TEXT_FIELDS)
        raise InputError(f"missing the problem statement field ({wanted}); see --text-field")
    informal = _text(row[text_key])
    if not informal:
        raise InputError(f"empty problem statement in field {text_key!r}")
    id_key = _pick(row, fields.id, ID_FIELDS)
    if fields.id is not None and fields.id not in row:
        raise InputError(f"missing the id field {fields.id!r}")
    problem_id = _text(row[id_key]) if id_key else f"{default_source}-{line}"
    if not problem_id:
        raise InputError(f"empty id in field {id_key!r}")
    answer_key = _pick(row, fields.answer, ANSWER_FIELDS)
    solution_key = _pick(row, None, SOLUTION_FIELDS)
    source_key = _pick(row, None, SOURCE_FIELDS)
    used = {text_key, id_key, answer_key, solution_key}
    metadata = {k: v for k, v in row.items() if k not in used}
    source = _text(row.get(source_key)) if source_key else None
    problem = Problem(
        id=problem_id,
        informal=informal,
        answer=_text(row.get(answer_key)) if answer_key else None,
        solution=_text(row.get(solution_key)) if solution_key else None,
        source=source or default_source,
        metadata=metadata,
    )
    answer_used = answer_key if answer_key in row else None
    return problem, {"id": id_key, "text": text_key, "answer": answer_used}
