"""Lean-verified filters: checks after the compile step that need no opinion, because Lean
proves them. Each filter is one small module behind one interface (:class:`Filter`: a batch of
:class:`FilterItem` in, one :class:`~formalize.records.Signal` per item out, in order) and one
line in :data:`REGISTRY`:

- ``vacuous``: the hypotheses contradict each other (Lean proves ``False`` from them);
- ``refuted``: the statement is false (Lean proves its negation);
- ``trivial``: automation closes it outright (recorded; rejects only with ``reject_trivial``);
- ``reference``: it is provably equivalent to the problem's reference statement (required
  only with ``require_reference``).

:class:`FilterPolicy` turns the signals into how a compiled candidate ends. See
``docs/filters.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from formalize.errors import InputError
from formalize.filters.base import Filter, FilterItem, FilterSettings, LeanFilter, tactic_lists
from formalize.filters.probes import Probe
from formalize.filters.reference import ReferenceFilter, reference_of
from formalize.filters.refuted import RefutedFilter
from formalize.filters.trivial import TrivialFilter
from formalize.filters.vacuous import VacuousFilter
from formalize.records import AttemptStatus, Problem, Signal, SignalOutcome
from formalize.settings import did_you_mean

if TYPE_CHECKING:
    from formalize.lean import LeanChecker

__all__ = [
    "DEFAULT_FILTERS",
    "REGISTRY",
    "Filter",
    "FilterItem",
    "FilterPolicy",
    "FilterSettings",
    "build_filters",
    "filter_names",
    "probe_texts",
    "reference_of",
    "run_filters",
    "tactic_lists",
]

#: name -> the filter class. Adding a filter: one module, one line here.
REGISTRY: dict[str, type[LeanFilter]] = {
    "vacuous": VacuousFilter,
    "refuted": RefutedFilter,
    "trivial": TrivialFilter,
    "reference": ReferenceFilter,
}
#: The filters a run uses unless told otherwise (``reference`` joins when the input has
#: reference statements).
DEFAULT_FILTERS = ("vacuous", "refuted", "trivial")
#: The status a failed signal of a filter gives its attempt (a filter not listed: ``filtered``).
STATUS_OF = {
    "vacuous": AttemptStatus.VACUOUS,
    "refuted": AttemptStatus.REFUTED,
    "trivial": AttemptStatus.TRIVIAL,
}


def filter_names(spec: str | Sequence[str] | None, *, has_reference: bool) -> tuple[str, ...]:
    """The filters to run: ``None`` is the default (plus ``reference`` when the problems have
    reference statements), ``"none"`` is no filter, else a comma-separated list or a list of
    names. ``InputError`` for an unknown name, with a "did you mean"."""
    if spec is None:
        return DEFAULT_FILTERS + (("reference",) if has_reference else ())
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [n for n in names if n]
    if names == ["none"]:
        return ()
    for name in names:
        if name not in REGISTRY:
            hint = did_you_mean(name, REGISTRY)
            known = ", ".join(sorted(REGISTRY))
            raise InputError(f"unknown filter {name!r}{hint}; known: {known}, or none")
    return tuple(dict.fromkeys(names))


def probe_texts(
    name: str,
    statement: str,
    header: str = "import Mathlib",
    reference: str | None = None,
    settings: FilterSettings | None = None,
) -> list[Probe] | None:
    """The probes filter ``name`` builds for a plain statement (``reference``: the problem's
    reference statement), without Lean: what a self-test or a reader can run by hand. None
    when the filter builds none (its signal would be ``inconclusive``)."""
    problem = Problem(
        id="probe", informal="-", metadata={"reference": reference} if reference else {}
    )
    flt = REGISTRY[name](None, settings or FilterSettings())  # type: ignore[arg-type]
    return flt.probes(FilterItem.of(problem, statement, header))


def build_filters(
    names: Sequence[str], checker: LeanChecker, settings: FilterSettings | None = None
) -> list[Filter]:
    """The filters called ``names``, in that order, sharing the checker and the settings."""
    settings = settings or FilterSettings()
    return [REGISTRY[name](checker, settings) for name in names]


def run_filters(filters: Sequence[Filter], items: Sequence[FilterItem]) -> list[tuple[Signal, ...]]:
    """Every filter on every item: each item's signals, in filter order, items in input order."""
    per_filter = [f.run(items) if items else [] for f in filters]
    return [tuple(signals[k] for signals in per_filter) for k in range(len(items))]


@dataclass(frozen=True)
class FilterPolicy:
    """How signals decide a compiled candidate's fate (before the critic).

    A failed ``vacuous`` or ``refuted`` (or any other filter's failure) rejects; a failed
    ``trivial`` rejects only with ``reject_trivial``; with ``require_reference``, a candidate
    not proved equivalent to its reference is rejected. ``judge_all`` asks the critic about
    rejected candidates too (their status stays the filter's: research data)."""

    reject_trivial: bool = False
    require_reference: bool = False
    judge_all: bool = False

    def status(self, signals: Sequence[Signal]) -> AttemptStatus | None:
        """The filtered status, or None when the filters leave the decision to the critic."""
        signals = [s for s in signals if not s.is_judge]  # judges decide after the filters
        for signal in signals:
            if not signal.failed or signal.name == "reference":
                continue
            if signal.name == "trivial" and not self.reject_trivial:
                continue
            return STATUS_OF.get(signal.name, AttemptStatus.FILTERED)
        if self.require_reference:
            ref = next((s for s in signals if s.name == "reference"), None)
            if ref is None or ref.outcome is not SignalOutcome.PASSED:
                return AttemptStatus.NOT_EQUIVALENT
        return None
