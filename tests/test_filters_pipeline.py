"""The Lean-verified filters in the whole loop: real engines (scripted OpenAI-compatible servers
as translator and critic), the fake REPL (proving probes by the ``--prove`` rules given here)
through the real driver and pool, and the SQLite store; then stats and export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import config_for as pipeline_config
from test_pipeline import lean_block, repl_log, write_problems

from formalize.config import RunConfig
from formalize.corpus import ProblemState, Store
from formalize.export import iter_rows
from formalize.preflight import PreflightError
from formalize.records import AttemptStatus, SignalOutcome
from formalize.runner import run_job

PROBLEMS = [
    {"id": "eps", "problem": "EPS: for every positive real x, x + 1 > x."},
    {"id": "zeta", "problem": "ZETA: show that 2 + 2 = 4."},
    {
        "id": "eta",
        "problem": "ETA: every natural n satisfies n + 0 = n.",
        "formal_statement": "theorem eta_ref (m : ℕ) : m = m + 0 := by",
        "header": "import Mathlib",
    },
]
# what the fake REPL proves: the vacuous pair of hypotheses, the false sum, the true sum (by
# norm_num, as a trivial statement), and the equivalence of eta's second candidate
RULES = [
    {"probe": "vacuous", "when": r"\(h₁ : x < 0\)"},
    {"probe": "refuted", "when": r"\(2 : ℕ\) \+ 2 = 5"},
    {"probe": "trivial", "when": r"\(2 : ℕ\) \+ 2 = 4"},
    {
        "probe": "equiv",
        "when": r"formalize_probe_candidate_\w+ : Prop :=\s+\(∀ \(n : ℕ\) , n \+ 0 = n \)",
    },
]
VACUOUS = "theorem eps (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x + 1 > x := by sorry"
FIXED = "theorem eps (x : ℝ) (h₀ : 0 < x) : x + 1 > x := by sorry"


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    prompt = messages[-1]["content"]
    lean_found = "What the checks found:" in prompt  # the filter repair prompt
    if "EPS" in prompt:
        if lean_found and "formalize_probe_vacuous" in prompt:
            return lean_block(FIXED)
        return lean_block(VACUOUS)
    if "ZETA" in prompt:
        if lean_found and "negation" in prompt:
            return lean_block("theorem zeta : (2 : ℕ) + 2 = 4 := by sorry")
        return lean_block("theorem zeta : (2 : ℕ) + 2 = 5 := by sorry")
    if "ETA" in prompt:
        if "the reference" in prompt:
            return lean_block("theorem eta (n : ℕ) : n + 0 = n := by sorry")
        return lean_block("theorem eta (n : ℕ) (h : 0 < n) : n + 0 = n := by sorry")
    return "I don't know."


def critic(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    body = json.dumps({"reasons": "It matches.", "is_assistant_correct": "Correct"})
    return f"```json\n{body}\n```"


@pytest.fixture
def engines() -> Iterator[tuple[ScriptedOpenAIServer, ScriptedOpenAIServer]]:
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        yield t, c


def config_for(
    tmp_path: Path,
    engines: Any,
    rows: list[dict[str, Any]],
    repl_flags: tuple[str, ...] = (),
    **kw: Any,
) -> RunConfig:
    """test_pipeline's run settings, with these rows and the fake REPL proving by ``RULES``
    (and given ``repl_flags``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    base = pipeline_config(tmp_path, engines, samples=2, rounds=3)
    lean = dict(base.lean)
    lean["repl_cmd"] = [*lean["repl_cmd"], "--prove", json.dumps(RULES), *repl_flags]
    values = {**base.to_dict(), "lean": lean}
    values["input"] = str(write_problems(tmp_path / "problems.jsonl", rows))
    return RunConfig(**{**values, **kw})


def critic_prompts(server: ScriptedOpenAIServer) -> str:
    return "\n".join(r.body["messages"][-1]["content"] for r in server.completion_requests)


def test_vacuous_refused_with_evidence_fed_back_and_fixed(tmp_path: Path, engines: Any) -> None:
    outcome = run_job(config_for(tmp_path, engines, PROBLEMS[:2]))
    with Store(outcome.db) as store:
        entries = {e.problem_id: e for e in store.entries()}
        eps = store.attempts("eps")
        zeta = store.attempts("zeta")
        funnel = store.funnel()

    # eps: round 1 vacuous (both samples), rejected with Lean's probe as evidence
    first = [a for a in eps if a.round == 1]
    assert {a.status for a in first} == {AttemptStatus.VACUOUS}
    vacuous = first[0].signal("vacuous")
    assert vacuous is not None and vacuous.outcome is SignalOutcome.FAILED
    assert "theorem formalize_probe_vacuous_1 (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0)" in vacuous.evidence
    assert first[0].verdict is None  # the critic was never asked
    assert "(h₁ : x < 0)" not in critic_prompts(engines[1])
    # round 2 got the finding and Lean's proof, and its fixed statement was accepted
    second = [a for a in eps if a.round == 2]
    assert "formalize_probe_vacuous" in (second[0].feedback or "")
    assert "Lean proved False from the hypotheses" in (second[0].feedback or "")
    assert entries["eps"].round == 2 and "(h₁" not in entries["eps"].lean
    accepted = next(a for a in second if a.status is AttemptStatus.ACCEPTED)
    assert {s.name: s.outcome for s in accepted.signals} == {
        "vacuous": SignalOutcome.PASSED,
        "refuted": SignalOutcome.PASSED,
        "trivial": SignalOutcome.PASSED,
        "judge:criticlean": SignalOutcome.PASSED,  # the critic's verdict, after the filters
    }
    assert accepted.provenance["filters"] == {
        "vacuous": "3+tactics.2",
        "refuted": "3+tactics.2",
        "trivial": "3+tactics.2",
    }

    # zeta: refuted in round 1; the true sum of round 2 is trivial, recorded, and accepted
    assert {a.status for a in zeta if a.round == 1} == {AttemptStatus.REFUTED}
    trivial = next(a for a in zeta if a.status is AttemptStatus.ACCEPTED).signal("trivial")
    assert trivial is not None and trivial.outcome is SignalOutcome.FAILED
    assert entries["zeta"].round == 2

    # 2 problems x 2 samples rejected; the critic judges each distinct statement once, so
    # one critic call saved per problem
    c = outcome.counters
    assert c.rejected_by_filters == 4 and c.critic_calls_saved == 2
    assert funnel.filter_rejected == {"vacuous": 2, "refuted": 2}
    assert funnel.signal_counts["vacuous"]["failed"] == 2
    assert funnel.signal_counts["trivial"]["failed"] == 2  # recorded, not rejected

    with Store(outcome.db) as store:
        rows = list(iter_rows(store, include_rejected=True))
    by_status = {r["status"]: r for r in rows}
    assert by_status["vacuous"]["filter_vacuous"] == "failed"
    assert by_status["vacuous"]["filter_refuted"] == "passed"
    assert "formalize_probe_vacuous" in by_status["vacuous"]["signals"][0]["evidence"]
    exported = {r["problem_id"]: r for r in rows if r["kind"] == "entry"}
    assert exported["eps"]["filter_trivial"] == "passed"
    assert exported["zeta"]["filter_trivial"] == "failed"  # true, and closed by automation
    assert all(r["filter_reference"] is None for r in rows)  # no reference: not run


def test_judge_all_asks_the_critic_and_keeps_the_filters_status(
    tmp_path: Path, engines: Any
) -> None:
    outcome = run_job(config_for(tmp_path, engines, PROBLEMS[:1], rounds=1, judge_all=True))
    with Store(outcome.db) as store:
        attempts = store.attempts("eps")
        progress = store.progress()
    assert {a.status for a in attempts} == {AttemptStatus.VACUOUS}
    assert all(a.verdict is not None for a in attempts)  # judged faithful, but vacuous
    assert "(h₁ : x < 0)" in critic_prompts(engines[1])
    assert progress["eps"].state is ProblemState.EXHAUSTED
    assert outcome.counters.critic_calls_saved == 0


def test_reject_trivial_and_filters_none(tmp_path: Path, engines: Any) -> None:
    strict = run_job(config_for(tmp_path / "strict", engines, PROBLEMS[1:2], reject_trivial=True))
    with Store(strict.db) as store:
        attempts = store.attempts("zeta")
    by_round = {r: {a.status for a in attempts if a.round == r} for r in (1, 2, 3)}
    assert by_round[1] == {AttemptStatus.REFUTED}
    assert by_round[2] == {AttemptStatus.TRIVIAL}  # the true sum, closed by automation
    round3 = next(a for a in attempts if a.round == 3)
    assert "automation proved the statement outright" in (round3.feedback or "")
    assert strict.counters.accepted == 0

    off = run_job(config_for(tmp_path / "off", engines, PROBLEMS[:1], filters="none"))
    with Store(off.db) as store:
        attempts = store.attempts("eps")
    assert attempts[0].status is AttemptStatus.ACCEPTED
    assert [s.name for s in attempts[0].signals] == ["judge:criticlean"]  # no filter ran
    sent = repl_log(tmp_path / "off").read_text(encoding="utf-8")
    assert "formalize_probe" not in sent


def test_reference_joins_when_rows_carry_one_and_can_be_required(
    tmp_path: Path, engines: Any
) -> None:
    outcome = run_job(config_for(tmp_path, engines, PROBLEMS[2:], require_reference=True))
    with Store(outcome.db) as store:
        attempts = store.attempts("eta")
        entry = store.entries()[0]
    # round 1 (an extra hypothesis) is not proved equivalent: rejected under the requirement
    first = [a for a in attempts if a.round == 1]
    assert {a.status for a in first} == {AttemptStatus.NOT_EQUIVALENT}
    assert "reference" in (attempts[-1].feedback or "")
    assert entry.round == 2 and "(h : 0 < n)" not in entry.lean
    accepted = next(a for a in attempts if a.status is AttemptStatus.ACCEPTED)
    reference = accepted.signal("reference")
    assert reference is not None and reference.outcome is SignalOutcome.PASSED
    assert "formalize_probe_equiv_mp" in reference.evidence


def test_require_reference_without_references_stops_before_any_model_loads(
    tmp_path: Path, engines: Any
) -> None:
    with pytest.raises(PreflightError, match="no problem in the input has a reference"):
        run_job(config_for(tmp_path, engines, PROBLEMS[:1], require_reference=True))
    with pytest.raises(PreflightError, match="needs the reference filter"):
        run_job(
            config_for(tmp_path, engines, PROBLEMS[2:], require_reference=True, filters="vacuous")
        )
    assert not engines[0].completion_requests


def test_stats_and_parquet_show_each_filter(
    tmp_path: Path, engines: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    from formalize.cli.main import main
    from formalize.export import export_corpus

    outcome = run_job(config_for(tmp_path, engines, PROBLEMS[:2]))
    capsys.readouterr()
    assert main(["corpus", "stats", "--db", str(outcome.db)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"rejected by Lean-verified filters\s+4", out)
    assert re.search(r"\n\s+vacuous\s+2\n\s+refuted\s+2\n", out)
    # failed, passed, inconclusive of 8 compiled; zeta has no hypotheses for vacuous
    assert re.search(r"\ntrivial\s+2\s+6\s+0\s+0\nvacuous\s+2\s+2\s+4\s+0\n", out)

    with Store(outcome.db) as store:
        export_corpus(store, tmp_path / "all.parquet", include_rejected=True)
    table = pq.read_table(tmp_path / "all.parquet").to_pylist()
    vacuous = [r for r in table if r["status"] == "vacuous"]
    assert len(vacuous) == 2 and {r["filter_vacuous"] for r in vacuous} == {"failed"}
    evidence = vacuous[0]["signals"][0]
    assert evidence["name"] == "vacuous" and "formalize_probe_vacuous" in evidence["evidence"]
    entries = {r["problem_id"]: r for r in table if r["kind"] == "entry"}
    assert entries["eps"]["filter_vacuous"] == "passed"
    assert entries["zeta"]["filter_vacuous"] == "inconclusive"  # no hypotheses to contradict


def test_a_probe_that_does_not_elaborate_is_inconclusive_and_counted(
    tmp_path: Path, engines: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19, item 6: an error outside the tactic blocks (here the fake REPL's, on the
    probe's statement) is no "nothing proved": the signal is inconclusive with the error, and
    `corpus stats` counts it per filter."""
    from formalize.cli.main import main

    error = "failed to infer binder type"
    broken = [{"probe": "trivial", "when": r"x \+ 1 > x", "error": error}]
    flags = ("--probe-error", json.dumps(broken))
    outcome = run_job(config_for(tmp_path, engines, PROBLEMS[:1], repl_flags=flags))
    with Store(outcome.db) as store:
        attempts = store.attempts("eps")
    trivial = [a.signal("trivial") for a in attempts]
    assert len(trivial) == 4 and all(s is not None for s in trivial)
    for signal in trivial:
        assert signal is not None and signal.outcome is SignalOutcome.INCONCLUSIVE
        assert signal.reason.startswith("the probe did not elaborate at line ")
        assert signal.reason.endswith(": failed to infer binder type")
    assert AttemptStatus.ACCEPTED in {a.status for a in attempts if a.round == 2}
    capsys.readouterr()
    assert main(["corpus", "stats", "--db", str(outcome.db)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"signal\s+failed\s+passed\s+inconclusive\s+probe error\n", out)
    assert re.search(r"\ntrivial\s+0\s+0\s+4\s+4\n", out)
    assert re.search(r"\nvacuous\s+2\s+2\s+0\s+0\n", out)
