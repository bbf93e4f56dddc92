"""The fourth red-team pass (white-box, against the gate loosened for issue 21), kept as it
wrote its attempts in ``redteam3.json``: ``bypass-`` (accepted and, it argued, dangerous),
``refused-``, ``harmless-``. Each bypass is closed where its class is closed, which is not
always the gate: the gate now refuses it, or reports it (shadowing, which file mode checks
alone at the root), or guards its names in file mode, or the filters' probes no longer let it
through (universe parameters declared, limits set again: tests in test_filter_probes.py).
Two binder cases stay accepted, as docs/security.md says ("What remains")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formalize.lean.statement import SafetyReport, check_statement

CASES = json.loads(Path(__file__).with_name("redteam3.json").read_text("utf-8"))


def _reported(report: SafetyReport) -> bool:
    return bool(report.shadowing)


def _guarded(report: SafetyReport) -> bool:
    return bool(report.guard_names) and not report.alone


def _universes(report: SafetyReport) -> bool:
    return report.signature is not None and bool(report.signature.universes)


def _limits(report: SafetyReport) -> bool:
    return bool(report.limits)


#: Accepted bypasses and what now closes each (its test names the class).
CLOSED_BESIDE_THE_GATE = {
    "bypass-class-field-resolved-first-inside-its-namespace": _reported,
    "bypass-structure-field-in-namespace-no-class": _reported,
    "bypass-where-aux-def-then-namespace": _reported,
    "bypass-vacuous-filter-dodged-by-unreported-class-field-False-in-namespace": _reported,
    "bypass-plain-def-at-top-shadows-library-under-file-mode-wrapper": _guarded,
    "bypass-plain-structure-at-top-shadows-Real-under-wrapper": _guarded,
    "bypass-plain-abbrev-at-top-shadows-Prime-under-wrapper": _guarded,
    "bypass-private-plain-def-at-top-shadows-under-wrapper": _guarded,
    "bypass-open-in-abbrev-plain-name-shadows-under-wrapper": _guarded,
    "bypass-universe-params-on-theorem-name-leave-no-signature-so-no-filter-probes": _universes,
    "bypass-suspected-synthInstance-maxSize-starves-probe-tactics": _limits,
    "bypass-suspected-maxRecDepth-starves-probe-tactics": _limits,
    "bypass-suspected-synthInstance-maxHeartbeats-starves-probe-tactics": _limits,
}
#: A binder named like a library namespace or type (`variable (Nat : S)`, `(Real : Type)`):
#: visible in the statement's own binders, not reported (docs/security.md, "What remains").
LEFT = {
    "bypass-variable-named-Nat-local-field-notation",
    "bypass-variable-named-Real-shadows-the-reals",
}
#: Labelled harmless by the red team, refused since: a global notation whose later atom `),`
#: would glue to the probes' text (the same class as its bypass of a local one).
NOW_REFUSED = {"harmless-symbol-notation-global"}


def test_the_file_keeps_every_class() -> None:
    kinds = {name.split("-")[0] for name in CASES}
    assert kinds == {"bypass", "refused", "harmless"} and len(CASES) >= 80
    assert set(CLOSED_BESIDE_THE_GATE) | LEFT | NOW_REFUSED <= set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_redteam3_candidate(name: str) -> None:
    report = check_statement(CASES[name])
    if name in CLOSED_BESIDE_THE_GATE:
        assert report.ok and CLOSED_BESIDE_THE_GATE[name](report), (name, report)
    elif name in LEFT or (name.startswith("harmless-") and name not in NOW_REFUSED):
        assert report.ok, (name, report.reason)
    else:
        assert not report.ok and report.reason, name
