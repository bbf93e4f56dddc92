"""The Lean-verified filters: names and policy, the probes' text, and running them through the
real checker, pool and driver against the fake REPL, which proves a probe when a ``--prove``
rule the test gives matches it (the real-Lean cases are in ``test_lean_real.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lean_fakes import fake_config, log_path, requests

from formalize.cache import MemoryCache
from formalize.errors import InputError
from formalize.filters import (
    DEFAULT_FILTERS,
    REGISTRY,
    FilterItem,
    FilterPolicy,
    FilterSettings,
    build_filters,
    filter_names,
    reference_of,
    run_filters,
    tactic_lists,
)
from formalize.filters.base import probe_error, proved
from formalize.filters.probes import PROBE_HEARTBEATS, Probe
from formalize.lean import LeanChecker
from formalize.records import (
    AttemptStatus,
    CheckResult,
    CheckStatus,
    Message,
    Problem,
    Severity,
    Signal,
    SignalOutcome,
)

HEADER = "import Mathlib"
VACUOUS = "theorem v (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x = 1 := by sorry"
FALSE = "theorem f : (2 : ℕ) + 2 = 5 := by sorry"
TRIVIAL = "theorem t : (2 : ℕ) + 2 = 4 := by sorry"
PLAIN = "theorem p (n : ℕ) (h : 0 < n) : n + 0 = n := by sorry"
RULES = [
    {"probe": "vacuous", "when": r"h₁ : x < 0"},
    {"probe": "refuted", "when": r"¬ \( \(2 : ℕ\) \+ 2 = 5 \)"},
    {"probe": "trivial", "when": r"\(2 : ℕ\) \+ 2 = 4"},
    {"probe": "equiv", "when": r"formalize_probe_reference_\w+ : Prop :=\s+\(∀ \(m : ℕ\)"},
]


def problem(pid: str = "p", **meta: Any) -> Problem:
    return Problem(id=pid, informal="a problem", metadata=meta)


def item(lean: str, **meta: Any) -> FilterItem:
    return FilterItem.of(problem(**meta), lean, HEADER)


def checker_for(
    tmp_path: Path, rules: list[dict[str, str]] = RULES, cache: MemoryCache | None = None, **kw: Any
) -> LeanChecker:
    flags = ("--log", str(log_path(tmp_path)), "--prove", json.dumps(rules))
    return LeanChecker(fake_config(tmp_path, *flags, **kw), cache=cache)


def probe_requests(tmp_path: Path) -> list[str]:
    sent = [r.get("cmd", "") for r in requests(log_path(tmp_path)) if "env" in r]
    return [cmd for cmd in sent if "formalize_probe" in cmd]


def outcomes(signals: tuple[Signal, ...]) -> dict[str, str]:
    return {s.name: s.outcome.value for s in signals}


# --------------------------------------------------------------------------- names and policy


def test_filter_names_defaults_lists_and_errors() -> None:
    assert filter_names(None, has_reference=False) == DEFAULT_FILTERS
    assert filter_names(None, has_reference=True) == (*DEFAULT_FILTERS, "reference")
    assert filter_names("none", has_reference=True) == ()
    assert filter_names(" refuted, vacuous,refuted ", has_reference=False) == (
        "refuted",
        "vacuous",
    )
    assert filter_names(["trivial"], has_reference=False) == ("trivial",)
    with pytest.raises(InputError, match=r"unknown filter 'vacuos' \(did you mean 'vacuous'\?\)"):
        filter_names("vacuos", has_reference=False)
    assert set(REGISTRY) == {"vacuous", "refuted", "trivial", "reference"}


def sig(name: str, outcome: str) -> Signal:
    return Signal(name, "1", SignalOutcome(outcome))


@pytest.mark.parametrize(
    ("signals", "policy", "status"),
    [
        ([], FilterPolicy(), None),
        ([sig("vacuous", "failed")], FilterPolicy(), AttemptStatus.VACUOUS),
        ([sig("vacuous", "inconclusive"), sig("refuted", "failed")], FilterPolicy(), "refuted"),
        ([sig("trivial", "failed")], FilterPolicy(), None),
        ([sig("trivial", "failed")], FilterPolicy(reject_trivial=True), AttemptStatus.TRIVIAL),
        ([sig("reference", "inconclusive")], FilterPolicy(), None),
        (
            [sig("reference", "inconclusive")],
            FilterPolicy(require_reference=True),
            "not_equivalent",
        ),
        ([], FilterPolicy(require_reference=True), AttemptStatus.NOT_EQUIVALENT),
        ([sig("reference", "passed")], FilterPolicy(require_reference=True), None),
        ([sig("some_new_filter", "failed")], FilterPolicy(), AttemptStatus.FILTERED),
        # judge_all changes who is asked, not how the candidate ends
        ([sig("vacuous", "failed")], FilterPolicy(judge_all=True), AttemptStatus.VACUOUS),
    ],
)
def test_policy(signals: list[Signal], policy: FilterPolicy, status: Any) -> None:
    expected = None if status is None else AttemptStatus(status)
    assert policy.status(signals) is expected


def test_reference_fields() -> None:
    assert reference_of(problem()) is None
    assert reference_of(problem(reference="theorem r : True := by sorry")) == (
        "",
        "theorem r : True := by sorry",
    )
    # the translation files: formal_statement stops at `:= by`, with its header beside it
    found = reference_of(problem(formal_statement="theorem r : True := by", header=HEADER))
    assert found == (HEADER, "theorem r : True := by sorry")


# --------------------------------------------------------------------------- probe texts


def probes_of(name: str, lean: str, **meta: Any) -> list[Probe] | None:
    return REGISTRY[name](None, FilterSettings()).probes(item(lean, **meta))  # type: ignore[arg-type]


def test_probes_are_built_from_the_parsed_signature() -> None:
    lean = (
        "import Mathlib\nopen Real\n\nnamespace Foo\n-- a comment the probe must not carry\n"
        "abbrev answer : ℕ := 3\n"
        "theorem main (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) : x = answer := by\n  sorry\n"
    )
    (vacuous,) = probes_of("vacuous", lean) or []
    assert vacuous.header == "import Mathlib"
    body = vacuous.body
    # the statement itself, its conclusion kept (so its binders elaborate as there) but inert
    assert (
        "theorem formalize_probe_vacuous_1 (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) :\n"
        "    (fun _ : Prop => _root_.False) ( x = answer ) := by\n  show _root_.False\n  omega"
    ) in body
    assert "abbrev answer : ℕ := 3" in body and "open Real" in body
    assert body.rstrip().endswith("end Foo")  # the namespace the candidate left open is closed
    assert "theorem main" not in body and "sorry" not in body and "comment" not in body
    assert [a.tactic for a in vacuous.alternatives] == tactic_lists()["vacuous"]
    assert vacuous.goals == ("vacuous",)
    (refuted,) = probes_of("refuted", lean) or []
    assert "¬ (∀ (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) , x = answer ) := by\n  try push_neg" in (
        refuted.body
    )
    (trivial,) = probes_of("trivial", lean) or []
    assert "theorem formalize_probe_trivial_3 (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0) :\n" in trivial.body
    assert not any("native_decide" in p for p in tactic_lists().values() if isinstance(p, list))


def test_every_alternative_is_a_theorem_of_its_own_with_its_own_heartbeats() -> None:
    """Issue 19, item 1: `first | simp_all | … | linarith` committed to `simp_all`, which
    rewrites `0 < x`, `x + 1 < 1` over ℝ and stops, so `linarith` was never tried. Now each
    tactic is the whole `by` block of its own theorem, under its own heartbeat bound."""
    lean = "theorem t (x : ℝ) (h₀ : 0 < x) (h₁ : x + 1 < 1) : x = 2 := by sorry"
    (probe,) = probes_of("vacuous", lean) or []
    assert "first" not in probe.body
    texts = {a.tactic: probe.text_of(a) for a in probe.alternatives}
    for k, (tactic, text) in enumerate(texts.items(), 1):
        assert text.startswith(f"set_option maxHeartbeats {PROBE_HEARTBEATS} in\n")
        assert f"theorem formalize_probe_vacuous_{k} (x : ℝ)" in text
        # the tactic ends the block: it closes the goal, or its theorem fails on its own
        assert text.endswith(f":= by\n  show _root_.False\n  {tactic}")
        assert probe.body[probe.alternatives[k - 1].by :].startswith("by\n")
    assert list(texts).index("simp_all") < list(texts).index("linarith")
    assert probe.body.count("set_option maxHeartbeats") == len(tactic_lists()["vacuous"])


def test_reference_probe_compares_closed_propositions_both_ways() -> None:
    ref = "theorem ref (m : ℕ) (h : 0 < m) : m = m + 0 := by"
    (probe,) = probes_of("reference", PLAIN, formal_statement=ref, header=HEADER) or []
    body = probe.body
    cand = re.search(r"def _root_\.(formalize_probe_candidate_\w+) : Prop :=", body)
    refn = re.search(r"def _root_\.(formalize_probe_reference_\w+) : Prop :=", body)
    assert cand and refn
    assert f"{cand[0]}\n  (∀ (n : ℕ) (h : 0 < n) , n + 0 = n )" in body
    assert f"{refn[0]}\n  (∀ (m : ℕ) (h : 0 < m) , m = m + 0 )" in body
    assert refn.start() < cand.start()  # the reference is elaborated first
    assert f"{cand[1]} → {refn[1]} := by\n  intro h\n  unfold {cand[1]} {refn[1]} at *" in body
    assert f"{refn[1]} → {cand[1]} := by" in body
    assert probe.goals == ("equiv_mp", "equiv_mpr")
    # a reference the gate refuses is no reference
    hostile = '#eval IO.println "x"\ntheorem ref : True := by sorry'
    assert probes_of("reference", PLAIN, reference=hostile) is None


def test_statements_without_a_probe_get_a_reason() -> None:
    vacuous = REGISTRY["vacuous"](None, FilterSettings())  # type: ignore[arg-type]
    assert probes_of("vacuous", FALSE) is None
    assert "no hypotheses" in vacuous.skip_reason(item(FALSE))
    proofnet = "def main_statement : Prop := sorry"
    assert probes_of("refuted", proofnet) is None
    assert "a def, not a theorem" in vacuous.skip_reason(item(proofnet))
    assert probes_of("reference", PLAIN) is None


def test_what_a_probe_result_proves() -> None:
    """A goal is proved by an alternative with no error and no `sorry` in its own text; an
    error in a `by` block is that alternative's failure; an error elsewhere (the statement
    part, the context) means the probe did not elaborate."""
    lean = "abbrev a : ℕ := sorry\ntheorem t (n : ℕ) (h : n < 0) : n = a := by sorry"
    (probe,) = probes_of("vacuous", lean) or []
    first, second = probe.alternatives[:2]

    def at(offset: int, text: str, severity: Severity = Severity.ERROR) -> Message:
        line, column = probe.position(offset)
        return Message(severity, line, column, text)

    def result(*messages: Message) -> CheckResult:
        errors = any(m.severity is Severity.ERROR for m in messages)
        return CheckResult(CheckStatus.LEAN_ERROR if errors else CheckStatus.OK, messages=messages)

    context_sorry = at(
        probe.body.index("abbrev a") + 7, "declaration uses 'sorry'", Severity.WARNING
    )
    failures = [at(a.by, "unsolved goals") for a in probe.alternatives[1:]]
    assert proved(result(context_sorry, *failures), probe)  # the first alternative closed it
    assert probe_error(result(*failures), probe) is None
    everything = [at(a.by, "linarith failed") for a in probe.alternatives]
    assert not proved(result(*everything), probe)
    own_sorry = at(first.start + 40, "declaration uses 'sorry'", Severity.WARNING)
    assert not proved(result(own_sorry, *failures), probe)
    timeout = at(second.start, "(deterministic) timeout, maximum number of heartbeats (20000)")
    assert probe_error(result(timeout, *everything), probe) is None  # a failed alternative
    broken = at(first.start + 40, "failed to infer binder type")
    assert probe_error(result(broken), probe) == broken
    assert not proved(result(broken), probe)
    nowhere = Message(Severity.ERROR, 0, 0, "unknown environment")
    assert probe_error(result(nowhere), probe) == nowhere
    assert not proved(CheckResult(CheckStatus.TIMEOUT, reason="timed out"), probe)


def test_each_filter_through_the_checker(tmp_path: Path) -> None:
    ref = "theorem ref (m : ℕ) (h : 0 < m) : m = m + 0 := by sorry"
    items = [
        item(VACUOUS),
        item(FALSE),
        item(TRIVIAL),
        item(PLAIN, reference=ref),
        item(PLAIN.replace("n + 0 = n", "n + 1 = n"), reference=ref.replace("(m", "(k")),
        item(PLAIN),
    ]
    with checker_for(tmp_path) as checker:
        filters = build_filters([*DEFAULT_FILTERS, "reference"], checker)
        found = run_filters(filters, items)
    # (vacuous, refuted, trivial, reference) of each item
    assert [tuple(x.outcome.value for x in signals) for signals in found] == [
        ("failed", "passed", "passed", "inconclusive"),
        ("inconclusive", "failed", "passed", "inconclusive"),
        ("inconclusive", "passed", "failed", "inconclusive"),
        ("passed", "passed", "passed", "passed"),
        ("passed", "passed", "passed", "inconclusive"),
        ("passed", "passed", "passed", "inconclusive"),
    ]
    vacuous = found[0][0]
    assert "contradict" in vacuous.reason and vacuous.version == "3+tactics.2"
    assert "theorem formalize_probe_vacuous_1 (x : ℝ) (h₀ : 0 < x) (h₁ : x < 0)" in vacuous.evidence
    assert found[3][3].reason.startswith("Lean proved the statement equivalent")
    assert found[4][3].reason == "equivalence to the reference was not proved"
    assert found[5][3].reason == "the problem has no reference statement"
    # every probe went to the REPL as a command from the header's environment
    sent = probe_requests(tmp_path)
    assert sent and all("sorry" not in cmd for cmd in sent)
    # vacuous probes hold the statement: VACUOUS's, PLAIN's (its two items sent once) and
    # PLAIN's variant; FALSE and TRIVIAL have no hypotheses to probe
    assert sum("formalize_probe_vacuous" in cmd for cmd in sent) == 3


def test_probes_are_cached(tmp_path: Path) -> None:
    cache = MemoryCache()
    with checker_for(tmp_path, cache=cache) as checker:
        first = run_filters(build_filters(DEFAULT_FILTERS, checker), [item(VACUOUS)])
    count = len(probe_requests(tmp_path))
    assert count == 3
    with checker_for(tmp_path, cache=cache) as checker:
        again = run_filters(build_filters(DEFAULT_FILTERS, checker), [item(VACUOUS)])
    assert len(probe_requests(tmp_path)) == count
    assert [outcomes(s) for s in again] == [outcomes(s) for s in first]


def test_a_probe_that_times_out_is_inconclusive_and_the_worker_comes_back(tmp_path: Path) -> None:
    slow = "theorem s (x : ℝ) (fake_sleep_3000 : 0 < x) (h₁ : x < 0) : x = 1 := by sorry"
    settings = FilterSettings(probe_timeout_s=0.5)
    with checker_for(tmp_path, workers=1, timeout_s=10.0) as checker:
        (vacuous,) = build_filters(["vacuous"], checker, settings)
        first = vacuous.run([item(slow), item(VACUOUS)])
    assert first[0].outcome is SignalOutcome.INCONCLUSIVE
    assert "could not be checked (timeout" in first[0].reason
    assert first[1].outcome is SignalOutcome.FAILED  # after the respawn, on the same worker


def test_file_mode_runs_probes_too(tmp_path: Path) -> None:
    with checker_for(tmp_path, backend="file") as checker:
        found = run_filters(
            build_filters(["vacuous", "refuted"], checker), [item(VACUOUS), item(FALSE)]
        )
    assert [outcomes(s) for s in found] == [
        {"vacuous": "failed", "refuted": "passed"},
        {"vacuous": "inconclusive", "refuted": "failed"},
    ]


def test_every_registered_filter_has_an_export_column_and_a_status() -> None:
    from formalize.export import COLUMNS
    from formalize.filters import STATUS_OF

    for name in REGISTRY:
        assert f"filter_{name}" in COLUMNS, name
        assert name in STATUS_OF or name == "reference", name  # reference: not_equivalent
