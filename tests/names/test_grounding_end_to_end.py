"""`formalize run` where the Lean project has a declaration index: bm25 declarations in the
translator's prompt, the used constants' definitions in the critic's, the name check's
signal, and all of it in the attempts' provenance. Real engines (scripted OpenAI-compatible
servers), the fake REPL through the real driver, the store; the index of the committed
Mathlib-shaped fixture."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from index_fixture import make_lean_project
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import config_for, lean_block, write_problems

from formalize.config import RunConfig
from formalize.corpus import Store
from formalize.index.build import ensure_index
from formalize.records import AttemptStatus, SignalOutcome
from formalize.runner import run_job

STATEMENT = "theorem s (x : ℝ) (h : 0 ≤ x) : 0 ≤ Real.sqrt x := by sorry"


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    return lean_block(globals()["STATEMENT"])


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


def run(tmp_path: Path, engines: Any, **settings: Any) -> tuple[Any, list[str]]:
    project = make_lean_project(tmp_path)
    ensure_index(project)
    base = config_for(tmp_path, engines, samples=1, rounds=1)
    values = {**base.to_dict(), **settings}
    values["lean"] = {**base.lean, "lean_project": str(project)}
    values["input"] = str(
        write_problems(
            tmp_path / "p.jsonl",
            [
                {
                    "id": "sq",
                    "problem": "Show that the square root of a nonnegative real x is nonnegative.",
                }
            ],
        )
    )
    said: list[str] = []
    outcome = run_job(RunConfig(**values), notice=said.append)
    return outcome, said


def prompts(server: ScriptedOpenAIServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in server.completion_requests]


def test_run_grounds_both_prompts_by_default(tmp_path: Path, engines: Any) -> None:
    outcome, said = run(tmp_path, engines)
    t, c = engines
    (translate,) = prompts(t)
    assert "Mathlib declarations that may be relevant" in translate
    assert "Real.sqrt" in translate.split("Mathlib declarations")[1]
    (judge,) = prompts(c)
    definitions = judge.split("— Start of Definitions —")[1]
    assert "Real.sqrt (x : ℝ) : ℝ" in definitions
    assert not any("no Mathlib declaration index" in line for line in said)
    with Store(outcome.db) as store:
        (attempt,) = store.attempts("sq")
    assert attempt.status is AttemptStatus.ACCEPTED
    names = attempt.signal("names")
    assert names is not None and names.outcome is SignalOutcome.PASSED
    grounding = attempt.provenance["grounding"]
    assert grounding["retriever"] == "bm25" and grounding["k"] == 8
    assert grounding["index_revision"].startswith("mathlib@")
    assert "translate_retrieval_v1@1" in attempt.provenance["translate_prompt"]
    assert attempt.provenance["names"]["mode"] == "advise"


def test_retrieval_none_keeps_todays_prompts(tmp_path: Path, engines: Any) -> None:
    outcome, _ = run(tmp_path, engines, retrieval="none")
    t, c = engines
    (translate,) = prompts(t)
    assert "Mathlib declarations" not in translate
    assert "Start of Definitions" not in prompts(c)[0]
    with Store(outcome.db) as store:
        (attempt,) = store.attempts("sq")
    assert attempt.provenance["grounding"] == {"retriever": "none"}
    assert attempt.signal("names") is not None  # the name check runs without retrieval


def cli_run(tmp_path: Path, engines: Any, project: Path, *flags: str) -> int:
    from test_pipeline import FAKE_CLI

    from formalize.cli.main import main

    t, c = engines
    tmp_path.mkdir(parents=True, exist_ok=True)
    problems = write_problems(
        tmp_path / "q.jsonl", [{"id": "sq", "problem": "The square root is nonnegative."}]
    )
    argv = [
        "run",
        str(problems),
        "--translator",
        f"openai:kimina@{t.base_url}",
        "--critic",
        f"openai:criticlean@{c.base_url}",
        "--db",
        str(tmp_path / "c.db"),
        *FAKE_CLI,
        "--lean-project",
        str(project),
        "--workers",
        "1",
        "--no-progress",
        "--samples",
        "1",
        "--rounds",
        "1",
        *flags,
    ]
    return main(argv)


def test_cli_run_counts_a_stale_name_and_says_once_without_an_index(
    tmp_path: Path, engines: Any, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        "test_grounding_end_to_end.STATEMENT", "theorem s : Real.brandNew 1 = 1 := by sorry"
    )
    project = make_lean_project(tmp_path)
    assert cli_run(tmp_path / "none", engines, project) == 0  # no index built yet
    err = capsys.readouterr().err
    assert err.count("no Mathlib declaration index") == 1
    assert "formalize lean index" in err
    ensure_index(project)
    assert cli_run(tmp_path / "with", engines, project) == 0
    err = capsys.readouterr().err
    assert "no Mathlib declaration index" not in err
    assert "with names not in the index" in err
    assert re.search(r"compiled all the same \(stale index\)\s+1\b", err)
