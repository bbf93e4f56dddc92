"""``reference``: the candidate is provably equivalent to the problem's reference statement.

When an input row carries a reference formalization (a field ``reference``, or the translation
files' ``formal_statement`` with its ``header``, or a whole ``lean4_file``), the reference is
gated like any statement (its auxiliary names renamed ``formalize_ref_…`` so they cannot
meet the candidate's) and the two are compared as propositions, BEq+ style: each is made a
``Prop`` definition in its own context (its own section, with its ``open``\\ s, header lines
and definitions), the reference's first, and Lean must prove both directions, ``P → Q`` and
``Q → P``, with the ``equivalence`` tactic list (one alternative per tactic).

To make that comparison possible: PutnamBench's answer placeholder ``abbrev …_solution :=
sorry`` gets the answer from the comment after it (without one: ``inconclusive``, "the
reference's answer is sorry"); ``Type*``/``Sort*`` on both sides are pinned to one universe;
the ``variable``\\ s a statement uses are bound in its proposition; the definitions' names are
unique to the pair (file mode checks several probes in one file). A candidate with global
effects (an ``instance``, a notation) is never compared: it could change what the reference
means. ``passed``: proved equivalent; ``inconclusive``: not proved (which
``require_reference`` turns into a rejection), no reference, or a probe that did not
elaborate.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.comparing import (
    UNIVERSE,
    pin_universes,
    sorry_answer,
    with_answers,
)
from formalize.filters.probes import (
    Block,
    Probe,
    assemble,
    closed,
    declaration,
    hypotheses,
    namespace_of,
    parts,
    universes,
)
from formalize.lean.headers import PreparedHeader, prepare_header
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


def _unplaceable(*reports: SafetyReport) -> bool:
    """Whether a statement cannot be restated as a root definition: it has explicit universe
    parameters, or its name puts it in a namespace where its names are read first."""
    return any(universes(r) or namespace_of(r) for r in reports)


def _section(report: SafetyReport, definition: str, preamble: str = "") -> tuple[str, str] | None:
    """(imports, the statement's context in a section ending with ``definition``: the closed
    proposition, over the ``variable``\\ s it uses, universes pinned)."""
    cut = parts(report)
    if cut is None:
        return None
    imports, before, after, _, conclusion = cut
    prop = closed(hypotheses(cut), conclusion)
    text = f"section\n{preamble}{before}\n{definition} : Prop :=\n  {prop}\n{after}\nend"
    return imports, pin_universes(text)


@functools.lru_cache(maxsize=256)
def _prepared(header: str) -> PreparedHeader:
    """A header prepared as the checker prepares it (once per header: it warns of what it
    drops)."""
    return prepare_header(header, check_statement)


def _header_lines(header: str) -> str:
    """The lines of a header other than its imports (``open``, allowed ``set_option``\\ s), as
    the checker prepared them for the candidate."""
    prepared = _prepared(header)
    if prepared.rejection:
        return ""
    kept = [line for line in prepared.text.split("\n") if line.strip()]
    return "".join(f"{line}\n" for line in kept if not line.startswith("import "))


class ReferenceFilter(LeanFilter):
    """Lean proves the candidate and the reference imply each other."""

    name = "reference"
    found = "Lean proved the statement equivalent to the reference, both directions"
    not_found = "equivalence to the reference was not proved"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        ref = self.reference(item)
        if ref is None or item.report.global_effects or _unplaceable(item.report, ref):
            return None
        if sorry_answer(item.report.text or "") or sorry_answer(ref.text or ""):
            return None
        tag = hashlib.sha256(f"{item.report.text}\0{ref.text}".encode()).hexdigest()[:12]
        cand, refn = f"formalize_probe_candidate_{tag}", f"formalize_probe_reference_{tag}"
        own = parts(item.report)
        preamble = _header_lines(item.header) if own is not None and not own[0] else ""
        theirs = _section(ref, f"def _root_.{refn}")
        mine = _section(item.report, f"def _root_.{cand}", preamble)
        if mine is None or theirs is None:
            return None
        imports = [line for part in (item.header, mine[0], theirs[0]) for line in part.split("\n")]
        header = "\n".join(dict.fromkeys(line for line in imports if line.startswith("import ")))
        name = {
            cand: cand + (f".{{{UNIVERSE}}}" if UNIVERSE in mine[1] else ""),
            refn: refn + (f".{{{UNIVERSE}}}" if UNIVERSE in theirs[1] else ""),
        }
        pinned = UNIVERSE in mine[1] + theirs[1]
        pieces: list[str | Block] = [f"universe {UNIVERSE}"] if pinned else []
        pieces += [theirs[1], mine[1]]
        for goal, p, q in (("equiv_mp", cand, refn), ("equiv_mpr", refn, cand)):
            pieces.append(
                declaration(
                    goal,
                    [],
                    f"{name[p]} → {name[q]}",
                    self.settings.tactics["equivalence"],
                    self.settings.heartbeats,
                    prelude=["intro h", f"unfold {p} {q} at *"],
                    limits=[*item.report.limits, *ref.limits],
                )
            )
        alone = item.report.alone or ref.alone
        return [assemble(header, pieces, alone, sep="\n\n")]

    def reference(self, item: FilterItem) -> SafetyReport | None:
        """The gated reference statement, answers substituted, auxiliary names renamed."""
        found = reference_of(item.problem)
        if found is None:
            return None
        header, statement = found
        prefix = ""
        if header.strip():
            prepared = _prepared(header)
            if prepared.rejection:
                return None
            prefix = prepared.text + "\n"
        text = rename_auxiliaries(prefix + with_answers(statement), "formalize_ref")
        report = check_statement(text, reserved_names=True)
        return report if report.ok else None

    def skip_reason(self, item: FilterItem) -> str:
        if reference_of(item.problem) is None:
            return "the problem has no reference statement"
        ref = self.reference(item)
        if ref is None:
            return "the reference statement does not pass the statement gate"
        if _unplaceable(item.report, ref):
            return (
                "explicit universe parameters (`theorem t.{u}`) or a dotted name (`theorem"
                " Nat.t`, elaborated inside `Nat`) are not compared"
            )
        if item.report.global_effects:
            effects = ", ".join(item.report.global_effects)
            return (
                f"the candidate has global effects ({effects}): "
                "they could change what the reference means"
            )
        if sorry_answer(item.report.text or ""):
            return "the candidate's answer is sorry"
        if sorry_answer(ref.text or ""):
            return "the reference's answer is sorry"
        return super().skip_reason(item)

    def read(self, plan: Sequence[Probe], results: Sequence[CheckResult], elapsed: float) -> Signal:
        """Proved equivalent: ``passed``; anything else: ``inconclusive``."""
        signal = super().read(plan, results, elapsed)
        if signal.outcome is SignalOutcome.FAILED:  # both directions proved
            return self.signal(SignalOutcome.PASSED, self.found, signal.evidence, elapsed)
        if signal.outcome is SignalOutcome.PASSED:  # the probe ran, nothing proved
            return self.signal(SignalOutcome.INCONCLUSIVE, self.not_found, elapsed_s=elapsed)
        return signal
