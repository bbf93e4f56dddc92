"""Judges: settings, the combination rules, a panel's verdict, and panels in the whole loop
(scripted OpenAI-compatible servers as translator and judges, the tiny packaged model as a
back-translator, the fake REPL, the SQLite store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.openai_server import ScriptedOpenAIServer
from test_pipeline import config_for as pipeline_config
from test_pipeline import lean_block

from formalize.config import DEFAULT_CRITIC, RunConfig, load_toml
from formalize.corpus import Store
from formalize.critic import Critic
from formalize.judges import Combine, JudgeSpec, Member, Panel, parse_judges
from formalize.records import (
    AttemptStatus,
    CriticSample,
    Judgement,
    Problem,
    SignalOutcome,
    Verdict,
)
from formalize.runner import run_job

# --------------------------------------------------------------------------- settings


def test_judges_from_critics_and_from_tables() -> None:
    critics = parse_judges(
        None, ["vllm:org/Critic-A", "openai:Critic-A@http://h:1/v1"], samples=3, vote="min:2/3"
    )
    assert [(j.name, j.kind, j.samples, j.vote) for j in critics] == [
        ("critic-a", "critic", 3, "min:2/3"),
        ("critic-a-2", "critic", 3, "min:2/3"),  # names made unique
    ]  # fmt: skip
    tables = [
        {"spec": "vllm:org/Critic-A", "samples": 2, "vote": "unanimous", "weight": 2},
        {"name": "bt", "kind": "back_translation", "spec": "vllm:org/W", "comparer": "vllm:org/C"},
    ]
    a, bt = parse_judges(tables, "ignored", samples=1, vote="majority")
    assert (a.samples, a.vote, a.weight) == (2, "unanimous", 2.0)
    assert (bt.name, bt.samples, bt.vote, bt.engine_specs) == (
        "bt",
        1,
        "majority",
        ("vllm:org/W", "vllm:org/C"),
    )
    for bad, message in [
        ({"spec": "x:y", "sampels": 2}, "unknown key 'sampels' \\(did you mean 'samples'\\?\\)"),
        ({"kind": "critic"}, "`spec`"),
        ({"spec": "x:y", "kind": "oracle"}, "kind must be one of"),
        ({"spec": "x:y", "vote": "most"}, "bad vote rule"),
        ({"spec": "x:y", "comparer": "x:z"}, "for kind = back_translation"),
        ({"spec": "x:y", "samples": 0}, "samples must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=r"judges\[1\]: .*" + message):
            parse_judges([bad], "x", samples=1, vote="majority")


def test_a_run_config_takes_judges_and_reports_bad_ones() -> None:
    config = RunConfig(judges=[{"spec": "vllm:a/B"}], combine="weighted:0.5")
    assert config.judges == [{"spec": "vllm:a/B"}]
    with pytest.raises(Exception, match="combine"):
        RunConfig(combine="most")
    with pytest.raises(Exception, match="judges"):
        RunConfig(judges=[{"kind": "critic"}])


@pytest.mark.parametrize(
    ("rule", "decisions", "shares", "accepted"),
    [
        ("all", [True, True], [1.0, 0.6], True),
        ("all", [True, False], [1.0, 0.4], False),
        ("any", [False, True], [0.0, 1.0], True),
        ("any", [False, False], [0.4, 0.4], False),
        ("majority", [True, True, False], [1, 1, 0], True),
        ("majority", [True, False], [1.0, 0.0], False),  # a tie rejects
        ("weighted:0.5", [False, False], [0.5, 0.5], True),  # shares, not decisions
        ("weighted:0.75", [True, False], [1.0, 0.4], False),  # (1.0 + 0.4) / 2 = 0.7
    ],
)
def test_combination_rules(
    rule: str, decisions: list[bool], shares: list[float], accepted: bool
) -> None:
    weights = [1.0] * len(decisions)
    assert Combine.parse(rule).accepts(decisions, shares, weights) is accepted


def test_weights_and_bad_rules() -> None:
    rule = Combine.parse("weighted:0.75")
    assert rule.accepts([True, False], [1.0, 0.4], [2.0, 1.0])  # (2 + 0.4) / 3 = 0.8
    assert not rule.accepts([True, False], [1.0, 0.4], [1.0, 1.0])  # 0.7
    assert str(rule) == "weighted:0.75"
    for bad in ("most", "weighted:", "weighted:1.5", "weighted:0"):
        with pytest.raises(ValueError, match="bad combine rule"):
            Combine.parse(bad)


# --------------------------------------------------------------------------- a panel


class Scripted:
    """A judge with fixed answers per statement."""

    prompt_version = "scripted_v1"

    def __init__(self, answers: dict[str, list[bool]], reason: str) -> None:
        self.answers, self.reason = answers, reason
        self.samples = len(next(iter(answers.values())))
        self.engine = object()

    def judge(self, pairs: Any) -> list[Verdict]:
        out = []
        for _, lean in pairs:
            samples = tuple(
                CriticSample(Judgement.FAITHFUL if ok else Judgement.UNFAITHFUL, "", self.reason)
                for ok in self.answers[lean]
            )
            faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
            judgement = Judgement.FAITHFUL if faithful * 2 > len(samples) else Judgement.UNFAITHFUL
            summary = "" if judgement is Judgement.FAITHFUL else self.reason
            out.append(Verdict(judgement, faithful / len(samples), samples, summary))
        return out

    def provenance(self) -> dict[str, Any]:
        return {"engine": "scripted"}


def panel(rule: str) -> Panel:
    a = Scripted({"s1": [True, True], "s2": [True, False], "s3": [False, False]}, "A objects")
    b = Scripted({"s1": [True, True], "s2": [True, True], "s3": [True, False]}, "B objects")
    members = [Member(JudgeSpec("a", "critic", "x:a", 2), a)]
    members.append(Member(JudgeSpec("b", "critic", "x:b", 2), b))
    return Panel(members, rule)


def test_a_panel_keeps_every_judge_and_combines() -> None:
    pairs = [(Problem("p", "a problem"), lean) for lean in ("s1", "s2", "s3")]
    found = panel("all").assess(pairs)
    assert [v.judgement for v, _ in found] == [
        Judgement.FAITHFUL,
        Judgement.UNFAITHFUL,  # A: 1 of 2 is no majority
        Judgement.UNFAITHFUL,
    ]
    verdict, signals = found[1]
    assert [(s.name, s.outcome, s.score) for s in signals] == [
        ("judge:a", SignalOutcome.FAILED, 0.5),
        ("judge:b", SignalOutcome.PASSED, 1.0),
    ]
    assert verdict.summary == "a: A objects"  # only the objecting judge, named
    assert verdict.share == 0.75 and len(verdict.samples) == 4  # pooled: 3 of 4 samples
    assert verdict.rule == "all(a:majority, b:majority)"
    assert [v.faithful for v, _ in panel("any").assess(pairs)] == [True, True, False]
    # weighted: mean shares 1.0, 0.75, 0.25
    assert [v.faithful for v, _ in panel("weighted:0.7").assess(pairs)] == [True, True, False]
    assert panel("any").calls_per_statement == 2


# --------------------------------------------------------------------------- in the loop

STRICT = "vacuity checked"  # the strict judge's reason


def translator(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    prompt = messages[-1]["content"]
    if "ALPHA" in prompt:
        if STRICT in prompt:  # the strict judge's objection came back
            return lean_block("theorem a (n : ℕ) (h : 0 < n) : n = n := by sorry")
        return lean_block("theorem a (n : ℕ) : n = n := by sorry")
    return "I don't know."


def lenient(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    body = {"reasons": "Looks right.", "is_assistant_correct": "Correct"}
    return f"```json\n{json.dumps(body)}\n```"


def strict(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    prompt = messages[-1]["content"]
    ok = "(h : 0 < n)" in prompt or "positive natural number" in prompt
    verdict = "Correct" if ok else "Incorrect"
    reasons = "It matches." if ok else f"The positivity hypothesis is missing ({STRICT})."
    return f"```json\n{json.dumps({'reasons': reasons, 'is_assistant_correct': verdict})}\n```"


@pytest.fixture
def judges() -> Iterator[tuple[ScriptedOpenAIServer, ...]]:
    with (
        ScriptedOpenAIServer(translator, model="kimina") as t,
        ScriptedOpenAIServer(lenient, model="lenient") as a,
        ScriptedOpenAIServer(strict, model="strict") as b,
    ):
        yield t, a, b


def run_config(tmp_path: Path, servers: Any, **kw: Any) -> RunConfig:
    t, a, _ = servers
    tmp_path.mkdir(parents=True, exist_ok=True)
    base = pipeline_config(tmp_path, (t, a), samples=1, rounds=2, limit=1)
    return RunConfig(**{**base.to_dict(), **kw})


def test_two_critics_all_must_accept(tmp_path: Path, judges: Any) -> None:
    _, a, b = judges
    critics = [f"openai:lenient@{a.base_url}", f"openai:strict@{b.base_url}"]
    outcome = run_job(run_config(tmp_path, judges, critic=critics, combine="all"))
    with Store(outcome.db) as store:
        attempts = store.attempts("alpha")
        (entry,) = store.entries()
    first, second = attempts
    assert first.status is AttemptStatus.UNFAITHFUL  # the strict judge objected
    assert {s.name: s.outcome for s in first.signals if s.is_judge} == {
        "judge:lenient": SignalOutcome.PASSED,
        "judge:strict": SignalOutcome.FAILED,
    }
    assert STRICT in (second.feedback or "")  # its objection, by name, went back
    assert second.status is AttemptStatus.ACCEPTED and "(h : 0 < n)" in entry.lean
    assert [j["name"] for j in second.provenance["judges"]] == ["lenient", "strict"]
    assert second.provenance["combine"] == "all"
    assert len(a.completion_requests) == len(b.completion_requests) == 2  # both judged both

    # `any` accepts round 1 already (the lenient judge is enough)
    again = run_job(run_config(tmp_path / "any", judges, critic=critics, combine="any"))
    with Store(again.db) as store:
        assert [x.status for x in store.attempts("alpha")] == [AttemptStatus.ACCEPTED]


def test_a_policy_file_with_a_back_translation_judge(tmp_path: Path, judges: Any) -> None:
    """The [[judges]] form `formalize bench calibrate` writes; the back-translation is written
    by the lenient server (its "reasons" JSON is the text) and compared by the strict one."""
    t, a, b = judges
    tmp_path.mkdir(parents=True, exist_ok=True)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'combine = "all"\n\n[[judges]]\nname = "critic"\n'
        f'spec = "openai:lenient@{a.base_url}"\nsamples = 1\nvote = "majority"\n\n'
        '[[judges]]\nname = "bt"\nkind = "back_translation"\n'
        f'spec = "openai:lenient@{a.base_url}"\ncomparer = "openai:strict@{b.base_url}"\n',
        encoding="utf-8",
    )
    values = load_toml(policy)
    assert set(values) == {"combine", "judges"}
    config = run_config(tmp_path, judges, critic=DEFAULT_CRITIC, **values)
    outcome = run_job(config)
    with Store(outcome.db) as store:
        attempts = store.attempts("alpha")
    bt = attempts[0].signal("judge:bt")
    assert bt is not None and bt.outcome is SignalOutcome.FAILED
    assert "Looks right." in bt.evidence  # the back-translation, kept as evidence
    assert bt.details["back_translation"] == bt.evidence
    assert "Read back from the Lean code" in (attempts[1].feedback or "")
    compared = [r.body["messages"][-1]["content"] for r in b.completion_requests]
    assert any("Restatement:" in p and "Looks right." in p for p in compared)
    # a rerun makes no model call at all
    calls = (len(t.completion_requests), len(a.completion_requests), len(b.completion_requests))
    run_job(config)
    assert calls == (
        len(t.completion_requests),
        len(a.completion_requests),
        len(b.completion_requests),
    )


def test_back_translation_with_the_tiny_model(tmp_path: Path, judges: Any) -> None:
    """Real generation writes the back-translation (gibberish from a 1M-parameter model); a
    scripted server compares it."""
    from support.tiny_models import ModelUnavailable, tinycoder_spec

    from formalize.judges.back_translation import BackTranslationJudge
    from formalize.models import GenerationParams, load_engine

    try:
        spec = tinycoder_spec()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    b = judges[2]
    writer = load_engine(spec)
    comparer = load_engine(f"openai:strict@{b.base_url}")
    try:
        judge = BackTranslationJudge(
            writer, comparer, writer_params=GenerationParams(n=1, temperature=0.0, max_tokens=16)
        )
        (found,) = judge.assess([(Problem("p", "Show that n = n."), "theorem a (n : ℕ) : n = n")])
    finally:
        writer.close()
        comparer.close()
    assert found.evidence and found.details["back_translation"] == found.evidence
    assert found.verdict.judgement is Judgement.UNFAITHFUL  # strict: no positivity in it
    (request,) = b.completion_requests
    assert found.evidence in request.body["messages"][-1]["content"]
    assert judge.provenance()["kind"] == "back_translation"


def test_a_bare_critic_is_a_panel_of_one() -> None:
    critic = Critic(object(), samples=1)  # type: ignore[arg-type]
    assert Panel.of(critic).members[0].judge is critic


def test_bench_critic_runs_the_back_translation_judge(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from formalize.cli.main import main

    rows = [
        {"id": "a", "informal": "Show A.", "lean": "theorem a : True -- GOOD", "label": True},
        {"id": "b", "informal": "Show B.", "lean": "theorem b : True -- BAD", "label": True},
        {"id": "c", "informal": "Show C.", "lean": "theorem c : True -- BAD", "label": False},
    ]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def writer(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        lean = messages[-1]["content"]
        return "Prove the GOOD claim." if "GOOD" in lean else "Prove some other claim."

    def comparer(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        restatement = messages[-1]["content"].split("Restatement:", 1)[1]
        verdict = "Correct" if "GOOD" in restatement else "Incorrect"
        return json.dumps({"reasons": "compared", "is_assistant_correct": verdict})

    with (
        ScriptedOpenAIServer(writer, model="writer") as w,
        ScriptedOpenAIServer(comparer, model="comparer") as c,
    ):
        out = tmp_path / "bt"
        argv = ["bench", "critic", "--suite", str(pairs), "--critic", f"openai:writer@{w.base_url}"]
        argv += ["--back-translation", "--comparer", f"openai:comparer@{c.base_url}"]
        argv += ["--output", str(out), "--no-progress", "--bootstrap", "10"]
        assert main(argv) == 0
        assert len(w.completion_requests) == len(c.completion_requests) == 3
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["critic"]["kind"] == "back_translation"
    assert run["critic"]["comparer"] == "openai:comparer"
    predictions = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert {p["id"]: p["accepted"] for p in predictions} == {"a": True, "b": False, "c": False}
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["critic"]["kind"] == "back_translation"
    assert results["prompt_version"] == "back_translate_v1@1+compare_v1@1"
