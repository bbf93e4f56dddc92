"""Exports stream: parquet (and so a datasets folder) is written in row groups of at most 1000
rows, so that memory holds one group whatever the corpus's size. Resident memory and time of
every export at 1K-50K problems are in benchmarks/README.md (benchmarks/scale.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from formalize.corpus import Store
from formalize.export import export_corpus
from formalize.export_hub import shard_path, write_dataset_folder

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 problems as ``corpus_writer`` writes them: a compile error, then two faithful
    candidates (one accepted; one problem in ten a duplicate of another's entry)."""
    db = tmp_path_factory.mktemp("scale") / "c.db"
    subprocess.run([sys.executable, str(HERE / "corpus_writer.py"), str(db), "400"], check=True)
    return db


def row_groups(path: Path) -> list[int]:
    pq = pytest.importorskip("pyarrow.parquet")
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def test_parquet_is_written_in_row_groups_of_at_most_1000_rows(
    corpus: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    with Store(corpus) as store:
        rows = export_corpus(store, tmp_path / "all.parquet", include_rejected=True)
        attempts = store._query_one("SELECT COUNT(*) FROM attempts")
        write_dataset_folder(store, tmp_path / "hf", include_rejected=True)
    sizes = row_groups(tmp_path / "all.parquet")
    assert (sum(sizes),) == (rows,) == attempts == (1200,)
    assert sizes == [1000, 200]
    assert row_groups(shard_path(tmp_path / "hf", "rejected")) == [840]  # 1200 - 360 entries
