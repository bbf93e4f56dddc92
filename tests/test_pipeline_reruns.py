"""Reruns with other settings: ``--retry-exhausted`` continues exhausted problems (provenance
says so), and a faithful candidate duplicating another problem's entry is counted apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_pipeline import PROBLEMS, config_for, write_problems

from formalize.corpus import ProblemState, Store
from formalize.records import AttemptStatus
from formalize.runner import run_job


def calls(servers: Any) -> tuple[int, int]:
    t, c = servers
    return len(t.completion_requests), len(c.completion_requests)


def rerun(tmp_path: Path, servers: Any, **kw: Any) -> Any:
    """Another run on the same corpus. The fake REPL's request log of the run before is removed
    first: where Lean runs in the sandbox, a file named on the REPL's command line that exists is
    shown read-only, and the fake REPL could not append to it."""
    for log in tmp_path.rglob("repl.log"):
        log.unlink()
    return run_job(config_for(tmp_path, servers, **kw))


def test_retry_exhausted_continues_their_rounds_with_the_new_settings(
    tmp_path: Path, servers: Any
) -> None:
    first = run_job(config_for(tmp_path, servers, rounds=1))
    assert first.counters.exhausted == 4 and first.counters.accepted == 0

    before = calls(servers)
    again = rerun(tmp_path, servers, rounds=3)  # more rounds, no flag: skipped
    assert again.counters.skipped == 4 and calls(servers) == before

    retry = rerun(tmp_path, servers, rounds=3, retry_exhausted=True)
    assert retry.counters.retried == 4
    assert retry.counters.accepted == 2  # alpha (round 2) and beta (round 3)
    with Store(retry.db) as store:
        entries = {e.problem_id: e for e in store.entries()}
        assert (entries["alpha"].round, entries["beta"].round) == (2, 3)
        later = [a for a in store.attempts("gamma") if a.round > 1]
        assert [a.round for a in later] == [2] * 4 + [3] * 4
        assert {a.provenance["retried_after_round"] for a in later} == {1}
        assert all(a.provenance["retry_exhausted"] for a in later)
        assert "retried_after_round" not in store.attempts("gamma")[0].provenance
        assert store.progress()["gamma"].state is ProblemState.EXHAUSTED
        (config,) = [r["config"] for r in store.runs() if r["id"] == retry.run_id]
        assert config["retry_exhausted"] is True

    before = calls(servers)
    same = rerun(tmp_path, servers, rounds=3, retry_exhausted=True)
    assert calls(servers) == before  # the same command again does nothing
    assert (same.counters.retried, same.counters.retry_capped) == (0, 2)


def test_a_duplicate_of_another_problem_is_counted_apart_and_never_retried(
    tmp_path: Path, servers: Any
) -> None:
    twin = {"id": "alpha-twin", "problem": "ALPHA again: for every positive natural n, n = n."}
    rows = [PROBLEMS[0], twin]
    path = write_problems(tmp_path / "twins.jsonl", rows)
    config = config_for(tmp_path, servers, input=str(path), batch_size=1, max_in_flight=1)
    outcome = run_job(config)
    assert (outcome.counters.accepted, outcome.counters.duplicates) == (1, 1)
    assert outcome.counters.exhausted == 0
    with Store(outcome.db) as store:
        dups = [a for a in store.attempts("alpha-twin") if a.status is AttemptStatus.DUPLICATE]
        assert dups and {a.duplicate_of for a in dups} == {"alpha"}
        assert store.progress()["alpha-twin"].duplicate_of == "alpha"
    retry = rerun(tmp_path, servers, input=str(path), rounds=5, retry_exhausted=True)
    assert (retry.counters.retried, retry.counters.duplicates) == (0, 1)


def test_the_outcome_is_reported_before_lean_and_the_engines_close(
    tmp_path: Path, servers: Any, monkeypatch: Any
) -> None:
    """After a second Ctrl-C the process ends a few seconds later whatever it is doing: the
    summary must not wait behind a Lean worker's or an engine's cleanup (a stop test saw the
    summary cut off). ``on_outcome`` runs while the checker is still open."""
    from formalize.lean import LeanChecker

    events: list[str] = []
    close = LeanChecker.close

    def closing(self: Any) -> None:
        events.append("checker closed")
        close(self)

    monkeypatch.setattr(LeanChecker, "close", closing)
    outcome = run_job(
        config_for(tmp_path, servers, rounds=1),
        on_outcome=lambda done: events.append(f"outcome {done.run_id}"),
    )
    assert events[0] == f"outcome {outcome.run_id}" and "checker closed" in events[1:]
