"""``vacuous``: the hypotheses contradict each other, so the statement is true of nothing.

Probe: the statement's binders (its variables and hypotheses) with the goal ``False``, closed
by the ``vacuous`` tactic list. Hypotheses stated inside the conclusion (``∀ x, p x → …``)
are not looked at; a statement without binders gets ``passed`` (nothing to contradict).
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import Probe, declaration, in_context, parts


class VacuousFilter(LeanFilter):
    """Lean proves ``False`` from the statement's hypotheses."""

    name = "vacuous"
    found = "Lean proved False from the hypotheses: they contradict each other"
    not_found = "no tactic derived False from the hypotheses"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        cut = parts(item.report)
        if cut is None or not cut[3]:
            return None
        decl = declaration(
            "formalize_probe_vacuous", cut[3], "False", self.settings.tactics["vacuous"]
        )
        probe = in_context(item.report, item.header, decl)
        return None if probe is None else [probe]

    def skip_reason(self, item: FilterItem) -> str:
        cut = parts(item.report)
        if cut is not None and not cut[3]:
            return "the statement has no hypotheses to contradict"
        return super().skip_reason(item)
