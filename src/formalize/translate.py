"""The translator: natural-language problems to Lean 4 candidate statements.

Prompts are versioned templates (``prompts/translate_v1.txt`` and two repair templates, one
carrying Lean's errors with the offending lines, one carrying the critic's objections).
``extract_statement`` turns real model output (fenced or bare code, several blocks, a proof or
``sorry`` or nothing after ``:=``, chatter around it) into one declaration whose proof is ``sorry``
and whose name is the problem's; whether that declaration is safe is the Lean gate's job.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from formalize.lean.policy import is_reserved_name
from formalize.lean.statement import (
    rename_auxiliaries,
    rename_declaration,
    replace_proof_with_sorry,
)
from formalize.prompts import Template, load_template
from formalize.records import Candidate, CandidateStatus, CheckResult, Problem, Record

if TYPE_CHECKING:
    from formalize.grounding import Grounding
    from formalize.models import Engine, GenerationParams

DEFAULT_HEADER = "import Mathlib"
# The header of candidates with no code. (The Lean checker itself turns auto-bound implicits
# off in every header: see ``LeanConfig.auto_implicit``.)
FALLBACK_HEADER = DEFAULT_HEADER
# The theorem name the translator is asked for; candidates are renamed to a per-problem name.
PROMPT_THEOREM_NAME = "my_favorite_theorem"
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_DECL = re.compile(
    r"^[ \t]*(?:@\[[^\]\n]*\][ \t]*\n?[ \t]*)?(?:(?:private|protected|noncomputable)\s+)*"
    r"(theorem|lemma|example)\b",
    re.MULTILINE,
)
_PRELUDE = re.compile(
    r"^[ \t]*(import|open|set_option|namespace|section|variable|universe|run_cmd|macro|syntax)\b"
)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
MAX_ERRORS_IN_FEEDBACK = 5
# Lean's wording before v4.22 (`unknown identifier 'x'`) and after (``Unknown identifier `x` ``).
_UNKNOWN_NAME = re.compile(r"[Uu]nknown (?:identifier|constant) ['`]([^'`\s]+)['`]")


class FeedbackKind(str, enum.Enum):
    """What went wrong last round, deciding the repair prompt."""

    LEAN = "lean"  # compile errors, a failed safety check, or no code at all
    CRITIC = "critic"  # compiled, but the critic objected
    FILTER = "filter"  # compiled, but a Lean-verified filter proved it vacuous, false, ...


@dataclass(frozen=True)
class Feedback(Record):
    """The failure fed back into the next round: the statement tried and what was wrong."""

    kind: FeedbackKind
    previous: str
    detail: str

    def __post_init__(self) -> None:
        if not self.detail.strip():
            raise ValueError("Feedback.detail must say what was wrong")


@dataclass(frozen=True)
class TranslationRequest:
    """One problem to translate in a given round, with last round's feedback if any."""

    problem: Problem
    round: int = 1
    feedback: Feedback | None = None


def theorem_name(problem_id: str) -> str:
    """A Lean identifier for a problem, stable across runs (``formalize_<id>``)."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", problem_id).strip("_") or "problem"
    if is_reserved_name(f"formalize_{slug}"):  # an id `probe_x`: not one of the probes' names
        return f"formalize_problem_{slug}"
    return f"formalize_{slug}"


def lean_error_feedback(
    statement: str,
    check: CheckResult,
    suggestions: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Lean's errors with the offending line of the statement under each, for the repair prompt.

    ``suggestions`` (the name check's did-you-mean, by name as written) are added under each
    ``unknown identifier`` / ``unknown constant`` error that names one of them.
    """
    if check.reason and not check.errors():
        return check.reason
    lines = statement.split("\n")
    parts = []
    for message in check.errors()[:MAX_ERRORS_IN_FEEDBACK]:
        where = f"line {message.line}, column {message.column}" if message.line else "in a tactic"
        part = f"- error at {where}: {message.text.strip()}"
        if 1 <= message.line <= len(lines):
            offending = lines[message.line - 1]
            part += f"\n  offending line: {offending.strip()}"
        unknown = _UNKNOWN_NAME.search(message.text)
        if unknown and suggestions and suggestions.get(unknown.group(1)):
            part += f"\n  did you mean: {', '.join(suggestions[unknown.group(1)])}?"
        parts.append(part)
    extra = len(check.errors()) - MAX_ERRORS_IN_FEEDBACK
    if extra > 0:
        parts.append(f"- ... and {extra} more errors")
    return "\n".join(parts)


def extract_statement(raw: str) -> tuple[str, str] | None:
    """``(header, declaration)`` from a model's output, proof replaced by ``sorry``; None if absent.

    Prefers the last fenced block that holds a declaration (models often show a draft first),
    else the bare text. ``import`` lines go to the header. In a code block every other line in
    front of the declaration stays with it, so the safety gate judges all the model put there
    (a ``#eval`` line rejects the candidate rather than vanishing); in bare text only lines that
    look like Lean commands do, prose does not. Only the first declaration is kept.
    """
    text = _THINK.sub("", raw)
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    chosen = next((b for b in reversed(blocks) if _DECL.search(b)), None)
    fenced = chosen is not None
    if chosen is None:
        if not _DECL.search(text):
            return None
        chosen = text
    lines = chosen.split("\n")
    decl_match = _DECL.search(chosen)
    assert decl_match is not None
    start_line = chosen[: decl_match.start()].count("\n")
    # keep a doc comment directly above the declaration
    doc_start = _doc_comment_start(lines, start_line)
    imports = [ln.strip() for ln in lines[:doc_start] if ln.strip().startswith("import ")]
    prelude = [
        ln
        for ln in lines[:doc_start]
        if ln.strip()
        and not ln.strip().startswith("import ")
        and (fenced or _PRELUDE.match(ln) or ln.lstrip().startswith("#"))
    ]
    body_lines = lines[doc_start:]
    declaration = _first_declaration("\n".join(body_lines))
    header = "\n".join(dict.fromkeys(imports) or [DEFAULT_HEADER])
    statement = "\n".join([*prelude, declaration]).strip()
    return header, statement


def _doc_comment_start(lines: list[str], decl_line: int) -> int:
    i = decl_line
    if i > 0 and lines[i - 1].rstrip().endswith("-/"):
        j = i - 1
        while j >= 0 and "/--" not in lines[j]:
            j -= 1
        if j >= 0:
            return j
    return decl_line


def _first_declaration(text: str) -> str:
    """The text up to the next top-level declaration or command after the first one."""
    matches = list(_DECL.finditer(text))
    end = len(text)
    if len(matches) > 1:
        end = matches[1].start()
    following = re.compile(
        r"^(?:#\w+|end\b|namespace\b|def\b|noncomputable def\b|instance\b|/--)", re.MULTILINE
    )
    first = matches[0]
    tail = following.search(text, first.end())
    if tail is not None and tail.start() < end:
        end = tail.start()
    return text[:end].rstrip()


def make_candidate(problem: Problem, raw: str, round_: int, sample: int) -> Candidate:
    """A ``Candidate`` from one completion: extracted, proof ``sorry``, renamed to the problem."""
    extracted = extract_statement(raw)
    if extracted is None:
        return Candidate(
            problem.id,
            CandidateStatus.NO_CODE,
            "",
            raw,
            FALLBACK_HEADER,
            round_,
            sample,
        )
    header, statement = extracted
    try:
        statement = replace_proof_with_sorry(statement)
        name = theorem_name(problem.id)
        statement = rename_declaration(rename_auxiliaries(statement, name), name)
    except ValueError:
        pass  # left as written: the safety gate rejects it, with its reason
    return Candidate(problem.id, CandidateStatus.EXTRACTED, statement, raw, header, round_, sample)


def _query(problem: Problem) -> str:
    """What retrieval searches for: the problem's text and its answer."""
    return f"{problem.informal}\n{problem.answer}" if problem.answer else problem.informal


class Translator:
    """Turns batches of translation requests into k candidates each, in input order."""

    def __init__(
        self,
        engine: Engine,
        *,
        samples: int = 4,
        params: GenerationParams | None = None,
        template: str = "translate_v1",
        repair_lean_template: str = "repair_lean_v1",
        repair_critic_template: str = "repair_critic_v1",
        repair_filter_template: str = "repair_filter_v1",
        grounding: Grounding | None = None,
        retrieval_template: str = "translate_retrieval_v1",
    ) -> None:
        """``grounding``: Mathlib declarations retrieved for each problem go into the
        first-round prompt (``retrieval_template``); without it, or with retrieval ``none``,
        the prompts are ``template``'s, unchanged."""
        from formalize.models import GenerationParams

        if samples < 1:
            raise ValueError("samples must be >= 1")
        self.engine = engine
        self.samples = samples
        base = params or GenerationParams(temperature=0.7 if samples > 1 else 0.0, max_tokens=1024)
        self.params = dataclasses.replace(base, n=samples)
        self.templates: dict[str, Template] = {
            "first": load_template(template),
            FeedbackKind.LEAN.value: load_template(repair_lean_template),
            FeedbackKind.CRITIC.value: load_template(repair_critic_template),
            FeedbackKind.FILTER.value: load_template(repair_filter_template),
        }
        self.grounding = grounding if grounding is not None and grounding.retrieves else None
        if self.grounding is not None:
            self.templates["first"] = load_template(retrieval_template)

    @property
    def prompt_version(self) -> str:
        """The template ids used, for provenance."""
        return ",".join(t.id for t in self.templates.values())

    def conversation(
        self, request: TranslationRequest, declarations: str = ""
    ) -> list[dict[str, str]]:
        """The chat messages for one request (``declarations``: the retrieved block, used by
        the first-round prompt when the translator is grounded)."""
        problem = request.problem
        answer_block = ""
        if problem.answer:
            answer_block = (
                f"\n\nThe answer to this problem is: {problem.answer}\n"
                "State the theorem so that this answer appears in its conclusion."
            )
        values = {
            "theorem_name": PROMPT_THEOREM_NAME,
            "problem": problem.informal,
            "answer_block": answer_block,
        }
        feedback = request.feedback
        if feedback is None or request.round == 1:
            if self.grounding is not None:
                values["declarations"] = declarations or "(none found)"
            return self.templates["first"].messages(**values)
        key = {FeedbackKind.LEAN: "errors", FeedbackKind.FILTER: "findings"}.get(
            feedback.kind, "objections"
        )
        values.update(
            previous=feedback.previous or "(no Lean code was found)", **{key: feedback.detail}
        )
        return self.templates[feedback.kind.value].messages(**values)

    def conversations(self, requests: Sequence[TranslationRequest]) -> list[list[dict[str, str]]]:
        """The chat messages for each request, in input order; when grounded, the first-round
        ones carry the declarations retrieved for their problems (one batched retrieval)."""
        blocks = [""] * len(requests)
        if self.grounding is not None:
            first = [i for i, r in enumerate(requests) if r.feedback is None or r.round == 1]
            found = self.grounding.declarations([_query(requests[i].problem) for i in first])
            for i, block in zip(first, found, strict=True):
                blocks[i] = block
        return [self.conversation(r, b) for r, b in zip(requests, blocks, strict=True)]

    def translate(self, requests: Sequence[TranslationRequest]) -> list[list[Candidate]]:
        """k candidates per request, in input order."""
        if not requests:
            return []
        conversations = self.conversations(requests)
        from formalize.models import generate_tolerantly

        outputs = generate_tolerantly(self.engine, conversations, self.params)
        candidates = []
        for r, completions in zip(requests, outputs, strict=True):
            if isinstance(completions, str):  # this prompt failed; the others went through
                failed = CandidateStatus.GENERATION_FAILED
                cand = Candidate(r.problem.id, failed, "", completions, FALLBACK_HEADER, r.round, 0)
                candidates.append([cand])
            else:
                candidates.append(
                    [
                        make_candidate(r.problem, c.text, r.round, i)
                        for i, c in enumerate(completions)
                    ]
                )
        return candidates
