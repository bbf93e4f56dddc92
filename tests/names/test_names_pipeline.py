"""The name check in the loop: real engines (scripted OpenAI-compatible servers), the fake REPL
through the real driver and pool, the store, and an in-memory stand-in for the index.

advise: Lean still decides, and its unknown-identifier error comes back with the suggestions;
precheck: the candidate goes back without a Lean call (the fake REPL's log shows none);
a name Lean accepts but the index lacks is counted as a stale index, never a rejection."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from names_fakes import DECLS, FakeDecl, FakeIndex
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import lean_block, repl_log

from formalize.cli.main import main
from formalize.corpus import Store
from formalize.critic import Critic
from formalize.lean import LeanChecker, LeanConfig
from formalize.models import GenerationParams, load_engine
from formalize.names import NameChecker
from formalize.pipeline import Pipeline
from formalize.records import AttemptStatus, Problem, SignalOutcome
from formalize.translate import Translator

REPO = Path(__file__).resolve().parents[2]
FAKE_REPL = REPO / "tests" / "lean" / "fake_repl.py"
PYTHON = os.path.realpath(sys.executable)
# The fake REPL answers `Nat.undefined_ident` with "unknown identifier"; the index knows the
# right name, one letter away.
WRONG = "theorem w (n : ℕ) (h : 0 < n) : Nat.undefined_ident n = n := by sorry"
RIGHT = "theorem w (n : ℕ) (h : 0 < n) : Nat.undefined_idents n = n := by sorry"
STALE = "theorem s (n : ℕ) : Nat.brandNew n = n := by sorry"


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    prompt = messages[-1]["content"]
    if "STALE" in prompt:
        return lean_block(STALE)
    if "GATED" in prompt:  # refused by the gate (#eval), with an unknown name too
        return lean_block("#eval Nat.undefined_ident 1\n" + WRONG)
    if "Nat.undefined_idents" in prompt:  # a suggestion reached the repair prompt
        return lean_block(RIGHT)
    return lean_block(WRONG)


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


def run(tmp_path: Path, engines: Any, mode: str, problems: list[Problem]) -> tuple[Any, Path]:
    t, c = engines
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = repl_log(tmp_path)
    lean = LeanConfig(
        repl_cmd=(PYTHON, str(FAKE_REPL), "--log", str(log)),
        workers=1,
        toolchain="fake",
        sandbox_paths=(sys.base_prefix,),
        sandbox_writable=(str(log.parent),),
    )
    index = FakeIndex([*DECLS, FakeDecl("Nat.undefined_idents", "def", "(n : ℕ) : ℕ")])
    with (
        Store(tmp_path / "c.db") as store,
        LeanChecker(lean, cache=store.cache) as checker,
        load_engine(f"openai:kimina@{t.base_url}") as te,
        load_engine(f"openai:criticlean@{c.base_url}") as ce,
    ):
        pipeline = Pipeline(
            Translator(te, samples=1, params=GenerationParams(temperature=0.0, max_tokens=256)),
            checker,
            Critic(ce),
            store,
            rounds=2,
            names=NameChecker(index),
            names_mode=mode,
        )
        counters = pipeline.run(problems, store.start_run({}, "test"))
    return counters, log


def attempts(tmp_path: Path, problem_id: str) -> list[Any]:
    with Store(tmp_path / "c.db") as store:
        return store.attempts(problem_id)


def repair_prompt(engines: Any) -> str:
    t, _ = engines
    return t.completion_requests[-1].body["messages"][-1]["content"]


def test_advise_adds_the_suggestion_to_lean_unknown_identifier(
    tmp_path: Path, engines: Any
) -> None:
    counters, log = run(tmp_path, engines, "advise", [Problem("w", "WRONG: a problem.")])
    first, second = attempts(tmp_path, "w")
    assert first.status is AttemptStatus.LEAN_ERROR  # Lean decided
    names = first.signal("names")
    assert names is not None and names.outcome is SignalOutcome.FAILED
    assert names.details["unresolved"] == {"Nat.undefined_ident": ["Nat.undefined_idents"]}
    prompt = repair_prompt(engines)
    assert "unknown identifier 'Nat.undefined_ident'" in prompt
    assert "did you mean: Nat.undefined_idents?" in prompt
    assert second.status is AttemptStatus.ACCEPTED
    assert second.signal("names").outcome is SignalOutcome.PASSED
    assert "Nat.undefined_ident " in log.read_text(encoding="utf-8")  # it went to Lean
    assert counters.names_unresolved == 1 and counters.names_prechecked == 0


def test_precheck_sends_it_back_without_a_lean_call(tmp_path: Path, engines: Any) -> None:
    counters, log = run(tmp_path, engines, "precheck", [Problem("w", "WRONG: a problem.")])
    first, second = attempts(tmp_path, "w")
    assert first.status is AttemptStatus.UNKNOWN_NAME
    assert first.check is None
    assert first.signal("names").outcome is SignalOutcome.FAILED
    sent = log.read_text(encoding="utf-8") if log.exists() else ""
    assert "Nat.undefined_ident " not in sent and "Nat.undefined_idents" in sent
    prompt = repair_prompt(engines)
    assert (
        "`Nat.undefined_ident` is not a Mathlib name; did you mean Nat.undefined_idents?" in prompt
    )
    assert second.status is AttemptStatus.ACCEPTED
    assert counters.names_prechecked == 1


def test_a_name_lean_accepts_but_the_index_lacks_is_counted_not_rejected(
    tmp_path: Path, engines: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    counters, _ = run(tmp_path, engines, "advise", [Problem("s", "STALE: a problem.")])
    (only,) = attempts(tmp_path, "s")
    assert only.status is AttemptStatus.ACCEPTED
    assert only.signal("names").outcome is SignalOutcome.INCONCLUSIVE
    assert counters.names_stale == 1
    with Store(tmp_path / "c.db") as store:
        assert store.funnel().names_stale == 1
    assert main(["corpus", "stats", "--db", str(tmp_path / "c.db")]) == 0
    stats = capsys.readouterr().out
    assert re.search(r"names Lean accepts that the index lacks \(stale index\)\s+1\b", stats)
    # precheck trusts the index (that is what saves the Lean call): the same name is held back
    run(tmp_path / "precheck", engines, "precheck", [Problem("s", "STALE: a problem.")])
    statuses = {a.status for a in attempts(tmp_path / "precheck", "s")}
    assert statuses == {AttemptStatus.UNKNOWN_NAME}


def test_the_gate_decides_first(tmp_path: Path, engines: Any) -> None:
    problem = Problem("g", "GATED: a problem.")
    run(tmp_path, engines, "precheck", [problem])
    first = attempts(tmp_path, "g")[0]
    assert first.status is AttemptStatus.REJECTED  # refused by the gate, not held back
    assert first.signal("names") is None


def test_off_runs_no_name_check(tmp_path: Path, engines: Any) -> None:
    run(tmp_path, engines, "off", [Problem("w", "WRONG: a problem.")])
    first = attempts(tmp_path, "w")[0]
    assert first.status is AttemptStatus.LEAN_ERROR
    assert first.signal("names") is None
    assert "did you mean" not in repair_prompt(engines)
