"""The REPL pool: worker threads, each driving one REPL process bound to one header.

A worker imports its header once (``{"cmd": header}`` gives env N), verifies the import with a
probe, then checks bodies as ``{"cmd": body, "env": N}``. Jobs wait on a bounded board, one
queue per header; a worker takes jobs of its own header first and switches header (a new
process, a new import) only when its header has nothing left and another header has more
jobs than workers. Lean processes are cattle: a timeout, a crash, a memory spike or garbage on
stdout kills the process, the check gets that status, and the next job starts a fresh one
(after a back-off when the process crashed); after ``recycle_after`` checks a process is
replaced anyway, since the REPL never frees an environment.

With ``workers`` None the pool sizes itself: it starts one worker, measures that worker's
private memory once its header is imported, and starts as many more as the memory available
takes (``formalize.lean.memory.suggest_workers``); ``sizing`` says what it decided.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formalize.errors import SetupError
from formalize.lean import memory
from formalize.lean.config import LeanConfig, default_workers
from formalize.lean.headers import probe_command
from formalize.lean.protocol import error_object_result, verdict
from formalize.lean.repl import ReplFailure, ReplNotStarted, ReplProcess, ReplTimeout
from formalize.lean.sandbox import plan_command
from formalize.records import CheckResult, CheckStatus, Message, Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One check: a body under a (normalised) header.

    ``closing`` are the ``end`` lines that close what the body leaves open and ``alone`` says
    that the body has effects beyond its own scopes (an instance, a notation): a backend
    that checks several bodies in one file needs both; the REPL checks each body in a fresh
    copy of the header's environment and needs neither. Neither is part of equality: they
    follow from the body."""

    header: str
    body: str
    closing: tuple[str, ...] | None = field(default=None, compare=False)  # None: not known
    alone: bool = field(default=False, compare=False)
    timeout_s: float | None = field(default=None, compare=False)  # None: the config's
    #: names the body declares that file mode checks are not already declared (its wrapper
    #: namespace would otherwise let them shadow the library's, where the REPL refuses them)
    guard: tuple[str, ...] = field(default=(), compare=False)


@dataclass
class PoolStats:
    """What the pool did since it was created."""

    processes: int = 0
    imports: int = 0
    checks: int = 0
    recycled: int = 0
    header_switches: int = 0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)


class HeaderRejected(Exception):
    """Lean refused a header (import errors, or the probe found a module missing)."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ChecksCancelled(Exception):
    """A ``run`` whose queued jobs were cancelled (``ReplPool.cancel_pending``): ``results``
    holds, in job order, the result of each job that ran and None for the others."""

    def __init__(self, results: list[CheckResult | None]) -> None:
        super().__init__("Lean checks cancelled: the run is stopping")
        self.results = results


class _Batch:
    """Results of one ``run`` call, filled in by workers in any order as jobs arrive."""

    def __init__(self, bar: Any) -> None:
        self.results: list[CheckResult | None] = []
        self.left = 0
        self.closed = False
        self.cancelled = False
        self.bar = bar
        self.cond = threading.Condition()

    def expect(self) -> int:
        """Reserve the slot of the next job; its index."""
        with self.cond:
            self.results.append(None)
            self.left += 1
            return len(self.results) - 1

    def done(self, index: int, result: CheckResult) -> None:
        with self.cond:
            self.results[index] = result
            self.left -= 1
            if self.bar is not None:
                self.bar.update(1)
            if self.left == 0:
                self.cond.notify_all()

    def cancel(self) -> None:
        """No more jobs of this batch are queued (those queued are dropped next)."""
        with self.cond:
            self.cancelled = True

    def dropped(self, count: int) -> None:
        """``count`` jobs of this batch were not queued, or taken off the board: never done."""
        with self.cond:
            self.left -= count
            self.cond.notify_all()

    def wait(self) -> list[CheckResult]:
        """Block until every expected job is done; the results in job order
        (``ChecksCancelled`` when some were cancelled)."""
        with self.cond:
            self.closed = True
            while self.left:
                self.cond.wait()
        if self.cancelled:
            raise ChecksCancelled(list(self.results))
        return [r for r in self.results if r is not None]


_Item = tuple[Job, _Batch, int]


class _Board:
    """The bounded job queue, one deque per header, with header-aware taking."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.cond = threading.Condition()
        self.queues: dict[str, collections.deque[_Item]] = {}
        self.size = 0
        self.bound: collections.Counter[str] = collections.Counter()
        self.closed = False

    def put(self, item: _Item) -> None:
        with self.cond:
            while self.size >= self.capacity and not self.closed:
                self.cond.wait()
            if item[1].cancelled:
                item[1].dropped(1)
                return
            if self.closed:
                raise RuntimeError("the Lean pool is closed")
            self.queues.setdefault(item[0].header, collections.deque()).append(item)
            self.size += 1
            self.cond.notify_all()

    def take(self, worker: _Worker) -> _Item | None:
        with self.cond:
            while not self.closed:
                header = self._choose(worker.bound)
                if header is not None:
                    queue = self.queues[header]
                    item = queue.popleft()
                    if not queue:
                        del self.queues[header]
                    self.size -= 1
                    if header != worker.bound:
                        if worker.bound is not None:
                            self.bound[worker.bound] -= 1
                        self.bound[header] += 1
                        worker.bound = header
                    self.cond.notify_all()
                    return item
                self.cond.wait()
            return None

    def _choose(self, current: str | None) -> str | None:
        if current is not None and current in self.queues:
            return current
        best, best_score = None, -1.0
        for header, queue in self.queues.items():
            workers = self.bound[header]
            if workers and len(queue) <= workers:
                continue  # the workers already on it will get there first
            score = len(queue) / (workers + 1)
            if score > best_score:
                best, best_score = header, score
        return best

    def discard(self, batch: _Batch) -> int:
        """Take the batch's queued jobs off the board; how many there were."""
        with self.cond:
            before = self.size
            for header in list(self.queues):
                kept = collections.deque(i for i in self.queues[header] if i[1] is not batch)
                self.size -= len(self.queues[header]) - len(kept)
                if kept:
                    self.queues[header] = kept
                else:
                    del self.queues[header]
            self.cond.notify_all()
            return before - self.size

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class _Worker(threading.Thread):
    """One REPL slot: at most one process, bound to one header at a time."""

    def __init__(self, pool: ReplPool, n: int) -> None:
        super().__init__(name=f"lean-repl-{n}", daemon=True)
        self.pool = pool
        self.config = pool.config
        self.bound: str | None = None  # the header the board routes to this worker
        self.proc: ReplProcess | None = None
        self.header: str | None = None
        self.env = 0
        self.checks = 0
        self.crashes = 0  # consecutive crashes, for the back-off

    def run(self) -> None:
        while True:
            item = self.pool.board.take(self)
            if item is None:
                break
            job, batch, index = item
            try:
                result = self.check(job)
            except Exception as exc:  # never lose a job, whatever happened
                self.retire()
                result = CheckResult(CheckStatus.CRASHED, reason=f"internal error: {exc!r}")
            batch.done(index, result)
        self.retire()

    def check(self, job: Job) -> CheckResult:
        pool, config = self.pool, self.config
        start = time.monotonic()
        if pool.fatal is not None:
            return CheckResult(CheckStatus.CRASHED, reason=str(pool.fatal))
        failed = pool.failed_headers.get(job.header)
        if failed is not None:
            return failed
        try:
            env = self.ensure(job.header)
        except HeaderRejected as exc:
            return exc.result
        except ReplFailure as exc:
            self.failed(exc)
            return CheckResult(
                exc.status,
                elapsed_s=time.monotonic() - start,
                toolchain=pool.toolchain,
                reason=f"while importing the header: {exc.reason}",
            )
        assert self.proc is not None
        begin = time.monotonic()
        try:
            reply = self.proc.request(
                {"cmd": job.body, "env": env}, job.timeout_s or config.timeout_s
            )
        except ReplFailure as exc:
            self.failed(exc)
            elapsed = time.monotonic() - begin
            return CheckResult(
                exc.status, elapsed_s=elapsed, toolchain=pool.toolchain, reason=exc.reason
            )
        elapsed = time.monotonic() - begin
        self.crashes = 0
        self.checks += 1
        pool.count("checks")
        if reply.error is not None:
            if reply.error.startswith("Unknown environment"):
                self.retire()  # our env id is gone: never trust this process again
            return error_object_result(reply.error, elapsed_s=elapsed, toolchain=pool.toolchain)
        if reply.env is None:
            self.retire()
            return CheckResult(
                CheckStatus.PROTOCOL_ERROR,
                elapsed_s=elapsed,
                toolchain=pool.toolchain,
                reason="the REPL answered a command with a tactic reply",
            )
        if self.checks >= config.recycle_after:
            self.retire()
            pool.count("recycled")
        return verdict(reply.messages, elapsed_s=elapsed, toolchain=pool.toolchain)

    def ensure(self, header: str) -> int:
        """The env id of ``header`` in a live process, starting and importing one if needed."""
        if self.proc is not None and self.proc.alive and self.header == header:
            return self.env
        if self.header is not None and self.header != header:
            self.pool.count("header_switches")
        self.retire()
        if self.crashes:
            delay = self.config.backoff_s * 2 ** (self.crashes - 1)
            time.sleep(min(delay, self.config.backoff_max_s))
        pool = self.pool
        launch = pool.launch
        proc = ReplProcess(
            launch.argv,
            cwd=launch.cwd,
            env=launch.env,
            memory_mb=self.config.memory_mb,
            memory_poll_s=self.config.memory_poll_s,
        )
        try:
            if launch.program is None:
                raise ReplNotStarted(f"cannot run {' '.join(pool.command)!r}: no such program")
            proc.start()
        except ReplNotStarted as exc:
            pool.set_fatal(SetupError(f"{exc.reason}. {pool.setup_hint}"))
            raise
        pool.count("processes")
        try:
            env = self._import(proc, header)
        except (ReplFailure, HeaderRejected) as exc:
            proc.close()
            if isinstance(exc, ReplFailure):
                pool.start_failed(exc)
            raise
        pool.start_succeeded()
        self.proc, self.header, self.env, self.checks = proc, header, env, 0
        if self.config.workers is None and pool.sizing is None:
            pool.size_from(proc.memory())
        return env

    def _import(self, proc: ReplProcess, header: str) -> int:
        pool, timeout = self.pool, self.config.import_timeout_s
        begin = time.monotonic()
        reply = proc.request({"cmd": header}, timeout)
        pool.count("imports")
        problems: list[str] = []
        if reply.error is not None:
            problems.append(reply.error)
        problems += [m.text for m in reply.messages if m.severity is Severity.ERROR]
        if not problems and reply.env is None:
            problems.append("the REPL did not answer the import with an environment")
        if not problems:
            probe = probe_command(header) if self.config.probe == "auto" else self.config.probe
            if probe:
                check = proc.request({"cmd": probe, "env": reply.env}, timeout)
                if check.error is not None:
                    problems.append(check.error)
                problems += [m.text for m in check.messages if m.severity is Severity.ERROR]
        if problems:
            messages = tuple(Message(Severity.ERROR, 0, 0, f"header: {p}") for p in problems)
            result = CheckResult(
                CheckStatus.LEAN_ERROR,
                messages,
                time.monotonic() - begin,
                pool.toolchain,
                reason=f"the header does not import: {problems[0][:300]}",
            )
            pool.failed_headers[header] = result
            raise HeaderRejected(result)
        assert reply.env is not None
        return reply.env

    def failed(self, exc: ReplFailure) -> None:
        """Book-keeping after a failure (the process is already dead)."""
        self.pool.count(exc.status.value)
        if exc.status in (CheckStatus.CRASHED, CheckStatus.PROTOCOL_ERROR):
            self.crashes += 1
        self.retire()

    def retire(self) -> None:
        """Close the process, if any; the next job starts a new one."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.close()

    def kill(self) -> None:
        """Kill the process from another thread (the worker sees EOF and cleans up)."""
        proc = self.proc
        if proc is not None:
            proc.kill()


class ReplPool:
    """Pooled REPL workers; ``run`` checks jobs and returns body-relative results in order.

    Every REPL starts as ``launch`` says: inside the sandbox of ``formalize.lean.sandbox``
    unless ``config.sandbox`` turns it off (``SetupError`` here when it is required and
    cannot run).
    """

    def __init__(
        self,
        config: LeanConfig,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        toolchain: str | None = None,
        setup_hint: str = "Run `formalize lean setup`, or pass --repl-cmd.",
    ) -> None:
        self.config = config
        self.command = list(command)
        self.cwd = cwd
        self.launch = plan_command(config, self.command, cwd=cwd)
        self.toolchain = toolchain
        self.setup_hint = setup_hint
        self.board = _Board(config.job_queue_size)
        self.failed_headers: dict[str, CheckResult] = {}
        self.fatal: SetupError | None = None
        self.stats = PoolStats()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._batches: set[_Batch] = set()  # the ``run`` calls in progress
        self.sizing: str | None = None  # how a self-sized pool chose its size
        self._start_failures = 0
        self._last_start_failure = ""

    def preflight(self) -> None:
        """``SetupError`` when the REPL command is not an executable we can find."""
        exe = self.command[0]
        if shutil.which(exe, path=None) is None and not (
            os.sep in exe and os.access(self._resolve(exe), os.X_OK)
        ):
            raise SetupError(f"the REPL command {exe!r} was not found. {self.setup_hint}")

    def _resolve(self, exe: str) -> str:
        return exe if os.path.isabs(exe) or self.cwd is None else os.path.join(self.cwd, exe)

    def run(
        self, jobs: Iterable[Job], progress: bool = False, total: int | None = None
    ) -> list[CheckResult]:
        """Check every job; results in job order. ``SetupError`` when the REPL cannot run.

        ``jobs`` may be a generator: jobs are queued as it yields them, so whatever produces
        them (the checker's gate) overlaps with the checking. ``total`` sizes the progress bar.
        """
        if self.fatal is not None:
            raise self.fatal
        it = iter(jobs)
        first = next(it, None)
        if first is None:
            return []
        self._start_workers()
        bar = None
        if progress and (total or 0) >= self.config.progress_min:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="lean", unit="check", leave=False)
        batch = _Batch(bar)
        with self._lock:
            self._batches.add(batch)
        try:
            for job in itertools.chain([first], it):
                if batch.cancelled:
                    break
                self.board.put((job, batch, batch.expect()))
            if bar is not None:
                bar.total = len(batch.results)
            results = batch.wait()
        except BaseException:
            self.board.discard(batch)
            raise
        finally:
            with self._lock:
                self._batches.discard(batch)
            if bar is not None:
                bar.close()
        if self.fatal is not None:
            raise self.fatal
        return results

    def cancel_pending(self) -> None:
        """Cancel the jobs queued and not yet taken by a worker (a run is stopping): each
        ``run`` in progress ends, once its running checks are done, with ``ChecksCancelled``."""
        with self._lock:
            batches = list(self._batches)
        for batch in batches:
            batch.cancel()
            batch.dropped(self.board.discard(batch))

    def close(self) -> None:
        """Stop the workers and kill every process."""
        self.board.close()
        for worker in self._workers:
            worker.kill()
        for worker in self._workers:
            worker.join(timeout=10)
        self._workers = []

    # -- shared book-keeping, called by workers

    def count(self, what: str) -> None:
        with self._lock:
            if hasattr(self.stats, what) and what != "failures":
                setattr(self.stats, what, getattr(self.stats, what) + 1)
            else:
                self.stats.failures[what] += 1

    def set_fatal(self, error: SetupError) -> None:
        with self._lock:
            if self.fatal is None:
                self.fatal = error

    def start_failed(self, exc: ReplFailure) -> None:
        with self._lock:
            self._start_failures += 1
            self._last_start_failure = exc.reason
            n = self._start_failures
        if n >= self.config.max_start_failures:
            kind = "timed out" if isinstance(exc, ReplTimeout) else "failed"
            self.set_fatal(
                SetupError(
                    f"starting a REPL and importing the header {kind} {n} times in a row "
                    f"(command: {' '.join(self.command)}); last: {exc.reason}. {self.setup_hint} "
                    "`formalize lean doctor` checks the setup."
                )
            )

    def start_succeeded(self) -> None:
        with self._lock:
            self._start_failures = 0

    def size_from(self, first: memory.MemorySample) -> None:
        """Start the workers a self-sized pool takes, from the memory of its first worker
        with its header imported (once; later calls do nothing)."""
        with self._lock:
            if self.sizing is not None or self.board.closed:
                return
            budget = memory.worker_budget_mb(first, self.config.memory_mb)
            available = memory.available_mb()
            running = len(self._workers)
            target = memory.suggest_workers(
                available_mb=available, budget_mb=budget, running=running
            )
            self.sizing = (
                f"{target} worker(s): {memory.AVAILABLE_SHARE:.0%} of {available:.0f} MB "
                f"available / {budget:.0f} MB per worker (first worker: {first.describe()}), "
                f"at most {default_workers()} (cores - 1)"
            )
            log.info("Lean pool: %s", self.sizing)
            self._add_workers(target)

    @property
    def size(self) -> int:
        """The number of workers started."""
        with self._lock:
            return len(self._workers)

    def worker_memory(self) -> list[memory.MemorySample]:
        """The memory of each worker's live process."""
        with self._lock:
            procs = [w.proc for w in self._workers]
        return [p.memory() for p in procs if p is not None and p.alive]

    def _start_workers(self) -> None:
        with self._lock:
            if not self._workers:
                self._add_workers(self.config.workers or 1)

    def _add_workers(self, count: int) -> None:
        """Start workers up to ``count`` in all (under the lock)."""
        for n in range(len(self._workers), count):
            worker = _Worker(self, n)
            worker.start()
            self._workers.append(worker)
