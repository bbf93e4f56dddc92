"""The whole loop end to end: real engines (a scripted OpenAI-compatible server playing
translator and critic; the tiny packaged model through hf), the fake REPL through the real
driver and pool, and the SQLite store. Also: kill mid-run and resume; hostile model output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus_writer import count_entries as entry_count
from corpus_writer import snapshot as corpus_of
from support.lines import Lines
from support.openai_server import ScriptedOpenAIServer

from formalize.config import RunConfig
from formalize.corpus import ProblemState, Store
from formalize.records import AttemptStatus
from formalize.runner import run_job

REPO = Path(__file__).resolve().parents[1]
FAKE_REPL = REPO / "tests" / "lean" / "fake_repl.py"
# The fake REPL runs in the Lean sandbox (where bwrap works): the interpreter itself, not a
# venv's symlink, and the installation it needs shown read-only.
PYTHON = os.path.realpath(sys.executable)
FAKE_CLI = ["--repl-cmd", f"{PYTHON} {FAKE_REPL}", "--sandbox-path", sys.base_prefix]


def repl_log(tmp_path: Path) -> Path:
    """The fake REPL's request log, in a directory the sandbox lets it write (also as nobody)."""
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    shared.chmod(0o777)
    return shared / "repl.log"


PROBLEMS = [
    {"id": "alpha", "problem": "ALPHA: for every positive natural n, n = n."},
    {"id": "beta", "problem": "BETA: for every positive natural n, n + 0 = n."},
    {"id": "gamma", "problem": "GAMMA: an impossible problem."},
    {"id": "delta", "problem": "DELTA: the translator misbehaves here."},
]
HOSTILE = [
    '```lean4\nimport Mathlib\n#eval IO.println "pwned"\ntheorem t : True := by sorry\n```',
    "```lean4\nimport Mathlib\nrun_cmd Lean.logInfo 1\ntheorem t : True := by sorry\n```",
    "```lean4\nimport Mathlib\nimport Evil.Module\ntheorem t : True := by sorry\n```",
    "```lean4\ntheorem t (h : " + "∧".join(["True"] * 6000) + ") : True := by sorry\n```",
]


def lean_block(body: str) -> str:
    return f"Here it is.\n```lean4\nimport Mathlib\n\n{body}\n```\nDone."


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Plays the translator: round by round, by problem and by the repair prompt it got."""
    prompt = messages[-1]["content"]
    repair_lean = "did not compile" in prompt
    repair_critic = "does not state the problem faithfully" in prompt
    if "ALPHA" in prompt:  # a compile error fixed in round 2
        if repair_lean:
            return lean_block("theorem a (n : ℕ) (h : 0 < n) : n = n := by\n  rfl")
        return lean_block("theorem a (n : ℕ) (h : undefined_ident n) : n = n := by\n  rfl")
    if "BETA" in prompt:  # a critic objection fixed in round 3
        if repair_critic and "(h : 1 < n)" in prompt:
            return lean_block("theorem b (n : ℕ) (h : 0 < n) : n + 0 = n := by simp")
        if repair_critic:
            return lean_block("theorem b (n : ℕ) (h : 1 < n) : n + 0 = n := by simp")
        return lean_block("theorem b (n : ℕ) : n + 0 = n := by simp")
    if "GAMMA" in prompt:  # never compiles
        return lean_block("theorem g : undefined_ident := by sorry")
    if "DELTA" in prompt:
        return HOSTILE[params["index"] % len(HOSTILE)]
    return "I don't know."


def critic(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Plays a CriticLean critic: JSON verdicts, after a thinking section."""
    prompt = messages[-1]["content"]
    if "formalize_beta" in prompt and "(h : 0 < n)" not in prompt:
        bound = "1 < n" if "(h : 1 < n)" in prompt else "none"
        reasons = f"The hypothesis that n is positive is wrong (got: {bound}); it needs 0 < n."
        verdict = "Incorrect"
    else:
        reasons, verdict = "Types, hypotheses and conclusion match.", "Correct"
    body = json.dumps({"reasons": reasons, "is_assistant_correct": verdict})
    return f"<think>Let me compare each hypothesis.</think>\n```json\n{body}\n```"


def write_problems(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def config_for(
    tmp_path: Path, servers: tuple[ScriptedOpenAIServer, ScriptedOpenAIServer], **kw: Any
) -> RunConfig:
    t, c = servers
    log = repl_log(tmp_path)
    values: dict[str, Any] = {
        "input": str(write_problems(tmp_path / "problems.jsonl", PROBLEMS)),
        "translator": f"openai:kimina@{t.base_url}",
        "critic": f"openai:criticlean@{c.base_url}",
        "db": str(tmp_path / "corpus.db"),
        "samples": 4,
        "rounds": 3,
        "batch_size": 2,
        "progress": False,
        "lean": {
            "repl_cmd": [PYTHON, str(FAKE_REPL), "--log", str(log)],
            "sandbox_paths": [sys.base_prefix],
            "sandbox_writable": [str(log.parent)],
            "workers": 1,
            "timeout_s": 30.0,
            "toolchain": "fake-repl v4.15.0",
        },
    }
    values.update(kw)
    return RunConfig(**values)


def repl_requests(tmp_path: Path) -> list[str]:
    log = repl_log(tmp_path)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_feedback_paths_end_to_end(tmp_path: Path, servers: Any) -> None:
    outcome = run_job(config_for(tmp_path, servers))
    assert not outcome.stopped
    with Store(outcome.db) as store:
        entries = {e.problem_id: e for e in store.entries()}
        progress = store.progress()
        attempts = {pid: store.attempts(pid) for pid in ("alpha", "beta", "gamma", "delta")}

    # alpha: compile error in round 1, fixed in round 2 with Lean's error in the prompt
    assert entries["alpha"].round == 2
    assert {a.status for a in attempts["alpha"] if a.round == 1} == {AttemptStatus.LEAN_ERROR}
    alpha2 = [a for a in attempts["alpha"] if a.round == 2]
    assert "nknown identifier" in (alpha2[0].feedback or "")
    assert "(h : 0 < n)" in entries["alpha"].lean

    # beta: compiled but judged unfaithful twice; the objection fixed it in round 3
    assert entries["beta"].round == 3
    by_round = {r: {a.status for a in attempts["beta"] if a.round == r} for r in (1, 2, 3)}
    assert by_round[1] == by_round[2] == {AttemptStatus.UNFAITHFUL}
    assert AttemptStatus.ACCEPTED in by_round[3]
    beta3 = next(a for a in attempts["beta"] if a.round == 3)
    assert "got: 1 < n" in (beta3.feedback or "")  # round 2's objection came back
    accepted = next(a for a in attempts["beta"] if a.status is AttemptStatus.ACCEPTED)
    assert accepted.verdict is not None and "match" in accepted.verdict.samples[0].reasons
    assert entries["beta"].provenance["translate_prompt"].startswith("translate_v1@")

    # gamma: never compiles, exhausted after 3 rounds of 4 samples
    assert progress["gamma"].state is ProblemState.EXHAUSTED and "gamma" not in entries
    assert len(attempts["gamma"]) == 12

    # delta: every hostile candidate rejected, none reached the REPL
    assert progress["delta"].state is ProblemState.EXHAUSTED
    assert {a.status for a in attempts["delta"]} == {AttemptStatus.REJECTED}
    reasons = " | ".join(a.check.reason or "" for a in attempts["delta"] if a.check)
    for word in ("#eval", "run_cmd", "Evil"):
        assert word in reasons
    sent = "\n".join(repl_requests(tmp_path))
    assert sent, "the fake REPL logged nothing: the test would prove nothing"
    for word in ("pwned", "run_cmd", "Evil", "True∧True∧True"):
        assert word not in sent

    assert outcome.counters.accepted == 2
    assert outcome.counters.done == 2 and outcome.counters.exhausted == 2


def test_rerun_resumes_with_no_model_call_and_no_lean_check(tmp_path: Path, servers: Any) -> None:
    t, c = servers
    config = config_for(tmp_path, servers)
    run_job(config)
    calls = (len(t.completion_requests), len(c.completion_requests))
    checks = len(repl_requests(tmp_path))
    with Store(config.db or "") as store:
        before = [(e.problem_id, e.lean) for e in store.entries()]
    again = run_job(config)
    assert (len(t.completion_requests), len(c.completion_requests)) == calls
    assert len(repl_requests(tmp_path)) == checks
    assert again.counters.skipped == 4 and again.counters.accepted == 0
    with Store(config.db or "") as store:
        assert [(e.problem_id, e.lean) for e in store.entries()] == before
        assert len(store.runs()) == 2


def test_tiny_packaged_model_through_hf(tmp_path: Path, servers: Any) -> None:
    """Real generation end to end: gibberish from a 1M-parameter model is stored as no_code."""
    from support.tiny_models import ModelUnavailable, tinycoder_spec

    try:
        spec = tinycoder_spec()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    config = config_for(
        tmp_path,
        servers,
        translator=spec,
        critic=spec,
        samples=2,
        rounds=2,
        translator_max_tokens=24,
        limit=2,
    )
    outcome = run_job(config)
    with Store(outcome.db) as store:
        attempts = store.attempts()
        assert len(attempts) == 2 * 2 * 2  # problems x rounds x samples
        assert all(a.candidate.raw_output for a in attempts)
        assert all(a.provenance["translator"] == spec for a in attempts)
        assert {p.state for p in store.progress().values()} == {ProblemState.EXHAUSTED}


def test_bad_input_lines_are_reported_and_the_rest_runs(
    tmp_path: Path, servers: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from formalize.cli.main import main

    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        (json.dumps(PROBLEMS[0]) + "\n{broken\n" + json.dumps({"id": "x"}) + "\n").encode()
    )
    t, c = servers
    argv = [
        "run",
        str(path),
        "--translator",
        f"openai:kimina@{t.base_url}",
        "--critic",
        f"openai:criticlean@{c.base_url}",
        "--db",
        str(tmp_path / "c.db"),
        *FAKE_CLI,
        "--workers",
        "1",
        "--no-progress",
    ]
    assert main(argv) == 1  # done, but lines were skipped: as `formalize check` reports it
    err = capsys.readouterr().err
    assert f"skipped: {path}:2: malformed JSON" in err
    assert f"skipped: {path}:3: missing the problem statement field" in err
    assert "2 input lines skipped" in err
    assert "accepted this run" in err
    assert "fields: id <- 'id' [picked automatically]; statement <- 'problem'" in err
    with Store(tmp_path / "c.db") as store:
        assert [e.problem_id for e in store.entries()] == ["alpha"]


# ---------------------------------------------------------------- kill and resume


def many_problems(n: int) -> list[dict[str, Any]]:
    rows = []
    for k in range(n):
        kind = ("ALPHA", "BETA", "GAMMA")[k % 3]
        rows.append({"id": f"{kind.lower()}-{k}", "problem": f"{kind}: case {k} of {n}."})
    return rows


def slow_translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    time.sleep(0.01)
    answer = translator(messages, params)
    # make each problem's statements distinct (the corpus deduplicates equal statements)
    case = re.search(r"case (\d+) of", messages[-1]["content"])
    if case is None:
        return answer
    k = case.group(1)
    return answer.replace("(n : ℕ)", f"(n : ℕ) (hc : n + {k} = {k} + n)")


GATED_FROM = 9  # problems from this case on wait for a closed gate


@dataclass
class Gate:
    """Holds the translator's answers for cases >= GATED_FROM until opened; ``held`` is set once
    such a request has arrived (the run is then certainly mid-round). Closed, a run over
    ``many_problems(24)`` (batches of 3) accepts the alphas of cases 0, 3 and 6 and then waits:
    the chunk that holds case 9 also holds the third rounds the betas need."""

    opened: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)

    def translator(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        case = re.search(r"case (\d+) of", messages[-1]["content"])
        if case is not None and int(case.group(1)) >= GATED_FROM and not self.opened.is_set():
            self.held.set()
            self.opened.wait(120)
        return slow_translator(messages, params)


def run_cli(problems: Path, db: Path, t: str, c: str, *extra: str) -> subprocess.Popen[str]:
    """`formalize run` of ``problems`` in a subprocess (one Lean worker, batches of 3, 2
    samples, no progress), its stderr a pipe; ``extra`` flags are added."""
    argv = [
        sys.executable,
        "-m",
        "formalize.cli.main",
        "run",
        str(problems),
        "--translator",
        t,
        "--critic",
        c,
        "--db",
        str(db),
        *FAKE_CLI,
        "--workers",
        "1",
        "--batch-size",
        "3",
        "--samples",
        "2",
        "--no-progress",
        *extra,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )


MANY = 24


@pytest.fixture
def gate() -> Iterator[Gate]:
    """Open; a test closes it to hold a run mid-round (it is opened again after the test)."""
    opened = Gate()
    opened.opened.set()
    try:
        yield opened
    finally:
        opened.opened.set()


@pytest.fixture
def slow_specs(tmp_path: Path, gate: Gate) -> Iterator[tuple[str, str]]:
    """Translator (behind ``gate``) and critic specs for subprocess runs over MANY problems."""
    write_problems(tmp_path / "many.jsonl", many_problems(MANY))
    with (
        ScriptedOpenAIServer(gate.translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        yield f"openai:kimina@{t.base_url}", f"openai:criticlean@{c.base_url}"


def run_to_end(tmp_path: Path, db: Path, specs: tuple[str, str]) -> None:
    proc = run_cli(tmp_path / "many.jsonl", db, *specs)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def start_until_entries(
    tmp_path: Path, db: Path, specs: tuple[str, str], entries: int, gate: Gate
) -> subprocess.Popen[str]:
    """A run in a subprocess, returned once it has accepted ``entries`` pairs (at most 3) and
    waits at the closed ``gate``: it cannot end before the test stops it."""
    gate.opened.clear()
    proc = run_cli(tmp_path / "many.jsonl", db, *specs)
    deadline = time.monotonic() + 120
    while entry_count(db) < entries and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be stopped"
    got = entry_count(db)
    assert got >= entries, f"{got} entries after 120 s, waiting for {entries}"
    assert gate.held.wait(120), "the run never reached the gated problems"
    return proc


def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_corpus(
    tmp_path: Path, slow_specs: tuple[str, str], gate: Gate
) -> None:
    reference = tmp_path / "reference.db"
    run_to_end(tmp_path, reference, slow_specs)
    expected = corpus_of(reference)
    assert len(expected[0]) == 2 * MANY // 3  # alpha and beta cases are accepted

    db = tmp_path / "killed.db"
    proc = start_until_entries(tmp_path, db, slow_specs, 2, gate)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = corpus_of(db)
    assert 2 <= len(partial[0]) < len(expected[0])

    gate.opened.set()
    run_to_end(tmp_path, db, slow_specs)
    assert corpus_of(db) == expected


def test_ctrl_c_stops_after_the_current_step_and_a_rerun_finishes(
    tmp_path: Path, slow_specs: tuple[str, str], gate: Gate
) -> None:
    db = tmp_path / "interrupted.db"
    proc = start_until_entries(tmp_path, db, slow_specs, 2, gate)
    assert proc.stderr is not None
    lines = Lines(proc.stderr)
    proc.send_signal(signal.SIGINT)
    lines.wait_for("stopping: nothing new starts")
    gate.opened.set()  # the step in flight finishes; nothing new starts
    proc.wait(timeout=120)
    err = lines.rest()
    assert proc.returncode == 130, err
    assert "min of work; what finished is saved. To resume, rerun the same command" in err
    with Store(db) as store:
        (run,) = store.runs()
        assert run["status"] == "interrupted"
        stopped_at = len(store.entries())
    assert stopped_at < 2 * MANY // 3
    run_to_end(tmp_path, db, slow_specs)
    entries, _ = corpus_of(db)
    assert len(entries) == 2 * MANY // 3


def test_a_prompt_the_engine_keeps_failing_does_not_stop_the_run(tmp_path: Path) -> None:
    def flaky(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        if "EPSILON" in messages[-1]["content"]:
            raise RuntimeError("prompt too long for this model")  # the server answers 500
        return translator(messages, params)

    rows = [PROBLEMS[0], {"id": "epsilon", "problem": "EPSILON: too long."}, PROBLEMS[2]]
    with (
        ScriptedOpenAIServer(flaky, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        config = config_for(
            tmp_path,
            (t, c),
            input=str(write_problems(tmp_path / "p.jsonl", rows)),
            translator=f"openai:kimina@{t.base_url}?retries=1&backoff=0.01",
        )
        outcome = run_job(config)
    with Store(outcome.db) as store:
        eps = store.attempts("epsilon")
        assert [a.status for a in eps] == [AttemptStatus.GENERATION_FAILED] * 3
        assert "prompt too long" in eps[0].candidate.raw_output
        assert store.progress()["epsilon"].state is ProblemState.EXHAUSTED
        assert [e.problem_id for e in store.entries()] == ["alpha"]


def test_an_engine_that_is_down_stops_the_run_and_a_rerun_resumes(tmp_path: Path) -> None:
    from formalize.models import GenerationError

    def down(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        raise RuntimeError("upstream unavailable")

    with (
        ScriptedOpenAIServer(down, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        config = config_for(
            tmp_path, (t, c), translator=f"openai:kimina@{t.base_url}?retries=1&backoff=0.01"
        )
        with pytest.raises(GenerationError, match="upstream unavailable"):
            run_job(config)
    with Store(config.db or "") as store:
        assert store.attempts() == []  # nothing half-recorded
        assert store.runs()[0]["status"] == "failed"
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(critic, model="criticlean") as c,
    ):
        outcome = run_job(config_for(tmp_path, (t, c)))
    assert outcome.counters.accepted == 2
