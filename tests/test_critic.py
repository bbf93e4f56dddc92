"""The critic: answer parsing, voting, objection summaries and ``Critic.judge``."""

from __future__ import annotations

import pytest
from critic_fakes import ScriptedEngine, greedy, json_answer, lean_of

from formalize.critic import (
    Critic,
    VoteRule,
    lean_with_header,
    parse_verdict,
    problem_text,
    summarize_objections,
)
from formalize.errors import InputError
from formalize.records import CriticSample, Judgement, Problem, Verdict

F, U, X = Judgement.FAITHFUL, Judgement.UNFAITHFUL, Judgement.UNPARSED

# ----------------------------------------------------------------------------- parse_verdict

CASES = [
    # the released CriticLean form: bare, fenced, after thinking, messy JSON
    ('{"reasons": "all match", "is_assistant_correct": "Correct"}', F),
    ('{"reasons": "drops h", "is_assistant_correct": "Incorrect"}', U),
    (
        '```json\n{\n  "reasons": "1. ...\n2. ...",\n  "is_assistant_correct": "Incorrect"\n}\n```',
        U,
    ),
    ("Here is my analysis.\n```json\n" + json_answer(True) + "\n```\nDone.", F),
    ("<think>Hmm, maybe Correct.</think>\n" + json_answer(False), U),
    ('<think>"is_assistant_correct": "Incorrect"</think>' + json_answer(True), F),
    ("</think>\n\n" + json_answer(True), F),  # chat template opened the think tag
    ('{"reasons": "ok", "is_assistant_correct": "incorrect",}', U),  # trailing comma
    ('{"REASONS": "ok", "Is_Assistant_Correct": "  CORRECT  "}', F),
    ('{"reasons": "the "x" is unquoted", "is_assistant_correct": "Incorrect"}', U),
    ('{"is_correct": "Incorrect"}', U),  # the key shown in the paper's figure
    ('{"faithful": false, "reasons": "x"}', U),
    ('{"verdict": "faithful"}', F),
    ('{"reasons": "fine", "is_assistant_correct": "Correct"} so \\boxed{42}', F),
    # general chat models
    ("Analysis ...\nVerdict: faithful", F),
    ("Analysis ...\n**Verdict:** Not faithful", U),
    ("Final answer: incorrect.", U),
    ("FINAL VERDICT :  Correct", F),
    ("Conclusion: The formalization is correct.", F),
    ("4. Conclusion: the Lean statement is not faithful to the problem", U),
    ("So the answer is \\boxed{Correct}.", F),
    ("\\boxed{\\text{Incorrect}}", U),
    ("Long discussion.\n\n**Incorrect**", U),
    ("Long discussion.\nNot faithful.", U),
    ("Judgement: yes", F),
    # absent, contradictory, cut off, template echoes
    ("The formalization looks fine to me.", X),
    ("", X),
    ("Verdict: faithful\nFinal answer: incorrect", X),
    (json_answer(True) + "\nVerdict: unfaithful", X),
    (json_answer(True) + json_answer(False), X),
    ("<think>It is Correct, so I will answer", X),
    ('{"reasons": "...", "is_assistant_correct": "[Correct/Incorrect]"}', X),
    ('"reasons": "x", "is_assistant_correct": "Correct" or "Incorrect"', X),
    ("Verdict: partially correct", X),
    ("Final answer: 42", X),
    ("no idea", X),
    ("Looks correct to me, mostly", X),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_verdict(text: str, expected: Judgement) -> None:
    sample = parse_verdict(text)
    assert sample.judgement is expected
    assert sample.raw == text


def test_json_reasons_are_kept() -> None:
    sample = parse_verdict(json_answer(False, "h is missing"))
    assert sample.reasons == "h is missing"


def test_prose_answer_reasons_are_the_answer_without_thinking() -> None:
    sample = parse_verdict("<think>scratch</think>\nThe domain is wrong.\nVerdict: incorrect")
    assert sample.judgement is U
    assert sample.reasons == "The domain is wrong.\nVerdict: incorrect"


def test_unparsed_says_why() -> None:
    assert "contradictory" in parse_verdict("Verdict: correct\nVerdict: incorrect").reasons
    assert "no verdict" in parse_verdict("hmm").reasons
    assert "<think>" in parse_verdict("<think>still thinking").reasons


# ----------------------------------------------------------------------------- voting


def samples(*judgements: Judgement) -> list[CriticSample]:
    return [CriticSample(j, raw=j.value, reasons=f"because {j.value}") for j in judgements]


@pytest.mark.parametrize(
    ("spec", "canonical", "threshold"),
    [
        ("majority", "majority", 0.5),
        (" Unanimous ", "unanimous", 1.0),
        ("min:0.6", "min:0.6", 0.6),
        ("min:2/3", "min:2/3", 2 / 3),
        ("min:75%", "min:0.75", 0.75),
        ("min:1", "min:1", 1.0),
    ],
)
def test_vote_rule_specs(spec: str, canonical: str, threshold: float) -> None:
    rule = VoteRule.parse(spec)
    assert str(rule) == canonical
    assert rule.threshold == pytest.approx(threshold)
    assert VoteRule.parse(str(rule)) == rule


@pytest.mark.parametrize("spec", ["", "most", "min", "min:0", "min:1.5", "min:x", "min:1/0"])
def test_bad_vote_rules_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="bad vote rule"):
        VoteRule.parse(spec)


@pytest.mark.parametrize(
    ("rule", "votes", "expected"),
    [
        ("majority", (F, F, U), F),
        ("majority", (F, U), U),  # a tie rejects
        ("majority", (F, F, X), F),
        ("majority", (F, X, X), U),  # unparsed samples count against
        ("majority", (X, X, X), X),  # unparsed only when nothing parsed
        ("majority", (U, X), U),
        ("unanimous", (F, F, F), F),
        ("unanimous", (F, F, X), U),
        ("min:2/3", (F, F, U), F),  # exactly 2/3 passes min:2/3
        ("min:0.7", (F, F, U), U),
        ("min:0.25", (F, U, U, U), F),
        ("min:0.1", (U, X), U),
    ],
)
def test_vote_decisions(rule: str, votes: tuple[Judgement, ...], expected: Judgement) -> None:
    assert VoteRule.parse(rule).decide(samples(*votes)) is expected


def test_a_vote_needs_samples() -> None:
    with pytest.raises(ValueError):
        VoteRule.parse("majority").decide([])


# ----------------------------------------------------------------------------- summaries


def test_summary_of_one_objection_focuses_on_the_discrepancies() -> None:
    reasons = (
        "1. Math Assertion Analysis: x is real. 2. Lean Statement Analysis: x : ℕ. "
        "5. Accuracy Confirmation: x should be real, not natural."
    )
    summary = summarize_objections([CriticSample(U, raw="r", reasons=reasons)])
    assert summary == "5. Accuracy Confirmation: x should be real, not natural."


def test_summary_counts_objecting_samples_and_dedups() -> None:
    same = CriticSample(U, raw="r", reasons="The hypothesis h is missing.")
    other = CriticSample(U, raw="r", reasons="The conclusion uses ≤ instead of <.")
    ok = CriticSample(F, raw="r", reasons="fine")
    summary = summarize_objections([same, ok, same, other])
    assert summary.startswith("3 of 4 critic samples objected:")
    assert summary.count("hypothesis h is missing") == 1
    assert "≤ instead of <" in summary
    assert "fine" not in summary


def test_summary_is_short() -> None:
    long = CriticSample(U, raw="r", reasons="The statement is wrong. " * 200)
    assert len(summarize_objections([long], limit=300)) <= 310


def test_summary_without_objections() -> None:
    assert summarize_objections(samples(F, F)) == ""
    assert "could not be parsed (2 of 3)" in summarize_objections(samples(F, X, X))
    no_reason = [CriticSample(U, raw="Verdict: incorrect", reasons="")]
    assert "without giving reasons" in summarize_objections(no_reason)


# ----------------------------------------------------------------------------- Critic


PROBLEMS = [
    Problem(id="a", informal="Show that 2 + 2 = 4.", solution="Compute."),
    Problem(id="b", informal="Find the least prime.", answer="2"),
    Problem(id="c", informal="Show that there are infinitely many primes."),
]


def critic_for(engine: ScriptedEngine, **kwargs: object) -> Critic:
    kwargs.setdefault("params", greedy(int(kwargs.get("samples", 1))))  # type: ignore[arg-type]
    return Critic(engine, **kwargs)  # type: ignore[arg-type]


def test_judge_keeps_input_order_and_sees_problem_answer_and_lean() -> None:
    engine = ScriptedEngine(lambda prompt, i: json_answer("GOOD" in lean_of(prompt), "x"))
    critic = critic_for(engine)
    pairs = [
        (PROBLEMS[0], "theorem a : 2 + 2 = 4 := sorry -- GOOD"),
        (PROBLEMS[1], "theorem b : Nat.Prime 3 := sorry"),
        (PROBLEMS[2], "theorem c : ∀ n, ∃ p > n, p.Prime := sorry -- GOOD"),
    ]
    verdicts = critic.judge(pairs)
    assert [v.judgement for v in verdicts] == [F, U, F]
    assert [v.share for v in verdicts] == [1.0, 0.0, 1.0]
    assert len(engine.calls) == 1  # one batched call
    prompts = engine.prompts
    assert "Show that 2 + 2 = 4." in prompts[0] and "Compute." not in prompts[0]  # no proof
    assert "Find the least prime.\nAnswer: 2" in prompts[1]
    assert lean_of(prompts[1]) == "theorem b : Nat.Prime 3 := sorry"
    assert verdicts[1].summary == "x"
    assert critic.judge([]) == []


def test_m_samples_are_voted_and_all_kept() -> None:
    answers = [json_answer(True), json_answer(False, "missing h"), "no idea"]
    engine = ScriptedEngine(lambda prompt, i: answers[i])
    critic = critic_for(engine, samples=3, rule="majority")
    (verdict,) = critic.judge([(PROBLEMS[0], "theorem a : True := sorry")])
    assert engine.calls[0][1].n == 3
    assert [s.judgement for s in verdict.samples] == [F, U, X]
    assert verdict.share == pytest.approx(1 / 3)
    assert verdict.judgement is U  # 1 of 3: unparsed counts against
    assert verdict.rule == "majority"
    assert "missing h" in verdict.summary
    (lenient,) = critic_for(
        ScriptedEngine(lambda p, i: answers[i]), samples=3, rule="min:1/3"
    ).judge([(PROBLEMS[0], "theorem a : True := sorry")])
    assert lenient.judgement is F


def test_unparsable_answers_never_pass() -> None:
    engine = ScriptedEngine(lambda prompt, i: "I think it is basically fine.")
    (verdict,) = critic_for(engine, samples=2, rule="min:0.1").judge([(PROBLEMS[0], "x")])
    assert verdict.judgement is X
    assert not verdict.faithful
    assert verdict.share == 0.0


def test_answers_cut_off_at_max_tokens_say_so() -> None:
    engine = ScriptedEngine(lambda prompt, i: "<think>let me see", finish_reason="length")
    (verdict,) = critic_for(engine).judge([(PROBLEMS[0], "x")])
    assert verdict.judgement is X
    assert "max_tokens" in verdict.samples[0].reasons


def test_an_engine_that_returns_nothing_gives_unparsed() -> None:
    class Empty:
        def generate(self, conversations: list[object], params: object) -> list[list[object]]:
            return [[] for _ in conversations]

    (verdict,) = Critic(Empty(), params=greedy()).judge([(PROBLEMS[0], "x")])  # type: ignore[arg-type]
    assert verdict.judgement is X


def test_an_engine_that_loses_results_is_an_error() -> None:
    class Short:
        def generate(self, conversations: list[object], params: object) -> list[list[object]]:
            return []

    with pytest.raises(RuntimeError, match="0 results for 1"):
        Critic(Short(), params=greedy()).judge([(PROBLEMS[0], "x")])  # type: ignore[arg-type]


def test_verdicts_are_valid_records_that_round_trip() -> None:
    answers = [json_answer(True), "Verdict: incorrect", "???"]
    critic = critic_for(ScriptedEngine(lambda p, i: answers[i]), samples=3)
    (verdict,) = critic.judge([(PROBLEMS[0], "x")])
    assert Verdict.from_json(verdict.to_json()) == verdict


def test_provenance_and_params() -> None:
    critic = critic_for(ScriptedEngine(lambda p, i: ""), samples=2, rule="unanimous")
    assert critic.prompt_version == "critic_v1@1"
    assert critic.params.n == 2
    info = critic.provenance()
    assert info["prompt_version"] == "critic_v1@1"
    assert info["rule"] == "unanimous"
    assert info["samples"] == 2
    assert info["engine"] == "scripted"
    assert info["params"]["n"] == 2


def test_params_n_follows_samples() -> None:
    critic = Critic(ScriptedEngine(lambda p, i: ""), samples=4, params=greedy(1))
    assert critic.params.n == 4


def test_bad_critic_settings() -> None:
    engine = ScriptedEngine(lambda p, i: "")
    with pytest.raises(ValueError, match="at least one sample"):
        Critic(engine, samples=0, params=greedy())
    with pytest.raises(ValueError, match="bad vote rule"):
        Critic(engine, rule="most", params=greedy())


def test_custom_template_must_use_problem_and_lean(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "t.txt"
    path.write_text("version: 1\n---\nOnly ${problem}\n", encoding="utf-8")
    with pytest.raises(InputError, match="lean"):
        Critic(ScriptedEngine(lambda p, i: ""), template=str(path), params=greedy())


def test_problem_text_and_header_helpers() -> None:
    assert problem_text(Problem(id="p", informal=" Find x. ", answer=" 3 ")) == "Find x.\nAnswer: 3"
    assert problem_text(Problem(id="p", informal="Show it.", solution="proof")) == "Show it."
    assert lean_with_header("theorem t : True := sorry", "import Mathlib\n") == (
        "theorem t : True := sorry"
    )
    assert lean_with_header("theorem t : π > 3 := sorry", "import Mathlib\nopen Real") == (
        "import Mathlib\nopen Real\n\ntheorem t : π > 3 := sorry"
    )


def test_the_thinking_an_engine_split_off_is_kept_in_the_raw_output() -> None:
    from formalize.critic import Critic
    from formalize.models import Completion, FinishReason
    from formalize.records import Judgement, Problem

    class Thinking:
        spec = "thinking"

        def generate(self, conversations: list, params: object) -> list:
            answer = '{"reasons": "ok", "is_assistant_correct": "Correct"}'
            done = Completion(answer, FinishReason.STOP, reasoning="Compare the hypotheses.")
            return [[done] for _ in conversations]

    (verdict,) = Critic(Thinking()).judge([(Problem("p", "Show 1 = 1."), "theorem t : 1 = 1")])  # type: ignore[arg-type]
    assert verdict.judgement is Judgement.FAITHFUL
    assert verdict.samples[0].raw.startswith("<think>\nCompare the hypotheses.\n</think>")
    assert verdict.samples[0].raw.endswith('"Correct"}')


def test_explain_verdict_gives_the_reasons_for_acceptance_and_any_objection() -> None:
    from formalize.critic import explain_verdict

    yes = CriticSample(
        Judgement.FAITHFUL, "raw", "1. Analysis: fine. 5. Accuracy Confirmation: all match."
    )
    no = CriticSample(Judgement.UNFAITHFUL, "raw", "The bound on n is missing.")
    one = Verdict(Judgement.FAITHFUL, 1.0, (yes,))
    assert explain_verdict(one) == "5. Accuracy Confirmation: all match."
    split = Verdict(Judgement.FAITHFUL, 2 / 3, (yes, yes, no))
    text = explain_verdict(split)
    assert text.startswith("2 of 3 critic samples said faithful:\n- 5. Accuracy Confirmation")
    assert "1 of 3 critic samples objected:\n- The bound on n is missing." in text
    rejected = Verdict(Judgement.UNFAITHFUL, 0.0, (no,), summary="The bound on n is missing.")
    assert explain_verdict(rejected) == "The bound on n is missing."
