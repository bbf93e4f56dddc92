"""Whole benchmark runs with a scripted critic: exact metrics, files, resume, interruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import ScriptedEngine, greedy, json_answer, lean_of

from formalize.bench import load_results, load_suite, run_critic_bench
from formalize.bench.metrics import metric_value
from formalize.bench.run import PREDICTIONS, read_predictions
from formalize.critic import Critic
from formalize.errors import InputError

# (id, label, marker in the Lean code, error_type). GOOD -> "Correct", BAD -> "Incorrect",
# ODD -> an answer without a verdict (unparsed), MIX -> samples Correct, Incorrect, Correct, ...
PAIRS = [
    ("p1", True, "GOOD", None),
    ("p2", True, "GOOD", None),
    ("p3", True, "BAD", None),
    ("p4", True, "ODD", None),
    ("n1", False, "BAD", "missing_premise"),
    ("n2", False, "GOOD", "missing_premise"),
    ("n3", False, "ODD", "wrong_type"),
    ("n4", False, "BAD", "wrong_type"),
]


def scripted_answer(prompt: str, sample: int) -> str:
    lean = lean_of(prompt)
    if "GOOD" in lean:
        return "<think>Checking each hypothesis.</think>\n" + json_answer(True, "all match")
    if "BAD" in lean:
        return "```json\n" + json_answer(False, "the hypothesis h is missing") + "\n```"
    if "MIX" in lean:
        return json_answer(sample % 2 == 0, "mixed")
    return "I am not sure what to say."


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": pid,
            "informal": f"Problem {pid}.",
            "lean": f"theorem {pid} : True := sorry -- {marker}",
            "label": label,
            "error_type": error,
        }
        for pid, label, marker, error in PAIRS
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run(
    suite_file: Path, output: Path, engine: ScriptedEngine, samples: int = 1, **kw: Any
) -> dict[str, Any]:
    critic = Critic(
        engine, samples=samples, rule=kw.pop("rule", "majority"), params=greedy(samples)
    )
    return run_critic_bench(
        load_suite(str(suite_file)),
        critic,
        output,
        critic_spec="scripted:test",
        progress=False,
        bootstrap=200,
        **kw,
    )


def test_whole_run_computes_the_known_metrics_and_writes_every_file(
    suite_file: Path, tmp_path: Path
) -> None:
    engine = ScriptedEngine(scripted_answer)
    out = tmp_path / "out"
    results = run(suite_file, out, engine, batch_size=3)
    assert len(engine.calls) == 3  # 8 pairs in batches of 3
    # TP = p1, p2; FN = p3, p4 (unparsed); TN = n1, n3 (unparsed), n4; FP = n2.
    assert results["confusion"] == {"tp": 2, "fn": 2, "tn": 3, "fp": 1}
    m = results["metrics"]
    assert metric_value(m["tpr"]) == 0.5
    assert metric_value(m["tnr"]) == 0.75
    assert metric_value(m["acc"]) == 0.625
    assert m["accuracy"] == 0.625
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(4 / 7)
    assert m["unparsed_rate"] == 0.25
    for key in ("acc", "tpr", "tnr"):
        lo, hi = m[key]["ci"]
        assert 0 <= lo <= m[key]["value"] <= hi <= 1
    assert {r["error_type"]: r["detection_rate"] for r in results["error_types"]} == {
        "missing_premise": 0.5,
        "wrong_type": 1.0,
    }

    on_disk = load_results(out)
    assert on_disk["metrics"] == results["metrics"]
    assert on_disk["suite"]["name"] == "pairs"
    assert on_disk["critic"]["spec"] == "scripted:test"
    assert on_disk["critic"]["prompt_version"] == "critic_v1@1"
    assert on_disk["critic"]["params"]["n"] == 1
    assert on_disk["code_version"]
    lines = (out / PREDICTIONS).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [p[0] for p in PAIRS]
    assert [r["accepted"] for r in records] == [True, True, False, False, False, True, False, False]
    assert records[3]["judgement"] == "unparsed"
    assert records[0]["verdict"]["samples"][0]["raw"].startswith("<think>")
    assert records[4]["verdict"]["summary"] == "the hypothesis h is missing"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| ACC = (TPR + TNR) / 2 (the paper's) | 62.5 |" in report
    assert "| missing_premise | 2 | 1 | 50.0 |" in report
    assert "One sample per pair" in report
    assert not (out / "threshold.png").exists()


def test_rerun_resumes_without_calling_the_critic(suite_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run(suite_file, out, ScriptedEngine(scripted_answer))
    engine = ScriptedEngine(scripted_answer)
    second = run(suite_file, out, engine)
    assert engine.calls == []
    assert second["metrics"] == first["metrics"]
    assert second["judged_this_session"] == 0


def test_an_interrupted_run_keeps_finished_batches(suite_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def interrupt_after_first_batch(prompt: str, sample: int) -> str:
        if len(engine.calls) > 1:
            raise KeyboardInterrupt
        return scripted_answer(prompt, sample)

    engine = ScriptedEngine(interrupt_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        run(suite_file, out, engine, batch_size=3)
    assert sorted(read_predictions(out / PREDICTIONS)) == ["p1", "p2", "p3"]
    with (out / PREDICTIONS).open("a", encoding="utf-8") as handle:
        handle.write('{"id": "p4", "verdict": {"judg')  # a write cut short by a kill

    resumed = ScriptedEngine(scripted_answer)
    results = run(suite_file, out, resumed, batch_size=3)
    assert len(resumed.prompts) == 5  # p4..n4 only
    assert results["confusion"] == {"tp": 2, "fn": 2, "tn": 3, "fp": 1}
    assert len((out / PREDICTIONS).read_text(encoding="utf-8").splitlines()) == 8


def test_several_samples_give_the_threshold_curve_and_plot(tmp_path: Path) -> None:
    rows = [
        {"id": f"f{i}", "informal": "P.", "lean": f"theorem f{i} : True -- {m}", "label": True}
        for i, m in enumerate(["GOOD", "MIX", "BAD"])
    ] + [
        {"id": f"u{i}", "informal": "P.", "lean": f"theorem u{i} : True -- {m}", "label": False}
        for i, m in enumerate(["MIX", "BAD", "ODD"])
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    results = run(path, out, ScriptedEngine(scripted_answer), samples=3)
    # faithful votes: f0 3, f1 2, f2 0 | u0 2, u1 0, u2 0 (unparsed)
    curve = results["threshold_curve"]
    assert [(p["rule"], p["tpr"], p["tnr"]) for p in curve] == [
        ("min:1/3", pytest.approx(2 / 3), pytest.approx(2 / 3)),
        ("min:2/3", pytest.approx(2 / 3), pytest.approx(2 / 3)),
        ("min:3/3", pytest.approx(1 / 3), 1.0),
    ]
    assert results["critic"]["rule"] == "majority"
    assert results["confusion"] == {"tp": 2, "fn": 1, "tn": 2, "fp": 1}
    png = out / "threshold.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![TPR and TNR over the vote threshold](threshold.png)" in (out / "report.md").read_text(
        encoding="utf-8"
    )

    # Another vote rule on the same folder re-decides from the stored samples: no model call.
    engine = ScriptedEngine(scripted_answer)
    unanimous = run(path, out, engine, samples=3, rule="unanimous")
    assert engine.calls == []
    assert unanimous["confusion"] == {"tp": 1, "fn": 2, "tn": 3, "fp": 0}


def test_an_output_folder_of_another_run_is_refused(suite_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(suite_file, out, ScriptedEngine(scripted_answer))
    with pytest.raises(InputError, match=r"samples: 1 -> 2"):
        run(suite_file, out, ScriptedEngine(scripted_answer), samples=2)


def test_limit_runs_a_seeded_ratio_keeping_sample(suite_file: Path, tmp_path: Path) -> None:
    results = run(suite_file, tmp_path / "out", ScriptedEngine(scripted_answer), limit=4, seed=3)
    assert results["counts"]["items"] == 4
    assert results["counts"]["faithful"] == 2
    assert results["suite_items"] == 8
    assert "a seeded sample (seed 3)" in (tmp_path / "out" / "report.md").read_text("utf-8")
