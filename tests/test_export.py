"""``formalize corpus export``: stdout, suffix rules, the critic's reasons on accepted rows,
nested parquet columns with the runs' provenance in the file's metadata, a Hugging Face
datasets folder that ``datasets.load_dataset`` loads, and ``--push-to-hub`` up to the upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import config_for, critic, translator

from formalize.cli.main import main
from formalize.runner import run_job

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A corpus written by a real run: 2 accepted pairs, rejected attempts of every kind."""
    tmp = tmp_path_factory.mktemp("export")
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        outcome = run_job(config_for(tmp, (t, c)))
    assert outcome.counters.accepted == 2
    yield outcome.db


def export(corpus: Path, *argv: str) -> int:
    return main(["corpus", "export", "--db", str(corpus), *argv])


def test_dash_writes_jsonl_to_stdout_and_no_file(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert export(corpus, "-o", "-") == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and {r["kind"] for r in rows} == {"entry"}
    assert "wrote 2 rows to stdout (jsonl)" in err
    assert list(tmp_path.iterdir()) == []


def test_parquet_to_stdout_when_it_is_redirected(corpus: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "piped.parquet"
    argv = [sys.executable, "-m", "formalize.cli.main", "corpus", "export", "--db", str(corpus)]
    with target.open("wb") as out:
        done = subprocess.run(
            [*argv, "-o", "-", "--format", "parquet"],
            stdout=out,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(target).num_rows == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "x.csv"], "unknown suffix '.csv'"),
        (["-o", "x"], "unknown suffix '(none)'"),
        (["-o", "y.jsonl", "--format", "parquet"], "has the suffix .jsonl but --format is parquet"),
        (["-o", "z.parquet", "--format", "hf"], "names a parquet file but --format hf"),
        (["-o", "-", "--format", "hf"], "--format hf writes a folder"),
    ],
)
def test_an_unknown_suffix_or_a_conflict_is_an_error(
    argv: list[str], message: str, corpus: Path, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert export(corpus, *argv) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_accepted_rows_keep_the_critic_reasons_and_raw_answers_on_request(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "e.jsonl"
    assert export(corpus, "-o", str(out), "--critic-raw") == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for row in rows:
        assert row["critic_summary"] == "Types, hypotheses and conclusion match."
        (answer,) = row["critic_answers"]
        assert answer["judgement"] == "faithful"
        assert answer["raw"].startswith("<think>Let me compare each hypothesis.</think>")
    assert export(corpus, "-o", str(out), "--force") == 0
    assert "critic_answers" not in json.loads(out.read_text().splitlines()[0])


def test_parquet_has_nested_columns_and_the_runs_in_its_metadata(
    corpus: Path, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "all.parquet"
    assert export(corpus, "-o", str(out), "--include-rejected") == 0
    table = pq.read_table(out)
    schema = table.schema
    assert pa.types.is_struct(schema.field("provenance").type)
    assert pa.types.is_list(schema.field("check_messages").type)
    rows = table.to_pylist()
    entry = next(r for r in rows if r["kind"] == "entry")
    assert entry["provenance"]["translator"].startswith("openai:kimina@")
    assert entry["provenance"]["translator_params"]["n"] == 4
    error = next(r for r in rows if r["status"] == "lean_error")
    assert "nknown identifier" in error["check_messages"][0]["text"]
    assert error["check_messages"][0]["line"] >= 1
    meta = json.loads(schema.metadata[b"formalize"])
    (run,) = meta["runs"]
    assert run["config"]["samples"] == 4 and run["status"] == "completed"
    assert run["provenance"]["critic"].startswith("openai:criticlean@")


def test_a_datasets_folder_loads_with_load_dataset(corpus: Path, tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "dataset"
    assert export(corpus, "--format", "hf", "-o", str(folder), "--include-rejected") == 0
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n- config_name: default\n")
    assert "| train | 2 | accepted pairs |" in card
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))
    assert loaded["train"].num_rows == 2
    assert set(loaded["rejected"]["status"]) >= {"lean_error", "rejected", "unfaithful"}
    assert loaded["train"][0]["provenance"]["critic_samples"] == 1
    assert json.loads((folder / "runs.json").read_text())["runs"][0]["status"] == "completed"
    # exporting again (--force) replaces the earlier export; any other non-empty folder is refused
    assert export(corpus, "--format", "hf", "-o", str(folder), "--force") == 0
    assert not (folder / "data" / "rejected-00000-of-00001.parquet").exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert export(corpus, "--format", "hf", "-o", str(other), "--force") == 2
    assert (other / "notes.txt").read_text() == "keep me"


def test_push_to_hub_creates_the_repo_and_uploads_the_folder(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from huggingface_hub import HfApi

    calls: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self: Any, repo_id: str, **kw: Any) -> None:
        calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def upload_folder(self: Any, **kw: Any) -> Any:
        folder = Path(kw["folder_path"])
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        calls.append(("upload_folder", {**kw, "files": files}))
        return type("Info", (), {"commit_url": "https://hub/commit/1"})()

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert export(corpus, "--push-to-hub", "me/lean-statements", "--private") == 0
    (create, upload) = calls
    assert create == (
        "create_repo",
        {
            "repo_id": "me/lean-statements",
            "repo_type": "dataset",
            "private": True,
            "exist_ok": True,
        },
    )
    assert upload[1]["repo_id"] == "me/lean-statements" and upload[1]["repo_type"] == "dataset"
    assert upload[1]["files"] == ["README.md", "data/train-00000-of-00001.parquet", "runs.json"]
    assert "pushed 2 rows to the hub dataset me/lean-statements" in capsys.readouterr().err
    assert export(corpus, "--push-to-hub", "me/x", "-o", "x.jsonl") == 2  # not a folder


def test_an_existing_output_is_replaced_only_with_force(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    out.write_text("my notes\n")
    assert export(corpus, "-o", str(out)) == 2
    assert out.read_text() == "my notes\n"
    assert export(corpus, "-o", str(out), "--force") == 0
    assert len(out.read_text().splitlines()) == 2
    folder = tmp_path / "ds"
    assert export(corpus, "--format", "hf", "-o", str(folder)) == 0
    assert export(corpus, "--format", "hf", "-o", str(folder)) == 2  # an earlier export too
    assert export(corpus, "--format", "hf", "-o", str(folder), "--force") == 0
    (tmp_path / "empty").mkdir()
    assert export(corpus, "--format", "hf", "-o", str(tmp_path / "empty")) == 0


def test_a_reader_that_goes_away_ends_the_export_quietly(corpus: Path) -> None:
    """``formalize corpus export -o - | head``: the reader closes the pipe first (here before
    the export writes anything, so the outcome does not depend on timing)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    argv = [sys.executable, "-m", "formalize.cli.main", "corpus", "export", "--db", str(corpus)]
    try:
        done = subprocess.run(
            [*argv, "-o", "-"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            check=False,
            text=True,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_datasets_folder_names_no_model_server(corpus: Path, tmp_path: Path) -> None:
    """What --push-to-hub publishes leaves the servers' hosts out; a local file keeps them."""
    import pyarrow.parquet as pq

    folder = tmp_path / "public"
    assert export(corpus, "--format", "hf", "-o", str(folder), "--include-rejected") == 0
    texts = [p.read_text() for p in (folder / "README.md", folder / "runs.json")]
    for shard in sorted((folder / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        texts.append(json.dumps(table.select(["translator", "critic", "provenance"]).to_pylist()))
        texts.append(table.schema.metadata[b"formalize"].decode())
    assert all("127.0.0.1" not in text for text in texts)
    assert "openai:kimina@http://<host>/v1" in texts[0]
    local = tmp_path / "local.jsonl"
    assert export(corpus, "-o", str(local)) == 0
    assert "127.0.0.1" in local.read_text()
