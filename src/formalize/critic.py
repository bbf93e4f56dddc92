"""The critic: does a Lean statement say what the problem says? (prompt, parsing, voting)

``Critic.judge`` sends each (problem, Lean statement) pair to a critic model ``samples`` times
with a CriticLean-style prompt, parses every answer with ``parse_verdict`` and decides with a
``VoteRule``. An answer that cannot be parsed is ``unparsed`` and never counts as a pass.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from formalize.errors import InputError
from formalize.prompts import Template, load_template
from formalize.records import CriticSample, Judgement, Problem, Verdict

if TYPE_CHECKING:
    from formalize.models import Engine, GenerationParams

__all__ = [
    "DEFAULT_TEMPLATE",
    "Critic",
    "VoteRule",
    "critic_params",
    "explain_verdict",
    "lean_with_header",
    "params_dict",
    "parse_answer",
    "parse_verdict",
    "summarize_objections",
]

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "critic_v1"
# With the definitions of the constants a statement uses (``definitions``): issue 22.
DEFINITIONS_TEMPLATE = "critic_retrieval_v1"
# Reasoning critics (CriticLeanGPT-Qwen3-*) think at length before the JSON answer.
DEFAULT_MAX_TOKENS = 8192
# Sampling settings for m > 1 when the caller gives none (Qwen3's recommended thinking mode).
SAMPLING_TEMPERATURE = 0.6
SAMPLING_TOP_P = 0.95
_EPS = 1e-9


@dataclass(frozen=True)
class VoteRule:
    """How m critic samples become one decision.

    ``majority``: more than half of all samples said faithful (a tie rejects).
    ``unanimous``: every sample said faithful.
    ``min:X``: at least a share X of the samples said faithful; X in (0, 1], written as a
    decimal (``min:0.6``), a fraction (``min:2/3``) or a percentage (``min:60%``).
    Unparsed samples count as rejections in the share; the decision is ``unparsed`` only when
    no sample parsed at all.
    """

    kind: str
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in ("majority", "unanimous", "min"):
            raise ValueError(f"unknown vote rule kind {self.kind!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("a vote threshold must be in (0, 1]")

    @classmethod
    def parse(cls, spec: str | VoteRule) -> VoteRule:
        """A rule from ``majority`` | ``unanimous`` | ``min:X``; a bad spec is a ``ValueError``."""
        if isinstance(spec, VoteRule):
            return spec
        text = spec.strip().lower()
        if text in ("majority", "unanimous"):
            return cls(text, 0.5 if text == "majority" else 1.0)
        kind, colon, value = text.partition(":")
        if kind == "min" and colon:
            share = _parse_share(value)
            if share is not None and 0.0 < share <= 1.0:
                return cls("min", share)
        raise ValueError(
            f"bad vote rule {spec!r}: use 'majority', 'unanimous' or 'min:X' with X a share in "
            "(0, 1] such as 'min:0.6', 'min:2/3' or 'min:60%'"
        )

    def accepts(self, share: float) -> bool:
        """True when a faithful share this large passes the rule."""
        if self.kind == "majority":
            return share > 0.5 + _EPS
        if self.kind == "unanimous":
            return share >= 1.0 - _EPS
        return share >= self.threshold - _EPS

    def decide(self, samples: Sequence[CriticSample]) -> Judgement:
        """The decision over ``samples`` (at least one)."""
        if not samples:
            raise ValueError("a vote needs at least one sample")
        if all(s.judgement is Judgement.UNPARSED for s in samples):
            return Judgement.UNPARSED
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
        if faithful and self.accepts(faithful / len(samples)):
            return Judgement.FAITHFUL
        return Judgement.UNFAITHFUL

    def __str__(self) -> str:
        if self.kind != "min":
            return self.kind
        return f"min:{_format_share(self.threshold)}"


def _parse_share(value: str) -> float | None:
    value = value.strip()
    try:
        if value.endswith("%"):
            return float(value[:-1]) / 100.0
        if "/" in value:
            return float(Fraction(value))
        return float(value)
    except (ValueError, ZeroDivisionError):
        return None


def _format_share(share: float) -> str:
    fraction = Fraction(share).limit_denominator(64)
    if abs(float(fraction) - share) < _EPS and fraction.denominator not in (1, 2, 4, 5, 10):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{share:g}"


def critic_params(samples: int = 1, params: GenerationParams | None = None) -> GenerationParams:
    """The generation parameters a critic uses: ``params`` with ``n = samples``.

    Without ``params``: greedy decoding for one sample; for several, sampling at temperature
    0.6 / top-p 0.95 (identical greedy samples would make the vote meaningless).
    """
    if params is None:
        from formalize.models import GenerationParams

        if samples == 1:
            return GenerationParams(n=1, temperature=0.0, max_tokens=DEFAULT_MAX_TOKENS)
        return GenerationParams(
            n=samples,
            temperature=SAMPLING_TEMPERATURE,
            top_p=SAMPLING_TOP_P,
            max_tokens=DEFAULT_MAX_TOKENS,
        )
    if samples > 1 and params.temperature == 0.0:
        log.warning("%d critic samples at temperature 0 will all be the same answer", samples)
    if params.n == samples:
        return params
    return dataclasses.replace(params, n=samples)


def lean_with_header(lean: str, header: str | None) -> str:
    """The Lean code a critic should see: the header (``open``s, local definitions) and the
    statement. A header of only ``import`` lines adds nothing for the critic and is dropped."""
    header = (header or "").strip()
    if not header or all(
        line.startswith("import ") or not line.strip() for line in header.splitlines()
    ):
        return lean.strip()
    return f"{header}\n\n{lean.strip()}"


class Critic:
    """Judges (problem, Lean statement) pairs with a critic model.

    ``engine``: a text-generation engine (``formalize.models.load_engine``); ``samples``: critic
    answers per pair; ``rule``: how they are combined (``VoteRule``); ``params``: generation
    parameters (``n`` is set to ``samples``); ``template``: a prompt template name or path.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        samples: int = 1,
        rule: VoteRule | str = "majority",
        params: GenerationParams | None = None,
        template: str = DEFAULT_TEMPLATE,
        definitions: Callable[[str], str] | None = None,
    ) -> None:
        """``definitions``: Lean statement -> the definitions of the Mathlib constants it uses
        (``formalize.grounding``); with it, the default template is ``critic_retrieval_v1``."""
        if samples < 1:
            raise ValueError("a critic needs at least one sample per pair")
        self.engine = engine
        self.samples = samples
        self.rule = VoteRule.parse(rule)
        self.params = critic_params(samples, params)
        if definitions is not None and template == DEFAULT_TEMPLATE:
            template = DEFINITIONS_TEMPLATE
        self.definitions = definitions
        self.template: Template = load_template(template)
        missing = {"problem", "lean"} - self.template.fields
        if missing:
            raise InputError(
                f"critic template {self.template.id} must use ${{problem}} and ${{lean}} "
                f"(missing: {', '.join(sorted(missing))})"
            )
        self.prompt_version = self.template.id

    def conversation(self, problem: Problem, lean: str) -> list[dict[str, str]]:
        """The chat messages sent for one pair."""
        values = {
            "problem": problem_text(problem),
            "informal": problem.informal.strip(),
            "answer": (problem.answer or "").strip(),
            "lean": lean.strip(),
        }
        if "definitions" in self.template.fields:
            from formalize.grounding import NO_DEFINITIONS

            values["definitions"] = self.definitions(lean) if self.definitions else NO_DEFINITIONS
        return self.template.messages(**values)

    def judge(self, pairs: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """One ``Verdict`` per (problem, Lean statement) pair, in input order."""
        if not pairs:
            return []
        from formalize.models import generate_tolerantly

        conversations = [self.conversation(problem, lean) for problem, lean in pairs]
        outputs = generate_tolerantly(self.engine, conversations, self.params)
        if len(outputs) != len(pairs):
            raise RuntimeError(
                f"critic engine returned {len(outputs)} results for {len(pairs)} prompts"
            )
        verdicts = []
        for completions in outputs:
            if isinstance(completions, str):  # this pair's generation failed: no answer
                failed = CriticSample(Judgement.UNPARSED, "", completions)
                verdicts.append(self.verdict([failed]))
                continue
            samples = [
                parse_answer(c.text, c.finish_reason, c.reasoning)
                for c in completions[: self.samples]
            ]
            if not samples:
                samples = [CriticSample(Judgement.UNPARSED, "", "the engine returned no answer")]
            verdicts.append(self.verdict(samples))
        return verdicts

    def verdict(self, samples: Sequence[CriticSample]) -> Verdict:
        """The ``Verdict`` for already-parsed samples under this critic's rule."""
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
        return Verdict(
            judgement=self.rule.decide(samples),
            share=faithful / len(samples),
            samples=tuple(samples),
            summary=summarize_objections(samples),
            rule=str(self.rule),
        )

    def provenance(self) -> dict[str, Any]:
        """What produced this critic's verdicts: prompt version, vote, samples, parameters."""
        params = self.params
        return {
            "engine": getattr(self.engine, "spec", None) or type(self.engine).__name__,
            "prompt_version": self.prompt_version,
            "prompt_digest": self.template.digest,
            "samples": self.samples,
            "rule": str(self.rule),
            "params": params_dict(params),
        }


def params_dict(params: Any) -> dict[str, Any]:
    """Generation parameters as plain data (for provenance)."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return dict(vars(params))


def problem_text(problem: Problem) -> str:
    """The Mathematical_Text a critic sees: the statement and its answer, never a proof."""
    text = problem.informal.strip()
    answer = (problem.answer or "").strip()
    if answer:
        text = f"{text}\nAnswer: {answer}"
    return text


def parse_answer(
    text: str, finish_reason: str | None, reasoning: str | None = None
) -> CriticSample:
    """Parse one answer; the raw output kept is the whole of it, thinking included."""
    sample = parse_verdict(text)
    if sample.judgement is Judgement.UNPARSED and finish_reason == "length":
        sample = dataclasses.replace(
            sample, reasons="the answer was cut off at max_tokens before a verdict"
        )
    if reasoning:
        sample = dataclasses.replace(sample, raw=f"<think>\n{reasoning}\n</think>\n{sample.raw}")
    return sample


# --------------------------------------------------------------------------- parsing answers

# Keys that carry a verdict in a JSON answer; the first is the released CriticLean form.
_VERDICT_KEYS = (
    "is_assistant_correct",
    "is_correct",
    "correct",
    "is_faithful",
    "faithful",
    "verdict",
    "final_verdict",
    "judgement",
    "judgment",
    "decision",
)
_POSITIVE = ("correct", "faithful", "true", "yes", "accurate", "valid", "aligned", "consistent")
_NEGATIVE = (
    "incorrect",
    "unfaithful",
    "false",
    "no",
    "inaccurate",
    "invalid",
    "wrong",
    "misaligned",
    "inconsistent",
)
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_KEY_VALUE = re.compile(
    r"""["']?(?P<key>is_assistant_correct|is_correct|is_faithful|final_verdict)["']?\s*[:=]\s*"""
    r"""(?P<q>["']?)(?P<value>[^"'\n,}]*)(?P=q)(?P<alt>\s*(?:or|/|\|)\s*["']?[a-z])?""",
    re.IGNORECASE,
)
_LABELLED = re.compile(
    r"""^[\s>#*_-]*(?:\d+[.)]\s*)?(?:\*\*|__)?\s*(?:final\s+)?(?:verdict|answer|judge?ment|decision|conclusion|assessment)"""
    r"""\s*(?:\*\*|__)?\s*[:：]\s*(?P<value>[^\n]{1,80})$""",
    re.IGNORECASE | re.MULTILINE,
)
_BOXED = re.compile(r"\\boxed\s*\{\s*(?:\\text(?:bf|rm)?\s*\{)?(?P<value>[^{}\n]{1,40})\}")
# A last line that is only the verdict: "**Incorrect**", "Not faithful."
_LONE_WORD = re.compile(
    r"^[\s*_`\"'(\[]*(?P<value>(?:not\s+)?(?:(?:in)?correct|(?:un)?faithful))[\s*_`\"'.!)\]]*$",
    re.IGNORECASE,
)
_ECHO = re.compile(r"^\W*(?:in)?correct\W*(?:/|\bor\b|\|)\W*(?:in)?correct\b")
_FILLER = re.compile(
    r"^(?:(?:the|this|it)\s+)?(?:lean\s*4?\s+)?(?:(?:theorem\s+)?statement|formali[sz]ation|"
    r"translation|code)?\s*(?:is\s+)?",
)


def _judgement_of(value: Any) -> Judgement | None:
    """FAITHFUL / UNFAITHFUL for a verdict value, None when it is not one clear verdict."""
    if isinstance(value, bool):
        return Judgement.FAITHFUL if value else Judgement.UNFAITHFUL
    if not isinstance(value, str):
        return None
    text = value.strip().strip("*_`\"'[](){}.,;:!").strip().lower()
    if _ECHO.match(text):  # the template's placeholder echoed back: "Correct/Incorrect"
        return None
    text = _FILLER.sub("", text, count=1)
    match = re.match(r"(not\s+)?([a-z]+)\b", text)
    if match is None:
        return None
    negated, word = bool(match.group(1)), match.group(2)
    if word in _POSITIVE:
        verdict = Judgement.FAITHFUL
    elif word in _NEGATIVE:
        verdict = Judgement.UNFAITHFUL
    else:
        return None
    if negated:
        verdict = Judgement.UNFAITHFUL if verdict is Judgement.FAITHFUL else Judgement.FAITHFUL
    return verdict


def _json_objects(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """``(start, end, object)`` for each top-level JSON object found in ``text``."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return found
        end = _matching_brace(text, start)
        obj = _loads(text[start:end]) if end > start else None
        if obj is not None:
            found.append((start, end, obj))
            i = end
        else:
            i = start + 1


def _matching_brace(text: str, start: int) -> int:
    """Index just past the brace closing ``text[start]``, or -1."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _loads(candidate: str) -> dict[str, Any] | None:
    for attempt in (candidate, re.sub(r",\s*([}\]])", r"\1", candidate)):
        try:
            # strict=False: models put raw newlines inside the "reasons" string.
            value = json.loads(attempt, strict=False)
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _json_verdict(obj: dict[str, Any]) -> tuple[Judgement, str] | None:
    keys = {str(k).strip().lower().replace(" ", "_"): k for k in obj}
    for key in _VERDICT_KEYS:
        if key in keys:
            verdict = _judgement_of(obj[keys[key]])
            if verdict is not None:
                reasons = obj[keys["reasons"]] if "reasons" in keys else ""
                if not isinstance(reasons, str):
                    reasons = json.dumps(reasons, ensure_ascii=False)
                return verdict, reasons.strip()
            return None
    return None


def _answer_part(text: str) -> str | None:
    """The text after any reasoning section; None when the answer ends inside ``<think>``."""
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        return text[closes[-1].end() :]
    if _THINK_OPEN.search(text):
        return None
    return text


def _text_verdicts(text: str) -> list[Judgement]:
    """Verdicts stated in prose: ``\\boxed{..}``, ``Verdict: ..`` lines, a last lone word."""
    values = [m.group("value") for m in _BOXED.finditer(text)]
    values += [m.group("value") for m in _LABELLED.finditer(text)]
    lines = [line for line in text.splitlines() if line.strip()]
    lone = _LONE_WORD.match(lines[-1]) if lines else None
    if lone:
        values.append(lone.group("value"))
    found = [_judgement_of(v) for v in values]
    return [v for v in found if v is not None]


def parse_verdict(text: str) -> CriticSample:
    """Parse one critic answer into a ``CriticSample``.

    Understands the released CriticLean form (one JSON object with ``is_assistant_correct``:
    ``Correct``/``Incorrect`` and ``reasons``), bare, fenced or after a ``<think>`` section,
    and chat-model forms (``Verdict: faithful``, ``\\boxed{Correct}``, ``Final answer:
    incorrect``, a last line ``**Incorrect**``), ignoring case and spacing. Anything absent,
    contradictory or cut off inside ``<think>`` is ``unparsed``, never a pass.
    """
    answer = _answer_part(text)
    if answer is None:
        return CriticSample(Judgement.UNPARSED, text, "the answer ended inside <think>")
    # JSON answers: inside code fences first, then anywhere.
    spans: list[tuple[int, int]] = []
    verdicts: list[tuple[Judgement, str]] = []
    for start, end, obj in _json_objects(answer):
        spans.append((start, end))
        parsed = _json_verdict(obj)
        if parsed is not None:
            verdicts.append(parsed)
    outside = "".join(answer[a:b] for a, b in _gaps(spans, len(answer)))
    if not verdicts:  # malformed JSON: look for the key and its value directly
        for match in _KEY_VALUE.finditer(outside):
            verdict = None if match.group("alt") else _judgement_of(match.group("value"))
            if verdict is not None:
                verdicts.append((verdict, _loose_reasons(outside)))
        outside = _KEY_VALUE.sub(" ", outside)
    judgements = {v for v, _ in verdicts} | set(_text_verdicts(_FENCE.sub(" ", outside)))
    reasons = next((r for _, r in verdicts if r), "") or answer.strip()
    if len(judgements) != 1:
        why = "contradictory verdicts" if judgements else "no verdict found"
        return CriticSample(Judgement.UNPARSED, text, f"{why}: {_shorten(reasons, 300)}")
    return CriticSample(judgements.pop(), text, reasons)


def _gaps(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append((pos, start))
        pos = end
    out.append((pos, length))
    return out


def _loose_reasons(text: str) -> str:
    match = re.search(r"""["']?reasons["']?\s*:\s*["'](.*?)["']\s*,\s*["']?is_""", text, re.DOTALL)
    return match.group(1).strip() if match else text.strip()


# --------------------------------------------------------------------------- feedback

_FOCUS = ("accuracy confirmation", "discrepanc", "mismatch", "conclusion", "comparative")


def summarize_objections(samples: Sequence[CriticSample], limit: int = 700) -> str:
    """A short account of what the critic objected to: the feedback for the next round.

    Empty when no sample objected and every sample parsed.
    """
    objecting = [s for s in samples if s.judgement is Judgement.UNFAITHFUL]
    unparsed = sum(s.judgement is Judgement.UNPARSED for s in samples)
    parts: list[str] = []
    for sample in objecting:
        part = _focus(sample.reasons)
        if part and part not in parts:
            parts.append(part)
    if not parts:
        if objecting:
            return (
                f"The critic judged the statement unfaithful ({len(objecting)} of "
                f"{len(samples)} samples) without giving reasons."
            )
        if unparsed:
            return f"The critic's answer could not be parsed ({unparsed} of {len(samples)})."
        return ""
    budget = max(120, limit // min(len(parts), 3))
    body = "\n".join(f"- {_shorten(p, budget)}" for p in parts[:3])
    if len(samples) == 1:
        return body.removeprefix("- ")
    return f"{len(objecting)} of {len(samples)} critic samples objected:\n{body}"


def explain_verdict(verdict: Verdict, limit: int = 700) -> str:
    """What the critic said for its decision, for people reading the corpus: for a faithful
    verdict the reasons of the samples that said faithful (then any objections), otherwise
    the objections (``summarize_objections``)."""
    if not verdict.faithful:
        return verdict.summary or summarize_objections(verdict.samples, limit)
    faithful = [s for s in verdict.samples if s.judgement is Judgement.FAITHFUL]
    parts: list[str] = []
    for sample in faithful:
        part = _focus(sample.reasons, ("accuracy confirmation",))
        if part and part not in parts:
            parts.append(part)
    if not parts:
        reasons = "The critic judged the statement faithful without giving reasons."
    elif len(verdict.samples) == 1:
        reasons = _shorten(parts[0], limit)
    else:
        budget = max(120, limit // min(len(parts), 3))
        body = "\n".join(f"- {_shorten(p, budget)}" for p in parts[:3])
        reasons = f"{len(faithful)} of {len(verdict.samples)} critic samples said faithful:\n{body}"
    objections = summarize_objections(verdict.samples, limit)
    return f"{reasons}\n{objections}" if objections else reasons


def _focus(reasons: str, markers: Sequence[str] = _FOCUS) -> str:
    """The part of a critic's reasons from the first of ``markers`` found (by default the
    headings that name a mismatch), whitespace collapsed; all of it when none is found."""
    text = " ".join(reasons.split())
    lower = text.lower()
    for marker in markers:
        at = lower.rfind(marker)
        if at >= 0:
            number = re.search(r"\d+\.\s*$", text[:at])  # keep "5. " before the heading
            return text[number.start() if number else at :].strip()
    return text.strip()


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentence = max(cut.rfind(". "), cut.rfind("; "))
    if sentence > limit // 2:
        cut = cut[: sentence + 1]
    return cut.rstrip() + " …"
