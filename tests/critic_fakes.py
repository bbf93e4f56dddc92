"""A scripted stand-in for a critic engine (the ``Engine`` interface: ``generate``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:  # the real records, once the engines package provides them
    from formalize.models import Completion, GenerationParams
except ImportError:  # pragma: no cover - only while formalize.models is being written

    @dataclass(frozen=True)
    class Completion:  # type: ignore[no-redef]
        text: str
        finish_reason: str | None = "stop"

    @dataclass(frozen=True)
    class GenerationParams:  # type: ignore[no-redef]
        n: int = 1
        temperature: float = 0.0
        top_p: float = 1.0
        max_tokens: int = 512
        stop: tuple[str, ...] = ()
        seed: int | None = None


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
                    text=self.answer(conv[-1]["content"], i), finish_reason=self.finish_reason
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
