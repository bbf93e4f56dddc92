"""Building a run from its config: read problems, open the store, check Lean, load the engines,
then drive the pipeline with a progress display. The explicit build step between plain config
and a running pipeline; the CLI is a thin layer over ``run_job``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formalize.config import RunConfig
from formalize.corpus import Store, default_db_path
from formalize.errors import InputError
from formalize.inputs import FieldMap, InputIssue, read_problems
from formalize.pipeline import Counters, Pipeline, install_interrupt_handler
from formalize.version import code_version


@dataclass(frozen=True)
class RunOutcome:
    """What a finished (or stopped) run reports back."""

    run_id: str
    db: Path
    counters: Counters
    stopped: bool


def run_job(
    config: RunConfig,
    *,
    issue_reporter: Callable[[Sequence[InputIssue]], None] | None = None,
) -> RunOutcome:
    """Run the main job described by ``config``."""
    from formalize.critic import Critic
    from formalize.lean import LeanChecker, LeanConfig
    from formalize.translate import Translator

    assert config.input is not None
    fields = FieldMap(config.id_field, config.text_field, config.answer_field)
    read = read_problems(config.input, fields)
    if issue_reporter is not None and read.issues:
        issue_reporter(read.issues)
    problems = read.problems[: config.limit] if config.limit is not None else read.problems
    if not problems:
        raise InputError(f"{config.input}: no readable problems")

    db = Path(config.db).expanduser() if config.db else default_db_path()
    with Store(db) as store, contextlib.ExitStack() as stack:
        try:
            lean_config = LeanConfig.from_mapping(config.lean)
        except (TypeError, ValueError) as exc:
            raise InputError(f"Lean settings: {exc}") from exc
        checker = LeanChecker(lean_config, cache=store.cache)
        stack.callback(checker.close)
        checker.preflight()  # fails fast, saying what is missing, before any model loads
        translator_engine, critic_engine = _load_engines(config, store, stack)
        translator = Translator(
            translator_engine,
            samples=config.samples,
            params=_translator_params(config),
        )
        critic = Critic(
            critic_engine,
            samples=config.critic_samples,
            rule=config.vote,
            params=_critic_params(config),
        )
        run_id = store.start_run(config.to_dict(), code_version())
        provenance = {
            "run_id": run_id,
            "translator": config.translator,
            "critic": config.critic,
            "translator_engine": translator_engine.describe(),
            "critic_engine": critic_engine.describe(),
            "translator_params": dataclasses.asdict(translator.params),
            "critic_params": critic.provenance()["params"],
            "critic_samples": config.critic_samples,
            "vote": config.vote,
            "code_version": code_version(),
        }
        pipeline = Pipeline(
            translator,
            checker,
            critic,
            store,
            rounds=config.rounds,
            batch_size=config.batch_size,
            max_in_flight=config.max_in_flight,
            provenance=provenance,
        )
        restore = install_interrupt_handler(pipeline)
        status = "failed"
        try:
            with _progress(pipeline, len(problems), enabled=config.progress):
                counters = pipeline.run(problems, run_id)
            status = "interrupted" if pipeline.stopped else "completed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            restore()
            store.finish_run(run_id, status, pipeline.counters.as_dict())
        return RunOutcome(run_id, store.path, counters, pipeline.stopped)


def _load_engines(config: RunConfig, store: Store, stack: contextlib.ExitStack) -> tuple[Any, Any]:
    from formalize.models import load_engine

    translator = load_engine(config.translator, cache=store.cache)
    stack.callback(translator.close)
    if config.critic == config.translator:
        return translator, translator
    critic = load_engine(config.critic, cache=store.cache)
    stack.callback(critic.close)
    return translator, critic


def _translator_params(config: RunConfig) -> Any:
    from formalize.models import GenerationParams

    return GenerationParams(
        n=config.samples,
        temperature=config.translator_temperature,
        max_tokens=config.translator_max_tokens,
        seed=config.seed,
    )


def _critic_params(config: RunConfig) -> Any:
    from formalize.critic import critic_params

    params = critic_params(config.critic_samples)
    changes: dict[str, Any] = {"seed": config.seed}
    if config.critic_temperature is not None:
        changes["temperature"] = config.critic_temperature
    if config.critic_max_tokens is not None:
        changes["max_tokens"] = config.critic_max_tokens
    return dataclasses.replace(params, **changes)


@contextlib.contextmanager
def _progress(pipeline: Pipeline, total: int, enabled: bool) -> Iterator[None]:
    """A live line: problems finished, the funnel, the current round, rate and ETA."""
    if not enabled:
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="problem", file=sys.stderr, dynamic_ncols=True)

    def update(c: Counters) -> None:
        bar.n = min(total, c.done + c.exhausted)
        bar.set_postfix_str(
            f"round {c.round} | {c.candidates} cand -> {c.compiled} compiled -> "
            f"{c.faithful} faithful -> {c.accepted} accepted",
            refresh=True,
        )

    pipeline.on_progress = update
    try:
        yield
    finally:
        bar.close()
