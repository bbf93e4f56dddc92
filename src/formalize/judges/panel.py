"""A panel of judges: every judge's verdict on each statement, and the panel's combined one.

Each judge is an object with ``judge(pairs) -> list[Verdict]`` (a :class:`formalize.critic.
Critic`, a :class:`~formalize.judges.back_translation.BackTranslationJudge`); one with
``assess(pairs)`` also gives evidence (the back-translation). Every judge's verdict becomes a
:class:`~formalize.records.Signal` named ``judge:<name>`` (``passed``: it accepts, ``failed``:
it objects, ``inconclusive``: no answer parsed; ``score``: its faithful share), and the
:class:`~formalize.judges.spec.Combine` rule turns the decisions into one
:class:`~formalize.records.Verdict`, which is what decides the attempt and what the translator
is told (the objecting judges' reasons).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from formalize.judges.spec import Combine, JudgeSpec
from formalize.records import JUDGE_PREFIX as PREFIX
from formalize.records import Judgement, Problem, Signal, SignalOutcome, Verdict


class Judge(Protocol):
    """Anything that judges (problem, Lean statement) pairs, in input order."""

    samples: int
    prompt_version: str

    def judge(self, pairs: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """One verdict per pair, in input order."""
        ...

    def provenance(self) -> dict[str, Any]:
        """What produced the verdicts (engine, prompt, samples, rule, parameters)."""
        ...


@dataclass(frozen=True)
class Assessment:
    """A judge's verdict on one statement, with evidence (the back-translation) and details."""

    verdict: Verdict
    evidence: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Member:
    """A judge on the panel, with the settings it was built from."""

    spec: JudgeSpec
    judge: Judge

    def assess(self, pairs: Sequence[tuple[Problem, str]]) -> list[Assessment]:
        """The judge's assessments, in input order."""
        assess = getattr(self.judge, "assess", None)
        if assess is not None:
            return list(assess(pairs))
        return [Assessment(v) for v in self.judge.judge(pairs)]


def signal_of(member: Member, found: Assessment, elapsed_s: float) -> Signal:
    """The judge's verdict as a signal."""
    verdict = found.verdict
    if verdict.judgement is Judgement.FAITHFUL:
        outcome, reason = SignalOutcome.PASSED, "judged faithful"
    elif verdict.judgement is Judgement.UNFAITHFUL:
        outcome = SignalOutcome.FAILED
        reason = verdict.summary.strip() or "judged unfaithful"
    else:
        outcome = SignalOutcome.INCONCLUSIVE
        reason = verdict.summary.strip() or "no answer could be parsed"
    details = {"kind": member.spec.kind, "spec": member.spec.spec, "rule": verdict.rule}
    details.update(found.details)
    return Signal(
        PREFIX + member.spec.name,
        member.judge.prompt_version,
        outcome,
        reason,
        found.evidence,
        elapsed_s,
        score=verdict.share,
        details=details,
    )


class Panel:
    """The run's judges and their combination rule."""

    def __init__(self, members: Sequence[Member], combine: Combine | str = "all") -> None:
        if not members:
            raise ValueError("a panel needs at least one judge")
        self.members = list(members)
        self.combine = Combine.parse(combine) if isinstance(combine, str) else combine

    @classmethod
    def of(cls, judge: Judge, name: str = "critic") -> Panel:
        """A panel of one (a bare critic)."""
        spec = JudgeSpec(name, "critic", str(getattr(judge, "spec", name)), judge.samples)
        return cls([Member(spec, judge)])

    @property
    def engines(self) -> list[Any]:
        """Every engine the judges use (distinct), the first judge's first."""
        found: dict[int, Any] = {}
        for member in self.members:
            for engine in getattr(member.judge, "engines", None) or [member.judge.engine]:  # type: ignore[attr-defined]
                found.setdefault(id(engine), engine)
        return list(found.values())

    @property
    def prompt_version(self) -> str:
        """The judges' prompt versions, joined."""
        return "+".join(dict.fromkeys(m.judge.prompt_version for m in self.members))

    @property
    def calls_per_statement(self) -> int:
        """Judgements one statement costs (one per judge)."""
        return len(self.members)

    def provenance(self) -> list[dict[str, Any]]:
        """Each judge's settings and provenance, in panel order."""
        return [{**m.spec.to_dict(), **m.judge.provenance()} for m in self.members]

    def assess(
        self, pairs: Sequence[tuple[Problem, str]]
    ) -> list[tuple[Verdict, tuple[Signal, ...]]]:
        """Each pair's combined verdict and every judge's signal, in input order. Judges run
        side by side (each engine serializes its own calls)."""
        if not pairs:
            return []

        def run(member: Member) -> tuple[list[Assessment], float]:
            begin = time.monotonic()
            found = member.assess(pairs)
            if len(found) != len(pairs):
                raise RuntimeError(
                    f"judge {member.spec.name} returned {len(found)} verdicts for {len(pairs)}"
                )
            return found, (time.monotonic() - begin) / len(pairs)

        if len(self.members) == 1:
            results = [run(self.members[0])]
        else:
            with ThreadPoolExecutor(len(self.members), thread_name_prefix="judge") as pool:
                results = list(pool.map(run, self.members))
        out = []
        for k in range(len(pairs)):
            each = [found[k] for found, _ in results]
            signals = tuple(
                signal_of(m, a, elapsed)
                for m, a, (_, elapsed) in zip(self.members, each, results, strict=True)
            )
            out.append((self.combined([a.verdict for a in each]), signals))
        return out

    def combined(self, verdicts: Sequence[Verdict]) -> Verdict:
        """The panel's verdict from its judges' (a panel of one: that judge's verdict)."""
        if len(verdicts) == 1:
            return verdicts[0]
        decisions = [v.faithful for v in verdicts]
        shares = [v.share for v in verdicts]
        weights = [m.spec.weight for m in self.members]
        if self.combine.accepts(decisions, shares, weights):
            judgement = Judgement.FAITHFUL
        elif all(v.judgement is Judgement.UNPARSED for v in verdicts):
            judgement = Judgement.UNPARSED
        else:
            judgement = Judgement.UNFAITHFUL
        objections = [
            f"{m.spec.name}: {v.summary.strip()}"
            for m, v in zip(self.members, verdicts, strict=True)
            if not v.faithful and v.summary.strip()
        ]
        samples = tuple(s for v in verdicts for s in v.samples)
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
        rule = (
            f"{self.combine}("
            + ", ".join(
                f"{m.spec.name}:{v.rule}" for m, v in zip(self.members, verdicts, strict=True)
            )
            + ")"
        )
        return Verdict(
            judgement=judgement,
            share=faithful / len(samples),  # of every judge's samples (each judge's: signals)
            samples=samples,
            summary="\n\n".join(objections),
            rule=rule,
        )
