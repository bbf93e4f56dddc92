"""`formalize corpus stats|export|path` on a store written by the corpus writer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from formalize.cli.main import main

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("corpus") / "c.db"
    subprocess.run([sys.executable, str(HERE / "corpus_writer.py"), str(db), "20"], check=True)
    return db


def test_help_lists_groups(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "corpus" in capsys.readouterr().out


def test_path_follows_env_and_db(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(home / "corpus.db")
    assert main(["corpus", "path", "--db", "/tmp/x.db"]) == 0
    assert capsys.readouterr().out.strip() == "/tmp/x.db"


def test_stats_prints_the_funnel(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "stats", "--db", str(store_path)]) == 0
    out = capsys.readouterr().out
    table = {
        line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in out.splitlines()[3:]
    }
    assert table["problems"] == "20"
    assert table["candidates"] == str(20 * 3)
    assert table["compiled"] == "40"
    assert table["accepted pairs"] == "18"
    assert table["duplicates of an entry"] == "4"
    assert table["attempts per accepted pair"] == f"{60 / 18:.3f}"


def test_stats_on_missing_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["corpus", "stats", "--db", str(tmp_path / "none.db")]) == 2
    assert "no corpus at" in capsys.readouterr().err


def test_export_jsonl_and_parquet(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    assert main(["corpus", "export", "--db", str(store_path), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 18 and {r["kind"] for r in rows} == {"entry"}
    assert all(r["run_id"] and r["toolchain"] == "v4.15.0" and r["lean"] for r in rows)

    full = tmp_path / "all.parquet"
    argv = ["corpus", "export", "--db", str(store_path), "-o", str(full), "--include-rejected"]
    assert main(argv) == 0
    import pyarrow.parquet as pq

    table = pq.read_table(full).to_pylist()
    statuses = sorted({r["status"] for r in table})
    assert statuses == ["accepted", "duplicate", "faithful", "lean_error"]
    assert len(table) == 18 + 20 + 4 + (18 - 0)  # entries, round-1 errors, duplicates, runners-up
    errors = [r for r in table if r["status"] == "lean_error"]
    assert "unknown identifier" in errors[0]["check_messages"][0]["text"]  # nested, not JSON
    assert not list(tmp_path.glob(".*tmp*"))  # nothing half-written left behind


def test_parquet_is_written_in_row_groups(store_path: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from formalize.corpus import Store
    from formalize.export import iter_rows, parquet_schema, write_parquet

    with Store(store_path) as store:
        schema = parquet_schema(store)
        count = write_parquet(iter_rows(store, True), tmp_path / "g.parquet", schema, batch=7)
    meta = pq.ParquetFile(tmp_path / "g.parquet").metadata
    assert count == meta.num_rows == 60
    assert meta.num_row_groups == 9  # ceil(60 / 7)
    with Store(tmp_path / "empty.db") as empty:
        assert write_parquet(iter_rows(empty), tmp_path / "e.parquet", parquet_schema(empty)) == 0
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0


def test_paged_reads_cover_every_row_once(store_path: Path) -> None:
    from formalize.corpus import Store

    with Store(store_path) as store:
        paged = [a.to_json() for a in store.iter_attempts(page=7)]
        assert len(paged) == len(set(paged)) == 60
        assert sorted(paged) == sorted(a.to_json() for a in store.attempts())
        assert [e.problem_id for e in store.iter_entries(page=5)] == [
            e.problem_id for e in store.entries()
        ]
