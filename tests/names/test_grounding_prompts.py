"""Mathlib in the prompts: retrieval ``none`` (or no index) gives today's prompts byte for
byte; with bm25 over the fixture index the translator's prompt carries the retrieved
declarations within the budget; the critic sees the definitions of the constants used."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from index_fixture import build_fixture_index

from formalize.config import RunConfig
from formalize.critic import Critic
from formalize.grounding import Grounding, estimate_tokens
from formalize.names import NameChecker
from formalize.records import Problem
from formalize.runner import _grounding
from formalize.translate import Feedback, FeedbackKind, TranslationRequest, Translator

PROBLEM = Problem("p1", "Show that 2 + 2 = 4.", answer="4")
LEAN = "theorem t : 2 + 2 = 4 := sorry"
# translate_v1's prompt for PROBLEM, as the code before issue 22 rendered it
TODAY_TRANSLATE = (
    "Please autoformalize the following problem in Lean 4 with a header. Use the following "
    "theorem names: my_favorite_theorem.\n\nShow that 2 + 2 = 4.\n\nThe answer to this problem "
    "is: 4\nState the theorem so that this answer appears in its conclusion."
)
# sha256 of critic_v1's prompt for (PROBLEM, LEAN), computed with the code before issue 22
TODAY_CRITIC_SHA256 = "75f6615c63633a188f128611fa61b5e42647e70b48f96995f969fccde3b41138"


class NoneRetriever:
    """The registry's ``none``: nothing per query."""

    name = "none"

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Any]]:
        return [[] for _ in queries]


class SearchRetriever:
    """The registry's ``bm25`` retriever, recording the queries it is asked."""

    name = "bm25"

    def __init__(self, index: Any) -> None:
        from formalize.retrieval import build_retriever

        self.inner = build_retriever("bm25", index)
        self.queries: list[str] = []

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[Any]]:
        self.queries += queries
        return self.inner.retrieve(queries, k)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Any]:
    idx = build_fixture_index(tmp_path)
    yield idx
    idx.close()


def first_round(translator: Translator, problem: Problem = PROBLEM) -> str:
    return translator.conversations([TranslationRequest(problem)])[0][0]["content"]


def test_no_retrieval_gives_todays_translator_prompt_byte_for_byte() -> None:
    for grounding in (None, Grounding(None), Grounding(NoneRetriever())):
        translator = Translator(object(), samples=1, grounding=grounding)  # type: ignore[arg-type]
        messages = translator.conversations([TranslationRequest(PROBLEM)])
        assert messages == [[{"role": "user", "content": TODAY_TRANSLATE}]]
        assert translator.prompt_version.startswith("translate_v1@1,")


def test_no_retrieval_gives_todays_critic_prompt_byte_for_byte() -> None:
    content = Critic(object()).conversation(PROBLEM, LEAN)[0]["content"]  # type: ignore[arg-type]
    assert hashlib.sha256(content.encode()).hexdigest() == TODAY_CRITIC_SHA256


def test_retrieval_none_with_an_index_keeps_todays_prompts(index: Any) -> None:
    grounding, names = _grounding(RunConfig(retrieval="none"), index)
    assert grounding is None and names is not None  # the name check still runs


def test_bm25_declarations_in_the_first_round_prompt_within_budget(index: Any) -> None:
    retriever = SearchRetriever(index)
    grounding = Grounding(retriever, k=8, budget_tokens=120)
    translator = Translator(object(), samples=1, grounding=grounding)  # type: ignore[arg-type]
    problem = Problem("p2", "Prove that the square root of a nonnegative real is nonnegative.")
    prompt = first_round(translator, problem)
    assert prompt.startswith(TODAY_TRANSLATE.split("\n")[0])
    _, _, block = prompt.partition("Mathlib declarations that may be relevant")
    assert "def Real.sqrt (x : ℝ) : ℝ" in block
    assert 1 <= block.count("\n- ") + 1 <= 8
    assert estimate_tokens(block.split("\n", 1)[1]) <= 120 + 8  # the lines, one newline each
    assert retriever.queries == [problem.informal]
    assert "translate_retrieval_v1@1" in translator.prompt_version
    # a repair round is today's repair prompt: no retrieval there
    feedback = Feedback(FeedbackKind.LEAN, LEAN, "- error at line 1: unknown identifier 'x'")
    (repair,) = translator.conversations([TranslationRequest(problem, 2, feedback)])
    assert retriever.queries == [problem.informal]  # no retrieval for a repair round
    repair_text = repair[0]["content"]
    assert "Mathlib declarations" not in repair_text and "A previous attempt" in repair_text
    assert grounding.provenance() == {
        "retriever": "bm25",
        "k": 8,
        "budget_tokens": 120,
        "critic_definitions": False,
        "index_revision": None,
    }


def test_the_budget_cuts_the_list(index: Any) -> None:
    grounding = Grounding(SearchRetriever(index), k=8, budget_tokens=30)
    (block,) = grounding.declarations(["square root of a real number, nonnegative"])
    assert 1 <= len([ln for ln in block.split("\n") if ln.startswith("- ")]) < 8
    assert estimate_tokens(block) <= 30 + 8


def test_critic_sees_the_definitions_of_the_constants_used(index: Any) -> None:
    grounding = Grounding(resolver=NameChecker(index), revision=index.revision)
    critic = Critic(object(), definitions=grounding.definitions)  # type: ignore[arg-type]
    lean = (
        "open Real in\ntheorem t (n : ℕ) (hn : Nat.Prime n) :\n"
        "    Nat.card (Fin n) = n ∧ padicValNat n n = 1 ∧ sqrt 4 = 2 := sorry"
    )
    content = critic.conversation(PROBLEM, lean)[0]["content"]
    _, _, definitions = content.partition("— Start of Definitions —")
    for name in ("Nat.Prime (p : ℕ) : Prop", "Nat.card", "padicValNat", "Real.sqrt"):
        assert name in definitions
    assert "Finset.Icc" not in definitions  # only what the statement uses
    nat_card = index.get("Nat.card")
    assert nat_card.docstring.split()[0] in definitions  # the docstring is shown
    assert critic.prompt_version == "critic_retrieval_v1@1"
    assert definitions.index("Nat.Prime") < definitions.index("Nat.card")  # in order of use
    # notations are shown by their symbol
    content = critic.conversation(PROBLEM, "theorem t : √4 = 2 ∧ π > 3 := sorry")[0]["content"]
    definitions = content.partition("— Start of Definitions —")[2]
    assert "notation √" in definitions and "notation π" in definitions


def test_critic_definitions_when_none_is_indexed(index: Any) -> None:
    grounding = Grounding(resolver=NameChecker(index))
    assert "none of the names" in grounding.definitions("theorem t : 2 + 2 = 4 := sorry")
