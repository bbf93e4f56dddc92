"""A run asks its Lean for the token table and runs the filters' self-test before its first
check (``formalize.truth``), and a filter the self-test found wrong stays off for the whole
run: the whole loop of ``test_filters_pipeline`` (scripted engines, the fake REPL, the store)
with a Lean project whose revision is known."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from test_filters_pipeline import PROBLEMS, RULES, config_for, engines  # noqa: F401 (a fixture)
from test_pipeline import repl_log

sys.path.insert(0, str(Path(__file__).resolve().parent / "lean"))  # the Lean tests' helpers
from fake_lake import lake_project

from formalize.config import RunConfig
from formalize.corpus import Store
from formalize.lean.tokens import use_lean_tokens
from formalize.records import SignalOutcome
from formalize.runner import run_job


def test_a_run_asks_lean_first_and_switches_a_wrong_filter_off(
    tmp_path: Path,
    engines: Any,  # noqa: F811
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", os.environ["PATH"])  # lake_project puts its `lake` first
    base = config_for(tmp_path, engines, PROBLEMS[:1])
    # the project's own Lean is the fake, proving by the pipeline test's rules, logging
    log = repl_log(tmp_path)
    project = lake_project(tmp_path, "--log", str(log), "--prove", json.dumps(RULES))
    lean = {**base.lean, "lean_project": str(project), "repl_cmd": None}
    config = RunConfig(**{**base.to_dict(), "lean": lean, "rounds": 1})
    notes: list[str] = []
    try:
        outcome = run_job(config, notice=notes.append)
    finally:
        use_lean_tokens(())
    sent = [json.loads(line)["request"] for line in repl_log(tmp_path).read_text().splitlines()]
    table = next(i for i, r in enumerate(sent) if "getTokenTable" in r)
    first_check = next(i for i, r in enumerate(sent) if "x + 1 > x := by sorry" in r)
    assert table < first_check
    # the pipeline test's rules do not prove the self-test's contradictory pair: vacuous is
    # wrong on this "Lean", said once, loudly, and off for the run
    loud = [n for n in notes if "filter vacuous is SWITCHED OFF" in n]
    assert len(loud) == 1 and loud[0].startswith("WARNING:")
    with Store(outcome.db) as store:
        attempts = store.attempts("eps")
        (run,) = store.runs()
    # the run's record keeps what its Lean said
    revision = "leanprover/lean4:v4.15.0 mathlib@v4.15.0 (aaaaaaaaaaaa)"
    assert run["config"]["lean_self_test"]["revision"] == revision
    assert "vacuous" in run["config"]["lean_self_test"]["switched_off"]
    signals = [a.signal("vacuous") for a in attempts]
    assert signals and all(s is not None for s in signals)
    for s in signals:
        assert s is not None and s.outcome is SignalOutcome.INCONCLUSIVE
        assert s.reason.startswith("self-test failed: contradictory hypotheses")
    assert not any("formalize_probe_vacuous" in r for r in sent[first_check:])
