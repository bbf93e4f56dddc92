"""From benchmark to corpus: two scripted judges benchmarked (``bench critic``), calibrated
(``bench calibrate``), and the ``policy.toml`` it writes taken as it is by ``formalize run
--config``: the run asks that ensemble, and accepts exactly what the policy accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.openai_server import ScriptedOpenAIServer
from test_bench_calibrate import FAITHFUL, UNFAITHFUL, bench, planned_votes, responder, write_suite
from test_pipeline import FAKE_CLI, lean_block

from formalize.cli.main import main
from formalize.corpus import Store
from formalize.records import AttemptStatus


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Problem ``Problem f03.`` gets a statement of its own named ``f03``, as in the suite (the
    judges answer by the theorem's name; the corpus would merge equal statements)."""
    prompt = messages[-1]["content"]
    item = prompt.split("Problem ", 1)[1].split(".", 1)[0]
    n = (FAITHFUL + UNFAITHFUL).index(item)
    return lean_block(f"theorem {item} (x : Nat) (h : x = {n}) : x + 1 = {n + 1} := by sorry")


def renamed(votes: dict[str, int]) -> dict[str, int]:
    """The votes keyed by name in the suite and in the run (which names the theorem
    ``formalize_<problem id>``)."""
    return votes | {f"formalize_{item}": n for item, n in votes.items()}


def test_a_calibrated_policy_runs_as_the_run_s_judges(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "pairs.jsonl")
    a, b = planned_votes()
    problems = tmp_path / "problems.jsonl"
    rows = [{"id": item, "problem": f"Problem {item}."} for item in FAITHFUL + UNFAITHFUL]
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with (
        ScriptedOpenAIServer(responder(renamed(a)), model="judge-a") as judge_a,
        ScriptedOpenAIServer(responder(renamed(b)), model="judge-b") as judge_b,
        ScriptedOpenAIServer(translator, model="kimina") as t,
    ):
        bench(f"openai:judge-a@{judge_a.base_url}?backoff=0.01", 3, suite, tmp_path / "a")
        bench(f"openai:judge-b@{judge_b.base_url}?backoff=0.01", 2, suite, tmp_path / "b")
        out = tmp_path / "calibrated"
        argv = ["bench", "calibrate", str(tmp_path / "a"), str(tmp_path / "b")]
        assert main([*argv, "--max-false-accept", "0.05", "-o", str(out)]) == 0
        benched = (len(judge_a.completion_requests), len(judge_b.completion_requests))

        db = tmp_path / "corpus.db"
        run = ["run", str(problems), "--config", str(out / "policy.toml"), "--db", str(db)]
        run += ["--translator", f"openai:kimina@{t.base_url}", "--samples", "1", "--rounds", "1"]
        run += [*FAKE_CLI, "--workers", "1", "--no-progress"]
        assert main(run) == 0
        asked = (len(judge_a.completion_requests), len(judge_b.completion_requests))
    # both judges of the policy were asked about every statement
    assert asked[0] - benched[0] == asked[1] - benched[1] == len(rows)
    with Store(db) as store:
        accepted = sorted(e.problem_id for e in store.entries())
        attempts = store.attempts()
    # the policy all(judge-a min:1/3, judge-b min:1/2): TP 16 (f00-f15), FP 0
    assert accepted == [f"f{i:02d}" for i in range(16)]
    first = attempts[0]
    assert first.provenance["combine"] == "all"
    assert [(j["name"], j["vote"]) for j in first.provenance["judges"]] == [
        ("judge-a", "min:1/3"),
        ("judge-b", "min:1/2"),
    ]
    rejected = next(x for x in attempts if x.problem_id == "u00")
    assert rejected.status is AttemptStatus.UNFAITHFUL
    assert {s.name: s.outcome.value for s in rejected.signals if s.is_judge} == {
        "judge:judge-a": "passed",  # fooled, as planned
        "judge:judge-b": "failed",
    }
