"""The token table of the user's own Lean, asked of Lean itself, and how it differs from ours.

The gate's table (:mod:`formalize.lean.tokens`) is built from Lean's and Mathlib's sources,
never from a running Lean. :data:`TOKEN_TABLE_COMMAND` is a fixed command the project wrote
(trusted text, run through the ordinary driver and sandbox, not through the statement gate,
which would refuse its ``#eval``): it prints the token table of the header's environment as
one info message, ``formalize-token-table: <JSON array>``. Lean keeps that table in its
parser extension's state (``Lean.Parser.getTokenTable env``, a ``Lean.Parser.Trie`` whose
values are the tokens themselves); ``Trie.findPrefix ""`` lists every value. Scoped tokens
are in it only while their namespace is open, so at the header (nothing open) it holds the
global ones.

Tokens Lean has and the gate lacks are added to the gate's table for that Lean
(:func:`formalize.lean.tokens.use_lean_tokens`), tagged as of unknown declaration, so the
gate lexes as Lean does and refuses them wherever Lean could read them. Tokens the gate has
and this Lean lacks (other Lean versions' atoms, scoped ones) are only reported: the gate
over-approximates by design. Pure functions, apart from building the probe triple.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from formalize.lean.tokens import TokenTable
from formalize.records import CheckResult, CheckStatus, Severity

#: The mark that starts the info message carrying the table.
MARK = "formalize-token-table:"
#: The command, a constant: it prints the header environment's token table as JSON (written
#: like the header check of :func:`formalize.lean.headers.probe_command`).
TOKEN_TABLE_COMMAND = (
    "#eval show Lean.Elab.Command.CommandElabM Unit from do\n"
    '  let tokens := (Lean.Parser.getTokenTable (← Lean.getEnv)).findPrefix ""\n'
    f'  Lean.logInfo ("{MARK} " ++ (Lean.toJson tokens).compress)'
)


class TokenTableError(Exception):
    """Lean's answer to the token-table command could not be read (the reason says why)."""


def read_reply(result: CheckResult) -> list[str]:
    """The tokens in Lean's answer to :data:`TOKEN_TABLE_COMMAND`; ``TokenTableError`` when
    the command failed or printed no table."""
    if result.status is not CheckStatus.OK:
        detail = result.reason or "; ".join(m.text for m in result.errors())[:500]
        raise TokenTableError(f"the token-table command failed ({result.status.value}: {detail})")
    for message in result.messages:
        text = message.text.strip()
        if message.severity is Severity.INFO and text.startswith(MARK):
            try:
                tokens = json.loads(text[len(MARK) :])
            except ValueError as exc:
                raise TokenTableError(f"the token table Lean printed is not JSON: {exc}") from None
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise TokenTableError("the token table Lean printed is not a list of strings")
            if not tokens:
                raise TokenTableError("Lean printed an empty token table")
            return [t for t in tokens if t]
    raise TokenTableError("Lean's answer to the token-table command holds no table")


@dataclass(frozen=True)
class TokenDiff:
    """How Lean's token table and the gate's packaged one differ."""

    lean_count: int
    extra: tuple[str, ...]  # Lean has them, the gate's table lacks them (added to the gate)
    missing: tuple[str, ...]  # the gate's table has them (as global tokens), this Lean lacks them
    scoped_missing: int  # the gate's scoped-only tokens this Lean lacks (expected: none is open)

    def summary(self, examples: int = 5) -> str:
        """One line: counts and a few examples of each direction."""

        def some(tokens: Sequence[str]) -> str:
            shown = ", ".join(repr(t) for t in tokens[:examples])
            more = f", … {len(tokens) - examples} more" if len(tokens) > examples else ""
            return f" ({shown}{more})" if tokens else ""

        return (
            f"Lean has {self.lean_count} tokens; {len(self.extra)} not in the gate's table"
            f"{some(self.extra)} (added to the gate for this Lean); the gate's table has "
            f"{len(self.missing)} global tokens this Lean lacks{some(self.missing)} and "
            f"{self.scoped_missing} scoped ones (not open at the header)"
        )


def compare(lean_tokens: Iterable[str], table: TokenTable) -> TokenDiff:
    """Lean's tokens against the gate's packaged ``table``, both directions."""
    lean = set(lean_tokens)
    extra = sorted(t for t in lean if not table.is_token(t))
    absent = [t for t in table.tags if t not in lean]
    missing = sorted(t for t in absent if t not in table.scoped)
    return TokenDiff(len(lean), tuple(extra), tuple(missing), len(absent) - len(missing))
