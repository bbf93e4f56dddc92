"""What every filter shares: the item it judges, the interface, its settings, and running
Lean probes through the checker.

A filter takes a batch of :class:`FilterItem` (a problem and one compiled candidate, with the
gate's report of it) and returns one :class:`~formalize.records.Signal` per item, in input
order. A Lean filter builds probes (:mod:`formalize.filters.probes`), runs them through
:meth:`formalize.lean.LeanChecker.probe` and reads the results. A probe has one or more goals,
each with alternatives (one theorem per tactic): a goal is proved when one alternative has no
error and no ``sorry`` (its text becomes the signal's evidence); when every goal is proved the
filter found what it looks for. Errors inside an alternative's ``by`` block (the tactic failed,
left the goal open or used up its heartbeats) are the normal "not proved". An error anywhere
else means the probe itself did not elaborate: that tells nothing, like a probe that timed
out, ran out of memory or lost its worker (``inconclusive`` with the error, never ``failed``
nor ``passed``).
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from formalize.filters.probes import PROBE_HEARTBEATS, THEOREM_KINDS, Alternative, Probe
from formalize.lean.protocol import is_sorry_warning
from formalize.lean.statement import SafetyReport, check_statement
from formalize.records import (
    CheckResult,
    CheckStatus,
    Message,
    Problem,
    Severity,
    Signal,
    SignalOutcome,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from formalize.lean import LeanChecker


@dataclass(frozen=True)
class FilterItem:
    """One compiled candidate to judge: its problem, its Lean text and the header it was
    checked under, and the gate's report of it (signature, context, declarations)."""

    problem: Problem
    lean: str
    header: str
    report: SafetyReport

    @classmethod
    def of(cls, problem: Problem, lean: str, header: str) -> FilterItem:
        """The item for a candidate (the gate is run again: it is quick and pure)."""
        return cls(problem, lean, header, check_statement(lean))


@functools.lru_cache(maxsize=1)
def tactic_lists() -> dict[str, Any]:
    """The versioned tactic lists (package data ``tactics.toml``)."""
    text = resources.files("formalize.filters").joinpath("tactics.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class FilterSettings:
    """Plain settings of the Lean filters: the wall-clock bound of each probe (a backstop: each
    alternative is bounded by Lean's heartbeats first) and the tactic lists (default:
    ``tactics.toml``)."""

    probe_timeout_s: float = 60.0
    tactics: dict[str, Any] = field(default_factory=lambda: dict(tactic_lists()))

    @property
    def tactics_version(self) -> str:
        """The version of the tactic lists, part of every Lean filter's version."""
        return str(self.tactics.get("version", "?"))

    @property
    def heartbeats(self) -> int:
        """Lean's heartbeat bound (``maxHeartbeats``) of each alternative of a probe."""
        return int(self.tactics.get("heartbeats", PROBE_HEARTBEATS))


class Filter(Protocol):
    """A stage after the compile check: a batch of items in, one signal each out, in order."""

    @property
    def name(self) -> str:
        """The filter's name (its registry key, and every signal's)."""
        ...

    @property
    def version(self) -> str:
        """The filter's version, recorded in every signal."""
        ...

    def run(self, items: Sequence[FilterItem]) -> list[Signal]:
        """One signal per item, in input order."""
        ...


#: Lean's words for an alternative that used up its heartbeats (a tactic's failure, wherever
#: Lean places the message).
HEARTBEATS_USED = ("maximum number of heartbeats", "(deterministic) timeout")


def _errors(result: CheckResult) -> list[Message]:
    return [m for m in result.messages if m.severity is Severity.ERROR]


def _inside(probe: Probe, alt: Alternative, message: Message) -> bool:
    """Whether a message lies in ``alt``'s ``by`` block (from its ``by`` to its end)."""
    by, stop = probe.position(alt.by), probe.position(max(alt.by, alt.stop - 1))
    return by <= (message.line, message.column) and message.line <= stop[0]


def _within(probe: Probe, alt: Alternative, message: Message) -> bool:
    """Whether a message lies anywhere in ``alt``'s text."""
    first, last = probe.position(alt.start)[0], probe.position(max(alt.start, alt.stop - 1))[0]
    return first <= message.line <= last


def probe_error(result: CheckResult, probe: Probe) -> Message | None:
    """The first error outside every alternative's ``by`` block: the probe did not elaborate
    (a statement part Lean rejects, a definition that does not typecheck, a lost position)."""
    if result.status is not CheckStatus.LEAN_ERROR:
        return None
    for message in _errors(result):
        if any(word in message.text for word in HEARTBEATS_USED):
            continue
        if message.line == 0 or not any(_inside(probe, a, message) for a in probe.alternatives):
            return message
    return None


def proved_alternatives(result: CheckResult, probe: Probe) -> list[Alternative]:
    """The alternatives Lean accepted: no error and no ``sorry`` warning in their own text
    (the candidate's context may hold an answer ``abbrev … := sorry``; its warning sits on
    that declaration, before the probe's theorems)."""
    if result.status not in (CheckStatus.OK, CheckStatus.LEAN_ERROR):
        return []
    if probe_error(result, probe) is not None:
        return []
    # Lean's own sorry warning only: "unused variable `xsorry`" is no reason (a binder so
    # named made every alternative look unproved: the red team's filter dodge)
    bad = _errors(result) + [m for m in result.messages if is_sorry_warning(m)]
    return [a for a in probe.alternatives if not any(_within(probe, a, m) for m in bad)]


def proved(result: CheckResult, probe: Probe) -> bool:
    """Whether Lean proved every goal of the probe (each by one of its alternatives)."""
    done = {a.goal for a in proved_alternatives(result, probe)}
    return bool(probe.goals) and all(goal in done for goal in probe.goals)


def infrastructure(result: CheckResult) -> bool:
    """True when the probe could not be checked (timeout, memory, crash, protocol, refused)."""
    return result.status.is_infrastructure or result.status is CheckStatus.REJECTED


class LeanFilter:
    """Base of the filters that ask Lean: subclasses say how to build probes and what a proof
    of them means."""

    name = "lean"
    base_version = "3"  # 3: every probe theorem sets the PROBE_LIMITS again
    #: what a proof of the probe means, for the signal's reason
    found = "Lean proved it"
    not_found = "no tactic proved it"

    def __init__(self, checker: LeanChecker, settings: FilterSettings | None = None) -> None:
        self.checker = checker
        self.settings = settings or FilterSettings()

    @property
    def version(self) -> str:
        """The filter's own version and the tactic lists' version."""
        return f"{self.base_version}+tactics.{self.settings.tactics_version}"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        """The probes for one item (all must be proved for ``failed``), or None when the
        statement does not fit this filter (the signal then says why)."""
        raise NotImplementedError

    def skip_reason(self, item: FilterItem) -> str:
        """Why an item gets no probe."""
        kind = item.report.kind
        if item.report.ok and kind is not None and kind not in THEOREM_KINDS:
            return f"the main declaration is a {kind}, not a theorem: nothing to probe"
        return "the statement has no parsed signature to build a probe from"

    def run(self, items: Sequence[FilterItem]) -> list[Signal]:
        """Build every item's probes, check them in one batch, read the results."""
        begin = time.monotonic()
        plans = [self.probes(item) for item in items]
        flat = [p for plan in plans if plan for p in plan]
        results = self.checker.probe(
            [(p.header, p.body, p.alone) for p in flat], timeout_s=self.settings.probe_timeout_s
        )
        elapsed = (time.monotonic() - begin) / max(1, len(items))
        signals, k = [], 0
        for item, plan in zip(items, plans, strict=True):
            if not plan:
                signals.append(self.signal(SignalOutcome.INCONCLUSIVE, self.skip_reason(item)))
                continue
            mine = results[k : k + len(plan)]
            k += len(plan)
            signals.append(self.read(plan, mine, elapsed))
        return signals

    def read(self, plan: Sequence[Probe], results: Sequence[CheckResult], elapsed: float) -> Signal:
        """The signal from one item's probe results."""
        pairs = list(zip(plan, results, strict=True))
        stuck = next((r for _, r in pairs if infrastructure(r)), None)
        if stuck is not None:
            why = f"the probe could not be checked ({stuck.status.value}: {stuck.reason})"
            return self.signal(SignalOutcome.INCONCLUSIVE, why, elapsed_s=elapsed)
        broken = next(((p, e) for p, r in pairs if (e := probe_error(r, p)) is not None), None)
        if broken is not None:
            return self.signal(SignalOutcome.INCONCLUSIVE, ill_formed(*broken), elapsed_s=elapsed)
        if all(proved(r, p) for p, r in pairs):
            return self.signal(SignalOutcome.FAILED, self.found, evidence(pairs), elapsed)
        return self.signal(SignalOutcome.PASSED, self.not_found, elapsed_s=elapsed)

    def signal(
        self, outcome: SignalOutcome, reason: str, evidence: str = "", elapsed_s: float = 0.0
    ) -> Signal:
        """A signal of this filter."""
        return Signal(self.name, self.version, outcome, reason, evidence, elapsed_s)


#: How the reason of a signal whose probe did not elaborate begins (``corpus stats`` counts them).
PROBE_ERROR = "the probe did not elaborate"


def ill_formed(probe: Probe, message: Message) -> str:
    """The reason of a signal whose probe did not elaborate: the error and where."""
    first = message.text.strip().split("\n", 1)[0]
    where = f" at line {message.line}" if message.line else ""
    return f"{PROBE_ERROR}{where}: {first}"


def evidence(pairs: Sequence[tuple[Probe, CheckResult]]) -> str:
    """The proof Lean accepted: each probe's context with, for each goal, the first
    alternative that proved it."""
    out = []
    for probe, result in pairs:
        winners: dict[str, Alternative] = {}
        for alt in proved_alternatives(result, probe):
            winners.setdefault(alt.goal, alt)
        keep = sorted(winners.values(), key=lambda a: a.start)
        drop = [a for a in probe.alternatives if a not in keep]
        text, cursor = "", 0
        for alt in sorted(drop, key=lambda a: a.start):
            text += probe.body[cursor : alt.start]
            cursor = alt.stop
        text += probe.body[cursor:]
        out.append(re.sub(r"\n[ ]*\n(?:[ ]*\n)+", "\n\n", text).strip())
    return "\n\n".join(out)
