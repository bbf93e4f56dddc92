"""The nouns of formalize: frozen records that cross stage boundaries.

Every record has an explicit status enum set where the outcome happened, checks its
invariants at construction and round-trips through JSON (``to_json`` / ``from_json``).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Record")


class Record:
    """Base for frozen records: generic, type-hint driven JSON round-trip."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (enums as values, tuples as lists, nested records as dicts)."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_json(self) -> str:
        """Compact JSON text of ``to_dict``, keys sorted so equal records give equal text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Rebuild a record from ``to_dict`` output; unknown keys are an error."""
        hints, names = _fields_of(cls)  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
        kwargs = {k: _decode(hints[k], v) for k, v in data.items()}
        return cls(**kwargs)

    @classmethod
    def from_json(cls: type[T], text: str) -> T:
        """Rebuild a record from ``to_json`` text."""
        return cls.from_dict(json.loads(text))


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@functools.cache
def _fields_of(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """A record class's type hints and field names, worked out once (``get_type_hints`` costs
    more than decoding a whole record: an export decodes millions)."""
    names = frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return typing.get_type_hints(cls), names


@functools.cache
def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(hint), typing.get_args(hint)


def _decode(hint: Any, value: Any) -> Any:
    if value is None or hint is Any:
        return value
    origin, args = _shape(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin is dict:
        if args[1] is Any:  # JSON as it came (provenance, metadata): a copy, as below
            return dict(value)
        return {k: _decode(args[1], v) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem(Record):
    """A natural-language problem to formalize."""

    id: str
    informal: str
    answer: str | None = None
    solution: str | None = None
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _require(bool(self.id.strip()), "Problem.id must not be empty")
        _require(bool(self.informal.strip()), f"Problem {self.id!r}: informal statement is empty")


# --------------------------------------------------------------------------- candidates


class CandidateStatus(str, enum.Enum):
    """Whether a Lean statement could be extracted from a model's output."""

    EXTRACTED = "extracted"
    NO_CODE = "no_code"
    GENERATION_FAILED = "generation_failed"  # the engine gave no output for this prompt


@dataclass(frozen=True)
class Candidate(Record):
    """One Lean statement produced for a problem, with the raw model output it came from.

    ``lean`` is the declaration with its proof replaced by ``sorry``; ``header`` holds the
    ``import``/``open`` lines it needs. ``status`` is ``no_code`` when nothing was extracted.
    """

    problem_id: str
    status: CandidateStatus
    lean: str
    raw_output: str
    header: str = "import Mathlib"
    round: int = 1
    sample: int = 0

    def __post_init__(self) -> None:
        _require(self.round >= 1, "Candidate.round starts at 1")
        _require(self.sample >= 0, "Candidate.sample must be >= 0")
        if self.status is CandidateStatus.EXTRACTED:
            _require(bool(self.lean.strip()), "an extracted Candidate needs Lean text")
        else:
            _require(not self.lean.strip(), f"a {self.status.value} Candidate carries no Lean")


# --------------------------------------------------------------------------- Lean checks


class Severity(str, enum.Enum):
    """Lean message severity."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    TRACE = "trace"


@dataclass(frozen=True)
class Message(Record):
    """A Lean message, positions relative to the statement the caller gave.

    ``line`` is 1-based, ``column`` 0-based in Unicode code points (as the REPL reports them);
    ``line == 0`` means Lean gave no position (messages from tactic mode).
    """

    severity: Severity
    line: int
    column: int
    text: str
    end_line: int | None = None
    end_column: int | None = None

    def __post_init__(self) -> None:
        _require(self.line >= 0 and self.column >= 0, "Message positions must be >= 0")


class CheckStatus(str, enum.Enum):
    """Lean's verdict on one statement, or why there is none."""

    OK = "ok"
    LEAN_ERROR = "lean_error"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    CRASHED = "crashed"
    PROTOCOL_ERROR = "protocol_error"

    @property
    def is_infrastructure(self) -> bool:
        """True for failures of the checker rather than verdicts on the statement."""
        return self in (
            CheckStatus.TIMEOUT,
            CheckStatus.OUT_OF_MEMORY,
            CheckStatus.CRASHED,
            CheckStatus.PROTOCOL_ERROR,
        )


@dataclass(frozen=True)
class CheckResult(Record):
    """The outcome of checking one Lean statement.

    ``reason`` explains every status but ``ok``/``lean_error`` (whose story is in ``messages``).
    """

    status: CheckStatus
    messages: tuple[Message, ...] = ()
    elapsed_s: float = 0.0
    toolchain: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _require(self.elapsed_s >= 0, "CheckResult.elapsed_s must be >= 0")
        errors = [m for m in self.messages if m.severity is Severity.ERROR]
        if self.status is CheckStatus.OK:
            _require(not errors, "an ok CheckResult cannot carry error messages")
        if self.status is CheckStatus.LEAN_ERROR:
            _require(bool(errors) or bool(self.reason), "a lean_error needs an error message")
        if self.status not in (CheckStatus.OK, CheckStatus.LEAN_ERROR):
            _require(bool(self.reason), f"a {self.status.value} CheckResult needs a reason")

    @property
    def ok(self) -> bool:
        """True when the statement compiled."""
        return self.status is CheckStatus.OK

    def errors(self) -> tuple[Message, ...]:
        """The error messages."""
        return tuple(m for m in self.messages if m.severity is Severity.ERROR)


# --------------------------------------------------------------------------- critic


class Judgement(str, enum.Enum):
    """One critic answer, or the decision taken over several."""

    FAITHFUL = "faithful"
    UNFAITHFUL = "unfaithful"
    UNPARSED = "unparsed"


@dataclass(frozen=True)
class CriticSample(Record):
    """One critic completion: its raw text and what was parsed out of it."""

    judgement: Judgement
    raw: str
    reasons: str = ""


@dataclass(frozen=True)
class Verdict(Record):
    """The critic's decision on a (problem, statement) pair, with every sample kept.

    ``share`` is the fraction of samples that said faithful (unparsed samples count against);
    ``judgement`` is the vote's outcome; it is ``unparsed`` only when no sample parsed.
    """

    judgement: Judgement
    share: float
    samples: tuple[CriticSample, ...]
    summary: str = ""
    rule: str = "majority"

    def __post_init__(self) -> None:
        _require(0.0 <= self.share <= 1.0, "Verdict.share must be in [0, 1]")
        _require(bool(self.samples), "a Verdict needs at least one sample")
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in self.samples)
        _require(
            abs(self.share - faithful / len(self.samples)) < 1e-9,
            "Verdict.share must equal the share of faithful samples",
        )
        if self.judgement is Judgement.UNPARSED:
            _require(
                all(s.judgement is Judgement.UNPARSED for s in self.samples),
                "an unparsed Verdict cannot have parsed samples",
            )
        if self.judgement is Judgement.FAITHFUL:
            _require(faithful > 0, "a faithful Verdict needs a faithful sample")

    @property
    def faithful(self) -> bool:
        """True when the critic accepted the pair."""
        return self.judgement is Judgement.FAITHFUL


# --------------------------------------------------------------------------- attempts


# --------------------------------------------------------------------------- filter signals


class SignalOutcome(str, enum.Enum):
    """What a filter or judge found: ``failed`` means it found a problem (Lean proved the
    hypotheses contradictory, say); ``inconclusive`` that it could not tell (a probe timed out,
    no tactic closed it)."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Signal(Record):
    """One filter's or judge's finding about a compiled candidate, as stored with its attempt.

    ``name``/``version`` identify the filter (``vacuous``, ``refuted``, ``trivial``,
    ``reference``) or the judge (``judge:<name>``, its prompt version); ``evidence`` is what
    backs the outcome (the probe Lean accepted, a back-translation); ``score`` a judge's share
    of faithful samples; ``details`` anything else worth keeping (a judge's spec and rule)."""

    name: str
    version: str
    outcome: SignalOutcome
    reason: str = ""
    evidence: str = ""
    elapsed_s: float = 0.0
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), "Signal.name must not be empty")
        _require(self.elapsed_s >= 0, "Signal.elapsed_s must be >= 0")
        _require(self.score is None or 0.0 <= self.score <= 1.0, "Signal.score must be in [0, 1]")

    @property
    def failed(self) -> bool:
        """True when the filter found a problem."""
        return self.outcome is SignalOutcome.FAILED

    @property
    def is_judge(self) -> bool:
        """True for a judge's verdict (named ``judge:<name>``), False for a filter's."""
        return self.name.startswith(JUDGE_PREFIX)


#: The name prefix of judges' signals (``judge:criticlean``); filters have bare names.
JUDGE_PREFIX = "judge:"
#: The name check's signal (``formalize.names``): the one signal an attempt that did not
#: compile may carry (its suggestions feed the repair prompt).
NAMES_SIGNAL = "names"


class AttemptStatus(str, enum.Enum):
    """How one candidate ended."""

    ACCEPTED = "accepted"  # compiled, judged faithful, and chosen for the corpus
    FAITHFUL = "faithful"  # compiled and judged faithful, but another candidate was chosen
    NO_CODE = "no_code"  # nothing extractable in the model's output
    GENERATION_FAILED = "generation_failed"  # the translator engine failed on this prompt
    REJECTED = "rejected"  # failed the statement safety checks; never reached Lean
    LEAN_ERROR = "lean_error"  # Lean reported errors
    CHECK_FAILED = "check_failed"  # the checker failed (timeout, crash, out of memory, protocol)
    UNFAITHFUL = "unfaithful"  # compiled, critic objected
    UNPARSED = "unparsed"  # compiled, critic's answers could not be parsed
    DUPLICATE = "duplicate"  # compiled and faithful, but the corpus already has this statement
    VACUOUS = "vacuous"  # compiled, but Lean proved its hypotheses contradictory
    REFUTED = "refuted"  # compiled, but Lean proved its negation
    TRIVIAL = "trivial"  # compiled, but automation proved it outright (rejects when configured)
    NOT_EQUIVALENT = "not_equivalent"  # reference equivalence required and not proven
    FILTERED = "filtered"  # compiled, but another Lean-verified filter failed it
    UNKNOWN_NAME = "unknown_name"  # names not in the index (names = precheck); never reached Lean

    @property
    def filtered(self) -> bool:
        """True for the statuses a Lean-verified filter sets."""
        return self in _FILTERED


_FILTERED = frozenset(
    {
        AttemptStatus.VACUOUS,
        AttemptStatus.REFUTED,
        AttemptStatus.TRIVIAL,
        AttemptStatus.NOT_EQUIVALENT,
        AttemptStatus.FILTERED,
    }
)
#: The filter whose signal sets each filtered status.
FILTER_OF_STATUS = {
    AttemptStatus.VACUOUS: "vacuous",
    AttemptStatus.REFUTED: "refuted",
    AttemptStatus.TRIVIAL: "trivial",
    AttemptStatus.NOT_EQUIVALENT: "reference",
}


@dataclass(frozen=True)
class Attempt(Record):
    """One candidate in one round for one problem: what was tried and how it ended.

    ``duplicate_of``: for a ``duplicate``, the problem whose corpus entry it duplicates.
    ``signals``: what the name check, the filters (and judges) found about it, in the order
    they ran.
    """

    problem_id: str
    round: int
    sample: int
    status: AttemptStatus
    candidate: Candidate
    check: CheckResult | None = None
    verdict: Verdict | None = None
    feedback: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    duplicate_of: str | None = None
    signals: tuple[Signal, ...] = ()

    def __post_init__(self) -> None:
        _require(self.candidate.problem_id == self.problem_id, "Attempt/candidate problem mismatch")
        if self.status.filtered:
            name = FILTER_OF_STATUS.get(self.status)
            _require(self.check is not None and self.check.ok, "a filtered Attempt must compile")
            _require(
                any(
                    (name is None or s.name == name) and s.outcome is not SignalOutcome.PASSED
                    for s in self.signals
                ),
                f"a {self.status.value} Attempt needs the {name or 'failing'} filter's finding",
            )
        if any(s.name != NAMES_SIGNAL for s in self.signals):
            _require(self.check is not None and self.check.ok, "signals are about compiled ones")
        if self.status is AttemptStatus.UNKNOWN_NAME:
            _require(
                self.check is None
                and any(s.name == NAMES_SIGNAL and s.failed for s in self.signals),
                "an unknown_name Attempt carries the failed names check and no Lean check",
            )
        _require(
            (self.round, self.sample) == (self.candidate.round, self.candidate.sample),
            "Attempt round/sample must match its candidate",
        )
        needs_check = self.status not in (
            AttemptStatus.NO_CODE,
            AttemptStatus.GENERATION_FAILED,
            AttemptStatus.UNKNOWN_NAME,
        )
        if needs_check:
            _require(self.check is not None, f"a {self.status.value} Attempt needs a check")
        needs_verdict = self.status in (
            AttemptStatus.ACCEPTED,
            AttemptStatus.FAITHFUL,
            AttemptStatus.UNFAITHFUL,
            AttemptStatus.UNPARSED,
            AttemptStatus.DUPLICATE,
        )
        if needs_verdict:
            _require(self.verdict is not None, f"a {self.status.value} Attempt needs a verdict")
            _require(self.check is not None and self.check.ok, "a judged Attempt must compile")
        if self.status in (AttemptStatus.ACCEPTED, AttemptStatus.FAITHFUL, AttemptStatus.DUPLICATE):
            _require(self.verdict is not None and self.verdict.faithful, "accepted needs faithful")
        if self.duplicate_of is not None:
            _require(
                self.status is AttemptStatus.DUPLICATE, "only a duplicate names a duplicated entry"
            )
        if self.status is AttemptStatus.REJECTED:
            _require(
                self.check is not None and self.check.status is CheckStatus.REJECTED,
                "a rejected Attempt carries a rejected check",
            )

    def signal(self, name: str) -> Signal | None:
        """The signal of the filter or judge called ``name``, if it ran."""
        return next((s for s in self.signals if s.name == name), None)


# --------------------------------------------------------------------------- human labels


class LabelValue(str, enum.Enum):
    """An annotator's judgement of a (problem, statement) pair."""

    FAITHFUL = "faithful"
    UNFAITHFUL = "unfaithful"


class ErrorType(str, enum.Enum):
    """What is wrong with an unfaithful statement (the review taxonomy)."""

    WRONG_TYPE = "wrong_type"  # wrong type or domain
    MISSING_HYPOTHESIS = "missing_hypothesis"
    EXTRA_HYPOTHESIS = "extra_hypothesis"
    WRONG_QUANTIFIER = "wrong_quantifier"
    WRONG_CONCLUSION = "wrong_conclusion"  # wrong conclusion or answer
    TRIVIALISED = "trivialised"
    OTHER = "other"


@dataclass(frozen=True)
class Label(Record):
    """A human label on one attempt, named by its stable key (problem, round, sample) and the
    hash of the statement labelled (``lean_sha``, sha256 of the attempt's Lean text), so that
    a label never silently moves to another statement."""

    problem_id: str
    round: int
    sample: int
    lean_sha: str
    label: LabelValue
    annotator: str
    error_type: ErrorType | None = None
    note: str = ""
    created_at: float = 0.0

    def __post_init__(self) -> None:
        _require(bool(self.annotator.strip()), "a Label needs an annotator")
        _require(len(self.lean_sha) == 64, "Label.lean_sha is a sha256 hex digest")
        if self.error_type is not None:
            _require(
                self.label is LabelValue.UNFAITHFUL, "only an unfaithful Label has an error type"
            )


# --------------------------------------------------------------------------- corpus entries


class EntryStatus(str, enum.Enum):
    """Standing of a corpus entry."""

    ACCEPTED = "accepted"


@dataclass(frozen=True)
class Entry(Record):
    """An accepted (problem, Lean statement) pair with its provenance."""

    problem_id: str
    informal: str
    lean: str
    header: str
    round: int
    critic_share: float
    status: EntryStatus = EntryStatus.ACCEPTED
    answer: str | None = None
    source: str = ""
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _require(bool(self.lean.strip()), "Entry.lean must not be empty")
        _require(bool(self.informal.strip()), "Entry.informal must not be empty")
        _require(0.0 < self.critic_share <= 1.0, "an Entry was judged faithful: share in (0, 1]")
        _require(self.round >= 1, "Entry.round starts at 1")
