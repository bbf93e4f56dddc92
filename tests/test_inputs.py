"""Reading problem files: formats, field detection, and bad rows reported with their line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import shared_path

from formalize.errors import InputError
from formalize.inputs import FieldMap, read_problems


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_bad_lines_are_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "problem": "Show 1 + 1 = 2."}),
        "{not json",
        json.dumps({"id": "b"}),  # no statement
        json.dumps({"id": "c", "problem": "   "}),  # empty statement
        "",
        json.dumps(["a", "list"]),
        json.dumps({"id": "a", "problem": "Show 1 + 1 = 2."}),  # true duplicate: skipped
        json.dumps({"id": "a", "problem": "Another problem."}),  # reused id: renamed
    ]
    raw = ("\n".join(lines) + "\n").encode() + b'{"id": "d", "problem": "caf\xe9"}\n'
    raw += json.dumps({"id": "e", "problem": "Find x.", "answer": 3}).encode() + b"\n"
    result = read_problems(write(tmp_path / "in.jsonl", raw))
    assert [p.id for p in result.problems] == ["a", "a~2", "e"]
    assert result.problems[2].answer == "3"
    assert {i.line for i in result.issues if i.skipped} == {2, 3, 4, 6, 7, 9}
    assert [i.line for i in result.issues if not i.skipped] == [8]
    text = "\n".join(str(i) for i in result.issues)
    assert f"{tmp_path / 'in.jsonl'}:2: malformed JSON" in text
    assert ":3: missing the problem statement field" in text
    assert ":4: empty problem statement" in text
    assert ":6: expected a JSON object" in text
    assert ":7: duplicate of line 1 (same id 'a', same statement)" in text
    assert ":8: id 'a' already used at line 1; read as 'a~2'" in text
    assert ":9: not valid UTF-8" in text


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_problems(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="unknown input format"):
        read_problems(write(tmp_path / "x.txt", "hi"))


def test_explicit_fields(tmp_path: Path) -> None:
    row = {"qid": 7, "body": "Compute 2^10.", "ans": "1024", "problem": "decoy"}
    path = write(tmp_path / "x.jsonl", json.dumps(row) + "\n")
    (p,) = read_problems(path, FieldMap(id="qid", text="body", answer="ans")).problems
    assert (p.id, p.informal, p.answer) == ("7", "Compute 2^10.", "1024")
    assert p.metadata["problem"] == "decoy"
    bad = read_problems(path, FieldMap(id="missing", text="body"))
    assert "missing the id field 'missing'" in str(bad.issues[0])


def test_csv_json_parquet(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "p.csv", "id,problem,answer\nx,Find y.,2\nz,Show it.,\n")
    probs = read_problems(csv_path).problems
    assert [(p.id, p.answer) for p in probs] == [("x", "2"), ("z", None)]
    json_path = write(tmp_path / "p.json", json.dumps([{"id": "j", "problem": "P."}]))
    assert read_problems(json_path).problems[0].id == "j"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.Table.from_pylist([{"name": "q", "informal_statement": "Q."}]), tmp_path / "p.parquet"
    )
    (p,) = read_problems(tmp_path / "p.parquet").problems
    assert (p.id, p.informal, p.source) == ("q", "Q.", "p")


def test_missing_ids_get_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "nums.jsonl", '{"problem": "A."}\n\n{"problem": "B."}\n')
    assert [p.id for p in read_problems(path).problems] == ["nums-1", "nums-3"]


@pytest.mark.parametrize(
    ("name", "text_start"),
    [
        ("minif2f.jsonl", None),
        ("proofnet.jsonl", None),
        ("putnambench.jsonl", None),
        ("mobench.jsonl", None),
    ],
)
def test_shared_translation_files_are_read_whole(name: str, text_start: str | None) -> None:
    path = shared_path("data", "translation", name)
    result = read_problems(path)
    rows = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert [i for i in result.issues if i.skipped] == []
    assert len(result.problems) == rows
    assert len({p.id for p in result.problems}) == rows
    for p in result.problems[:50]:
        assert not p.informal.startswith("/-") and not p.informal.endswith("-/")
        assert p.id
    if name == "putnambench.jsonl":
        assert any(p.solution for p in result.problems)
