"""Judges: the model-based deciders of faithfulness, alone or as a calibrated panel.

A run asks one judge or several (``--critic SPEC`` given more than once, or ``[[judges]]``
tables in a config file such as the ``policy.toml`` that ``formalize bench calibrate`` writes),
each with its own samples and vote rule, combined by one rule (``all``, ``any``, ``majority``,
``weighted:T``). Kinds (:data:`KINDS`): ``critic`` (a CriticLean-style critic,
:class:`formalize.critic.Critic`) and ``back_translation`` (the Lean written back in words and
compared with the problem, :class:`~formalize.judges.back_translation.BackTranslationJudge`).
Every judge's verdict is stored as a signal ``judge:<name>``. See ``docs/bench.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from formalize.judges.panel import PREFIX, Assessment, Judge, Member, Panel
from formalize.judges.spec import KINDS, Combine, JudgeSpec, judge_name, parse_judges

__all__ = [
    "KINDS",
    "PREFIX",
    "Assessment",
    "Combine",
    "Judge",
    "JudgeSpec",
    "Member",
    "Panel",
    "build_judge",
    "build_panel",
    "judge_name",
    "parse_judges",
]


def build_judge(
    spec: JudgeSpec,
    engine_for: Callable[[str], Any],
    params: Any = None,
    definitions: Callable[[str], str] | None = None,
) -> Judge:
    """The judge ``spec`` describes, on the engines ``engine_for(engine spec)`` gives
    (identical specs get the same engine); ``params``: the critic's generation parameters;
    ``definitions``: what a critic is told about the constants a statement uses."""
    from formalize.critic import Critic
    from formalize.judges.back_translation import BackTranslationJudge

    if spec.kind == "back_translation":
        comparer = engine_for(spec.comparer) if spec.comparer else None
        return BackTranslationJudge(
            engine_for(spec.spec), comparer, samples=spec.samples, rule=spec.vote, params=params
        )
    return Critic(
        engine_for(spec.spec),
        samples=spec.samples,
        rule=spec.vote,
        params=params,
        definitions=definitions,
    )


def build_panel(
    specs: Sequence[JudgeSpec],
    combine: str,
    engine_for: Callable[[str], Any],
    params_for: Callable[[JudgeSpec], Any] | None = None,
    definitions: Callable[[str], str] | None = None,
) -> Panel:
    """The panel of ``specs`` combined by ``combine`` (``definitions``: see ``build_judge``)."""
    members = [
        Member(
            spec,
            build_judge(spec, engine_for, params_for(spec) if params_for else None, definitions),
        )
        for spec in specs
    ]
    return Panel(members, combine)
