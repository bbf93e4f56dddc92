"""The fifth red-team pass (white-box, against the fixes of the fourth), kept as it wrote its
attempts in ``redteam4.json``. No attempt ran code; the bypasses dodged the Lean-verified
filters or made file mode read a statement otherwise than the REPL. Each is checked here where
its class is now closed (mostly in the probes the filters build, not in the gate), or listed
as left, with the reason in docs/security.md and docs/filters.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from formalize.filters import probe_texts
from formalize.filters.base import proved_alternatives
from formalize.lean.lexer import tokenize
from formalize.lean.statement import check_statement
from formalize.lean.tokens import token_table
from formalize.records import CheckResult, CheckStatus, Message, Severity

CASES = json.loads(Path(__file__).with_name("redteam4.json").read_text("utf-8"))


def _atoms(text: str) -> list[str]:
    import re

    return [a.strip() for a in re.findall(r'"([^"]+)"', text)]


def _scaffold_intact(text: str) -> bool:
    """Every vacuous and refuted probe theorem's goal still ends with the probe's own `)`
    token right before `:=`, lexed with the candidate's atoms (as Lean would)."""
    table = token_table().with_tokens(_atoms(text))
    for name in ("vacuous", "refuted"):
        probes = probe_texts(name, text) or []
        assert probes, name
        for probe in probes:
            tokens = [t for t in tokenize(probe.body, table) if t.kind not in ("comment",)]
            for k, tok in enumerate(tokens):
                before_by = tok.text == ":=" and k + 1 < len(tokens) and tokens[k + 1].text == "by"
                if before_by and tokens[k - 1].text != ")":
                    return False
            if name == "refuted" and "(∀ " in probe.body:  # the `,` after the binders
                comma = probe.body.index(" , ", probe.body.index("(∀ ")) + 1
                if not any(t.offset == comma and t.text == "," for t in tokens):
                    return False
    return True


def _sorry_named_binders_do_not_hide_proofs(text: str) -> bool:
    for name in ("vacuous", "refuted", "trivial"):
        for probe in probe_texts(name, text) or []:
            first = probe.alternatives[0]
            line, column = probe.position(first.start)
            unused = Message(Severity.WARNING, line, column, "unused variable `xsorry`")
            if first not in proved_alternatives(CheckResult(CheckStatus.OK, (unused,)), probe):
                return False
    return True


def _prefix_in_a_section(text: str) -> bool:
    probes = [p for n in ("vacuous", "refuted", "trivial") for p in probe_texts(n, text) or []]
    return bool(probes) and all(
        "open Real in" not in p.body and "section\nopen Real\n" in p.body for p in probes
    )


def _refuted_over_variables(text: str) -> bool:
    (probe,) = probe_texts("refuted", text) or []
    return "¬ (∀ (n : ℕ) , n = 0 )" in probe.body


def _vacuous_probed(text: str) -> bool:
    return bool(probe_texts("vacuous", text))


def _alone(text: str) -> bool:
    return check_statement(text).alone


CLOSED: dict[str, Callable[[str], bool]] = {
    "bypass-filter-dodge-local-atom-rangle-paren-glues-to-probe-close": _scaffold_intact,
    "bypass-filter-dodge-local-atom-rangle-paren-refuted-false-claim": _scaffold_intact,
    "bypass-filter-dodge-local-atom-quot-bracket-paren": _scaffold_intact,
    "bypass-filter-dodge-local-atom-strict-binder-comma-refuted": _scaffold_intact,
    "bypass-filter-dodge-global-atom-rangle-paren-reported-only-as-notation": _scaffold_intact,
    "bypass-filter-dodge-unused-binder-named-xsorry-all-filters-not-proved": (
        _sorry_named_binders_do_not_hide_proofs
    ),
    "bypass-filter-dodge-unused-forall-binder-xsorry-in-conclusion": (
        _sorry_named_binders_do_not_hide_proofs
    ),
    "bypass-filter-dodge-hypothesis-named-hsorry": _sorry_named_binders_do_not_hide_proofs,
    "bypass-filter-dodge-open-in-prefix-binds-first-alternative-only": _prefix_in_a_section,
    "bypass-filter-dodge-open-in-prefix-refuted-false-claim": _prefix_in_a_section,
    "bypass-filter-dodge-refuted-variable-quantified-outside-negation": _refuted_over_variables,
    "bypass-low-vacuous-skipped-included-variable-hypotheses": _vacuous_probed,
    "bypass-low-vacuous-skipped-instance-variable-contradiction": _vacuous_probed,
    "bypass-filemode-library-namespace-not-resolved-under-wrapper-own-root-def-wins": _alone,
}
#: Left, and why (docs): a heartbeat budget per probe below the statement's own (a probe that
#: runs out reads as "not proved"; the budget is the tactic lists' setting), file mode's
#: wrapper preferring a top-level `def factorial` over an `open`ed `Nat.factorial` (the REPL
#: reports the ambiguity), and two documented skips of vacuous.
LEFT = {
    "bypass-filter-dodge-probe-heartbeats-below-compile-budget",
    "bypass-filemode-root-def-beats-opened-library-name-repl-ambiguous",
    "bypass-low-vacuous-skipped-negation-conjunction-documented",
    "bypass-low-vacuous-skipped-main-def-prop-documented",
}


def test_every_bypass_is_closed_or_listed() -> None:
    bypasses = {name for name in CASES if name.startswith("bypass-")}
    assert bypasses == set(CLOSED) | LEFT
    assert {name.split("-")[0] for name in CASES} == {"bypass", "refused", "harmless"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_redteam4_candidate(name: str) -> None:
    report = check_statement(CASES[name])
    if name in CLOSED:
        assert report.ok and CLOSED[name](CASES[name]), name
    elif name.startswith(("harmless-", "bypass-")):
        assert report.ok, (name, report.reason)
    else:
        assert not report.ok and report.reason, name
