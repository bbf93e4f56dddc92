"""``reference``: the candidate is provably equivalent to the problem's reference statement.

When an input row carries a reference formalization (a field ``reference``, or the translation
files' ``formal_statement`` with its ``header``, or a whole ``lean4_file``), the reference is
gated like any statement (its auxiliary names renamed ``formalize_ref_…`` so they cannot
meet the candidate's) and the two are compared as propositions, BEq+ style: each is made a
``Prop`` definition in its own context (its own section, with its ``open``\\ s and
definitions), and Lean must prove both directions, ``P → Q`` and ``Q → P``, with the
``equivalence`` tactic list. ``passed``: proved equivalent; ``inconclusive``: not proved
(which ``require_reference`` turns into a rejection) or no reference to compare with.
A statement whose context declares ``variable``\\ s is compared only if Lean accepts the
definitions as closed propositions.
"""

from __future__ import annotations

from collections.abc import Sequence

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import PROBE_HEARTBEATS, Probe, closed, parts, tactic_block
from formalize.lean.headers import prepare_header
from formalize.lean.statement import SafetyReport, check_statement, rename_auxiliaries
from formalize.records import CheckResult, Problem, Signal, SignalOutcome

REFERENCE_FIELDS = ("reference", "formal_statement", "lean4_file")


def reference_of(problem: Problem) -> tuple[str, str] | None:
    """(header, statement) of the problem's reference formalization, if its row had one."""
    meta = problem.metadata
    for name in REFERENCE_FIELDS:
        value = meta.get(name)
        if isinstance(value, str) and value.strip():
            statement = value.rstrip()
            if statement.endswith(":= by") or statement.endswith(":="):
                statement += " sorry"
            header = meta.get("header") if name == "formal_statement" else None
            return (header if isinstance(header, str) else ""), statement
    return None


def _section(report: SafetyReport, definition: str) -> tuple[str, str] | None:
    """(imports, the statement's context in a section ending with ``definition``)."""
    cut = parts(report)
    if cut is None:
        return None
    imports, before, after, binders, conclusion = cut
    body = (
        f"section\n{before}\n{definition} : Prop :=\n  {closed(binders, conclusion)}\n{after}\nend"
    )
    return imports, body


class ReferenceFilter(LeanFilter):
    """Lean proves the candidate and the reference imply each other."""

    name = "reference"
    found = "Lean proved the statement equivalent to the reference, both directions"
    not_found = "equivalence to the reference was not proved"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        ref = self.reference(item)
        if ref is None:
            return None
        mine = _section(item.report, "def _root_.formalize_probe_candidate")
        theirs = _section(ref, "def _root_.formalize_probe_reference")
        if mine is None or theirs is None:
            return None
        imports = [line for part in (item.header, mine[0], theirs[0]) for line in part.split("\n")]
        header = "\n".join(dict.fromkeys(line for line in imports if line.startswith("import ")))
        tactics = tactic_block(self.settings.tactics["equivalence"])
        directions = []
        for name, p, q in (
            ("mp", "formalize_probe_candidate", "formalize_probe_reference"),
            ("mpr", "formalize_probe_reference", "formalize_probe_candidate"),
        ):
            directions.append(
                f"set_option maxHeartbeats {PROBE_HEARTBEATS} in\n"
                f"theorem formalize_probe_equiv_{name} : {p} → {q} := by\n"
                f"  intro h\n  unfold {p} {q} at *\n{tactics}"
            )
        body = "\n\n".join([mine[1], theirs[1], *directions])
        alone = bool(item.report.global_effects or ref.global_effects)
        return [Probe(header, body, alone)]

    def reference(self, item: FilterItem) -> SafetyReport | None:
        """The gated reference statement, its auxiliary names renamed."""
        found = reference_of(item.problem)
        if found is None:
            return None
        header, statement = found
        prefix = ""
        if header.strip():
            prepared = prepare_header(header, check_statement)
            if prepared.rejection:
                return None
            prefix = prepared.text + "\n"
        report = check_statement(rename_auxiliaries(prefix + statement, "formalize_ref"))
        return report if report.ok else None

    def skip_reason(self, item: FilterItem) -> str:
        if reference_of(item.problem) is None:
            return "the problem has no reference statement"
        if self.reference(item) is None:
            return "the reference statement does not pass the statement gate"
        return super().skip_reason(item)

    def read(self, plan: Sequence[Probe], results: Sequence[CheckResult], elapsed: float) -> Signal:
        """Proved equivalent: ``passed``; anything else: ``inconclusive``."""
        signal = super().read(plan, results, elapsed)
        if signal.outcome is SignalOutcome.FAILED:  # both directions proved
            return self.signal(SignalOutcome.PASSED, self.found, signal.evidence, elapsed)
        if signal.outcome is SignalOutcome.PASSED:  # the probe ran, nothing proved
            return self.signal(SignalOutcome.INCONCLUSIVE, self.not_found, elapsed_s=elapsed)
        return signal
