"""Whole ``formalize bench critic`` runs against a scripted OpenAI-compatible critic whose answers
are known, so every metric is checked exactly (through the real OpenAI engine and HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_path
from critic_fakes import lean_of
from support.openai_server import ScriptedOpenAIServer

from formalize.bench import load_results, load_suite, select_items
from formalize.bench.suites import BenchItem
from formalize.cli.main import main

LIMIT = 60


def items() -> list[BenchItem]:
    shared_path("data", "critic", "proofnet_faithfulness_dev.jsonl")
    return select_items(load_suite("proofnet-dev").load(), LIMIT, seed=0)


def planned(position: int, label: bool, sample: int) -> bool | None:
    """The scripted critic's answer for the item at ``position``: True faithful, False not,
    None an answer without a verdict. Mostly right, with known mistakes."""
    if position % 7 == 3:
        return None
    if sample == 1 and position % 3 == 0:  # the second sample disagrees on every third item
        return not label
    if label:
        return position % 5 != 0  # every fifth faithful pair rejected
    return position % 4 == 0  # every fourth unfaithful pair accepted


FORMS = (
    lambda ok: json.dumps({"reasons": "stage analysis", "is_assistant_correct": ok}),
    lambda ok: (
        "```json\n" + json.dumps({"reasons": "x", "is_assistant_correct": ok}, indent=2) + "\n```"
    ),
    lambda ok: f"<think>Compare hypotheses.</think>\nThe types match.\nFinal verdict: {ok}",
    lambda ok: f"After checking, \\boxed{{{ok}}}",
)


def responder_for(chosen: list[BenchItem]) -> Any:
    by_lean = {item.critic_lean(): (pos, item) for pos, item in enumerate(chosen)}

    def respond(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        pos, item = by_lean[lean_of(messages[-1]["content"]).strip()]
        answer = planned(pos, item.label, params["index"])
        if answer is None:
            return "I cannot decide about this one."
        return FORMS[(pos + params["index"]) % len(FORMS)]("Correct" if answer else "Incorrect")

    return respond


def expected_confusion(chosen: list[BenchItem], samples: int, needed: int) -> dict[str, int]:
    table = {"tp": 0, "fn": 0, "tn": 0, "fp": 0}
    for pos, item in enumerate(chosen):
        votes = sum(planned(pos, item.label, s) is True for s in range(samples))
        accepted = votes >= needed
        key = ("tp" if accepted else "fn") if item.label else ("fp" if accepted else "tn")
        table[key] += 1
    return table


def bench(server: ScriptedOpenAIServer, out: Path, *extra: str) -> dict[str, Any]:
    spec = f"openai:critic@{server.base_url}?backoff=0.01"
    argv = ["bench", "critic", "--suite", "proofnet-dev", "--critic", spec, "--limit", str(LIMIT)]
    argv += ["--output", str(out), "--no-cache", "--no-progress", "--bootstrap", "200", *extra]
    assert main(argv) == 0
    return load_results(out)


def test_one_sample_metrics_are_exact(tmp_path: Path, home: Path) -> None:
    chosen = items()
    with ScriptedOpenAIServer(responder_for(chosen), model="critic") as server:
        results = bench(server, tmp_path / "m1")
    table = expected_confusion(chosen, samples=1, needed=1)
    assert results["confusion"] == table
    tp, fn, tn, fp = table["tp"], table["fn"], table["tn"], table["fp"]
    m = results["metrics"]
    assert m["tpr"]["value"] == pytest.approx(tp / (tp + fn))
    assert m["tnr"]["value"] == pytest.approx(tn / (tn + fp))
    assert m["acc"]["value"] == pytest.approx((tp / (tp + fn) + tn / (tn + fp)) / 2)
    assert m["accuracy"] == pytest.approx((tp + tn) / LIMIT)
    assert m["precision"] == pytest.approx(tp / (tp + fp))
    unparsed = sum(pos % 7 == 3 for pos in range(LIMIT))
    assert m["unparsed_rate"] == pytest.approx(unparsed / LIMIT)
    rejected = {}
    for pos, item in enumerate(chosen):
        if not item.label:
            n, r = rejected.get(item.error_type, (0, 0))
            rejected[item.error_type] = (n + 1, r + (planned(pos, False, 0) is not True))
    assert {r["error_type"]: (r["n"], r["rejected"]) for r in results["error_types"]} == rejected
    assert results["critic"]["engine"].startswith("openai:critic@")


def test_three_samples_votes_and_threshold_curve_are_exact(tmp_path: Path, home: Path) -> None:
    chosen = items()
    with ScriptedOpenAIServer(responder_for(chosen), model="critic") as server:
        results = bench(server, tmp_path / "m3", "--critic-samples", "3", "--vote", "unanimous")
        calls = len(server.completion_requests)
    assert results["confusion"] == expected_confusion(chosen, samples=3, needed=3)
    for point in results["threshold_curve"]:
        table = expected_confusion(chosen, samples=3, needed=point["k"])
        assert point["tpr"] == pytest.approx(table["tp"] / (table["tp"] + table["fn"]))
        assert point["tnr"] == pytest.approx(table["tn"] / (table["tn"] + table["fp"]))
    assert [p["rule"] for p in results["threshold_curve"]] == ["min:1/3", "min:2/3", "min:3/3"]
    assert (tmp_path / "m3" / "threshold.png").exists()
    assert calls > 0
