"""``formalize bench calibrate``: two scripted judges with known answers run through
``bench critic`` (real OpenAI engine, HTTP) and then calibrated; the policy and its bounds
are the ones a hand computation gives."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from critic_fakes import json_answer, lean_of
from support.openai_server import ScriptedOpenAIServer

from formalize.bench.judges import load_judge_run
from formalize.bench.policy_file import vote_threshold
from formalize.bench.run import PREDICTIONS
from formalize.cli.main import main
from formalize.config import load_toml
from formalize.critic import VoteRule

FAITHFUL = [f"f{i:02d}" for i in range(20)]
UNFAITHFUL = [f"u{i:02d}" for i in range(60)]


def planned_votes() -> tuple[dict[str, int], dict[str, int]]:
    """Faithful samples per item: judge A answers 3 samples, judge B 2."""
    a = dict.fromkeys(FAITHFUL + UNFAITHFUL, 0)
    b = dict.fromkeys(FAITHFUL + UNFAITHFUL, 0)
    for i in range(14):  # f00-f13: both sure
        a[f"f{i:02d}"], b[f"f{i:02d}"] = 3, 2
    for item in ("f14", "f15"):  # both hesitant
        a[item], b[item] = 1, 1
    for item in ("f16", "f17"):  # A sure, B rejects
        a[item] = 3
    b["f18"] = 2  # B sure, A rejects; f19: both reject
    # Disjoint errors: A is fooled by u00-u08 only, B by u09-u14 only.
    for i, votes in zip(range(9), (3, 3, 3, 2, 2, 2, 1, 1, 1), strict=True):
        a[f"u{i:02d}"] = votes
    for i, votes in zip(range(9, 15), (2, 2, 2, 1, 1, 1), strict=True):
        b[f"u{i:02d}"] = votes
    return a, b


# The hand computation, budget A = 0.05 at C = 0.95 on 60 unfaithful items:
# - The one-sided Clopper-Pearson upper bound with 0 false accepts of n is 1 - 0.05^(1/n);
#   for n = 60 that is 0.048703 <= 0.05, and with 1 false accept it is 0.0766 > 0.05 (the
#   bound grows with the count). So a policy is feasible exactly when it accepts no u-item.
# - A alone: even min:1 (3 of 3) accepts u00-u02: infeasible. B alone: min:1 (2 of 2) accepts
#   u09-u11: infeasible. any(A x, B y) accepts at least one of those: infeasible.
# - all(A x, B y): every u-item has a zero share from one judge, so no false accept for any
#   x, y. Faithful accepted: those with A >= x and B >= y, most at x = 1/3, y = 1/2: f00-f15,
#   16 items (f16-f18 have a zero share from one judge, f19 from both).
# - weighted:T (mean share): u00-u02 and u09-u11 have mean 1/2, so T > 1/2 is needed; the
#   faithful means are 1 (f00-f13), 5/12 (f14, f15) and 1/2 (f16-f18), so T = 1: 14 items.
# Chosen: all(A min:1/3, B min:1/2), TP 16, FN 4, FP 0, TN 60; TPR 0.8, false-accept rate 0
# with bound 1 - 0.05^(1/60).
BOUND_0_OF_60 = 1 - 0.05 ** (1 / 60)


def responder(votes: dict[str, int]) -> Any:
    def respond(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        match = re.search(r"theorem (\w+)", lean_of(messages[-1]["content"]))
        assert match
        return json_answer(params["index"] < votes[match.group(1)])

    return respond


def write_suite(path: Path) -> Path:
    rows = [
        {"id": item, "informal": f"Problem {item}.", "lean": f"theorem {item} : True", "label": ok}
        for items, ok in ((FAITHFUL, True), (UNFAITHFUL, False))
        for item in items
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def bench(spec: str, samples: int, suite: Path, out: Path) -> None:
    argv = ["bench", "critic", "--suite", str(suite), "--critic", spec, "--output", str(out)]
    argv += ["--critic-samples", str(samples), "--no-cache", "--no-progress", "--bootstrap", "20"]
    assert main(argv) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The two judges' `bench critic` run folders over the same suite."""
    root = tmp_path_factory.mktemp("calibrate")
    suite = write_suite(root / "pairs.jsonl")
    a, b = planned_votes()
    with (
        ScriptedOpenAIServer(responder(a), model="judge-a") as server_a,
        ScriptedOpenAIServer(responder(b), model="judge-b") as server_b,
    ):
        bench(f"openai:judge-a@{server_a.base_url}?backoff=0.01", 3, suite, root / "a")
        bench(f"openai:judge-b@{server_b.base_url}?backoff=0.01", 2, suite, root / "b")
    yield root / "a", root / "b"


def calibrate(*argv: str) -> int:
    return main(["bench", "calibrate", *argv])


def test_two_judges_give_the_hand_computed_policy_and_bound(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "policy"
    code = calibrate(str(runs[0]), str(runs[1]), "--max-false-accept", "0.05", "-o", str(out))
    assert code == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (results["tp"], results["fn"], results["fp"], results["tn"]) == (16, 4, 0, 60)
    assert results["tpr"] == pytest.approx(0.8)
    assert results["far"] == 0.0
    assert results["far_upper"] == pytest.approx(BOUND_0_OF_60, rel=1e-9)
    assert results["description"] == "all(judge-a min:1/3, judge-b min:1/2)"
    policy = results["policy"]
    assert policy["combine"] == "all"
    assert [(j["name"], j["samples"], j["vote"]) for j in policy["judges"]] == [
        ("judge-a", 3, "min:1/3"),
        ("judge-b", 2, "min:1/2"),
    ]
    assert policy["judges"][0]["spec"].startswith("openai:judge-a@http://127.0.0.1:")
    # Each judge alone is infeasible (see the hand computation).
    assert [j["best_alone"] for j in results["judges"]] == [None, None]
    # The front starts at the chosen policy: nothing reaches a lower bound with a higher TPR.
    assert results["pareto_front"][0]["description"] == results["description"]
    assert all(row["tp"] > 16 for row in results["pareto_front"][1:])
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| TPR: faithful accepted | 80.0 | 16 of 20 |" in report
    assert "| false-accept rate | 0.0 | 0 of 60 |" in report
    assert f"| {100 * BOUND_0_OF_60:.1f} | Clopper–Pearson on 0 of 60 |" in report
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "all(judge-a min:1/3, judge-b min:1/2)" in capsys.readouterr().err


def test_disjoint_errors_each_judge_infeasible_alone_feasible_together(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, run in (("a", runs[0]), ("b", runs[1])):
        out = tmp_path / name
        assert calibrate(str(run), "--max-false-accept", "0.05", "-o", str(out)) == 3
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert results["feasible"] is False and results["policy"] is None
        assert not (out / "policy.toml").exists()
        # The closest is the judge's strictest vote, which still lets 3 u-items through.
        assert results["closest"][0]["fp"] == 3
        assert "## No feasible policy" in (out / "report.md").read_text(encoding="utf-8")
    assert "no feasible policy" in capsys.readouterr().err
    both = tmp_path / "both"
    assert calibrate(str(runs[0]), str(runs[1]), "--max-false-accept", "0.05", "-o", str(both)) == 0
    assert (both / "policy.toml").exists()


def test_policy_toml_loads_as_a_run_config_with_exactly_the_policy_keys(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "p"
    assert calibrate(str(runs[0]), str(runs[1]), "--max-false-accept", "0.05", "-o", str(out)) == 0
    text = (out / "policy.toml").read_text(encoding="utf-8")
    assert text.startswith("# written by `formalize bench calibrate ")
    assert "suite pairs (" in text.splitlines()[0] and text.splitlines()[0].endswith(", 80 items")
    values = load_toml(out / "policy.toml")
    assert set(values) == {"combine", "judges"}
    assert values["combine"] == "all"
    for judge in values["judges"]:
        assert set(judge) == {"name", "kind", "spec", "samples", "vote", "weight"}
        assert judge["kind"] == "critic" and judge["weight"] == 1.0
    # The file means what the report says: its votes, applied to the stored samples, give
    # back the counts.
    rules = [VoteRule.parse(j["vote"]) for j in values["judges"]]
    shares = [read_shares(run) for run in runs]
    labels = read_labels(runs[0])
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    for item, label in labels.items():
        accepted = all(rule.accepts(s[item]) for rule, s in zip(rules, shares, strict=True))
        counts[("tp" if accepted else "fn") if label else ("fp" if accepted else "tn")] += 1
    assert counts == {"tp": 16, "fn": 4, "fp": 0, "tn": 60}


def read_shares(run: Path) -> dict[str, float]:
    lines = (run / PREDICTIONS).read_text(encoding="utf-8").splitlines()
    return {r["id"]: r["share"] for r in map(json.loads, lines)}


def read_labels(run: Path) -> dict[str, bool]:
    lines = (run / PREDICTIONS).read_text(encoding="utf-8").splitlines()
    return {r["id"]: r["label"] for r in map(json.loads, lines)}


def test_a_run_reads_as_a_judge_with_its_full_spec(runs: tuple[Path, Path]) -> None:
    judge = load_judge_run(runs[0])
    assert judge.name == "judge-a" and judge.kind == "critic" and judge.samples == 3
    assert "@http://127.0.0.1:" in judge.spec  # results.json keeps the address; run.json not
    assert judge.votes["f14"] == (1, 3) and judge.votes["u00"] == (3, 3)
    assert judge.suite["name"] == "pairs" and len(judge.suite["data_sha256"]) == 64


def test_a_written_policy_checked_on_runs_gives_its_counts(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    chosen = tmp_path / "chosen"
    assert (
        calibrate(str(runs[0]), str(runs[1]), "--max-false-accept", "0.05", "-o", str(chosen)) == 0
    )
    policy = str(chosen / "policy.toml")
    # On the same runs the file's policy gives back the calibration's counts; a tighter goal
    # than its bound (0.0487) is not met: exit 3, the figures still reported.
    for budget, code in (("0.05", 0), ("0.04", 3)):
        out = tmp_path / f"check-{budget}"
        argv = [str(runs[0]), str(runs[1]), "--max-false-accept", budget, "--policy", policy]
        assert calibrate(*argv, "-o", str(out)) == code
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        assert results["mode"] == "check" and results["feasible"] is (code == 0)
        assert (results["tp"], results["fn"], results["fp"], results["tn"]) == (16, 4, 0, 60)
        assert results["far_upper"] == pytest.approx(BOUND_0_OF_60, rel=1e-9)
        assert not (out / "policy.toml").exists()
        assert "# Policy check: pairs" in (out / "report.md").read_text(encoding="utf-8")
    # A policy whose judge has no run among those given is refused (exit 2).
    argv = [str(runs[0]), "--max-false-accept", "0.05", "--policy", policy]
    assert calibrate(*argv, "-o", str(tmp_path / "x")) == 2


@pytest.mark.parametrize(
    ("vote", "samples", "threshold"),
    [
        ("majority", 3, "2/3"),
        ("majority", 4, "3/4"),
        ("unanimous", 3, "1"),
        ("min:0.6", 3, "2/3"),
        ("min:2/3", 3, "2/3"),
        ("min:1/2", 2, "1/2"),
        ("min:0.1", 4, "1/4"),
    ],
)
def test_a_vote_rule_as_the_least_share_it_accepts(vote: str, samples: int, threshold: str) -> None:
    least = vote_threshold(vote, samples)
    assert least == Fraction(threshold)
    rule = VoteRule.parse(vote)
    shares = [Fraction(k, samples) for k in range(samples + 1)]
    assert [s >= least for s in shares] == [
        k > 0 and rule.accepts(k / samples) for k in range(samples + 1)
    ]


def test_the_default_output_is_outside_the_bench_runs(
    runs: tuple[Path, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calibrate(str(runs[0]), str(runs[1]), "--max-false-accept", "0.05") == 0
    (folder,) = (home / "calibrate" / "pairs").iterdir()
    assert folder.name.startswith("calibrate-far0.05-")
    assert (folder / "policy.toml").exists()
    assert not (home / "bench").exists()  # `bench compare <home>/bench/<suite>/*` stays valid
    assert str(folder / "policy.toml") in capsys.readouterr().err
