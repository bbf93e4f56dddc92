"""``trivial``: automation closes the statement outright.

Probe: the statement itself, closed by the ``trivial`` tactic list. Recorded, but it rejects
only with ``reject_trivial``: a correct "compute the value" statement is often closed by
``norm_num``.
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import Probe, declaration, in_context, parts


class TrivialFilter(LeanFilter):
    """Lean's automation proves the statement as it is."""

    name = "trivial"
    found = "automation proved the statement outright"
    not_found = "no tactic of the list proved the statement"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        cut = parts(item.report)
        if cut is None:
            return None
        decl = declaration(
            "formalize_probe_trivial", cut[3], cut[4], self.settings.tactics["trivial"]
        )
        probe = in_context(item.report, item.header, decl)
        return None if probe is None else [probe]
