"""GRPO's rewards read completions with the critic's own parser."""

from __future__ import annotations

from formalize.export_training import critic_answer
from formalize.train.rewards import parseable_verdict, verdict_matches_label


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def test_the_verdict_reward_is_the_parsed_verdict_against_the_label() -> None:
    completions = [
        chat(critic_answer("all match", True)),
        chat(critic_answer("h is missing", False)),
        chat("<think>compare the types</think>\nVerdict: faithful"),
        chat('{"reasons": "x", "is_assistant_correct": "Correct/Incorrect"}'),  # echoed
        chat("Correct. Incorrect."),  # contradictory
        chat("<think>still thinking"),  # cut off
    ]
    labels = ["faithful", "faithful", "faithful", "faithful", "unfaithful", "unfaithful"]
    assert verdict_matches_label(completions, labels) == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert parseable_verdict(completions) == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_rewards_take_plain_text_completions_and_extra_columns() -> None:
    texts = ["**Incorrect**", "no idea", ""]
    kwargs = {"label_source": ["human"] * 3, "trainer_state": None}
    assert verdict_matches_label(texts, ["unfaithful"] * 3, **kwargs) == [1.0, 0.0, 0.0]
    assert parseable_verdict(texts, **kwargs) == [1.0, 0.0, 0.0]
    assert parseable_verdict([[]]) == [0.0]
