"""Judges as plain settings: which judges a run asks, and how their decisions combine.

A run's judges come from the ``[[judges]]`` tables of a config file (``formalize bench
calibrate`` writes one: ``policy.toml``), or from ``--critic SPEC`` given once or several times
(each a critic with the run's ``critic_samples`` and ``vote``). ``combine`` says how the judges'
decisions become one: ``all`` (every judge accepts), ``any``, ``majority`` (more than half), or
``weighted:T`` (the judges' faithful shares, weighted, average at least T, 0 < T <= 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from formalize.settings import did_you_mean

#: The kinds of judge (``kind`` in a ``[[judges]]`` table).
KINDS = ("critic", "back_translation")
_KEYS = ("name", "kind", "spec", "samples", "vote", "weight", "comparer")
_EPS = 1e-9


@dataclass(frozen=True)
class JudgeSpec:
    """One judge of a run: its unique ``name``, its ``kind``, the engine ``spec`` (for a
    back-translation, the model writing the Lean back in natural language), answers per
    statement (``samples``) and their ``vote`` rule, its ``weight`` under ``weighted:T``, and
    for a back-translation the engine that compares (``comparer``; default: ``spec``)."""

    name: str
    kind: str
    spec: str
    samples: int = 1
    vote: str = "majority"
    weight: float = 1.0
    comparer: str | None = None

    @property
    def engine_specs(self) -> tuple[str, ...]:
        """Every engine this judge uses."""
        if self.kind == "back_translation" and self.comparer and self.comparer != self.spec:
            return (self.spec, self.comparer)
        return (self.spec,)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as a ``[[judges]]`` table holds it."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "spec": self.spec,
            "samples": self.samples,
            "vote": self.vote,
            "weight": self.weight,
        }
        if self.comparer:
            out["comparer"] = self.comparer
        return out


@dataclass(frozen=True)
class Combine:
    """How the judges' decisions become the verdict: ``all``, ``any``, ``majority`` (more
    than half accept; a tie rejects) or ``weighted`` (weighted mean share >= ``threshold``)."""

    kind: str = "all"
    threshold: float = 0.5

    @classmethod
    def parse(cls, text: str) -> Combine:
        """A rule from ``all`` | ``any`` | ``majority`` | ``weighted:T``; ``ValueError`` else."""
        value = text.strip().lower()
        if value in ("all", "any", "majority"):
            return cls(value)
        kind, colon, rest = value.partition(":")
        if kind == "weighted" and colon:
            try:
                threshold = float(rest)
            except ValueError:
                threshold = -1.0
            if 0.0 < threshold <= 1.0:
                return cls("weighted", threshold)
        raise ValueError(
            f"bad combine rule {text!r}: use all, any, majority or weighted:T with T in (0, 1] "
            "(e.g. weighted:0.6)"
        )

    def accepts(
        self, decisions: Sequence[bool], shares: Sequence[float], weights: Sequence[float]
    ) -> bool:
        """Whether the judges' decisions (and faithful shares) accept the statement."""
        if not decisions:
            return False
        if self.kind == "all":
            return all(decisions)
        if self.kind == "any":
            return any(decisions)
        if self.kind == "majority":
            return sum(decisions) * 2 > len(decisions)
        return self.score(shares, weights) >= self.threshold - _EPS

    @staticmethod
    def score(shares: Sequence[float], weights: Sequence[float]) -> float:
        """The weighted mean of the judges' faithful shares."""
        total = sum(weights)
        if total <= 0:
            return 0.0
        return sum(s * w for s, w in zip(shares, weights, strict=True)) / total

    def __str__(self) -> str:
        return f"weighted:{self.threshold:g}" if self.kind == "weighted" else self.kind


def judge_name(spec: str) -> str:
    """A short name for a judge from its engine spec: the model's last path part, lowercase
    (``vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL`` -> ``criticleangpt-qwen3-8b-rl``)."""
    model = spec.split(":", 1)[-1].split("@", 1)[0].split("?", 1)[0].rstrip("/")
    name = re.sub(r"[^a-z0-9._-]+", "-", model.rsplit("/", 1)[-1].lower()).strip("-")
    return name or "judge"


def parse_judges(
    tables: Sequence[Mapping[str, Any]] | None,
    critics: str | Sequence[str],
    *,
    samples: int,
    vote: str,
) -> list[JudgeSpec]:
    """The run's judges: the ``[[judges]]`` tables when given, else one critic per spec in
    ``critics`` with the run's ``samples`` and ``vote``. Names are made unique (``-2``, ...).
    ``ValueError`` naming the table and key for anything that cannot be used."""
    specs: list[JudgeSpec] = []
    if tables:
        for k, table in enumerate(tables, start=1):
            specs.append(_from_table(k, table, samples, vote))
    else:
        for spec in [critics] if isinstance(critics, str) else list(critics):
            specs.append(JudgeSpec(judge_name(spec), "critic", spec, samples, vote))
    if not specs:
        raise ValueError("no judge: give --critic SPEC or [[judges]] tables")
    seen: dict[str, int] = {}
    unique = []
    for judge in specs:
        count = seen.get(judge.name, 0) + 1
        seen[judge.name] = count
        name = judge.name if count == 1 else f"{judge.name}-{count}"
        unique.append(JudgeSpec(**{**judge.to_dict(), "name": name}))
    return unique


def _from_table(k: int, table: Mapping[str, Any], samples: int, vote: str) -> JudgeSpec:
    from formalize.critic import VoteRule

    where = f"judges[{k}]"
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: expected a table ([[judges]]), got {type(table).__name__}")
    unknown = [key for key in table if key not in _KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], _KEYS)
        raise ValueError(f"{where}: unknown key {unknown[0]!r}{hint}; known: {', '.join(_KEYS)}")
    spec = table.get("spec")
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{where}: `spec` (the judge's engine, e.g. vllm:MODEL) is required")
    kind = table.get("kind", "critic")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
    n = table.get("samples", samples)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{where}: samples must be an integer >= 1 (got {n!r})")
    rule = table.get("vote", vote)
    try:
        VoteRule.parse(str(rule))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    weight = table.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
        raise ValueError(f"{where}: weight must be a number >= 0 (got {weight!r})")
    comparer = table.get("comparer")
    if comparer is not None and (kind != "back_translation" or not isinstance(comparer, str)):
        raise ValueError(f"{where}: `comparer` is an engine spec, for kind = back_translation")
    name = table.get("name", judge_name(spec))
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name must be a non-empty string")
    return JudgeSpec(name.strip(), kind, spec, n, str(rule), float(weight), comparer)
