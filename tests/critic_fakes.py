"""A scripted stand-in for a critic engine (the ``Engine`` interface: ``generate``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from formalize.models import Completion, FinishReason, GenerationParams


def json_answer(correct: bool, reasons: str = "checked") -> str:
    """An answer in the released CriticLean form."""
    verdict = "Correct" if correct else "Incorrect"
    return f'{{"reasons": "{reasons}", "is_assistant_correct": "{verdict}"}}'


def lean_of(prompt: str) -> str:
    """The Lean code inside a critic_v1 prompt."""
    match = re.search(r"— Start of Lean4Code —\n(.*)\n— End of Lean4Code —", prompt, re.DOTALL)
    assert match, "not a critic_v1 prompt"
    return match.group(1)


@dataclass
class ScriptedEngine:
    """Answers ``answer(prompt, sample_index)`` for each sample; records every call."""

    answer: Callable[[str, int], str]
    finish_reason: str = "stop"
    calls: list[tuple[list[list[dict[str, str]]], Any]] = field(default_factory=list)
    spec: str = "scripted"

    def generate(
        self, conversations: list[list[dict[str, str]]], params: Any
    ) -> list[list[Completion]]:
        self.calls.append((conversations, params))
        return [
            [
                Completion(
                    text=self.answer(conv[-1]["content"], i),
                    finish_reason=FinishReason(self.finish_reason),
                )
                for i in range(params.n)
            ]
            for conv in conversations
        ]

    @property
    def prompts(self) -> list[str]:
        return [conv[-1]["content"] for convs, _ in self.calls for conv in convs]


def greedy(n: int = 1) -> Any:
    """Generation parameters for tests."""
    return GenerationParams(n=n, temperature=0.0, max_tokens=64)
