"""The filters' self-test: statements whose verdicts are known, run through the real filters.

The probes are written against Lean's and Mathlib's sources; whether a tactic list closes what
it should, or a probe even elaborates, only the user's Lean can say. :data:`CASES` are
statements with a known verdict per filter (contradictory hypotheses, a false closed claim, a
``norm_num``-trivial one, a renamed miniF2F statement and its reference, a non-equivalent pair,
a universe-polymorphic pair, a ``[MOD n]`` statement, and a consistent control); every
expectation that a true statement is never refuted, consistent hypotheses never vacuous, a
false claim never trivial, or a non-equivalent pair never equivalent holds in any sound Lean.
:func:`run_selftest` runs them through the filters of :data:`~formalize.filters.REGISTRY`;
a filter whose verdict differs from the known one is switched off for that Lean
(:class:`SwitchedOff`: its signals are ``inconclusive``, reason "self-test failed: …").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from formalize.filters.base import Filter, FilterItem, FilterSettings
from formalize.records import Problem, Signal, SignalOutcome

if TYPE_CHECKING:
    from formalize.lean import LeanChecker

#: Bump when a case or an expectation changes (cached self-test results follow).
SELFTEST_VERSION = "1"
PASSED, FAILED, INCONCLUSIVE = (
    SignalOutcome.PASSED,
    SignalOutcome.FAILED,
    SignalOutcome.INCONCLUSIVE,
)
_REFERENCE_141 = (
    "theorem mathd_algebra_141 (a b : ℝ) (h₁ : a * b = 180) (h₂ : 2 * (a + b) = 54) :\n"
    "    a ^ 2 + b ^ 2 = 369 := by sorry"
)


@dataclass(frozen=True)
class SelfTestCase:
    """A statement (and its reference) with the outcome each named filter must give it."""

    name: str
    lean: str
    expect: Mapping[str, SignalOutcome]
    reference: str | None = None

    def item(self, header: str) -> FilterItem:
        """The filter item of this case under ``header``."""
        meta = {"reference": self.reference} if self.reference else {}
        problem = Problem(id=f"selftest-{self.name}", informal="(self-test)", metadata=meta)
        return FilterItem.of(problem, self.lean, header)


CASES: tuple[SelfTestCase, ...] = (
    SelfTestCase(
        "contradictory hypotheses",
        "theorem formalize_selftest_vacuous (x : ℕ) (h₀ : x < 2) (h₁ : 3 < x) : x = 7 := by sorry",
        {"vacuous": FAILED},
    ),
    SelfTestCase(
        "consistent hypotheses",
        "theorem formalize_selftest_consistent (x : ℕ) (h₀ : 2 < x) : 3 ≤ x := by sorry",
        {"vacuous": PASSED, "refuted": PASSED},
    ),
    SelfTestCase(
        "2 + 2 = 5",
        "theorem formalize_selftest_false : (2 : ℕ) + 2 = 5 := by sorry",
        {"refuted": FAILED, "trivial": PASSED},
    ),
    SelfTestCase(
        "norm_num-trivial",
        "theorem formalize_selftest_trivial : (2 : ℕ) + 2 = 4 := by sorry",
        {"trivial": FAILED, "refuted": PASSED},
    ),
    SelfTestCase(
        "renamed miniF2F statement (mathd_algebra_141)",
        "theorem formalize_selftest_renamed (x y : ℝ) (hp : x * y = 180)\n"
        "    (hs : 2 * (x + y) = 54) : x ^ 2 + y ^ 2 = 369 := by sorry",
        {"reference": PASSED, "vacuous": PASSED, "refuted": PASSED},
        _REFERENCE_141,
    ),
    SelfTestCase(
        "non-equivalent pair (369 against 370)",
        "theorem formalize_selftest_other (a b : ℝ) (h₁ : a * b = 180)\n"
        "    (h₂ : 2 * (a + b) = 54) : a ^ 2 + b ^ 2 = 370 := by sorry",
        {"reference": INCONCLUSIVE},
        _REFERENCE_141,
    ),
    SelfTestCase(
        "universe-polymorphic pair",
        "theorem formalize_selftest_universe {H : Type*} [Group H] (x y : H) :\n"
        "    (x * y)⁻¹ = y⁻¹ * x⁻¹ := by sorry",
        {"reference": PASSED},
        "theorem selftest_mul_inv_rev {G : Type*} [Group G] (a b : G) :\n"
        "    (a * b)⁻¹ = b⁻¹ * a⁻¹ := by sorry",
    ),
    SelfTestCase(
        "[MOD n] statement",
        "theorem formalize_selftest_mod (n : ℕ) (h₀ : n % 5 = 3) : 2 * n ≡ 1 [MOD 5] := by sorry",
        {"vacuous": PASSED, "refuted": PASSED},
    ),
)


@dataclass(frozen=True)
class FilterVerdict:
    """One filter's self-test: ``wrong`` lists each case whose outcome was not the known one;
    ``unchecked`` is True when a probe could not be checked at all (timeout, crash), so the
    verdict is not a fact about this Lean and is not cached."""

    name: str
    wrong: tuple[str, ...] = ()
    unchecked: bool = False

    @property
    def ok(self) -> bool:
        """True when every case came out as known."""
        return not self.wrong

    @property
    def reason(self) -> str:
        """Why the filter is switched off ("self-test failed: …"), or empty."""
        return "self-test failed: " + "; ".join(self.wrong) if self.wrong else ""


@dataclass(frozen=True)
class SelfTestReport:
    """Every filter's self-test verdict, by name."""

    verdicts: dict[str, FilterVerdict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every filter agreed with the known verdicts."""
        return all(v.ok for v in self.verdicts.values())

    @property
    def switched_off(self) -> dict[str, str]:
        """The filters to switch off, with their reasons."""
        return {n: v.reason for n, v in self.verdicts.items() if not v.ok}

    def to_dict(self) -> dict[str, dict[str, object]]:
        """The report as plain JSON data."""
        return {
            n: {"wrong": list(v.wrong), "unchecked": v.unchecked} for n, v in self.verdicts.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, object]]) -> SelfTestReport:
        """The report from :meth:`to_dict`'s data."""
        verdicts = {}
        for name, v in data.items():
            wrong = v.get("wrong", [])
            assert isinstance(wrong, list)
            verdicts[name] = FilterVerdict(name, tuple(map(str, wrong)), bool(v.get("unchecked")))
        return cls(verdicts)


def run_selftest(
    checker: LeanChecker,
    header: str,
    settings: FilterSettings | None = None,
    cases: Sequence[SelfTestCase] = CASES,
) -> SelfTestReport:
    """Run every registered filter on the cases that name it, under ``header``, and compare."""
    from formalize.filters import REGISTRY

    settings = settings or FilterSettings()
    verdicts = {}
    for name, cls in REGISTRY.items():
        mine = [c for c in cases if name in c.expect]
        if not mine:
            continue
        signals = cls(checker, settings).run([c.item(header) for c in mine])
        wrong, unchecked = [], False
        for case, signal in zip(mine, signals, strict=True):
            unchecked = unchecked or signal.reason.startswith("the probe could not be checked")
            if signal.outcome is not case.expect[name]:
                wrong.append(
                    f"{case.name}: expected {case.expect[name].value}, got "
                    f"{signal.outcome.value} ({signal.reason})"
                )
        verdicts[name] = FilterVerdict(name, tuple(wrong), unchecked)
    return SelfTestReport(verdicts)


class SwitchedOff:
    """A filter the self-test found wrong on this Lean: every signal ``inconclusive``, with
    the self-test's reason; no probe runs."""

    def __init__(self, inner: Filter, reason: str) -> None:
        self.inner = inner
        self.reason = reason

    @property
    def name(self) -> str:
        """The wrapped filter's name."""
        return self.inner.name

    @property
    def version(self) -> str:
        """The wrapped filter's version, marked as switched off."""
        return f"{self.inner.version}+off"

    def run(self, items: Sequence[FilterItem]) -> list[Signal]:
        """One ``inconclusive`` signal per item."""
        return [Signal(self.name, self.version, INCONCLUSIVE, self.reason) for _ in items]


def switch_off(filters: Sequence[Filter], report: SelfTestReport) -> list[Filter]:
    """``filters`` with every one the self-test found wrong replaced by :class:`SwitchedOff`."""
    off = report.switched_off
    return [SwitchedOff(f, off[f.name]) if f.name in off else f for f in filters]


__all__ = [
    "CASES",
    "SELFTEST_VERSION",
    "FilterVerdict",
    "SelfTestCase",
    "SelfTestReport",
    "SwitchedOff",
    "run_selftest",
    "switch_off",
]
