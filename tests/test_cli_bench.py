"""``formalize bench critic|compare|suites`` through the real command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import ScriptedEngine, json_answer, lean_of

from formalize.bench import load_results
from formalize.cli.main import main


def write_pairs(path: Path) -> Path:
    rows = [
        {"id": "a", "informal": "Show A.", "lean": "theorem a : True -- GOOD", "label": True},
        {"id": "b", "informal": "Show B.", "lean": "theorem b : True -- BAD", "label": True},
        {"id": "c", "informal": "Show C.", "lean": "theorem c : True -- BAD", "label": False},
        {"id": "d", "informal": "Show D.", "lean": "theorem d : True -- GOOD", "label": False},
        {"id": "e", "informal": "Show E.", "lean": "theorem e : True -- BAD", "label": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``load_engine`` returns a scripted critic; records the specs and caches it was given."""
    loads: list[dict[str, Any]] = []

    def load_engine(spec: str, cache: Any = None) -> ScriptedEngine:
        loads.append({"spec": spec, "cache": cache})
        return ScriptedEngine(lambda prompt, i: json_answer("GOOD" in lean_of(prompt)), spec=spec)

    monkeypatch.setattr("formalize.models.load_engine", load_engine)
    return loads


def test_bench_critic_writes_the_run_and_prints_the_numbers(
    tmp_path: Path, home: Path, scripted: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "run"
    code = main(
        [
            "bench",
            "critic",
            "--suite",
            str(pairs),
            "--critic",
            "scripted:x",
            "--output",
            str(out),
            "--no-progress",
            "--max-tokens",
            "99",
            "--bootstrap",
            "50",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "ACC (TPR+TNR)/2" in err and "66.7" in err  # TPR 1/2, TNR 2/3 -> ACC 7/12
    results = load_results(out)
    assert results["metrics"]["acc"]["value"] == pytest.approx(7 / 12)
    assert results["critic"]["params"]["max_tokens"] == 99
    assert results["critic"]["params"]["temperature"] == 0.0
    assert scripted[0]["spec"] == "scripted:x"
    assert scripted[0]["cache"] is not None  # model calls go through the corpus cache
    assert (home / "corpus.db").exists()  # the default --db is the data home's corpus


def test_default_output_is_under_the_data_home_and_names_the_vote(
    tmp_path: Path, home: Path, scripted: list[dict[str, Any]]
) -> None:
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    argv = [
        "bench",
        "critic",
        "--suite",
        str(pairs),
        "--critic",
        "openai:m@http://h:1/v1",
        "--critic-samples",
        "3",
        "--vote",
        "min:2/3",
        "--no-cache",
        "--no-progress",
    ]
    assert main(argv) == 0
    (folder,) = (home / "bench" / "pairs").iterdir()
    assert folder.name == "openai_m-m3-min_2_3"  # by model: no server address
    results = load_results(folder)
    assert results["critic"]["rule"] == "min:2/3"
    assert results["critic"]["params"]["temperature"] == 0.6  # sampling for several samples
    assert results["critic"]["params"]["seed"] == 0
    assert scripted[0]["cache"] is None
    assert results["threshold_curve"]


def test_compare_puts_runs_side_by_side(
    tmp_path: Path, home: Path, scripted: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    for name, vote in (("one", "majority"), ("two", "unanimous")):
        argv = [
            "bench",
            "critic",
            "--suite",
            str(pairs),
            "--critic",
            "s",
            "--no-cache",
            "--critic-samples",
            "2",
            "--vote",
            vote,
            "--output",
            str(tmp_path / name),
            "--no-progress",
        ]
        assert main(argv) == 0
    capsys.readouterr()
    assert main(["bench", "compare", str(tmp_path / "one"), str(tmp_path / "two")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["run", "suite", "critic"]
    assert table[2].startswith("one") and "majority" in table[2]
    assert table[3].startswith("two") and "unanimous" in table[3]
    assert main(["bench", "compare", "--markdown", str(tmp_path / "one" / "results.json")]) == 0
    assert capsys.readouterr().out.startswith("| run | suite |")


def test_suites_lists_the_repository_suites(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "suites"]) == 0
    out = capsys.readouterr().out
    assert "proofnet-dev" in out and "criticleanbench" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--suite", "proofnet_dev"], "Did you mean 'proofnet-dev'"),
        (["--suite", "PAIRS", "--vote", "most"], "bad vote rule"),
        (["--suite", "PAIRS", "--critic-samples", "0"], "at least 1"),
        (["--suite", "criticleanbench", "--data", "/nonexistent.parquet"], "--data PATH"),
    ],
)
def test_user_errors_exit_2_with_a_message(
    argv: list[str],
    message: str,
    tmp_path: Path,
    home: Path,
    scripted: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pairs = str(write_pairs(tmp_path / "pairs.jsonl"))
    argv = [pairs if a == "PAIRS" else a for a in argv]
    full = ["bench", "critic", "--critic", "s", "--no-cache", "--no-progress", *argv]
    assert main(full) == 2
    assert message in capsys.readouterr().err


def test_compare_of_a_folder_without_results_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "compare", str(tmp_path)]) == 2
    assert "finished `formalize bench critic` run" in capsys.readouterr().err


def cache_rows(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT count(*) FROM cache").fetchone()[0])


def test_whole_run_with_a_tiny_packaged_model_through_hf(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tinycoder answers gibberish: numbers near chance, but every file written and consistent."""
    from conftest import shared_path
    from support.tiny_models import ModelUnavailable, tinycoder_spec

    shared_path("data", "critic", "proofnet_faithfulness_dev.jsonl")
    try:
        spec = tinycoder_spec()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    out, db = tmp_path / "run", tmp_path / "cache.db"
    argv = [
        "bench",
        "critic",
        "--suite",
        "proofnet-dev",
        "--critic",
        spec,
        "--limit",
        "4",
        "--critic-samples",
        "2",
        "--temperature",
        "1.0",
        "--max-tokens",
        "8",
        "--db",
        str(db),
        "--no-progress",
        "--bootstrap",
        "100",
    ]
    assert main([*argv, "--output", str(out)]) == 0
    results = load_results(out)
    predictions = [
        json.loads(x) for x in (out / "predictions.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(predictions) == results["counts"]["items"] == 4
    assert results["counts"]["faithful"] == sum(p["label"] for p in predictions)
    assert results["counts"]["unparsed"] == sum(p["judgement"] == "unparsed" for p in predictions)
    assert results["counts"]["accepted"] == sum(p["accepted"] for p in predictions)
    assert all(len(p["verdict"]["samples"]) == 2 for p in predictions)
    c = results["confusion"]
    assert c["tp"] + c["fn"] + c["tn"] + c["fp"] == 4
    for name in ("acc", "accuracy", "tpr", "tnr", "precision", "f1", "unparsed_rate"):
        entry = results["metrics"][name]
        value = entry["value"] if isinstance(entry, dict) else entry
        assert value is None or 0.0 <= value <= 1.0
    assert results["critic"]["engine"] == spec
    assert (out / "report.md").read_text("utf-8").startswith("# Critic benchmark: proofnet-dev")
    assert (out / "threshold.png").stat().st_size > 0
    assert cache_rows(db) > 0  # model calls were cached in the corpus file


def test_a_critic_whose_answers_do_not_parse_is_flagged_not_scored(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """100% unparsed answers used to print ACC 50.0 and TNR 100 with no word of warning."""
    monkeypatch.setattr(
        "formalize.models.load_engine",
        lambda spec, cache=None: ScriptedEngine(lambda prompt, i: "I think so.", spec=spec),
    )
    out = tmp_path / "run"
    argv = ["bench", "critic", "--suite", str(write_pairs(tmp_path / "p.jsonl"))]
    assert main([*argv, "--critic", "scripted:x", "-o", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: 100.0% of the pairs (5 of 5) got no parseable critic answer" in err
    tnr = next(line for line in err.splitlines() if line.startswith("TNR"))
    assert "100.0 †" in tnr
    report = (out / "report.md").read_text(encoding="utf-8")
    tnr_row = next(line for line in report.splitlines() if line.startswith("| TNR"))
    assert "| 100.0 † |" in tnr_row
    assert "measure the answer format more than the critic" in report


def test_calibrating_runs_that_give_nothing_to_search_says_why(
    tmp_path: Path, home: Path, scripted: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"id": f"u{i}", "informal": "S.", "lean": f"theorem u{i} : True -- BAD", "label": False}
        for i in range(4)
    ]
    pairs = tmp_path / "neg.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "run"
    argv = ["bench", "critic", "--suite", str(pairs), "--critic", "scripted:x"]
    assert main([*argv, "-o", str(out), "--no-progress", "--bootstrap", "0"]) == 0
    capsys.readouterr()
    cal = tmp_path / "cal"
    assert main(["bench", "calibrate", str(out), "--max-false-accept", "0.05", "-o", str(cal)]) == 3
    err = capsys.readouterr().err
    assert "nothing to search: no judge voted faithful on any of the 4 items" in err
    assert "policy  TPR" not in err  # no empty table
    assert "Nothing to search" in (cal / "report.md").read_text(encoding="utf-8")
