"""GRPO rewards for a critic, read with the critic's own parser (``formalize.critic``).

``verdict_matches_label``: 1 when ``parse_verdict`` reads the verdict the label says, else 0.
``parseable_verdict``: 1 when it reads one clear verdict at all (faithful or unfaithful), else
0: a format reward, so that an answer the pipeline can use beats one it cannot, right or wrong.
TRL weighs them with ``reward_weights`` (default ``DEFAULT_REWARD_WEIGHTS``, 1 and 0.5) and
logs each as ``rewards/<name>/mean``. Both take TRL's reward-function arguments: the
completions (text, or chat messages for a conversational dataset) and the dataset's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formalize.critic import parse_verdict
from formalize.records import Judgement


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the content of the last of its chat messages
    (TRL's conversational form)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        last = completion[-1]
        if isinstance(last, dict):
            return str(last.get("content") or "")
    return ""


def judgement_of(completion: Any) -> Judgement:
    """What the critic's parser reads in a completion."""
    return parse_verdict(completion_text(completion)).judgement


def verdict_matches_label(
    completions: Sequence[Any], label: Sequence[str], **_: Any
) -> list[float]:
    """1.0 where the parsed verdict equals the row's label (``faithful``/``unfaithful``)."""
    return [
        float(judgement_of(c).value == wanted) for c, wanted in zip(completions, label, strict=True)
    ]


def parseable_verdict(completions: Sequence[Any], **_: Any) -> list[float]:
    """1.0 where the critic's parser finds one clear verdict."""
    return [float(judgement_of(c) is not Judgement.UNPARSED) for c in completions]


REWARDS = (verdict_matches_label, parseable_verdict)
