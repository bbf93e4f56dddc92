"""``refuted``: the statement is false; Lean proves its negation.

Probe: ``¬ (∀ binders, conclusion)``, then ``try push_neg`` and one tactic of the ``refuted``
list, one alternative per tactic. Catches wrong constants and false closed claims
(``2 + 2 = 5``); a refutation that needs a witness Lean's automation cannot find is not caught.
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import Probe, closed, hypotheses, parts, restated


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
        goal = f"¬ {closed(hypotheses(cut), cut[4])}"
        tactics = self.settings.tactics["refuted"]
        prelude = ["try push_neg"]
        probe = restated(
            item.report,
            item.header,
            "refuted",
            [],
            goal,
            tactics,
            self.settings.heartbeats,
            prelude,
        )
        return None if probe is None else [probe]
