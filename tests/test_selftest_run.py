"""A run asks its Lean for the token table and runs the filters' self-test before its first
check (``formalize.truth``), and a filter the self-test found wrong stays off for the whole
run: the whole loop of ``test_filters_pipeline`` (scripted engines, the fake REPL, the store)
with a Lean project whose revision is known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_filters_pipeline import PROBLEMS, config_for, engines  # noqa: F401 (a fixture)
from test_pipeline import repl_log

from formalize.config import RunConfig
from formalize.corpus import Store
from formalize.lean.tokens import use_lean_tokens
from formalize.records import SignalOutcome
from formalize.runner import run_job


def test_a_run_asks_lean_first_and_switches_a_wrong_filter_off(
    tmp_path: Path,
    engines: Any,  # noqa: F811
    home: Path,
) -> None:
    project = tmp_path / "lean_project"
    project.mkdir()
    (project / "lean-toolchain").write_text("leanprover/lean4:v4.15.0\n", encoding="utf-8")
    base = config_for(tmp_path, engines, PROBLEMS[:1])
    lean = {**base.lean, "lean_project": str(project)}
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
    assert run["config"]["lean_self_test"]["revision"] == "leanprover/lean4:v4.15.0"
    assert "vacuous" in run["config"]["lean_self_test"]["switched_off"]
    signals = [a.signal("vacuous") for a in attempts]
    assert signals and all(s is not None for s in signals)
    for s in signals:
        assert s is not None and s.outcome is SignalOutcome.INCONCLUSIVE
        assert s.reason.startswith("self-test failed: contradictory hypotheses")
    assert not any("formalize_probe_vacuous" in r for r in sent[first_check:])
