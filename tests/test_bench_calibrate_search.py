"""The calibration search on small hand-made cases: no feasible policy, the precision form, a
weighted policy and its written threshold, joining runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from critic_fakes import ScriptedEngine, greedy, json_answer, lean_of

from formalize.bench import load_suite, run_critic_bench
from formalize.bench.calibrate import Objective, calibrate, describe
from formalize.bench.calibrate_report import write_outputs
from formalize.bench.judges import JudgeRun, join_runs, load_judge_run
from formalize.cli.main import main
from formalize.config import load_toml
from formalize.critic import Critic
from formalize.errors import InputError

scipy_stats = pytest.importorskip("scipy.stats")


def suite_file(path: Path, votes: dict[str, tuple[bool, int]]) -> Path:
    """A suite whose item ids carry the planned number of faithful samples."""
    rows = [
        {"id": item, "informal": f"P {item}.", "lean": f"theorem {item} : True -- {k}", "label": ok}
        for item, (ok, k) in votes.items()
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def scripted_run(suite: Path, out: Path, samples: int, name: str = "scripted:judge") -> Path:
    """A `bench critic` run whose sample i says faithful iff i < the item's planned count."""

    def answer(prompt: str, sample: int) -> str:
        return json_answer(sample < int(lean_of(prompt).rsplit("-- ", 1)[1]))

    critic = Critic(ScriptedEngine(answer), samples=samples, params=greedy(samples))
    run_critic_bench(
        load_suite(str(suite)), critic, out, critic_spec=name, progress=False, bootstrap=0
    )
    return out


def test_no_feasible_policy_says_so_and_shows_the_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A perfect judge on 10 unfaithful items: no false accept, but the bound is
    # 1 - 0.05^(1/10) = 0.2589 > 0.05, so nothing is feasible; the closest is the perfect vote.
    votes = {f"f{i}": (True, 1) for i in range(5)} | {f"u{i}": (False, 0) for i in range(10)}
    run = scripted_run(suite_file(tmp_path / "s.jsonl", votes), tmp_path / "run", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "policy.toml").write_text("combine = 'all'\n", encoding="utf-8")  # an older result
    code = main(["bench", "calibrate", str(run), "--max-false-accept", "0.05", "-o", str(out)])
    assert code == 3
    assert not (out / "policy.toml").exists()  # never leave a policy that is not this result's
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["feasible"] is False
    assert results["policy"] is None and results["tpr"] is None and results["far_upper"] is None
    closest = results["closest"][0]
    assert (closest["tp"], closest["fp"]) == (5, 0)
    assert closest["far_upper"] == pytest.approx(1 - 0.05 ** (1 / 10), rel=1e-9)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## No feasible policy" in report and "no `policy.toml` was written" in report
    err = capsys.readouterr().err
    assert "no feasible policy" in err and "judge min:1" in err


def test_precision_form_picks_the_highest_tpr_with_the_precision_bound(tmp_path: Path) -> None:
    # One judge, 2 samples. 30 faithful: 24 get 2/2, 6 get 1/2. 30 unfaithful: 3 get 1/2.
    # min:1/2 -> TP 30, FP 3; min:1 -> TP 24, FP 0. At C = 0.95 each bound is taken at 0.975:
    # precision_lo = R*TPR_lo / (R*TPR_lo + (1-R)*FAR_hi) with R = 0.5, computed here with scipy.
    votes = {f"f{i}": (True, 2 if i < 24 else 1) for i in range(30)}
    votes |= {f"u{i}": (False, 1 if i < 3 else 0) for i in range(30)}
    run = scripted_run(suite_file(tmp_path / "s.jsonl", votes), tmp_path / "run", 2)
    joined = join_runs([load_judge_run(run)])
    objective = Objective(min_precision=0.8, base_rate=0.5)
    result = calibrate(joined, objective)

    def precision_lo(tp: int, fp: int) -> float:
        tpr_lo = 0.0 if tp == 0 else scipy_stats.beta.ppf(0.025, tp, 30 - tp + 1)
        far_hi = 1.0 if fp == 30 else scipy_stats.beta.ppf(0.975, fp + 1, 30 - fp)
        return 0.5 * tpr_lo / (0.5 * tpr_lo + 0.5 * far_hi)

    assert precision_lo(30, 3) == pytest.approx(0.7692, abs=1e-4)  # < 0.8: min:1/2 infeasible
    assert precision_lo(24, 0) == pytest.approx(0.8415, abs=1e-4)  # >= 0.8: min:1 feasible
    chosen = result.chosen
    assert chosen is not None
    assert describe(chosen.policy, joined) == "all(judge min:1)"
    assert (chosen.tp, chosen.fp) == (24, 0)
    assert chosen.precision_lower == pytest.approx(precision_lo(24, 0), rel=1e-9)
    assert chosen.tpr_lower == pytest.approx(scipy_stats.beta.ppf(0.025, 24, 7), rel=1e-9)
    assert chosen.far_upper_joint == pytest.approx(1 - 0.025 ** (1 / 30), rel=1e-9)
    # With a lower bar the laxer vote wins on TPR.
    lax = calibrate(joined, Objective(min_precision=0.75, base_rate=0.5)).chosen
    assert lax is not None and (lax.tp, lax.fp) == (30, 3)


def judge(name: str, shares: dict[str, tuple[bool, int]], samples: int = 3) -> JudgeRun:
    return JudgeRun(
        name=name,
        folder=Path(name),
        kind="critic",
        spec=f"vllm:org/{name}",
        samples=samples,
        suite={"name": "s", "version": "1", "data_sha256": "0" * 64},
        labels={item: label for item, (label, _) in shares.items()},
        votes={item: (k, samples) for item, (_, k) in shares.items()},
    )


def test_a_weighted_policy_and_the_threshold_it_writes(tmp_path: Path) -> None:
    # Shares (A, B) in thirds; each kind repeated 20 times (80 unfaithful: with no false accept
    # the bound is 1 - 0.05^(1/80) = 0.0367 <= 0.05). Faithful: (3,1), (1,3), (2,2), all with
    # mean 2/3. Unfaithful: (3,0), (0,3) with mean 1/2; (1,1), (2,0) with mean 1/3.
    # all(x, y) taking every faithful kind needs x, y <= 1/3 and then takes (1,1); any(x, y)
    # taking (2,2) needs x or y <= 2/3 and then takes (3,0) or (0,3); one judge alone likewise.
    # Only weighted:T with 1/2 < T <= 2/3 takes all faithful items and no other; the next lower
    # mean is 1/2, so the file says T = 0.6 (the shortest decimal in (1/2, 2/3]).
    kinds_f = [(3, 1), (1, 3), (2, 2)]
    kinds_u = [(3, 0), (0, 3), (1, 1), (2, 0)]
    a: dict[str, tuple[bool, int]] = {}
    b: dict[str, tuple[bool, int]] = {}
    for label, kinds in ((True, kinds_f), (False, kinds_u)):
        for k, (sa, sb) in enumerate(kinds):
            for r in range(20):
                item = f"{'f' if label else 'u'}{k}-{r}"
                a[item], b[item] = (label, sa), (label, sb)
    joined = join_runs([judge("a", a), judge("b", b)])
    result = calibrate(joined, Objective(max_false_accept=0.05))
    assert result.chosen is not None
    assert describe(result.chosen.policy, joined) == "weighted:0.6(a, b)"
    assert (result.chosen.tp, result.chosen.fp) == (60, 0)
    results = write_outputs(result, tmp_path, "formalize bench calibrate a b")
    policy = load_toml(tmp_path / "policy.toml")
    assert policy["combine"] == "weighted:0.6" == results["policy"]["combine"]
    threshold = float(policy["combine"].split(":")[1])
    accepted = [
        (sa + sb) / 6 >= threshold for kinds in (kinds_f, kinds_u) for sa, sb in kinds
    ]  # the mean of the shares, as `formalize run` computes it
    assert accepted == [True, True, True, False, False, False, False]


def test_runs_over_different_suites_are_refused(tmp_path: Path) -> None:
    one = scripted_run(suite_file(tmp_path / "one.jsonl", {"f": (True, 1)}), tmp_path / "r1", 1)
    two = scripted_run(suite_file(tmp_path / "two.jsonl", {"f": (True, 0)}), tmp_path / "r2", 1)
    with pytest.raises(InputError, match="different suites or data files") as caught:
        join_runs([load_judge_run(one), load_judge_run(two)])
    assert str(one) in str(caught.value) and str(two) in str(caught.value)
    code = main(["bench", "calibrate", str(one), str(two), "--max-false-accept", "0.1"])
    assert code == 2


def test_items_missing_from_a_run_are_counted_and_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    votes = {f"f{i}": (True, 1) for i in range(4)} | {f"u{i}": (False, 0) for i in range(4)}
    suite = suite_file(tmp_path / "s.jsonl", votes)
    full = scripted_run(suite, tmp_path / "full", 1, "scripted:full")
    part = tmp_path / "part"
    critic = Critic(
        ScriptedEngine(lambda p, i: json_answer(True)), samples=1, params=greedy(1)
    )  # a run over a seeded sample of 4 of the 8 items
    run_critic_bench(
        load_suite(str(suite)), critic, part, critic_spec="scripted:part", limit=4, progress=False
    )
    joined = join_runs([load_judge_run(full), load_judge_run(part)])
    assert (joined.union, len(joined.ids)) == (8, 4)
    assert joined.missing == {"full": 0, "part": 4}
    out = tmp_path / "out"
    main(["bench", "calibrate", str(full), str(part), "--max-false-accept", "0.5", "-o", str(out)])
    assert "4 of the 8 items are not in every run (part lacks 4)" in capsys.readouterr().err
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "4 of the 8 items some run judged are left out (part lacks 4)" in report


def test_objective_needs_one_form() -> None:
    with pytest.raises(InputError, match="either --max-false-accept"):
        Objective()
    with pytest.raises(InputError, match="either --max-false-accept"):
        Objective(max_false_accept=0.05, min_precision=0.9, base_rate=0.5)
    with pytest.raises(InputError, match="needs --base-rate"):
        Objective(min_precision=0.9)
    with pytest.raises(InputError, match="in \\(0, 1\\)"):
        Objective(max_false_accept=1.5)


def test_a_back_translation_run_is_a_judge_and_its_comparer_is_written(tmp_path: Path) -> None:
    votes = {f"f{i}": (True, 1) for i in range(5)} | {f"u{i}": (False, 0) for i in range(60)}
    suite = suite_file(tmp_path / "s.jsonl", votes)
    run = scripted_run(suite, tmp_path / "bt", 1, "vllm:org/writer")
    identity = json.loads((run / "run.json").read_text(encoding="utf-8"))
    identity["critic"] |= {"kind": "back_translation", "comparer": "vllm:org/comparer"}
    (run / "run.json").write_text(json.dumps(identity), encoding="utf-8")
    judge_run = load_judge_run(run)
    assert (judge_run.kind, judge_run.comparer) == ("back_translation", "vllm:org/comparer")
    result = calibrate(join_runs([judge_run]), Objective(max_false_accept=0.05))
    write_outputs(result, tmp_path / "out", "formalize bench calibrate bt")
    (judge,) = load_toml(tmp_path / "out" / "policy.toml")["judges"]
    assert judge == {
        "name": "writer",
        "kind": "back_translation",
        "spec": "vllm:org/writer",
        "samples": 1,
        "vote": "min:1",
        "weight": 1.0,
        "comparer": "vllm:org/comparer",
    }
