"""The judges of a calibration: finished ``bench critic`` run folders, joined by item id.

Each run folder is one judge: for every item it judged, ``predictions.jsonl`` holds the
samples, so its *share* (faithful samples / samples) is known exactly. ``join_runs`` keeps the
items every run judged, and refuses runs over different suites or data files.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from formalize.bench.report import load_results
from formalize.bench.run import PREDICTIONS, RUN, read_predictions
from formalize.errors import InputError
from formalize.models.spec import spec_without_url
from formalize.records import Judgement, Verdict


@dataclass(frozen=True)
class JudgeRun:
    """One finished ``bench critic`` run folder, read as a judge of the suite's items."""

    name: str
    folder: Path
    kind: str  # critic | back_translation
    spec: str  # the full engine spec the run used
    samples: int
    suite: dict[str, Any]  # name, version, data_sha256
    labels: dict[str, bool]
    votes: dict[str, tuple[int, int]]  # item id -> (faithful samples, samples)
    comparer: str | None = None
    prompt_version: str | None = None

    def share(self, item: str) -> Fraction:
        """The judge's faithful share on ``item``, exactly."""
        faithful, samples = self.votes[item]
        return Fraction(faithful, samples)


def load_judge_run(folder: str | Path) -> JudgeRun:
    """Read a finished run folder (``run.json``, ``results.json``, ``predictions.jsonl``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: give the output folders of `bench critic`")
    try:
        identity = json.loads((folder / RUN).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{folder}: no readable {RUN}: is it a `bench critic` run folder?"
        ) from exc
    results = load_results(folder)
    critic = identity.get("critic") or {}
    suite = identity.get("suite") or {}
    spec = (results.get("critic") or {}).get("spec") or critic.get("spec")
    if not spec or not suite.get("data_sha256"):
        raise InputError(f"{folder}/{RUN} names no critic spec or suite data hash")
    labels: dict[str, bool] = {}
    votes: dict[str, tuple[int, int]] = {}
    for item, record in read_predictions(folder / PREDICTIONS).items():
        samples = Verdict.from_dict(record["verdict"]).samples
        faithful = sum(s.judgement is Judgement.FAITHFUL for s in samples)
        labels[item] = bool(record["label"])
        votes[item] = (faithful, len(samples))
    if not votes:
        raise InputError(f"{folder}: {PREDICTIONS} holds no predictions")
    return JudgeRun(
        name=judge_name(str(spec)),
        folder=folder,
        kind=str(critic.get("kind", "critic")),
        spec=str(spec),
        samples=int(critic.get("samples") or max(m for _, m in votes.values())),
        suite={k: suite.get(k) for k in ("name", "version", "data_sha256")},
        labels=labels,
        votes=votes,
        comparer=(results.get("critic") or {}).get("comparer") or critic.get("comparer"),
        prompt_version=critic.get("prompt_version"),
    )


def judge_name(spec: str) -> str:
    """A short name for a judge from its spec: the model's last path part, lower-cased
    (``vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL`` -> ``criticleangpt-qwen3-8b-rl``)."""
    base = spec_without_url(spec).partition("?")[0]
    model = base.partition(":")[2] or base
    last = model.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-.") or "judge"


def _unique_names(runs: Sequence[JudgeRun]) -> list[JudgeRun]:
    """Judges renamed where two would share a name: samples, then folder, then a number."""
    names = [r.name for r in runs]
    for extend in (
        lambda r: f"{r.name}-m{r.samples}",
        lambda r: f"{r.name}-{judge_name(r.folder.name)}",
    ):
        if len(set(names)) == len(names):
            break
        counts = Counter(names)
        names = [extend(r) if counts[n] > 1 else n for r, n in zip(runs, names, strict=True)]
    seen: Counter[str] = Counter()
    final = []
    for name in names:
        seen[name] += 1
        final.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return [dataclasses.replace(r, name=n) for r, n in zip(runs, final, strict=True)]


@dataclass(frozen=True)
class Joined:
    """The items every judge judged, with their labels and each judge's share."""

    judges: tuple[JudgeRun, ...]
    ids: tuple[str, ...]
    labels: tuple[bool, ...]
    shares: tuple[tuple[Fraction, ...], ...]  # per item, one share per judge
    union: int  # items judged by at least one run
    missing: dict[str, int] = field(default_factory=dict)  # judge -> union items it lacks

    @property
    def positives(self) -> int:
        """Faithful items."""
        return sum(self.labels)

    @property
    def negatives(self) -> int:
        """Unfaithful items."""
        return len(self.labels) - self.positives

    @property
    def suite(self) -> dict[str, Any]:
        """The suite all runs share."""
        return self.judges[0].suite


def join_runs(runs: Sequence[JudgeRun]) -> Joined:
    """Join runs by item id: refused when they are over different suites or data; items some
    run lacks are left out (``missing`` says how many each lacks)."""
    if not runs:
        raise InputError("give at least one `bench critic` run folder")
    suites = {json.dumps(r.suite, sort_keys=True) for r in runs}
    if len(suites) > 1:
        lines = "\n".join(
            f"  {r.folder}: suite {r.suite['name']} version {r.suite['version']}, "
            f"data sha256 {str(r.suite['data_sha256'])[:12]}"
            for r in runs
        )
        raise InputError(
            "these runs are over different suites or data files; calibrate runs of one suite "
            f"(the same data file) only:\n{lines}"
        )
    runs = _unique_names(runs)
    union: dict[str, None] = {}
    for r in runs:
        union.update(dict.fromkeys(r.votes))
    common = [i for i in union if all(i in r.votes for r in runs)]
    if not common:
        raise InputError("no item was judged by every run: nothing to calibrate on")
    for item in common:
        if len({r.labels[item] for r in runs}) > 1:
            raise InputError(f"item {item!r} has different labels in different runs")
    return Joined(
        judges=tuple(runs),
        ids=tuple(common),
        labels=tuple(runs[0].labels[i] for i in common),
        shares=tuple(tuple(r.share(i) for r in runs) for i in common),
        union=len(union),
        missing={r.name: len(union) - sum(i in r.votes for i in union) for r in runs},
    )
