"""Translator: extraction from real-looking model output, prompts, and the repair paths."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from formalize.models import Completion, GenerationParams
from formalize.records import CandidateStatus, CheckResult, CheckStatus, Message, Problem, Severity
from formalize.translate import (
    Feedback,
    FeedbackKind,
    TranslationRequest,
    Translator,
    extract_statement,
    lean_error_feedback,
    make_candidate,
    theorem_name,
)

PROBLEM = Problem("mathd-1", "Find x such that 3x + 7 = 22.", answer="5")


@pytest.mark.parametrize(
    ("raw", "header", "statement"),
    [
        (  # Kimina's usual shape: fenced lean4 with header, proof `by`
            "```lean4\nimport Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
            "open Real\n\ntheorem my_favorite_theorem (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by\n"
            "  linarith\n```",
            "import Mathlib\nimport Aesop",
            "set_option maxHeartbeats 400000\nopen Real\n"
            "theorem formalize_mathd_1 (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by sorry",
        ),
        (  # chatter around, no fence, nothing after :=
            "Here is the formalization:\ntheorem foo (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 :=\n"
            "\nThis states the problem.",
            "import Mathlib",
            "theorem formalize_mathd_1 (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by sorry",
        ),
        (  # two blocks: a draft then the final one; a term-mode proof
            "Draft:\n```lean\ntheorem a : 1 = 2 := sorry\n```\nFinal:\n```lean\n"
            "theorem b (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by norm_num at h; linarith\n```",
            "import Mathlib",
            "theorem formalize_mathd_1 (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by sorry",
        ),
        (  # a thinking section with a decoy, and an unterminated fence
            "<think>maybe theorem t : False := sorry</think>\n```lean4\n"
            "/-- The equation. -/\ntheorem t (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by\n  sorry",
            "import Mathlib",
            "/-- The equation. -/\n"
            "theorem formalize_mathd_1 (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by sorry",
        ),
        (  # example, with a second declaration after it that must not come along
            "```lean\nexample (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by\n  linarith\n\n"
            "theorem extra : True := trivial\n```",
            "import Mathlib",
            "theorem formalize_mathd_1 (x : ℝ) (h : 3 * x + 7 = 22) : x = 5 := by sorry",
        ),
    ],
)
def test_extraction_shapes(raw: str, header: str, statement: str) -> None:
    cand = make_candidate(PROBLEM, raw, 1, 0)
    assert cand.status is CandidateStatus.EXTRACTED
    assert cand.header == header
    assert " ".join(cand.lean.split()) == " ".join(statement.split())
    assert cand.raw_output == raw


@pytest.mark.parametrize("raw", ["", "I cannot formalize this.", "```python\nprint(1)\n```"])
def test_no_code(raw: str) -> None:
    assert extract_statement(raw) is None
    cand = make_candidate(PROBLEM, raw, 2, 3)
    assert (cand.status, cand.lean, cand.round, cand.sample) == (CandidateStatus.NO_CODE, "", 2, 3)


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ('```lean\n#eval IO.println "hi"\ntheorem t : True := by sorry\n```', "#eval"),
        ("Sure!\nrun_cmd Lean.logInfo 1\ntheorem t : True := by sorry", "run_cmd"),
        ('```lean\nimport Mathlib\nmacro "x" : term => `(1)\ntheorem t : True := by\n```', "macro"),
    ],
)
def test_hostile_lines_stay_with_the_candidate_so_the_gate_sees_them(raw: str, found: str) -> None:
    from formalize.lean.statement import check_statement

    cand = make_candidate(PROBLEM, raw, 1, 0)
    assert found in cand.lean
    report = check_statement(cand.lean)
    assert not report.ok and report.reason


def test_theorem_name_is_a_lean_identifier() -> None:
    assert theorem_name("mathd algebra/10~2") == "formalize_mathd_algebra_10_2"
    assert theorem_name("---") == "formalize_problem"


def test_lean_error_feedback_shows_offending_lines() -> None:
    stmt = "theorem t (x : ℝ)\n  (h : foo x) : x = 5 := by sorry"
    errors = (Message(Severity.ERROR, 2, 8, "unknown identifier 'foo'"),)
    text = lean_error_feedback(stmt, CheckResult(CheckStatus.LEAN_ERROR, errors))
    assert "line 2, column 8: unknown identifier 'foo'" in text
    assert "offending line: (h : foo x) : x = 5 := by sorry" in text
    timeout = CheckResult(CheckStatus.TIMEOUT, (), 30.0, reason="timed out after 30 s")
    assert lean_error_feedback(stmt, timeout) == "timed out after 30 s"


@dataclass
class RecordingEngine:
    """Stands in for an engine: records conversations, answers with a fixed statement."""

    answer: str
    calls: list[list[list[dict[str, str]]]]

    def generate(self, conversations: list, params: GenerationParams) -> list[list[Completion]]:
        self.calls.append(conversations)
        return [
            [Completion(text=self.answer, finish_reason="stop") for _ in range(params.n)]
            for _ in conversations
        ]


def test_translator_prompts_and_order() -> None:
    engine = RecordingEngine("```lean\ntheorem x : (5 : ℝ) = 5 := by rfl\n```", [])
    translator = Translator(engine, samples=3)  # type: ignore[arg-type]
    other = Problem("p2", "Show 1 = 1.")
    fb = Feedback(FeedbackKind.CRITIC, "theorem old : 1 = 1 := by sorry", "drops the hypothesis")
    lean_fb = Feedback(FeedbackKind.LEAN, "theorem old : foo := by sorry", "- error: unknown foo")
    out = translator.translate(
        [
            TranslationRequest(PROBLEM),
            TranslationRequest(other, 2, fb),
            TranslationRequest(other, 3, lean_fb),
        ]
    )
    assert [len(c) for c in out] == [3, 3, 3]
    assert [c[0].problem_id for c in out] == ["mathd-1", "p2", "p2"]
    assert [c[2].sample for c in out] == [2, 2, 2] and out[1][0].round == 2
    first, critic_repair, lean_repair = (conv[-1]["content"] for conv in engine.calls[0])
    assert "The answer to this problem is: 5" in first and "my_favorite_theorem" in first
    assert "drops the hypothesis" in critic_repair and "theorem old : 1 = 1" in critic_repair
    assert "unknown foo" in lean_repair and "did not compile" in lean_repair
    assert "answer to this problem" not in critic_repair  # p2 has no answer
    assert "translate_v1@" in translator.prompt_version
