"""What a finished run tells its user beyond the counts: why it did (almost) nothing, and where
its candidates died when none compiled. Pure text built from the counters and the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formalize.corpus import Store


def skipped_exhausted_note(
    store: Store, problem_ids: Sequence[str], translator: str, rounds: int
) -> str | None:
    """A note when problems exhausted by earlier runs were skipped (a finished problem is not
    redone), naming the translators that exhausted them when this run's differs, and the flags
    that give them new rounds."""
    if not problem_ids:
        return None
    by = store.last_translators(problem_ids)
    others = {spec: n for spec, n in by.items() if spec != translator}
    n = len(problem_ids)
    retry = f"--retry-exhausted --rounds {rounds + 1}" if rounds else "--retry-exhausted"
    if others:
        names = ", ".join(f"{spec} ({k})" for spec, k in sorted(others.items()))
        return (
            f"note: {n} problems exhausted by earlier runs were skipped, "
            f"{sum(others.values())} of them under another translator: {names}. A problem "
            f"without an accepted pair is not redone when the model changes; to give them new "
            f"rounds with {translator}, rerun with {retry} (each gets rounds up to --rounds), "
            "or use a new --db for a separate corpus."
        )
    return (
        f"note: {n} problems exhausted by earlier runs were skipped; to give them more rounds, "
        f"rerun with {retry}."
    )


def funnel_note(counters: Any) -> str | None:
    """Where the candidates went when none compiled (or none got past the gate)."""
    c = counters
    if not c.candidates or c.compiled:
        return None
    causes = [
        (
            c.no_code,
            "had no Lean code in the answer (is the translator a Lean model? "
            "its prompt template right?)",
        ),
        (c.generation_failed, "failed in the translator engine"),
        (c.rejected_by_gate, "were refused by the safety gate"),
        (c.lean_errors, "had Lean errors"),
        (
            c.check_failed,
            "could not be checked (timeout, crash, out of memory: see `formalize lean doctor`)",
        ),
    ]
    parts = [f"{n} {why}" for n, why in causes if n]
    return (
        f"note: none of {c.candidates} candidates compiled: "
        + "; ".join(parts)
        + ". Every attempt is in the corpus with its status and reason: "
        "`formalize corpus export -o attempts.jsonl --include-rejected`."
    )
