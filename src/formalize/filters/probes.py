"""The texts of the Lean probes: trusted text around a statement that has passed the gate.

A probe is the candidate's own gated text (what Lean was sent for the compile check: its
imports, ``open``\\ s, ``variable``\\ s, auxiliary definitions) with the main declaration
replaced by the probe's theorem, built from the gate's parse of that declaration
(:class:`formalize.lean.statement.Signature`: its binder groups and its conclusion, each a
balanced span of the gated text). No unparsed model text goes in: a span that is not
balanced, or a statement without a parsed signature, gets no probe. The probe closes every
scope the candidate left open. Tactic lists come from ``tactics.toml``.

Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from formalize.lean.lexer import COMMENT_KINDS, LexError, brackets, tokenize
from formalize.lean.statement import SafetyReport, split_header

#: The main declarations a probe is built for (a ProofNet-style ``def … : Prop := sorry`` is not).
THEOREM_KINDS = frozenset({"theorem", "lemma", "example"})
#: Bound on each probe's elaboration (Lean's heartbeats; the wall-clock timeout is separate).
PROBE_HEARTBEATS = 20_000


@dataclass(frozen=True)
class Probe:
    """One probe: the header to check it under, its text, and whether the candidate has
    global effects (file mode then checks it alone)."""

    header: str
    body: str
    alone: bool


def balanced(text: str) -> bool:
    """True when ``text`` lexes and its brackets close in order, never below zero."""
    try:
        tokens = tokenize(text)
    except LexError:
        return False
    depth = 0
    for tok in tokens:
        if tok.kind in COMMENT_KINDS:
            continue
        closes, opens = brackets(tok)
        depth -= closes
        if depth < 0:
            return False
        depth += opens
    return depth == 0


def tactic_block(tactics: Sequence[str]) -> str:
    """``first | t1 | t2 | ...`` on its own lines."""
    alternatives = "\n".join(f"    | {t}" for t in tactics)
    return f"  first\n{alternatives}"


def parts(report: SafetyReport) -> tuple[str, str, str, list[str], str] | None:
    """(imports, context before, context after, binders, conclusion) of a gated statement;
    None when it has no signature or a part is not balanced."""
    sig = report.signature
    if not report.ok or sig is None or report.text is None or report.kind not in THEOREM_KINDS:
        return None
    if not sig.conclusion.strip() or not all(map(balanced, [*sig.binders, sig.conclusion])):
        return None
    text = report.text
    before, after = text[: sig.start], text[sig.stop :]
    closing = "\n".join(report.open_scopes)
    imports, before = split_header(before) if before.strip() else ("", before)
    return (
        imports,
        before,
        after + ("\n" + closing if closing else ""),
        list(sig.binders),
        (sig.conclusion),
    )


def in_context(report: SafetyReport, header: str, declaration: str) -> Probe | None:
    """The candidate's context with its main declaration replaced by ``declaration``."""
    cut = parts(report)
    if cut is None:
        return None
    imports, before, after, _, _ = cut
    body = f"{before}\n{declaration}\n{after}"
    return Probe(imports or header, body, bool(report.global_effects))


def declaration(name: str, binders: Sequence[str], goal: str, tactics: Sequence[str]) -> str:
    """``theorem name binders : goal := by first | ...`` under a heartbeat bound."""
    head = " ".join([name, *binders])
    return (
        f"set_option maxHeartbeats {PROBE_HEARTBEATS} in\n"
        f"theorem {head} :\n    {goal} := by\n{tactic_block(tactics)}"
    )


def closed(binders: Sequence[str], conclusion: str) -> str:
    """The statement as one proposition: ``∀ binders, conclusion`` (or the conclusion)."""
    if not binders:
        return f"({conclusion})"
    return f"(∀ {' '.join(binders)}, {conclusion})"
