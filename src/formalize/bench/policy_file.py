"""Reading a written ``policy.toml`` back as a policy over given runs, to check it on held-out
data (``formalize bench calibrate RUN_DIR... --policy policy.toml``)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from formalize.bench.calibrate import RULES, Policy
from formalize.bench.judges import Joined
from formalize.config import load_toml
from formalize.critic import VoteRule
from formalize.errors import InputError
from formalize.models.spec import spec_without_url

_EPS = 1e-9  # VoteRule's tolerance


def vote_threshold(vote: str, samples: int) -> Fraction:
    """The smallest share k / samples that ``vote`` accepts (``formalize.critic.VoteRule``)."""
    try:
        rule = VoteRule.parse(vote)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if rule.kind == "majority":
        return Fraction(samples // 2 + 1, samples)
    if rule.kind == "unanimous":
        return Fraction(1)
    return Fraction(max(1, math.ceil((rule.threshold - _EPS) * samples)), samples)


def read_policy(path: str | Path, joined: Joined) -> Policy:
    """The policy in ``path`` over ``joined``'s runs: each judge is matched to the run of the
    same spec (server address aside), kind and number of samples."""
    values = load_toml(path)
    combine, judges = values.get("combine"), values.get("judges")
    if not isinstance(combine, str) or not isinstance(judges, list) or not judges:
        raise InputError(f"{path}: a policy needs `combine` and a non-empty `[[judges]]` list")
    rule, _, threshold = combine.partition(":")
    if rule not in RULES or (rule == "weighted") != bool(threshold):
        raise InputError(f"{path}: combine {combine!r} is not all, any, majority or weighted:T")
    indices, thresholds, weights = [], [], set()
    for judge in judges:
        index = _run_of(judge, joined, path)
        if index in indices:
            raise InputError(f"{path}: two judges match the run {joined.judges[index].folder}")
        indices.append(index)
        thresholds.append(vote_threshold(str(judge.get("vote", "majority")), judge["samples"]))
        weights.add(float(judge.get("weight", 1.0)))
    if rule == "weighted":
        if len(weights) > 1:
            raise InputError(f"{path}: only equal weights can be checked here")
        try:
            value = Fraction(threshold)
        except ValueError as exc:
            raise InputError(f"{path}: weighted:{threshold} needs a decimal T in [0, 1]") from exc
        if not 0 <= value <= 1:
            raise InputError(f"{path}: weighted:{threshold} needs a decimal T in [0, 1]")
        return Policy("weighted", tuple(indices), (), value)
    return Policy(rule, tuple(indices), tuple(thresholds))


def _run_of(judge: Any, joined: Joined, path: str | Path) -> int:
    if not isinstance(judge, dict) or not {"spec", "samples"} <= set(judge):
        raise InputError(f"{path}: every [[judges]] entry needs `spec` and `samples`")
    spec = spec_without_url(str(judge["spec"]))
    kind = str(judge.get("kind", "critic"))
    for index, run in enumerate(joined.judges):
        same = spec_without_url(run.spec) == spec and run.kind == kind
        if same and run.samples == judge["samples"]:
            return index
    runs = ", ".join(f"{r.spec} ({r.samples} samples)" for r in joined.judges)
    raise InputError(
        f"{path}: judge {judge.get('name', spec)!r} ({kind} {spec}, {judge['samples']} samples) "
        f"has no run here; the runs are: {runs}"
    )
