"""Migration 6 (each distinct provenance stored once): a store written before it migrates on
open and exports exactly what it exported before; a new store holds each provenance once."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from formalize.cli.main import main
from formalize.corpus import Store
from formalize.migrations import MIGRATIONS

DATA = Path(__file__).resolve().parent / "data"
# A corpus written by commit 0482441 (schema 5) and its exports, made with that commit's code:
# the export module's corpus fixture (tests/test_export.py: a real run against the scripted
# servers, with --filters vacuous,trivial), its cache table emptied, then
#   formalize corpus export --db store-0482441.db -o export.jsonl            (gzipped here)
#   formalize corpus export ... -o export-all.jsonl --include-rejected --critic-raw (gzipped)
#   formalize corpus export ... -o export-all.parquet --include-rejected --critic-raw
BEFORE = DATA / "store-0482441.db"


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    db = tmp_path / "before.db"
    shutil.copyfile(BEFORE, db)
    with sqlite3.connect(db) as con:
        assert max(v for (v,) in con.execute("SELECT version FROM migrations")) == 5
    with Store(db) as store:
        assert store.schema_version() == max(m.version for m in MIGRATIONS)
    return db


def export(db: Path, out: Path, *flags: str) -> bytes:
    assert main(["corpus", "export", "--db", str(db), "-o", str(out), *flags]) == 0
    return out.read_bytes()


def test_a_migrated_store_exports_the_same_jsonl_bytes(migrated: Path, tmp_path: Path) -> None:
    before = gzip.decompress((DATA / "store-0482441-export.jsonl.gz").read_bytes())
    assert export(migrated, tmp_path / "a.jsonl") == before
    before_all = gzip.decompress((DATA / "store-0482441-export-all.jsonl.gz").read_bytes())
    flags = ("--include-rejected", "--critic-raw")
    assert export(migrated, tmp_path / "all.jsonl", *flags) == before_all
    assert len(before_all.splitlines()) == 44


def test_a_migrated_store_exports_the_same_parquet(migrated: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "all.parquet"
    export(migrated, out, "--include-rejected", "--critic-raw")
    old, new = pq.read_table(DATA / "store-0482441-export-all.parquet"), pq.read_table(out)
    assert new.schema.remove_metadata() == old.schema.remove_metadata()
    assert new.to_pylist() == old.to_pylist()
    meta = [json.loads(t.schema.metadata[b"formalize"]) for t in (old, new)]
    for m in meta:  # what says when and by which code the file was written
        del m["exported_at"], m["exported_by"], m["schema_version"]
    assert meta[0] == meta[1]


def test_migration_moves_every_provenance_out_of_the_rows(migrated: Path) -> None:
    with sqlite3.connect(migrated) as con:
        rows = con.execute(
            "SELECT record, provenance_id FROM attempts UNION ALL "
            "SELECT record, provenance_id FROM entries"
        ).fetchall()
        stored = con.execute("SELECT COUNT(*) FROM provenances").fetchone()[0]
        runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert len(rows) == 44 + 2 and all(pid is not None for _, pid in rows)
    for record, _ in rows:  # an entry keeps only its own sample and critic summary
        assert set(json.loads(record).get("provenance", {})) <= {"sample", "critic_summary"}
    assert stored == 2 * runs  # one for the run's attempts, one for its entries


def test_new_rows_refer_to_one_stored_provenance(tmp_path: Path) -> None:
    from corpus_writer import attempts_for

    from formalize.records import Problem

    provenance = {"translator": "t", "params": {"n": 4}, "big": "x" * 500}
    with Store(tmp_path / "c.db") as store:
        run = store.start_run({}, "test")
        store.add_problems([Problem(f"p{k}", f"Problem {k}.") for k in range(3)])
        for k in range(3):
            attempts = [dataclasses.replace(a, provenance=provenance) for a in attempts_for(k, 1)]
            store.record_round(run, f"p{k}", 1, attempts)
        assert store._query_one("SELECT COUNT(*) FROM provenances") == (1,)
        assert store._query_one("SELECT COUNT(*) FROM attempts WHERE record LIKE '%xxxx%'") == (0,)
        again = store.attempts()
    assert len(again) == 3 and all(a.provenance == provenance for a in again)
    assert [list(a.provenance) for a in again] == [["big", "params", "translator"]] * 3


def test_cache_values_are_packed_and_old_text_values_migrate(tmp_path: Path) -> None:
    from formalize.cache import content_key
    from formalize.cache_packing import pack, unpack

    check = (
        '{"elapsed_s":0.0123,"messages":[{"column":8,"end_column":20,"end_line":1,"line":1,'
        '"severity":"warning","text":"declaration uses \'sorry\'"}],"reason":null,'
        '"status":"ok","toolchain":"leanprover/lean4:v4.15.0"}'
    )
    assert unpack(pack(check)) == check and unpack(check) == check
    assert len(pack(check)) < len(check) / 2
    with pytest.raises(ValueError, match="unknown version"):
        unpack(bytes([99]) + pack(check)[1:])
    db = tmp_path / "before.db"
    shutil.copyfile(BEFORE, db)
    key = content_key("lean-check", "theorem t : True := by sorry", "v4.15.0")
    with sqlite3.connect(db) as con:  # a cache row as 0482441 wrote it: text
        con.execute(
            "INSERT INTO cache(key, kind, value, created_at) VALUES (?, 'lean-check', ?, 0)",
            (key, check),
        )
    with Store(db) as store:
        assert store.cache.get(key) == check
        assert store._query_one("SELECT typeof(key), length(key), typeof(value) FROM cache") == (
            "blob",
            32,
            "blob",
        )
        store.cache.put("model:any key", "é" * 3)  # not a content key: stored as it is
        assert store.cache.get("model:any key") == "ééé"
        assert store.cache.get(content_key("lean-check", "other")) is None
