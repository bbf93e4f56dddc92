"""What every filter shares: the item it judges, the interface, its settings, and running
Lean probes through the checker.

A filter takes a batch of :class:`FilterItem` (a problem and one compiled candidate, with the
gate's report of it) and returns one :class:`~formalize.records.Signal` per item, in input
order. A Lean filter builds probes (:mod:`formalize.filters.probes`), runs them through
:meth:`formalize.lean.LeanChecker.probe` and reads the results: a probe Lean accepts with no
error and no ``sorry`` proves what the filter looks for (its text becomes the signal's
evidence); a probe Lean rejects did not; a probe that timed out, ran out of memory or lost its
worker tells nothing (``inconclusive``, never ``failed``).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from formalize.filters.probes import THEOREM_KINDS, Probe
from formalize.lean.statement import SafetyReport, check_statement
from formalize.records import CheckResult, CheckStatus, Problem, Severity, Signal, SignalOutcome

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
    """Plain settings of the Lean filters: the wall-clock bound of each probe and the tactic
    lists (default: ``tactics.toml``)."""

    probe_timeout_s: float = 10.0
    tactics: dict[str, Any] = field(default_factory=lambda: dict(tactic_lists()))

    @property
    def tactics_version(self) -> str:
        """The version of the tactic lists, part of every Lean filter's version."""
        return str(self.tactics.get("version", "?"))


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


def proved(result: CheckResult, probe: Probe) -> bool:
    """Whether Lean accepted the probe: compiled, no error, and no ``sorry`` warning in the
    probe's own theorems (the candidate's context may hold an answer ``abbrev … := sorry``;
    its warning sits on that declaration, before the probe)."""
    if result.status is not CheckStatus.OK:
        return False
    start = probe.body.count("\n", 0, probe.body.find("theorem formalize_probe")) + 1
    return not any(
        m.severity is Severity.WARNING and "sorry" in m.text and m.line >= start
        for m in result.messages
    )


def infrastructure(result: CheckResult) -> bool:
    """True when the probe could not be checked (timeout, memory, crash, protocol, refused)."""
    return result.status.is_infrastructure or result.status is CheckStatus.REJECTED


class LeanFilter:
    """Base of the filters that ask Lean: subclasses say how to build probes and what a proof
    of them means."""

    name = "lean"
    base_version = "1"
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
        if all(proved(r, p) for r, p in zip(results, plan, strict=True)):
            evidence = "\n\n".join(p.body.strip() for p in plan)
            return self.signal(SignalOutcome.FAILED, self.found, evidence, elapsed)
        stuck = next((r for r in results if infrastructure(r)), None)
        if stuck is not None:
            why = f"the probe could not be checked ({stuck.status.value}: {stuck.reason})"
            return self.signal(SignalOutcome.INCONCLUSIVE, why, elapsed_s=elapsed)
        return self.signal(SignalOutcome.PASSED, self.not_found, elapsed_s=elapsed)

    def signal(
        self, outcome: SignalOutcome, reason: str, evidence: str = "", elapsed_s: float = 0.0
    ) -> Signal:
        """A signal of this filter."""
        return Signal(self.name, self.version, outcome, reason, evidence, elapsed_s)
