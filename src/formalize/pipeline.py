"""The loop: translate -> safety + compile check -> Lean-verified filters -> critic -> accept
or refine, across problems.

Problems travel in chunks. Each chunk moves through four stages (translate on the translator's
engine, check and filter on the Lean pool, judge on the critic's engine); every engine runs on
its own single-thread executor, and several chunks are in flight at once, so the engine
generates for one chunk while Lean checks another. A candidate a filter rejects (vacuous,
refuted, ...) is not sent to the critic unless ``policy.judge_all``. A chunk's round is written
to the store in one transaction per problem as soon as its verdicts are in; unfinished problems
go back into the queue with the feedback for their next round. A rerun resumes from the store
(and replays model calls and Lean checks from the cache).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from formalize.corpus import ProblemProgress, ProblemState, Store
from formalize.filters import Filter, FilterItem, FilterPolicy, run_filters
from formalize.judges import Panel
from formalize.outcome import attempt_status, choose_feedback, critic_share
from formalize.records import (
    Attempt,
    AttemptStatus,
    Candidate,
    CandidateStatus,
    CheckResult,
    CheckStatus,
    Problem,
    Signal,
    Verdict,
)
from formalize.stopping import DEFAULT_GRACE_S, StopHandler
from formalize.translate import Feedback, TranslationRequest

__all__ = ["Counters", "Pipeline", "attempt_status", "choose_feedback"]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from formalize.critic import Critic
    from formalize.lean import LeanChecker
    from formalize.names import NameChecker, NameReport
    from formalize.translate import Translator


@dataclass
class RoundProgress:
    """How far one round has got, stage by stage: problems that entered it, and of those the
    ones translated, their candidates checked by Lean and judged by the critic, and the
    problems whose round is recorded (``continued``: sent on to the next round)."""

    problems: int = 0
    translated: int = 0
    candidates: int = 0
    checked: int = 0  # candidates past the Lean stage (those without code count at once)
    compiled: int = 0
    filtered: int = 0  # compiled candidates past the Lean-verified filters
    unjudged: int = 0  # compiled candidates the filters rejected, so the critic never sees
    judged: int = 0  # compiled candidates the critic has judged
    finished: int = 0
    continued: int = 0


@dataclass
class Counters:
    """Running totals for the progress display and the final summary."""

    problems: int = 0
    skipped: int = 0  # finished in an earlier run
    skipped_exhausted: int = 0  # of those, exhausted (not retried): see Pipeline.skipped_exhausted
    done: int = 0
    exhausted: int = 0  # every round ran, nothing accepted
    duplicates: int = 0  # judged faithful, but each statement duplicated another entry
    retried: int = 0  # exhausted earlier, continued by --retry-exhausted
    retry_capped: int = 0  # exhausted earlier with all --rounds already used: not retried
    candidates: int = 0
    no_code: int = 0  # answers with no Lean code in them
    generation_failed: int = 0  # prompts the translator engine failed on
    rejected_by_gate: int = 0  # refused by the statement safety gate; never reached Lean
    lean_errors: int = 0  # Lean reported errors
    check_failed: int = 0  # the checker failed: timeout, crash, out of memory, protocol
    compiled: int = 0
    rejected_by_filters: int = 0  # compiled candidates a Lean-verified filter rejected
    critic_calls_saved: int = 0  # critic judgements those rejections made unnecessary
    faithful: int = 0
    accepted: int = 0
    round: int = 0
    samples: int = 1  # candidates expected per problem and round
    filters: int = 0  # Lean-verified filters the run uses
    names_unresolved: int = 0  # candidates with names the index lacks (before Lean)
    names_prechecked: int = 0  # of those, sent back without a Lean call (names = precheck)
    names_stale: int = 0  # of those, compiled: the index lacks names Lean has (stale index)
    model_calls: int = 0  # engine calls that generated (replays from the cache are not calls)
    generated_tokens: int = 0
    rounds: dict[int, RoundProgress] = field(default_factory=dict)

    def at(self, round_: int) -> RoundProgress:
        """The progress of round ``round_`` (created on first use)."""
        return self.rounds.setdefault(round_, RoundProgress())

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, recorded with the run."""
        data = dataclasses.asdict(self)
        data["rounds"] = {str(r): data["rounds"][r] for r in sorted(self.rounds)}
        return data


@dataclass
class _Chunk:
    requests: list[TranslationRequest]
    candidates: list[list[Candidate]] = field(default_factory=list)
    checks: dict[tuple[int, int], CheckResult] = field(default_factory=dict)
    signals: dict[tuple[int, int], tuple[Signal, ...]] = field(default_factory=dict)
    names: dict[tuple[int, int], NameReport] = field(default_factory=dict)
    verdicts: dict[tuple[int, int], Verdict] = field(default_factory=dict)
    # judged before any stop was asked: no request of it can have been cancelled
    judged_whole: bool = False


class Pipeline:
    """Chains a translator, a Lean checker, the filters and the judges (a critic, or a panel of
    judges), and writes every round to the store."""

    def __init__(
        self,
        translator: Translator,
        checker: LeanChecker,
        critic: Critic | Panel,
        store: Store,
        *,
        rounds: int = 3,
        batch_size: int = 32,
        max_in_flight: int = 3,
        check_slice: int | None = None,
        retry_exhausted: bool = False,
        filters: Sequence[Filter] = (),
        policy: FilterPolicy | None = None,
        provenance: dict[str, Any] | None = None,
        on_progress: Callable[[Counters], None] | None = None,
        names: NameChecker | None = None,
        names_mode: str = "advise",
    ) -> None:
        self.translator = translator
        self.checker = checker
        self.panel = critic if isinstance(critic, Panel) else Panel.of(critic)
        self.store = store
        self.rounds = rounds
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        # Lean checks go out in slices so that progress moves within a chunk; a slice is large
        # enough to keep every worker busy past the slowest check of the one before.
        workers = getattr(getattr(checker, "config", None), "workers", 1)
        self.check_slice = check_slice or max(16, 8 * workers)
        self.retry_exhausted = retry_exhausted
        self.filters = list(filters)
        self.policy = policy or FilterPolicy()
        self.provenance = dict(provenance or {})
        self.provenance.setdefault("retry_exhausted", retry_exhausted)
        self._retried: dict[str, int] = {}  # problem id -> rounds it had when retried
        # problems exhausted in earlier runs and skipped by this one (not retried)
        self.skipped_exhausted: list[str] = []
        self.provenance.setdefault("translate_prompt", translator.prompt_version)
        self.provenance.setdefault("critic_prompt", self.panel.prompt_version)
        self.on_progress = on_progress
        # the name check (formalize.names) between the gate and Lean: advise | precheck | off
        self.names = names if names_mode != "off" else None
        self.names_mode = names_mode
        self.counters = Counters(samples=translator.samples, filters=len(self.filters))
        self._stop = threading.Event()
        self._wake: Future[None] = Future()  # done once a stop is asked: wakes the loop
        self._count = threading.Lock()  # counters change on the stage threads too

    # ------------------------------------------------------------------ control

    def request_stop(self) -> None:
        """Stop soon: nothing new starts, queued model requests and Lean checks are cancelled,
        and of the chunks in flight only those already judged are recorded (whatever else
        finished is in the cache, so a rerun replays it). Safe to call from a signal handler:
        the cancelling happens on a thread of its own."""
        if self._stop.is_set():
            return
        self._stop.set()
        threading.Thread(target=self._cancel_pending, name="stop", daemon=True).start()

    def _cancel_pending(self) -> None:
        """Ask every engine and the Lean checker to drop what they have queued."""
        parts = {id(p): p for p in (self.translator.engine, *self.panel.engines, self.checker)}
        for part in parts.values():
            cancel = getattr(part, "cancel_pending", None)
            if cancel is not None:
                try:
                    cancel()
                except Exception:  # cancelling is best effort; the stop goes on regardless
                    log.warning("could not cancel the work queued on %r", part, exc_info=True)
        if not self._wake.done():
            self._wake.set_result(None)

    @property
    def stopped(self) -> bool:
        """True once a stop was requested."""
        return self._stop.is_set()

    # ------------------------------------------------------------------ run

    def run(self, problems: Sequence[Problem], run_id: str) -> Counters:
        """Formalize ``problems`` (resuming from the store); returns the counters."""
        self.store.add_problems(problems)
        progress = self.store.progress([p.id for p in problems])
        queue: collections.deque[TranslationRequest] = collections.deque()
        c = self.counters
        c.problems = len(problems)
        for problem in problems:
            state = progress[problem.id]
            if state.state is ProblemState.EXHAUSTED and self._retry(state):
                self._retried[problem.id] = state.rounds_done
                c.retried += 1
            elif state.state in (ProblemState.DONE, ProblemState.EXHAUSTED):
                c.skipped += 1
                if state.state is ProblemState.EXHAUSTED and not state.duplicate_of:
                    c.skipped_exhausted += 1
                    self.skipped_exhausted.append(problem.id)
                c.done += state.state is ProblemState.DONE
                duplicate = state.state is ProblemState.EXHAUSTED and bool(state.duplicate_of)
                c.duplicates += duplicate
                c.exhausted += state.state is ProblemState.EXHAUSTED and not duplicate
                continue
            if state.rounds_done >= self.rounds:  # an earlier run with more rounds stopped here
                c.skipped += 1
                c.exhausted += 1
                c.skipped_exhausted += 1
                self.skipped_exhausted.append(problem.id)
                continue
            feedback = Feedback.from_json(state.feedback) if state.feedback else None
            queue.append(TranslationRequest(problem, state.rounds_done + 1, feedback))
            c.at(state.rounds_done + 1).problems += 1
        self._notify()

        # the judges (several run side by side within the stage) go on their first engine's
        # thread: one shared with the translator waits for it, another overlaps with it
        engines = {id(self.translator.engine), id(self.panel.engines[0])}
        pools = {key: ThreadPoolExecutor(1, thread_name_prefix="engine") for key in engines}
        translate_pool = pools[id(self.translator.engine)]
        critic_pool = pools[id(self.panel.engines[0])]
        lean_pool = ThreadPoolExecutor(1, thread_name_prefix="lean")
        inflight: dict[Future[Any], tuple[str, _Chunk]] = {}
        aborted = False  # a second Ctrl-C (or the end of a grace period) waits for nothing
        try:
            while queue or inflight:
                while queue and len(inflight) < self.max_in_flight and not self.stopped:
                    chunk = _Chunk(
                        [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]
                    )
                    c.round = max(c.round, max(r.round for r in chunk.requests))
                    inflight[translate_pool.submit(self._translate, chunk)] = ("translate", chunk)
                if not inflight:
                    break
                waiting = [*inflight, *([] if self._wake.done() else [self._wake])]
                finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
                if self.stopped:
                    finished = self._drop_unfinished(inflight, finished)
                for future in finished:
                    if future is self._wake:
                        continue
                    stage, chunk = inflight.pop(future)
                    if self.stopped and not self._keep_after_stop(stage, chunk, future):
                        continue
                    future.result()  # re-raise a stage's exception here
                    log.debug("%s done: %d problems", stage, len(chunk.requests))
                    if stage == "translate":
                        self._translated(chunk)
                        inflight[lean_pool.submit(self._check, chunk)] = ("check", chunk)
                    elif stage == "check":
                        inflight[lean_pool.submit(self._filter, chunk)] = ("filter", chunk)
                    elif stage == "filter":
                        inflight[critic_pool.submit(self._judge, chunk)] = ("judge", chunk)
                    else:
                        self._judged(chunk)
                        # next rounds go first, so problems in flight finish before new ones start
                        queue.extendleft(reversed(self._record(chunk, run_id)))
                    self._notify()
        except KeyboardInterrupt:
            aborted = True
            raise
        finally:
            for pool in (*pools.values(), lean_pool):
                pool.shutdown(wait=not aborted, cancel_futures=True)
        return c

    def _drop_unfinished(
        self, inflight: dict[Future[Any], tuple[str, _Chunk]], finished: set[Future[Any]]
    ) -> set[Future[Any]]:
        """After a stop: cancel the stages still queued on their threads; ``finished`` as the
        loop should see it (cancelled stages taken out of ``inflight``)."""
        for future in list(inflight):
            if future not in finished and future.cancel():
                stage, chunk = inflight.pop(future)
                log.debug("stop: %s of %d problems cancelled", stage, len(chunk.requests))
        return {f for f in finished if f is self._wake or f in inflight}

    def _keep_after_stop(self, stage: str, chunk: _Chunk, future: Future[Any]) -> bool:
        """After a stop only chunks judged in full before it are recorded: any other goes no
        further (its finished model calls and Lean checks are in the cache for the rerun); a
        judge stage that ended after the stop may hold a cancelled request's non-answer."""
        error = future.exception()
        if stage == "judge" and error is None and chunk.judged_whole:
            return True
        if error is not None:
            log.info("stop: %s ended with %s: %s", stage, type(error).__name__, error)
        return False

    def _retry(self, state: ProblemProgress) -> bool:
        """Whether an exhausted problem gets more rounds (``retry_exhausted``): not when its
        faithful statements duplicated another entry (a retry would find it again), nor when
        it already had ``rounds`` rounds."""
        if not self.retry_exhausted or state.duplicate_of:
            return False
        if state.rounds_done >= self.rounds:
            self.counters.retry_capped += 1
            return False
        return True

    # ------------------------------------------------------------------ stages

    # Each stage returns at once when a stop came before it started: its chunk goes no further.

    def _translate(self, chunk: _Chunk) -> None:
        if self.stopped:
            return
        chunk.candidates = self.translator.translate(chunk.requests)

    def _check(self, chunk: _Chunk) -> None:
        if self.stopped:
            return
        by_header: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
        nothing_to_check = []
        for i, cands in enumerate(chunk.candidates):
            for j, cand in enumerate(cands):
                if cand.status is CandidateStatus.EXTRACTED:
                    by_header[cand.header].append((i, j))
                else:
                    nothing_to_check.append((i, j))
        held = self._check_names(chunk, [k for keys in by_header.values() for k in keys])
        if held:
            by_header = {h: [k for k in keys if k not in held] for h, keys in by_header.items()}
        self._checked(chunk, [*nothing_to_check, *sorted(held)])
        for header, keys in by_header.items():
            for start in range(0, len(keys), self.check_slice):
                if self.stopped:
                    return  # the slices checked are cached; the chunk goes no further
                part = keys[start : start + self.check_slice]
                statements = [chunk.candidates[i][j].lean for i, j in part]
                results = self.checker.check(statements, header=header)
                chunk.checks.update(zip(part, results, strict=True))
                self._checked(chunk, part)
                self._notify()
        self._names_signals(chunk)

    def _check_names(self, chunk: _Chunk, keys: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """Run the name check on the candidates about to go to Lean; with ``precheck``, the
        ones whose names do not resolve (and that the gate accepts) are held back from Lean."""
        if self.names is None or not keys:
            return set()
        texts = list(dict.fromkeys(chunk.candidates[i][j].lean for i, j in keys))
        reports = dict(zip(texts, self.names.check(texts), strict=True))
        held: set[tuple[int, int]] = set()
        for i, j in keys:
            report = reports[chunk.candidates[i][j].lean]
            chunk.names[(i, j)] = report
            if not report.ok and self.names_mode == "precheck":
                from formalize.lean.statement import check_statement

                if check_statement(chunk.candidates[i][j].lean).ok:
                    held.add((i, j))  # a refused candidate goes on, for the gate's reason
        with self._count:
            self.counters.names_prechecked += len(held)
        return held

    def _names_signals(self, chunk: _Chunk) -> None:
        """The ``names`` signal of each candidate the gate let through, first among its
        signals; a name Lean accepts but the index lacks is counted (a stale index), never a
        rejection. (A candidate the gate refused gets none: the gate decides first.)"""
        stale = unresolved = 0
        for key, report in chunk.names.items():
            check = chunk.checks.get(key)
            if check is not None and check.status is CheckStatus.REJECTED:
                continue
            accepted = check is not None and check.ok
            stale += accepted and not report.ok
            unresolved += not report.ok
            chunk.signals[key] = (report.signal(lean_accepted=accepted),)
        with self._count:
            self.counters.names_stale += stale
            self.counters.names_unresolved += unresolved

    def _filter(self, chunk: _Chunk) -> None:
        if self.stopped:
            return
        keys = sorted(k for k, r in chunk.checks.items() if r.ok)
        if self.filters and keys:
            # identical statements for one problem are filtered once
            unique: dict[tuple[int, str], int] = {}
            items: list[FilterItem] = []
            for i, j in keys:
                cand = chunk.candidates[i][j]
                if (i, cand.lean) not in unique:
                    unique[(i, cand.lean)] = len(items)
                    items.append(FilterItem.of(chunk.requests[i].problem, cand.lean, cand.header))
            found = run_filters(self.filters, items)
            for i, j in keys:
                found_here = found[unique[(i, chunk.candidates[i][j].lean)]]
                chunk.signals[(i, j)] = chunk.signals.get((i, j), ()) + found_here
        with self._count:
            for i, _ in keys:
                self.counters.at(chunk.requests[i].round).filtered += 1

    def _judge(self, chunk: _Chunk) -> None:
        if self.stopped:
            return
        compiled = sorted(k for k, r in chunk.checks.items() if r.ok)
        rejected = {k for k in compiled if self.policy.status(chunk.signals.get(k, ())) is not None}
        keys = compiled if self.policy.judge_all else [k for k in compiled if k not in rejected]
        with self._count:
            self.counters.rejected_by_filters += len(rejected)
            if not self.policy.judge_all:
                for i, _ in rejected:
                    self.counters.at(chunk.requests[i].round).unjudged += 1
                saved = {(i, chunk.candidates[i][j].lean) for i, j in rejected}
                self.counters.critic_calls_saved += len(saved) * self.panel.calls_per_statement
        # identical statements for one problem (common with k samples) are judged once
        unique: dict[tuple[int, str], int] = {}
        for i, j in keys:
            unique.setdefault((i, chunk.candidates[i][j].lean), len(unique))
        pairs = [(chunk.requests[i].problem, lean) for i, lean in unique]
        assessed = self.panel.assess(pairs) if pairs else []
        for i, j in keys:
            verdict, signals = assessed[unique[(i, chunk.candidates[i][j].lean)]]
            chunk.verdicts[(i, j)] = verdict
            chunk.signals[(i, j)] = chunk.signals.get((i, j), ()) + signals
        chunk.judged_whole = not self.stopped  # the stop is set before anything is cancelled

    # ------------------------------------------------------------------ bookkeeping

    def _translated(self, chunk: _Chunk) -> None:
        with self._count:
            c = self.counters
            for request, cands in zip(chunk.requests, chunk.candidates, strict=True):
                c.at(request.round).translated += 1
                c.at(request.round).candidates += len(cands)
                c.candidates += len(cands)
                for cand in cands:
                    c.no_code += cand.status is CandidateStatus.NO_CODE
                    c.generation_failed += cand.status is CandidateStatus.GENERATION_FAILED
            self._engine_stats()

    def _checked(self, chunk: _Chunk, keys: Sequence[tuple[int, int]]) -> None:
        with self._count:
            for i, j in keys:
                progress = self.counters.at(chunk.requests[i].round)
                progress.checked += 1
                ok = (i, j) in chunk.checks and chunk.checks[(i, j)].ok
                progress.compiled += ok
                self.counters.compiled += ok
                result = chunk.checks.get((i, j))
                if result is not None and not ok:
                    self.counters.rejected_by_gate += result.status is CheckStatus.REJECTED
                    self.counters.lean_errors += result.status is CheckStatus.LEAN_ERROR
                    self.counters.check_failed += result.status.is_infrastructure

    def _judged(self, chunk: _Chunk) -> None:
        with self._count:
            for (i, _), verdict in chunk.verdicts.items():
                self.counters.at(chunk.requests[i].round).judged += 1
                self.counters.faithful += verdict.faithful
            self._engine_stats()

    def _engine_stats(self) -> None:
        engines = {id(e): e for e in (self.translator.engine, *self.panel.engines)}.values()
        stats = [getattr(e, "stats", None) for e in engines]
        self.counters.model_calls = sum(s.calls for s in stats if s is not None)
        self.counters.generated_tokens = sum(
            getattr(s, "completion_tokens", 0) for s in stats if s is not None
        )

    def _record(self, chunk: _Chunk, run_id: str) -> list[TranslationRequest]:
        """Write each problem's round; returns the requests for the next round."""
        follow_ups = []
        for i, request in enumerate(chunk.requests):
            attempts = [
                self._attempt(
                    request,
                    cand,
                    chunk.checks.get((i, j)),
                    chunk.verdicts.get((i, j)),
                    chunk.signals.get((i, j), ()),
                )
                for j, cand in enumerate(chunk.candidates[i])
            ]
            ranked = sorted(
                (k for k, a in enumerate(attempts) if a.status is AttemptStatus.FAITHFUL),
                key=lambda k: (
                    -critic_share(attempts[k]),
                    len(attempts[k].candidate.lean),
                    attempts[k].sample,
                ),
            )
            feedback = None if ranked else choose_feedback(attempts)
            last = request.round >= self.rounds
            self.counters.at(request.round).finished += 1
            entry = self.store.record_round(
                run_id,
                request.problem.id,
                request.round,
                attempts,
                ranked_faithful=ranked,
                feedback=None if feedback is None else feedback.to_json(),
                last_round=last,
            )
            if entry is not None:
                self.counters.accepted += 1
                self.counters.done += 1
            elif ranked:
                self.counters.duplicates += 1
            elif last:
                self.counters.exhausted += 1
            else:
                follow_ups.append(TranslationRequest(request.problem, request.round + 1, feedback))
                self.counters.at(request.round).continued += 1
                self.counters.at(request.round + 1).problems += 1
        return follow_ups

    def _attempt(
        self,
        request: TranslationRequest,
        cand: Candidate,
        check: CheckResult | None,
        verdict: Verdict | None,
        signals: tuple[Signal, ...] = (),
    ) -> Attempt:
        status = attempt_status(cand, check, verdict, signals, self.policy)
        feedback = None if request.feedback is None else request.feedback.to_json()
        provenance = self.provenance
        if cand.problem_id in self._retried:
            provenance = {**provenance, "retried_after_round": self._retried[cand.problem_id]}
        return Attempt(
            problem_id=cand.problem_id,
            round=cand.round,
            sample=cand.sample,
            status=status,
            candidate=cand,
            check=check,
            verdict=verdict,
            feedback=feedback,
            provenance=provenance,
            signals=signals,
        )

    def _notify(self) -> None:
        if self.on_progress is not None:
            with self._count:
                self.on_progress(self.counters)


def install_interrupt_handler(
    pipeline: Pipeline, grace_s: float | None = None, *, hard_exit: bool = False
) -> StopHandler:
    """Ctrl-C and SIGTERM stop ``pipeline`` (``formalize.stopping``; ``hard_exit`` for the
    command line); call ``restore()`` on the handler returned when the run is over."""
    handler = StopHandler(
        pipeline.request_stop, grace_s=grace_s or DEFAULT_GRACE_S, hard_exit=hard_exit
    )
    return handler.install()
