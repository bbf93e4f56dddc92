"""Running a critic over a suite: batched, resumable, with a progress bar.

The output folder holds ``run.json`` (what is being measured: suite and data hash, critic spec,
prompt, samples, generation parameters), ``predictions.jsonl`` (appended item by item as each is
judged, so a killed or interrupted run loses at most the items in flight), and at the end
``results.json``, ``report.md`` and the threshold plot. Rerunning the same command resumes:
items already in ``predictions.jsonl`` are not sent to the critic again. The vote rule is
applied when the results are computed, so rerunning with another ``--vote`` re-decides from the
stored samples.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from collections.abc import Generator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from formalize import __version__
from formalize.bench.lean_versions import lean_note, lean_record
from formalize.bench.metrics import Outcome, summarize
from formalize.bench.report import write_json, write_outputs
from formalize.bench.suites import BenchItem, Suite, select_items
from formalize.critic import Critic
from formalize.errors import InputError
from formalize.models.base import GenerationError
from formalize.models.spec import spec_without_url
from formalize.records import Judgement, Verdict
from formalize.version import code_version

PREDICTIONS = "predictions.jsonl"
RUN = "run.json"
SCHEMA_VERSION = 1


def run_identity(suite: Suite, critic: Critic, critic_spec: str) -> dict[str, Any]:
    """What must match for stored predictions to be reused."""
    provenance = critic.provenance()
    judge: dict[str, Any] = {
        # the model, not where it is served: a server restarted on another port resumes
        "spec": spec_without_url(critic_spec),
        "samples": critic.samples,
        "prompt_version": critic.prompt_version,
        "prompt_digest": provenance["prompt_digest"],
        "params": provenance["params"],
    }
    if provenance.get("kind", "critic") != "critic":  # a back-translation judge
        judge["kind"] = provenance["kind"]
        judge["comparer"] = spec_without_url(str(provenance.get("comparer")))
    return {
        "suite": {"name": suite.name, "version": suite.version, "data_sha256": suite.data_digest()},
        "critic": judge,
    }


def run_critic_bench(
    suite: Suite,
    critic: Critic,
    output: str | Path,
    *,
    critic_spec: str,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 16,
    bootstrap: int = 1000,
    progress: bool = True,
) -> dict[str, Any]:
    """Judge the suite's items (resuming from ``output``), write every output file and return
    the results (the content of ``results.json``)."""
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    started = time.monotonic()
    output = Path(output)
    all_items = suite.load()
    items = select_items(all_items, limit, seed)
    note = lean_note(suite)
    if note:
        print(note, file=sys.stderr)
    output.mkdir(parents=True, exist_ok=True)
    identity = run_identity(suite, critic, critic_spec)
    _check_identity(output, identity)
    wanted = {item.id for item in items}
    done = {k: v for k, v in read_predictions(output / PREDICTIONS).items() if k in wanted}
    todo = [item for item in items if item.id not in done]
    _judge(critic, todo, output / PREDICTIONS, done, batch_size, progress, suite.name, len(items))

    verdicts = {
        item.id: critic.verdict(Verdict.from_dict(done[item.id]["verdict"]).samples)
        for item in items
    }
    _rewrite_predictions(output / PREDICTIONS, items, verdicts)
    outcomes = [Outcome.of(item.label, verdicts[item.id], item.error_type) for item in items]
    provenance = critic.provenance()
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "suite": {**suite.describe(), "data_sha256": identity["suite"]["data_sha256"]},
        "suite_items": len(all_items),
        "lean": lean_record(suite),
        "critic": {"spec": critic_spec, **provenance},
        "prompt_version": critic.prompt_version,
        "code_version": code_version(),
        "formalize_version": __version__,
        "limit": limit,
        "seed": seed,
        "judged_this_session": len(todo),
        "elapsed_s": round(time.monotonic() - started, 3),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **summarize(outcomes, seed=seed, replicates=bootstrap),
    }
    write_outputs(results, output)
    return results


def _judge(
    critic: Critic,
    todo: Sequence[BenchItem],
    path: Path,
    done: dict[str, dict[str, Any]],
    batch_size: int,
    progress: bool,
    name: str,
    total: int,
) -> None:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=total - len(todo), desc=name, unit="pair", disable=not progress)
    # an engine that sends each conversation as its own request (a server) gets the items one
    # by one, ``batch_size`` at once (at most as many as it has requests in flight), so each
    # is saved as it comes back; one that generates a batch in one call (vLLM, hf) gets
    # batches, whose items all finish together
    engine = getattr(critic, "engine", None)
    slots = getattr(engine, "parallel_requests", lambda: 0)()
    judged = (
        _down_after(_one_by_one(critic, todo, min(batch_size, slots)), batch_size)
        if slots
        else _batched(critic, todo, batch_size)
    )
    try:
        with path.open("a", encoding="utf-8") as handle:
            for item, verdict in judged:
                record = prediction_record(item, verdict)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
                done[item.id] = record
                bar.update(1)
    except KeyboardInterrupt:
        cancel = getattr(engine, "cancel_pending", None)
        if cancel is not None:
            cancel()
        # counted on disk: the interrupt may come between an item's write and its book-keeping
        wanted = set(done) | {item.id for item in todo}
        saved = len(wanted & set(read_predictions(path)))
        print(
            f"\nstopped with {saved} of {total} pairs judged; rerun the same command to resume",
            file=sys.stderr,
        )
        raise
    finally:
        judged.close()
        bar.close()


Judged = Generator[tuple[BenchItem, Verdict], None, None]


def _batched(critic: Critic, todo: Sequence[BenchItem], batch_size: int) -> Judged:
    """Each item with its verdict, judged ``batch_size`` at a time in one call."""
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        verdicts = critic.judge([(item.problem(), item.critic_lean()) for item in batch])
        yield from zip(batch, verdicts, strict=True)


def _generation_failed(verdict: Verdict) -> bool:
    """True when no sample of ``verdict`` has an answer: every generation failed (the text
    ``generate_tolerantly`` gives a conversation that failed, as ``Critic.judge`` keeps it)."""
    return bool(verdict.samples) and all(
        s.judgement is Judgement.UNPARSED
        and not s.raw
        and s.reasons.startswith("generation failed")
        for s in verdict.samples
    )


def _down_after(judged: Judged, limit: int) -> Judged:
    """``judged``, raising ``GenerationError`` once ``limit`` (> 1) items in a row got no answer
    (the engine is down: as a whole batch failing does with batched calls); the items of such a
    run of failures are not passed on, so a rerun judges them again. Fewer failures in a row
    (a prompt too long for the model) are passed on as unparsed verdicts."""
    failing: list[tuple[BenchItem, Verdict]] = []
    try:
        for item, verdict in judged:
            if not _generation_failed(verdict):
                yield from failing
                failing = []
                yield item, verdict
                continue
            failing.append((item, verdict))
            if limit > 1 and len(failing) >= limit:
                reason = verdict.samples[0].reasons
                raise GenerationError(
                    f"the critic got no answer for {len(failing)} items in a row ({reason}); "
                    "the engine looks down. Rerun the same command to resume"
                )
        yield from failing
    finally:
        judged.close()


def _one_by_one(critic: Critic, todo: Sequence[BenchItem], workers: int) -> Judged:
    """Each item with its verdict as soon as it is judged, ``workers`` items at a time, on
    daemon threads (an interrupted run does not wait for the requests in flight)."""
    jobs: queue.Queue[BenchItem | None] = queue.Queue()
    out: queue.Queue[tuple[BenchItem, Verdict | BaseException]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            item = jobs.get()
            if item is None:
                return
            try:
                result: Verdict | BaseException = critic.judge(
                    [(item.problem(), item.critic_lean())]
                )[0]
            except BaseException as exc:  # handed to the main thread, raised there
                result = exc
            out.put((item, result))

    for item in todo:
        jobs.put(item)
    count = max(1, min(workers, len(todo)))
    for _ in range(count):
        jobs.put(None)
    for n in range(count):
        threading.Thread(target=work, name=f"bench-{n}", daemon=True).start()
    try:
        for _ in todo:
            item, result = out.get()
            if isinstance(result, BaseException):
                raise result
            yield item, result
    finally:
        stop.set()


def prediction_record(item: BenchItem, verdict: Verdict) -> dict[str, Any]:
    """One line of ``predictions.jsonl``: the item, its label, every sample and the decision."""
    return {
        "id": item.id,
        "label": item.label,
        "error_type": item.error_type,
        "accepted": verdict.faithful,
        "judgement": verdict.judgement.value,
        "share": verdict.share,
        "informal": item.informal,
        "lean": item.critic_lean(),
        "verdict": verdict.to_dict(),
    }


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Stored predictions by item id; an unreadable line (a run killed mid-write) is skipped
    and its item judged again."""
    found: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return found
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                Verdict.from_dict(record["verdict"])
            except (ValueError, KeyError, TypeError):
                continue
            found[str(record["id"])] = record
    return found


def _rewrite_predictions(
    path: Path, items: Sequence[BenchItem], verdicts: dict[str, Verdict]
) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(
                json.dumps(prediction_record(item, verdicts[item.id]), ensure_ascii=False) + "\n"
            )
    os.replace(tmp, path)


def _check_identity(output: Path, identity: dict[str, Any]) -> None:
    path = output / RUN
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            stored = None
        if isinstance(stored, dict) and isinstance(stored.get("critic"), dict):
            spec = stored["critic"].get("spec")  # runs recorded before the address was dropped
            stored["critic"]["spec"] = spec_without_url(spec) if isinstance(spec, str) else spec
        if stored is not None and stored != json.loads(json.dumps(identity)):
            changed = _differences(stored, identity)
            raise InputError(
                f"{output} holds a run of a different benchmark or critic "
                f"({'; '.join(changed)}). Use another --output, or delete {output} to start over."
            )
        if stored is not None:
            return
    elif (output / PREDICTIONS).exists():
        raise InputError(f"{output} has predictions but no {RUN}; use another --output")
    write_json(path, identity)


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    new = json.loads(json.dumps(new))
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _differences(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [f"{prefix.rstrip('.')}: {old!r} -> {new!r}"]
