"""Benchmark outputs name critics by model, never by a server's address: the default folders,
the resume identity, the compare table and the threshold plot (percent, legend clear of the
points, a short title)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import ScriptedEngine
from test_bench_run import scripted_answer, suite_file  # noqa: F401  (a fixture)

from formalize.bench import load_suite, run_critic_bench
from formalize.bench.report import compare_rows, threshold_figure, write_outputs
from formalize.cli.bench import default_output
from formalize.cli.common import format_table
from formalize.critic import Critic
from formalize.models.spec import short_spec

LONG = (
    "vllm:/home/someone/experiments/critics/checkpoints/run-2026-11-30/"
    "CriticLeanGPT-Qwen3-8B-RL-finetuned-step-5000?dtype=bfloat16&max_model_len=20480"
)


def test_default_folders_are_named_by_model(home: Path) -> None:
    one = default_output("s", "openai:smol@http://127.0.0.1:8000/v1", 1, "majority")
    two = default_output("s", "openai:smol@http://127.0.0.1:8123/v1", 1, "majority")
    assert one == two == home / "bench" / "s" / "openai_smol-m1"
    hub = default_output("s", "vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL", 4, "unanimous")
    assert hub.name == "vllm_m-a-p_CriticLeanGPT-Qwen3-8B-RL-m4-unanimous"
    local = default_output("s", LONG, 1, "majority").name
    assert local.startswith("vllm_CriticLeanGPT-Qwen3-8B-RL-finetuned-step-5000-")
    assert "home" not in local and "8000" not in one.name


def test_a_server_on_another_port_resumes_the_same_run(suite_file: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    for port, expected_calls in ((8000, 8), (8001, 0)):
        engine = ScriptedEngine(scripted_answer)
        run_critic_bench(
            load_suite(str(suite_file)),
            Critic(engine),
            out,
            critic_spec=f"openai:smol@http://127.0.0.1:{port}/v1",
            progress=False,
            bootstrap=50,
        )
        assert len(engine.prompts) == expected_calls


def results_with(spec: str, curve: bool = True) -> dict[str, Any]:
    """Results of 8 samples a pair; the two curves cross the whole plot, as real ones do."""
    tpr = [1.0, 0.97, 0.92, 0.85, 0.75, 0.62, 0.45, 0.25]
    tnr = [0.05, 0.2, 0.38, 0.55, 0.7, 0.82, 0.92, 1.0]
    points = [
        {"rule": f"min:{k}/8", "threshold": k / 8, "tpr": t, "tnr": n, "acc": (t + n) / 2}
        | {"accepted": k}
        for k, t, n in zip(range(1, 9), tpr, tnr, strict=True)
    ]
    return {
        "suite": {"name": "proofnet-dev", "version": "1"},
        "critic": {"spec": spec, "samples": 8, "rule": "majority", "prompt_version": "v"},
        "counts": {"items": 3},
        "metrics": {},
        "threshold_curve": points if curve else [],
    }


def test_compare_rows_stay_short_with_a_local_path() -> None:
    rows = compare_rows([("run", results_with(LONG))])
    assert rows[0][2] == short_spec(LONG) and len(rows[0][2]) <= 40
    assert rows[0][2].startswith("vllm:…/CriticLeanGPT-Qwen3-8B-RL")
    table = format_table(("run", "suite", "critic", *[str(i) for i in range(11)]), rows)
    assert max(len(line) for line in table.splitlines()) < 150


def test_the_plot_is_in_percent_with_a_short_title_and_a_legend_clear_of_the_points() -> None:
    fig = threshold_figure(results_with(LONG))
    ax = fig.axes[0]
    ys = [y for line in ax.get_lines() for y in line.get_ydata()]
    assert max(ys) == 100.0 and min(ys) == pytest.approx(5.0)  # percent, like the report
    title = ax.get_title()
    assert "/home/" not in title and "\n" not in title and "CriticLeanGPT" in title
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    # outside the axes, so that no curve, however it runs, can pass under it
    assert not legend.overlaps(ax.get_window_extent())
    for line in ax.get_lines():
        for x, y in line.get_xydata():
            px, py = ax.transData.transform((x, y))
            assert not legend.contains(px, py), (x, y)


def test_a_plot_that_cannot_be_drawn_is_said_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    results = results_with("vllm:m", curve=True)
    results.update(
        {
            "confusion": {"tp": 0, "fn": 0, "fp": 0, "tn": 0},
            "error_types": [],
            "bootstrap": {"replicates": 0, "seed": 0},
            "code_version": "x",
            "finished_at": "now",
        }
    )
    results["counts"] = {"items": 3, "faithful": 1, "unfaithful": 2, "unparsed": 0}
    results["counts"].update(unparsed_faithful=0, unparsed_unfaithful=0)
    write_outputs(results, tmp_path)
    assert "warning: no threshold plot: matplotlib cannot be imported" in capsys.readouterr().err
    assert "(No plot: matplotlib cannot be imported" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text())["files"]["plot"] is None
