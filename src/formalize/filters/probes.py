"""The texts of the Lean probes: trusted text around a statement that has passed the gate.

A probe is the candidate's own gated text (what Lean was sent for the compile check: its
imports, ``open``\\ s, ``variable``\\ s, auxiliary definitions) with the main declaration
replaced by the probe's theorems, built from the gate's parse of that declaration
(:class:`formalize.lean.statement.Signature`: its binder groups and its conclusion, each a
balanced span of the gated text). No unparsed model text goes in: a span that is not
balanced, or a statement without a parsed signature, gets no probe. The probe closes every
scope the candidate left open. Tactic lists come from ``tactics.toml``.

Each tactic of a list is an **alternative**: a theorem of its own (``formalize_probe_<goal>_<k>``)
under its own ``set_option maxHeartbeats N in``, whose ``by`` block is that one tactic, so
it closes the goal or fails, and runs on a fresh heartbeat budget (Lean counts heartbeats per
command). A ``first | t1 | t2`` block would commit to the first tactic that does not throw,
even one that leaves the goal open (``simp_all``), and a heartbeat exception is not caught by
``first`` (``Core.tryCatch`` rethrows runtime exceptions), so one expensive tactic would end
the whole probe. A goal is proved when one of its alternatives is; an error outside every
alternative's ``by`` block means the probe itself did not elaborate.

Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from formalize.filters.comparing import variable_binders
from formalize.lean.lexer import COMMENT_KINDS, LexError, brackets, tokenize
from formalize.lean.policy import PROBE_LIMITS
from formalize.lean.statement import SafetyReport, split_header

#: The main declarations a probe is built for (a ProofNet-style ``def … : Prop := sorry`` is not).
THEOREM_KINDS = frozenset({"theorem", "lemma", "example"})
#: Default bound on each alternative (Lean's heartbeats, in thousands as ``maxHeartbeats``
#: counts them; ``tactics.toml`` may set its own). The wall-clock timeout is only a backstop.
PROBE_HEARTBEATS = 20_000


@dataclass(frozen=True)
class Alternative:
    """One alternative of a probe: the goal it proves (``vacuous``, ``equiv_mp``, …), its
    tactic, and where it is in the probe's body (character offsets of its first character, of
    its ``by`` and of its end)."""

    goal: str
    tactic: str
    start: int
    by: int
    stop: int

    def shifted(self, offset: int) -> Alternative:
        """The same alternative ``offset`` characters further on."""
        return Alternative(
            self.goal, self.tactic, self.start + offset, self.by + offset, self.stop + offset
        )


@dataclass(frozen=True)
class Block:
    """Probe text with the alternatives in it (offsets relative to ``text``)."""

    text: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Probe:
    """One probe: the header to check it under, its text, whether the candidate has global
    effects (file mode then checks it alone), and its alternatives."""

    header: str
    body: str
    alone: bool
    alternatives: tuple[Alternative, ...] = ()

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset of the body, as Lean reports positions
        (line 1-based, column 0-based in code points)."""
        line_start = self.body.rfind("\n", 0, offset) + 1
        return self.body.count("\n", 0, offset) + 1, offset - line_start

    @property
    def goals(self) -> tuple[str, ...]:
        """The goals the probe must prove, in order."""
        return tuple(dict.fromkeys(a.goal for a in self.alternatives))

    def text_of(self, alternative: Alternative) -> str:
        """The text of one alternative (its theorem)."""
        return self.body[alternative.start : alternative.stop]


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


def parts(report: SafetyReport) -> tuple[str, str, str, list[str], str] | None:
    """(imports, context before, context after, binders, conclusion) of a gated statement;
    None when it has no signature or a part is not balanced. The context before ends with the
    commands of the statement's ``… in`` prefix, each on a line of its own and without its
    ``in`` (:func:`in_section`): restated in several theorems, they need a section."""
    sig = report.signature
    if not report.ok or sig is None or report.text is None or report.kind not in THEOREM_KINDS:
        return None
    if not sig.conclusion.strip() or not all(map(balanced, [*sig.binders, sig.conclusion])):
        return None
    text = report.text
    start = sig.start if sig.prefix_start is None else sig.prefix_start
    before, after = text[:start], text[sig.stop :]
    closing = "\n".join(report.open_scopes)
    imports, before = split_header(before) if before.strip() else ("", before)
    if sig.prefix:  # `open Real in theorem …`: it would cover the first probe theorem only
        before += "\n".join(["", "section", *sig.prefix, ""])
        after = "\nend" + after
    return (
        imports,
        before,
        after + ("\n" + closing if closing else ""),
        list(sig.binders),
        (sig.conclusion),
    )


def in_context(report: SafetyReport, header: str, block: Block) -> Probe | None:
    """The candidate's context with its main declaration replaced by ``block``."""
    cut = parts(report)
    if cut is None:
        return None
    imports, before, after, _, _ = cut
    return assemble(imports or header, [before, block, after], report.alone)


def restated(
    report: SafetyReport,
    header: str,
    goal_name: str,
    binders: Sequence[str],
    goal: str,
    tactics: Sequence[str],
    heartbeats: int = PROBE_HEARTBEATS,
    prelude: Sequence[str] = (),
) -> Probe | None:
    """The statement's context with its main declaration replaced by the probe theorems of
    :func:`declaration`, under the statement's own limits and universe parameters."""
    block = declaration(
        goal_name,
        binders,
        goal,
        tactics,
        heartbeats,
        prelude,
        limits=report.limits,
        universes=universes(report),
        space=namespace_of(report),
    )
    return in_context(report, header, block)


def namespace_of(report: SafetyReport) -> str:
    """The namespace the main declaration's name puts it in (``theorem Nat.t``: ``Nat``)."""
    return (report.name or "").rpartition(".")[0]


def hypotheses(cut: tuple[str, str, str, list[str], str]) -> list[str]:
    """The binders of a statement cut by :func:`parts`, preceded by the ``variable``\\ s of its
    context it uses (and those ``include`` names, and instance variables): Lean adds those to
    the theorem, outside anything a probe writes around its binders."""
    _, before, _, binders, conclusion = cut
    return [*variable_binders(before, [*binders, conclusion]), *binders]


def assemble(header: str, pieces: Sequence[str | Block], alone: bool, sep: str = "\n") -> Probe:
    """A probe whose body is ``pieces`` joined by ``sep``, the blocks' alternatives placed."""
    body, alternatives = "", []
    for n, piece in enumerate(pieces):
        if n:
            body += sep
        if isinstance(piece, Block):
            alternatives += [a.shifted(len(body)) for a in piece.alternatives]
            piece = piece.text
        body += piece
    return Probe(header, body, alone, tuple(alternatives))


def declaration(
    goal_name: str,
    binders: Sequence[str],
    goal: str,
    tactics: Sequence[str],
    heartbeats: int = PROBE_HEARTBEATS,
    prelude: Sequence[str] = (),
    limits: Iterable[tuple[str, int]] = (),
    universes: Sequence[str] = (),
    space: str = "",
) -> Block:
    """One theorem per tactic, ``formalize_probe_<goal_name>_<k> binders : goal := by``,
    then the ``prelude`` tactics and that tactic, each under ``heartbeats`` and with the
    :data:`~formalize.lean.policy.PROBE_LIMITS` set again: to Lean's default, or to the
    statement's own ``limits`` (:attr:`SafetyReport.limits`) where those are larger (a
    statement lowering one at its top must not starve the probes' tactics). ``universes``
    are the statement's explicit universe parameters, declared on each theorem again;
    ``space`` the namespace its name puts it in (``theorem Nat.t`` is elaborated inside
    ``Nat``): each probe theorem is named in it too, so its names are read as the statement's."""
    head = " ".join(binders)
    params = f".{{{', '.join(universes)}}}" if universes else ""
    given = dict(limits)
    reset = "".join(
        f"set_option {name} {max(default, given.get(name, 0))} in\n"
        for name, default in PROBE_LIMITS.items()
    )
    texts, alternatives, offset = [], [], 0
    for k, tactic in enumerate(tactics, 1):
        before_by = (
            f"set_option maxHeartbeats {heartbeats} in\n{reset}"
            f"theorem {space + '.' if space else ''}formalize_probe_{goal_name}_{k}{params}"
            f"{' ' + head if head else ''} :\n"
            f"    {goal} := "
        )
        steps = "".join(f"\n  {step}" for step in [*prelude, tactic])
        text = f"{before_by}by{steps}"
        alternatives.append(
            Alternative(goal_name, tactic, offset, offset + len(before_by), offset + len(text))
        )
        texts.append(text)
        offset += len(text) + 2
    return Block("\n\n".join(texts), tuple(alternatives))


def universes(report: SafetyReport) -> tuple[str, ...]:
    """The main statement's explicit universe parameters (``theorem t.{u}``)."""
    return report.signature.universes if report.signature is not None else ()


def closed(binders: Sequence[str], conclusion: str) -> str:
    """The statement as one proposition: ``∀ binders, conclusion`` (or the conclusion). The
    candidate's text is set apart by spaces: a notation atom of its own can then not run on
    into the probe's ``)`` or ``,`` (``"⟩)"`` would read ``⟩)`` as one token: red team)."""
    if not binders:
        return f"( {conclusion} )"
    return f"(∀ {' '.join(binders)} , {conclusion} )"
