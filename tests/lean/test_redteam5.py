"""The sixth red-team pass (white-box, on the merged code), kept as it wrote its attempts in
``redteam5.json``. None ran code; the bypasses made the filters' probes inconclusive or mean
something else than the statement. Each is checked where its class is closed (a report of
the gate, or the probes the filters build), or listed as left with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from formalize.filters import probe_texts
from formalize.lean.statement import check_statement

CASES = json.loads(Path(__file__).with_name("redteam5.json").read_text("utf-8"))
FILTERS = ("vacuous", "refuted", "trivial")


def _restated(text: str) -> list[str]:
    """The probe theorems of every filter, from their first probe theorem on (the part a
    probe writes, not the statement's context)."""
    bodies = [p.body for n in FILTERS for p in probe_texts(n, text) or []]
    return [body[body.index("set_option maxHeartbeats") :] for body in bodies]


def _inside_its_namespace(text: str) -> bool:
    report = check_statement(text)
    space = (report.name or "").rpartition(".")[0]
    theorems = _restated(text)
    return (
        bool(report.shadowing)
        and bool(theorems)
        and all(f"theorem {space}.formalize_probe_" in t for t in theorems)
    )


def _no_closed_section_variable(text: str) -> bool:
    closed = text[text.index("section") : text.index("\nend")]
    groups = [line.removeprefix("variable ") for line in closed.split("\n") if "variable" in line]
    theorems = _restated(text)
    return bool(theorems) and not any(g in t for g in groups for t in theorems)


def _no_update_binder(text: str) -> bool:
    (probe,) = probe_texts("refuted", text) or []
    return "¬ (∀ {x : ℝ} , 0 ≤ x )" in probe.body


def _bound_in_the_refutation(text: str) -> bool:
    (probe,) = probe_texts("refuted", text) or []
    goal = probe.body[probe.body.index("¬ (∀") :]
    group = text.split("variable ", 1)[1].split("\n", 1)[0]
    return goal.startswith(f"¬ (∀ {group}")


CLOSED: dict[str, Callable[[str], bool]] = {
    "bypass-dotted-main-theorem-name-probes-lose-its-namespace-inconclusive": (
        _inside_its_namespace
    ),
    "bypass-dotted-main-theorem-reads-own-where-part-first-unreported-and-probe-means-root-name": (
        _inside_its_namespace
    ),
    "bypass-dotted-main-theorem-where-part-dotted-shadow-unreported": _inside_its_namespace,
    "bypass-closed-section-instance-variable-added-to-every-probe-ill-formed": (
        _no_closed_section_variable
    ),
    "bypass-closed-section-variable-same-name-as-binder-ill-formed-outside-section": (
        _no_closed_section_variable
    ),
    "bypass-closed-section-local-notation-variable-ill-formed": _no_closed_section_variable,
    "bypass-closed-section-included-variable-added-to-every-probe-ill-formed": (
        _no_closed_section_variable
    ),
    "bypass-variable-binder-update-restated-as-untyped-binder-defaults-to-nat": _no_update_binder,
    "bypass-escaped-variable-name-not-matched-refuted-quantified-outside": (
        _bound_in_the_refutation
    ),
    "bypass-escaped-use-of-variable-not-matched-refuted-quantified-outside": (
        _bound_in_the_refutation
    ),
    "bypass-variable-used-only-through-dotted-name-not-bound-refuted-quantified-outside": (
        _bound_in_the_refutation
    ),
    "bypass-variable-used-only-through-dotted-names-refuted": _bound_in_the_refutation,
}
#: Left: with `open Nat in` the theorem itself re-elaborates `(hp : Prime p)` ambiguously, so
#: (read in Lean's sources, not run) the candidate does not compile and is never probed; an
#: `open g` written before `g`'s declarations fill it is not reported (file mode checks the
#: candidate alone all the same: it enters a namespace).
LEFT = {
    "bypass-in-prefix-open-reelaborates-variable-group-ambiguous-Prime",
    "bypass-low-open-before-namespace-is-filled-unreported",
}


def test_every_bypass_is_closed_or_listed() -> None:
    bypasses = {name for name in CASES if name.startswith("bypass-")}
    assert bypasses == set(CLOSED) | LEFT


@pytest.mark.parametrize("name", sorted(CASES))
def test_redteam5_candidate(name: str) -> None:
    report = check_statement(CASES[name])
    if name in CLOSED:
        assert report.ok and CLOSED[name](CASES[name]), name
    elif name.startswith(("harmless-", "bypass-")):
        assert report.ok, (name, report.reason)
    else:
        assert not report.ok and report.reason, name
