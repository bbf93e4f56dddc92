"""Building a run from its config: read problems, open the store, check Lean, load the engines,
then drive the pipeline with a progress display. The explicit build step between plain config
and a running pipeline; the CLI is a thin layer over ``run_job``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formalize.config import RunConfig
from formalize.corpus import Store, default_db_path
from formalize.errors import FormalizeError, InputError
from formalize.inputs import FieldMap, InputIssue, ReadResult, read_problems
from formalize.judges import build_panel
from formalize.pipeline import Counters, Pipeline, install_interrupt_handler
from formalize.preflight import Preflight
from formalize.run_notes import funnel_note, skipped_exhausted_note
from formalize.settings import SettingIssue
from formalize.stopping import Abort
from formalize.version import code_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    """What a finished (or stopped) run reports back."""

    run_id: str
    db: Path
    counters: Counters
    stopped: bool
    skipped_lines: int = 0  # input rows that could not be read
    notes: tuple[str, ...] = ()  # what the counts do not say (formalize.run_notes)
    signal: str | None = None  # SIGINT or SIGTERM when a signal stopped the run
    aborted: bool = False  # stopped at once (a second signal, or the grace period ran out)
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM (formalize.stopping)


def run_job(
    config: RunConfig,
    *,
    setting_issues: Sequence[SettingIssue] = (),
    issue_reporter: Callable[[Sequence[InputIssue]], None] | None = None,
    notice: Callable[[str], None] | None = None,
    exit_on_abort: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> RunOutcome:
    """Run the main job described by ``config``.

    First the preflight: ``setting_issues`` (settings that could not be used), the input, the
    store, Lean and both engines are checked, and a ``PreflightError`` lists everything
    missing before any model loads. ``issue_reporter`` gets the skipped input rows, ``notice``
    one-line messages for the user (which input fields were used, ...). Ctrl-C and SIGTERM
    stop the run (``formalize.stopping``); ``exit_on_abort`` (the command line) lets the
    process end itself when the grace period is over or a second signal came.
    ``on_outcome`` gets the outcome before the engines, Lean and the store are closed: after
    a second Ctrl-C the process may be ended a few seconds later, and the summary must not
    wait for a worker's cleanup (a stopping test saw it cut off).
    """
    from formalize.translate import Translator

    say = notice or (lambda text: None)
    log.info("preflight: settings, input, corpus, Lean, translator and critic")
    check = Preflight()
    bad = {issue.key for issue in setting_issues}
    for issue in setting_issues:
        check.add(f"setting {issue.key}", issue.message)
    read = _read_input(config, check) if "input" not in bad else None
    if read is not None and read.issues and issue_reporter is not None:
        issue_reporter(read.issues)
    problems = [] if read is None else read.problems
    problems = problems[: config.limit] if config.limit is not None else problems
    db = Path(config.db).expanduser() if config.db else default_db_path()
    with contextlib.ExitStack() as stack:
        store = _open_store(db, check)
        if store is not None:
            stack.callback(store.close)
        executor = _executor(config, check)
        if executor is not None:
            stack.callback(executor.close)  # last: after the engines and the checker
        lean_config = _lean_config(config, check)
        checker = None
        if lean_config is not None and executor is not None:
            checker = executor.checker(lean_config, None if store is None else store.cache)
            stack.callback(checker.close)
        if executor is not None and executor.prepare(check) and checker is not None:
            check.lean(checker)
        judges = _judges(config, check) if not bad & {"critic", "judges"} else []
        roles = [("translator", config.translator)] if "translator" not in bad else []
        for judge in judges:
            role = "critic" if len(judges) == 1 else f"judge {judge.name}"
            roles += [(role, spec) for spec in judge.engine_specs]
        if executor is not None:
            executor.check_engines(check, roles)
        filter_names = _filter_names(config, problems, check)
        index = _open_index(config, lean_config, check, say)
        if index is not None:
            stack.callback(index.close)
        check.raise_if_missing()
        log.info("preflight passed; corpus %s", db)
        assert store is not None and checker is not None and read is not None
        assert executor is not None and lean_config is not None
        say(f"input: {len(problems)} problems from {config.input}")
        say(read.describe_fields())

        engine_for = _engine_loader(config, store, stack, executor)
        translator_engine = engine_for(config.translator)
        grounding, names = _grounding(config, index)
        translator = Translator(
            translator_engine,
            samples=config.samples,
            params=_translator_params(config),
            grounding=grounding,
        )
        panel = build_panel(
            judges,
            config.combine,
            engine_for,
            lambda j: _critic_params(config, j.samples),
            definitions=None if grounding is None else grounding.definitions,
        )
        first = panel.members[0].judge
        filters, filter_record = _build_filters(config, filter_names, checker)
        filters, truth_record = _lean_truth(checker, filters, config, say)
        filter_record = {**filter_record, **truth_record}
        if filters:
            say("filters: " + ", ".join(f.name for f in filters))
        run_id = store.start_run({**config.to_dict(), **filter_record}, code_version())
        log.info("run %s: %d problems, %d rounds", run_id, len(problems), config.rounds)
        provenance = {
            "run_id": run_id,
            "translator": config.translator,
            "critic": " + ".join(j.spec for j in judges),
            "translator_engine": translator_engine.describe(),
            "critic_engine": panel.engines[0].describe(),
            "translator_params": dataclasses.asdict(translator.params),
            "critic_params": first.provenance()["params"],
            "critic_samples": judges[0].samples,
            "vote": judges[0].vote,
            "judges": panel.provenance(),
            "combine": str(panel.combine),
            "filters": {f.name: f.version for f in filters},
            "filter_policy": dataclasses.asdict(_policy(config)),
            "grounding": grounding.provenance() if grounding is not None else {"retriever": "none"},
            "names": {
                "mode": config.names if names is not None else "off",
                "index_revision": None if index is None else index.revision,
            },
            "code_version": code_version(),
        }
        pipeline = Pipeline(
            translator,
            checker,
            panel,
            store,
            rounds=config.rounds,
            batch_size=config.batch_size,
            max_in_flight=config.max_in_flight,
            retry_exhausted=config.retry_exhausted,
            check_slice=max(16, 8 * executor.lean_workers(lean_config)),
            filters=filters,
            policy=_policy(config),
            provenance=provenance,
            names=names,
            names_mode=config.names,
        )
        handler = install_interrupt_handler(
            pipeline, config.grace_period_s, hard_exit=exit_on_abort
        )
        status = "failed"
        aborted = False
        try:
            with _progress(pipeline, config), _heartbeat(store, run_id):
                pipeline.run(problems, run_id)
            status = "interrupted" if pipeline.stopped else "completed"
        except Abort:
            status, aborted = "interrupted", True
        except KeyboardInterrupt:  # a Ctrl-C before the handler was in place
            status = "interrupted"
            raise
        finally:
            handler.restore()
            store.finish_run(run_id, status, pipeline.counters.as_dict())
            log.info("run %s %s: %s", run_id, status, pipeline.counters.as_dict())
        notes = (
            None  # with --retry-exhausted, the retry_capped note says what to do
            if config.retry_exhausted
            else skipped_exhausted_note(
                store, pipeline.skipped_exhausted, config.translator, config.rounds
            ),
            funnel_note(pipeline.counters),
        )
        outcome = RunOutcome(
            run_id,
            store.path,
            pipeline.counters,
            pipeline.stopped or aborted,
            read.skipped,
            tuple(n for n in notes if n),
            signal=handler.signal_name,
            aborted=aborted,
            exit_code=handler.exit_code,
        )
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome


def _read_input(config: RunConfig, check: Preflight) -> ReadResult | None:
    if not config.input:
        check.add("input", "no problems file given", "give one: formalize run PROBLEMS.jsonl")
        return None
    fields = FieldMap(config.id_field, config.text_field, config.answer_field)
    try:
        read = read_problems(config.input, fields)
    except InputError as exc:
        check.add("input", str(exc))
        return None
    if not read.problems:
        check.add(
            "input",
            f"{config.input}: no readable problems",
            "see the skipped lines above; --text-field NAME picks the statement field",
        )
    return read


def _filter_names(config: RunConfig, problems: Sequence[Any], check: Preflight) -> tuple[str, ...]:
    """The filters this run uses; a preflight problem when they cannot do what was asked."""
    from formalize.filters import filter_names, reference_of

    with_reference = sum(reference_of(p) is not None for p in problems)
    try:
        names = filter_names(config.filters, has_reference=with_reference > 0)
    except InputError as exc:
        check.add("setting filters", str(exc))
        return ()
    if config.require_reference:
        if problems and with_reference == 0:
            check.add(
                "setting require_reference",
                "no problem in the input has a reference statement, so nothing could be accepted",
                "give rows a `reference` (or `formal_statement` and `header`, or `lean4_file`) "
                "field, or drop --require-reference",
            )
        elif "reference" not in names:
            check.add(
                "setting require_reference",
                "--require-reference needs the reference filter, which --filters leaves out",
                "add it: --filters " + ",".join([*names, "reference"]),
            )
    return names


def _open_index(
    config: RunConfig, lean_config: Any, check: Preflight, say: Callable[[str], None]
) -> Any:
    """The Lean project's declaration index (``formalize.index``), or None: without one, the
    run says so once (and how to build it) when retrieval and the name check were left at
    their defaults, and it is a preflight problem when they were asked for explicitly."""
    wanted = config.retrieval not in (None, "none") or config.names == "precheck"
    if config.retrieval == "none" and config.names == "off":
        return None
    from formalize.index.locate import index_path
    from formalize.index.store import DeclarationIndex

    project = getattr(lean_config, "lean_project", None)
    path = index_path(Path(project)) if project is not None else None
    if path is None:
        what = f"--retrieval {config.retrieval}" if config.retrieval not in (None, "none") else ""
        what = what or "--names precheck"
        how = "build it with `formalize lean index` (or `formalize lean setup`)"
        if wanted:
            check.add("declaration index", f"{what} needs the Lean project's index", how)
        else:
            say(
                f"no Mathlib declaration index for {project}: prompts carry no retrieved "
                f"declarations and names are not checked; {how}"
            )
        return None
    if config.retrieval == "embedding":
        import importlib.util

        missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
        if missing:
            check.add(
                "setting retrieval",
                f"the embedding retriever needs {' and '.join(missing)}",
                "pip install 'formalize-lean[hf]', or --retrieval bm25",
            )
    try:
        return DeclarationIndex.open(path)
    except FormalizeError as exc:
        check.add("declaration index", str(exc))
        return None


def _grounding(config: RunConfig, index: Any) -> tuple[Any, Any]:
    """The run's ``Grounding`` (retrieval for the translator, definitions for the critic)
    and its ``NameChecker``; (None, None) without an index."""
    if index is None:
        return None, None
    from formalize.grounding import Grounding
    from formalize.names import NameChecker

    resolver = NameChecker(index)
    names = resolver if config.names != "off" else None
    name = config.retrieval or "bm25"
    if name == "none":  # today's prompts, byte for byte (the critic's too)
        return None, names
    from formalize.retrieval import build_retriever

    retriever = build_retriever(name, index)
    grounding = Grounding(retriever, config.retrieval_k, resolver=resolver, revision=index.revision)
    return grounding, names


def _policy(config: RunConfig) -> Any:
    from formalize.filters import FilterPolicy

    return FilterPolicy(
        reject_trivial=config.reject_trivial,
        require_reference=config.require_reference,
        judge_all=config.judge_all,
    )


def _build_filters(
    config: RunConfig, names: Sequence[str], checker: Any
) -> tuple[list[Any], dict[str, Any]]:
    """The filters, and what the run record keeps of them (names, tactic lists)."""
    from formalize.filters import FilterSettings, build_filters

    settings = FilterSettings(probe_timeout_s=config.probe_timeout_s)
    filters = build_filters(names, checker, settings)
    record = {"filters_used": list(names), "filter_tactics": settings.tactics if names else {}}
    return filters, record


def _lean_truth(
    checker: Any, filters: list[Any], config: RunConfig, say: Any
) -> tuple[list[Any], dict[str, Any]]:
    """Before the first check: the Lean's tokens added to the gate, the filters its self-test
    found wrong switched off (``formalize.truth``; measured once per Lean revision), and what
    the run record keeps of it."""
    from formalize.filters import FilterSettings
    from formalize.truth import answers, apply

    settings = FilterSettings(probe_timeout_s=config.probe_timeout_s)
    truth = answers(checker, settings, say)
    record = {"lean_self_test": None if truth is None else truth.summary()}
    return apply(truth, filters, say), record


def _open_store(db: Path, check: Preflight) -> Store | None:
    try:
        return Store(db)
    except FormalizeError as exc:
        check.add("corpus", str(exc))
        return None


def _lean_config(config: RunConfig, check: Preflight) -> Any:
    from formalize.lean import LeanConfig

    try:
        return LeanConfig.from_mapping(config.lean)
    except (TypeError, ValueError) as exc:
        check.add("Lean settings", str(exc))
        return None


def _judges(config: RunConfig, check: Preflight) -> list[Any]:
    """The run's judges (``[[judges]]`` tables, else ``--critic`` specs)."""
    from formalize.config import DEFAULT_CRITIC
    from formalize.judges import parse_judges

    if config.judges and config.critic != DEFAULT_CRITIC:
        check.add(
            "setting judges",
            "both `critic` and [[judges]] are set in the config file",
            "keep one: the [[judges]] tables (e.g. from `formalize bench calibrate`) or critic",
        )
        return []
    try:
        return parse_judges(
            config.judges, config.critic, samples=config.critic_samples, vote=config.vote
        )
    except ValueError as exc:
        check.add("setting judges", str(exc))
        return []


def _executor(config: RunConfig, check: Preflight) -> Any:
    """The run's executor (``formalize.executors``), or None with the problem in ``check``."""
    from formalize.executors import build_executor

    try:
        return build_executor(config.executor, config.ray_address, config.ray)
    except FormalizeError as exc:
        check.add(f"executor {config.executor}", str(exc))
        return None


def _engine_loader(
    config: RunConfig, store: Store, stack: contextlib.ExitStack, executor: Any
) -> Callable[[str], Any]:
    """``spec -> engine``, loading each spec once (a judge on the translator's spec shares
    its engine), closed with the run; the executor decides where it runs."""
    loaded: dict[str, Any] = {}

    def engine_for(spec: str) -> Any:
        if spec not in loaded:
            role = "translator" if spec == config.translator else "judge"
            started = time.monotonic()
            log.info("loading the %s engine %s", role, spec)
            engine = executor.engine(spec, role, store.cache)
            stack.callback(engine.close)
            log.info("%s engine ready in %.1f s: %s", role, time.monotonic() - started, engine)
            loaded[spec] = engine
        return loaded[spec]

    return engine_for


def _translator_params(config: RunConfig) -> Any:
    from formalize.models import GenerationParams

    return GenerationParams(
        n=config.samples,
        temperature=config.translator_temperature,
        max_tokens=config.translator_max_tokens,
        seed=config.seed,
    )


def _critic_params(config: RunConfig, samples: int) -> Any:
    from formalize.critic import critic_params

    params = critic_params(samples)
    changes: dict[str, Any] = {"seed": config.seed}
    if config.critic_temperature is not None:
        changes["temperature"] = config.critic_temperature
    if config.critic_max_tokens is not None:
        changes["max_tokens"] = config.critic_max_tokens
    return dataclasses.replace(params, **changes)


@contextlib.contextmanager
def _heartbeat(store: Store, run_id: str) -> Iterator[None]:
    """Write the run's heartbeat every ``HEARTBEAT_S`` while it runs (``formalize.liveness``)."""
    from formalize.liveness import HEARTBEAT_S

    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            try:
                store.heartbeat(run_id)
            except Exception:  # a busy store misses one beat; the next one comes
                log.debug("heartbeat not written", exc_info=True)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()


@contextlib.contextmanager
def _progress(pipeline: Pipeline, config: RunConfig) -> Iterator[None]:
    """Progress on stderr while the pipeline runs (see ``formalize.progress``)."""
    if not config.progress:
        yield
        return
    from formalize.progress import ProgressReporter

    reporter = ProgressReporter(
        sys.stderr, rounds=config.rounds, interval=config.progress_interval
    ).start()
    pipeline.on_progress = reporter.update
    try:
        yield
    finally:
        reporter.close()
