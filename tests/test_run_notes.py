"""What a run says beyond its counts: a rerun under another translator that skips the problems
an earlier model exhausted says so and names the flags, and a run where nothing compiled says
where the candidates died (the run summary, ``corpus stats``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.openai_server import ScriptedOpenAIServer
from test_pipeline import FAKE_CLI, config_for, translator, write_problems

from formalize.cli.main import main
from formalize.runner import run_job


def test_a_rerun_under_another_translator_says_why_it_did_nothing_and_what_to_do(
    tmp_path: Path, servers: Any
) -> None:
    first = run_job(config_for(tmp_path, servers, rounds=1))
    assert first.counters.exhausted == 4 and not first.notes
    with ScriptedOpenAIServer(translator, model="other") as other:
        spec = f"openai:other@{other.base_url}"
        for log in tmp_path.rglob("repl.log"):
            log.unlink()
        again = run_job(config_for(tmp_path, servers, rounds=1, translator=spec))
        assert again.counters.skipped == again.counters.skipped_exhausted == 4
        assert other.completion_requests == []  # the "does nothing" of the issue
        (note,) = again.notes
        old = f"openai:kimina@{servers[0].base_url}"
        assert f"4 of them under another translator: {old} (4)" in note
        assert "--retry-exhausted --rounds 2" in note
        # the flags the note names do what it says
        for log in tmp_path.rglob("repl.log"):
            log.unlink()
        retried = run_job(
            config_for(tmp_path, servers, rounds=2, translator=spec, retry_exhausted=True)
        )
        assert retried.counters.retried == 4 and other.completion_requests


def test_the_same_translator_gets_the_short_note(tmp_path: Path, servers: Any) -> None:
    run_job(config_for(tmp_path, servers, rounds=1))
    for log in tmp_path.rglob("repl.log"):
        log.unlink()
    again = run_job(config_for(tmp_path, servers, rounds=1))
    (note,) = again.notes
    assert "under another translator" not in note
    assert "rerun with --retry-exhausted --rounds 2" in note


def silent(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """A translator that never writes Lean (a tiny model's gibberish)."""
    return "The answer is the number of ways, which is quite large."


def test_nothing_compiled_says_where_the_candidates_died(
    tmp_path: Path, capsys: Any, servers: Any
) -> None:
    rows = [{"id": f"p{i}", "problem": f"Problem {i}: count the ways."} for i in range(3)]
    problems = write_problems(tmp_path / "p.jsonl", rows)
    db = tmp_path / "corpus.db"
    with ScriptedOpenAIServer(silent, model="tiny") as tiny:
        argv = ["run", str(problems), "--db", str(db), "--samples", "2", "--rounds", "1"]
        argv += ["--translator", f"openai:tiny@{tiny.base_url}"]
        argv += ["--critic", f"openai:criticlean@{servers[1].base_url}"]
        argv += [*FAKE_CLI, "--workers", "1", "--no-progress", "--filters", "none"]
        assert main(argv) == 0
    err = capsys.readouterr().err
    assert "no Lean code in the answer" in err
    assert "note: none of 6 candidates compiled: 6 had no Lean code in the answer" in err
    assert main(["corpus", "stats", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "no Lean code in the answer" in line)
    assert row.split()[-1] == "6"
    lean = next(line for line in out.splitlines() if "Lean errors" in line)
    assert lean.split()[-1] == "0"


def test_lean_errors_have_their_row_in_the_summary_and_stats(
    tmp_path: Path, capsys: Any, servers: Any
) -> None:
    t, c = servers
    rows = [{"id": "gamma", "problem": "GAMMA: an impossible problem."}]
    problems = write_problems(tmp_path / "p.jsonl", rows)
    db = tmp_path / "corpus.db"
    argv = ["run", str(problems), "--db", str(db), "--samples", "2", "--rounds", "1"]
    argv += ["--translator", f"openai:kimina@{t.base_url}"]
    argv += ["--critic", f"openai:criticlean@{c.base_url}"]
    argv += [*FAKE_CLI, "--workers", "1", "--no-progress"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    summary = next(line for line in err.splitlines() if line.strip().startswith("Lean errors"))
    assert summary.split()[-1] == "2"
    assert "had Lean errors" in err
    assert main(["corpus", "stats", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert next(x for x in out.splitlines() if "Lean errors" in x).split()[-1] == "2"
