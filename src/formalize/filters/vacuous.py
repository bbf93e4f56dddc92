"""``vacuous``: the hypotheses contradict each other, so the statement is true of nothing.

Probe: the statement itself with its conclusion kept but made irrelevant,
``theorem … binders : (fun _ : Prop => _root_.False) ( conclusion )``, then ``show _root_.False``
(``_root_``: a ``False`` of the candidate's namespace would be read first) and one
tactic of the ``vacuous`` list (one alternative per tactic). Lean elaborates the binders
exactly as in the statement (an untyped binder ``{x}`` gets its type from the conclusion, as
there), and the goal is ``False`` from the binders alone.

What it cannot decide: hypotheses stated inside the conclusion (``∀ x, p x → …``) are not
looked at. A statement with no binders, or whose conclusion is ``False`` or a negation
``¬ P`` (a "no such object exists" problem: a contradiction from its hypotheses is its own
content, and ``trivial`` records it when automation proves it), gets ``inconclusive`` with
the reason; it is never failed.
"""

from __future__ import annotations

from formalize.filters.base import FilterItem, LeanFilter
from formalize.filters.probes import Probe, hypotheses, parts, restated

#: The goal: the statement's conclusion, elaborated as in the statement, reduced to ``False``.
#: (`_root_.False`: the probe stands in the candidate's namespaces, where a `False` of its own
#: would be read first.)
IRRELEVANT = "(fun _ : Prop => _root_.False) ( {conclusion} )"  # spaced: see probes.closed


def negative(conclusion: str) -> bool:
    """Whether a conclusion is ``False`` or a negation (``¬ P``, ``Not P``), parentheses
    around it ignored."""
    text = conclusion.strip()
    while text.startswith("(") and text.endswith(")") and _outer(text):
        text = text[1:-1].strip()
    return text == "False" or text.startswith("¬") or text.startswith("Not ")


def _outer(text: str) -> bool:
    """Whether the first ``(`` of ``text`` is closed by its last character."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


class VacuousFilter(LeanFilter):
    """Lean proves ``False`` from the statement's hypotheses."""

    name = "vacuous"
    found = "Lean proved False from the hypotheses: they contradict each other"
    not_found = "no tactic derived False from the hypotheses"

    def probes(self, item: FilterItem) -> list[Probe] | None:
        cut = parts(item.report)
        if cut is None:
            return None
        binders = hypotheses(cut)  # `variable (h : n = 1)`, `include h` are hypotheses too
        if not binders or negative(cut[4]):
            return None
        goal = IRRELEVANT.format(conclusion=cut[4])
        tactics = self.settings.tactics["vacuous"]
        prelude = ["show _root_.False"]
        probe = restated(
            item.report,
            item.header,
            "vacuous",
            binders,
            goal,
            tactics,
            self.settings.heartbeats,
            prelude,
        )
        return None if probe is None else [probe]

    def skip_reason(self, item: FilterItem) -> str:
        cut = parts(item.report)
        if cut is not None and not hypotheses(cut):
            return "the statement has no hypotheses to contradict"
        if cut is not None and negative(cut[4]):
            return (
                "the conclusion is False or a negation: a contradiction from the hypotheses "
                "is the statement's own content (see trivial), not a flaw"
            )
        return super().skip_reason(item)
