"""``refuted``: the statement is false; Lean proves its negation.

Probe: ``¬ (∀ binders, conclusion)``, then ``try push_neg`` and one tactic of the ``refuted``
list, one alternative per tactic. Catches wrong constants and false closed claims
(``2 + 2 = 5``); a refutation that needs a witness Lean's automation cannot find is not caught.
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.comparing import variable_binders
from formalize.filters.probes import Probe, closed, declaration, in_context, parts, universes


class RefutedFilter(LeanFilter):
    """Lean proves the statement's negation."""

    name = "refuted"
    found = "Lean proved the negation of the statement: it is false"
    not_found = "no tactic proved the negation"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        cut = parts(item.report)
        if cut is None:
            return None
        # over the `variable`s it uses too: Lean adds those outside the negation
        over = variable_binders(cut[1], [*cut[3], cut[4]])
        goal = f"¬ {closed([*over, *cut[3]], cut[4])}"
        decl = declaration(
            "refuted",
            [],
            goal,
            self.settings.tactics["refuted"],
            self.settings.heartbeats,
            prelude=["try push_neg"],
            limits=item.report.limits,
            universes=universes(item.report),
        )
        probe = in_context(item.report, item.header, decl)
        return None if probe is None else [probe]
