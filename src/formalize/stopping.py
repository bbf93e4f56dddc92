"""Stopping a run on a signal: Ctrl-C (SIGINT) and SIGTERM (what Slurm, Kubernetes and
preemptible instances send before they kill).

The first signal asks the run to stop: nothing new starts, queued work is cancelled, what has
finished is written. A second Ctrl-C (or SIGTERM) stops now: an ``Abort`` is raised in the main
thread, the run is marked ``interrupted`` and the process exits. After a SIGTERM the grace
period bounds everything: the work in flight gets all of it but a few seconds kept for writing
the run's end, then ``Abort``; should the process still be alive when the grace period is over
(a model call that does not return, a thread the interpreter waits for), it exits at once. That
is safe for the store: each of its writes is one SQLite transaction, and an unfinished one is
rolled back on the next open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
DEFAULT_GRACE_S = 20.0  # well under the 30 s Slurm and Kubernetes wait before SIGKILL
ABORT_EXIT_S = 5.0  # after an abort, the longest the process may take to exit


class Abort(KeyboardInterrupt):
    """Raised in the main thread to stop now: a second signal, or the grace period ran out."""


class Terminated(KeyboardInterrupt):
    """SIGTERM as an exception in the main thread, for commands that stop on it at once
    (``sigterm_as_interrupt``); the CLI exits 143."""

    exit_code = EXIT_TERMINATED


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM stops it as Ctrl-C does (``Terminated``), so that what it
    saves on an interrupt is saved (a no-op outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_soon(code: int, seconds: float = ABORT_EXIT_S) -> None:
    """End the process with ``code`` in ``seconds`` unless it has ended by then: after an
    interrupt, threads still waiting on a model or Lean must not hold the exit."""
    deadline = time.monotonic() + seconds

    def exit_now() -> None:
        while time.monotonic() < deadline:
            time.sleep(max(0.0, deadline - time.monotonic()))
        _flush()
        os._exit(code)

    threading.Thread(target=exit_now, name="exit-soon", daemon=True).start()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def reserve_s(grace_s: float) -> float:
    """The part of the grace period kept for writing the run's end and exiting."""
    return min(5.0, grace_s / 4)


class StopHandler:
    """Handles SIGINT and SIGTERM while a job runs (install, then restore).

    ``on_stop`` is called on the first signal (from the main thread, between two bytecodes: it
    must only set flags or start a thread). ``hard_exit`` lets the handler end the process with
    ``os._exit`` when the grace period is over, or a few seconds after an abort: right for the
    command line, wrong for a Python session that called the job (it is off by default).
    """

    def __init__(
        self,
        on_stop: Callable[[], None],
        *,
        grace_s: float = DEFAULT_GRACE_S,
        hard_exit: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.on_stop = on_stop
        self.grace_s = grace_s
        self.hard_exit = hard_exit
        self.stream = stream
        self.signum: int | None = None  # the first signal received
        self.aborted = False
        self.deadline: float | None = None  # monotonic time the process must be gone by
        self._previous: dict[int, Any] = {}
        self._disarmed = threading.Event()  # set by restore: the soft deadline no longer fires
        self._firing = threading.Lock()
        self._expired = False  # the soft deadline has fired
        self._restoring = False

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 143 after SIGTERM (0 when no signal came)."""
        if self.signum is None:
            return 0
        return EXIT_TERMINATED if self.signum == signal.SIGTERM else EXIT_INTERRUPTED

    @property
    def timer_name(self) -> str:
        """The name of the thread that ends the grace period (one per handler)."""
        return f"grace-period-{id(self):x}"

    @property
    def signal_name(self) -> str | None:
        """``SIGINT`` or ``SIGTERM``, once one came."""
        return None if self.signum is None else signal.Signals(self.signum).name

    def install(self) -> StopHandler:
        """Take over SIGINT and SIGTERM (a no-op outside the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        """Give the signals back to their previous handlers; a pending soft deadline is
        cancelled (the hard exit, once armed, stays: the process must still go in time)."""
        self._restoring = True  # a deadline firing now must not raise in here
        with self._firing:
            self._disarmed.set()
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}

    # ------------------------------------------------------------------ handlers

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            self._first(signum)
            return
        if self.aborted or self._restoring:
            return  # already unwinding, or the job is over
        if self._expired:
            self._abort("the grace period is nearly over: stopping the work in flight now")
        again = " again" if signum == self.signum else ""
        self._abort(f"{signal.Signals(signum).name}{again}: stopping now")

    def _first(self, signum: int) -> None:
        finish_s = max(0.0, self.grace_s - reserve_s(self.grace_s))
        if signum == signal.SIGTERM:
            self._say(
                f"\nSIGTERM: stopping; the work in flight has {finish_s:.0f} s to finish, the "
                f"process exits within {self.grace_s:.0f} s (a rerun resumes)"
            )
        else:
            self._say(
                "\nstopping: nothing new starts, queued work is cancelled, what finishes is "
                "saved (Ctrl-C again to stop now; a rerun resumes)"
            )
        log.info("%s received: stopping", signal.Signals(signum).name)
        self.on_stop()
        if signum == signal.SIGTERM:
            self._arm_hard_exit(self.grace_s)
            self._arm_soft_deadline(finish_s)

    def _arm_soft_deadline(self, seconds: float) -> None:
        """In ``seconds``, interrupt the main thread (with SIGTERM, sent to it alone, which
        wakes it from any wait) and abort there."""
        if seconds <= 0:
            self._abort("the grace period is over: stopping now")
        main = threading.main_thread().ident
        assert main is not None

        def fire() -> None:
            if self._disarmed.wait(seconds):
                return
            with self._firing:
                if not self._disarmed.is_set() and not self.aborted:
                    self._expired = True
                    signal.pthread_kill(main, signal.SIGTERM)

        threading.Thread(target=fire, name=self.timer_name, daemon=True).start()

    def _abort(self, message: str) -> None:
        self.aborted = True
        self._say(message)
        log.info("abort: %s", message)
        self._arm_hard_exit(ABORT_EXIT_S)
        raise Abort(message)

    def _arm_hard_exit(self, seconds: float) -> None:
        """End the process ``seconds`` from now (or by the earlier deadline already set)."""
        if not self.hard_exit:
            return
        deadline = time.monotonic() + seconds
        if self.deadline is not None and self.deadline <= deadline:
            return
        self.deadline = deadline
        code = self.exit_code or EXIT_INTERRUPTED

        def exit_now() -> None:
            while time.monotonic() < deadline:
                time.sleep(max(0.0, deadline - time.monotonic()))
            if self.deadline != deadline:
                return  # an earlier deadline took over
            _flush()
            os._exit(code)

        threading.Thread(target=exit_now, name="hard-exit", daemon=True).start()

    def _say(self, message: str) -> None:
        stream = self.stream or sys.stderr
        with contextlib.suppress(OSError, ValueError):
            print(message, file=stream, flush=True)
