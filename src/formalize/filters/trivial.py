"""``trivial``: automation closes the statement outright.

Probe: the statement itself (its binders and conclusion), one alternative per tactic of the
``trivial`` list. Recorded, but it rejects only with ``reject_trivial``: a correct "compute
the value" statement is often closed by ``norm_num``, and a "no such object exists" statement
(conclusion ``False``) that automation proves is solved, not flawed.
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import Probe, parts, restated


class TrivialFilter(LeanFilter):
    """Lean's automation proves the statement as it is."""

    name = "trivial"
    found = "automation proved the statement outright"
    not_found = "no tactic of the list proved the statement"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        cut = parts(item.report)
        if cut is None:
            return None
        tactics = self.settings.tactics["trivial"]
        heartbeats = self.settings.heartbeats
        probe = restated(item.report, item.header, "trivial", cut[3], cut[4], tactics, heartbeats)
        return None if probe is None else [probe]
