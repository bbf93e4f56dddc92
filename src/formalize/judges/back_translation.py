"""Back-translation: a judge of a different kind from a direct critic (Lean Workbook's check).

One model writes the Lean statement back as a natural-language problem (prompt
``back_translate_v1``, one greedy answer); a judge (the same engine or another, ``comparer``)
says whether that text states the same problem as the original (prompt ``compare_v1``,
``samples`` answers, parsed by the critic's parser and decided by a ``VoteRule``). The verdict's
summary and the signal's evidence keep the back-translation, so the translator's next round
sees how its statement reads. Both calls go through the engines' caches like every model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from formalize.critic import (
    VoteRule,
    critic_params,
    params_dict,
    parse_answer,
    problem_text,
    summarize_objections,
)
from formalize.errors import InputError
from formalize.judges.panel import Assessment
from formalize.prompts import load_template
from formalize.records import CriticSample, Judgement, Problem, Verdict

if TYPE_CHECKING:
    from formalize.models import Engine, GenerationParams

#: Longest back-translation kept (a runaway answer is cut).
MAX_CHARS = 4000


class BackTranslationJudge:
    """Judges a (problem, Lean) pair by writing the Lean back in words and comparing."""

    kind = "back_translation"

    def __init__(
        self,
        writer: Engine,
        comparer: Engine | None = None,
        *,
        samples: int = 1,
        rule: VoteRule | str = "majority",
        writer_params: GenerationParams | None = None,
        params: GenerationParams | None = None,
        back_template: str = "back_translate_v1",
        compare_template: str = "compare_v1",
    ) -> None:
        from formalize.models import GenerationParams

        if samples < 1:
            raise ValueError("a judge needs at least one sample per pair")
        self.writer = writer
        self.engine = comparer or writer
        self.samples = samples
        self.rule = VoteRule.parse(rule)
        self.writer_params = writer_params or GenerationParams(n=1, temperature=0.0)
        self.params = critic_params(samples, params)
        self.back = load_template(back_template)
        self.compare = load_template(compare_template)
        for template, need in ((self.back, {"lean"}), (self.compare, {"problem", "restatement"})):
            missing = need - template.fields
            if missing:
                raise InputError(f"template {template.id} must use {', '.join(sorted(missing))}")
        self.prompt_version = f"{self.back.id}+{self.compare.id}"

    @property
    def engines(self) -> list[Any]:
        """The writer's engine, then the comparer's when it is another."""
        return [self.writer] if self.engine is self.writer else [self.writer, self.engine]

    def back_translate(self, leans: Sequence[str]) -> list[str | None]:
        """Each statement in words (None where the generation failed), in input order."""
        from formalize.models import generate_tolerantly

        conversations = [self.back.messages(lean=lean.strip()) for lean in leans]
        outputs = generate_tolerantly(self.writer, conversations, self.writer_params)
        texts: list[str | None] = []
        for completions in outputs:
            if isinstance(completions, str) or not completions:
                texts.append(None)
            else:
                texts.append(completions[0].text.strip()[:MAX_CHARS] or None)
        return texts

    def assess(self, pairs: Sequence[tuple[Problem, str]]) -> list[Assessment]:
        """One assessment per pair: the verdict, and the back-translation as evidence."""
        from formalize.models import generate_tolerantly

        texts = self.back_translate([lean for _, lean in pairs])
        asked = [k for k, text in enumerate(texts) if text]
        conversations = [
            self.compare.messages(problem=problem_text(pairs[k][0]), restatement=texts[k] or "")
            for k in asked
        ]
        outputs = generate_tolerantly(self.engine, conversations, self.params) if asked else []
        found: dict[int, list[CriticSample]] = {}
        for k, completions in zip(asked, outputs, strict=True):
            if isinstance(completions, str):
                found[k] = [CriticSample(Judgement.UNPARSED, "", completions)]
            else:
                found[k] = [
                    parse_answer(c.text, c.finish_reason, c.reasoning)
                    for c in completions[: self.samples]
                ] or [CriticSample(Judgement.UNPARSED, "", "the engine returned no answer")]
        out = []
        for k, text in enumerate(texts):
            if not text:
                failed = CriticSample(Judgement.UNPARSED, "", "the back-translation failed")
                out.append(Assessment(self.verdict([failed]), "", {"back_translation": None}))
                continue
            verdict = self.verdict(found[k], text)
            out.append(Assessment(verdict, text, {"back_translation": text}))
        return out

    def judge(self, pairs: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """One verdict per pair, in input order (``formalize bench critic`` uses this)."""
        return [a.verdict for a in self.assess(pairs)]

    def verdict(self, samples: Sequence[CriticSample], back_translation: str = "") -> Verdict:
        """The verdict for parsed comparison samples under this judge's rule; the summary
        quotes the back-translation when there are objections."""
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
        judgement = self.rule.decide(samples)
        summary = summarize_objections(samples)
        if back_translation and judgement is not Judgement.FAITHFUL:
            summary = f"Read back from the Lean code, the statement says:\n{back_translation}" + (
                f"\n\n{summary}" if summary else ""
            )
        return Verdict(
            judgement=judgement,
            share=faithful / len(samples),
            samples=tuple(samples),
            summary=summary,
            rule=str(self.rule),
        )

    def provenance(self) -> dict[str, Any]:
        """What produced the verdicts: both engines, both prompts, samples, rule, parameters."""
        return {
            "kind": self.kind,
            "engine": getattr(self.writer, "spec", None) or type(self.writer).__name__,
            "comparer": getattr(self.engine, "spec", None) or type(self.engine).__name__,
            "prompt_version": self.prompt_version,
            "prompt_digest": f"{self.back.digest}+{self.compare.digest}",
            "samples": self.samples,
            "rule": str(self.rule),
            "params": params_dict(self.params),
            "writer_params": params_dict(self.writer_params),
        }
