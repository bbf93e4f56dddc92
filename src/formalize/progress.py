"""Progress of a run on stderr: stage by stage, model throughput, and an ETA from measured rates.

On a terminal one line is redrawn in place; when stderr is a file or a pipe (a log), a plain
line is printed every ``interval`` seconds instead, so logs get no carriage-return frames.
What is shown: problems settled of those in the run; for the rounds under way, problems
translated, candidates checked by Lean, compiled candidates past the Lean-verified filters
(when they run) and judged (those the filters did not reject), each of those expected so
far; model calls and generated tokens per second; elapsed time and an ETA.

The ETA counts work in problem-rounds (a problem going once through translate, check and
judge, a third for each stage), measures how fast they have been done, and estimates how many
rounds the unfinished problems still need from the share of finished rounds that went on to
another round so far (Laplace-smoothed, so the first estimate assumes one in two does).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import TextIO

from formalize.pipeline import Counters, RoundProgress


def continue_rate(c: Counters) -> float:
    """Share of finished problem-rounds that went on to another round (smoothed)."""
    finished = sum(r.finished for r in c.rounds.values())
    continued = sum(r.continued for r in c.rounds.values())
    return (continued + 1) / (finished + 2)


def work_done(r: RoundProgress, samples: int) -> float:
    """Problem-rounds of one round done so far, a third per stage."""
    expected = max(r.problems * samples, 1)
    checked = min(r.checked / expected, 1.0) * r.problems
    return (r.translated + checked + r.finished) / 3


def work_left(c: Counters, rounds: int) -> float:
    """Problem-rounds still to do: the rest of the rounds under way, and the rounds the
    unfinished problems are expected to go on to (at most ``rounds`` in all)."""
    q = continue_rate(c)
    left = 0.0
    for number, r in c.rounds.items():
        left += r.problems - work_done(r, c.samples)
        later = sum(q**k for k in range(1, max(rounds - number, 0) + 1))
        left += (r.problems - r.finished) * later
    return max(left, 0.0)


def eta_seconds(c: Counters, rounds: int, elapsed_s: float) -> float | None:
    """Seconds left at the rate measured so far (None before anything was done)."""
    done = sum(work_done(r, c.samples) for r in c.rounds.values())
    if done <= 0 or elapsed_s <= 0:
        return None
    return work_left(c, rounds) / (done / elapsed_s)


def duration(seconds: float | None) -> str:
    """``45s``, ``4m10s``, ``2h05m``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def status_line(c: Counters, rounds: int, elapsed_s: float) -> str:
    """One line of progress (see the module docstring)."""
    settled = c.done + c.exhausted + c.duplicates
    parts = [f"{settled}/{c.problems} problems settled ({c.done} accepted, {c.exhausted} exhausted"]
    if c.duplicates:
        parts[0] += f", {c.duplicates} duplicates"
    parts[0] += ")"
    active = [n for n, r in sorted(c.rounds.items()) if r.finished < r.problems][:2]
    for n in active:
        r = c.rounds[n]
        parts.append(
            f"round {n}: translated {r.translated}/{r.problems}, "
            f"checked {r.checked}/{r.problems * c.samples}, "
            + (f"filtered {r.filtered}/{r.compiled}, " if c.filters else "")
            + f"judged {r.judged}/{r.compiled - r.unjudged}"
        )
    rate = c.generated_tokens / elapsed_s if elapsed_s > 0 else 0.0
    parts.append(f"{c.model_calls} model calls, {rate:.1f} tok/s")
    eta = eta_seconds(c, rounds, elapsed_s) if active else 0.0
    parts.append(f"{duration(elapsed_s)} elapsed, ETA {duration(eta)}")
    return " | ".join(parts)


class ProgressReporter:
    """Shows a run's ``Counters`` on ``stream``: redrawn in place on a terminal, a plain line
    every ``interval`` seconds otherwise. ``update`` is the pipeline's ``on_progress``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        rounds: int,
        interval: float = 30.0,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.rounds = rounds
        self.interval = interval
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = clock()
        self._counters: Counters | None = None
        self._last_print = self.started
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ProgressReporter:
        """Keep the display ticking (elapsed time, periodic lines) from a background thread."""
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._thread.start()
        return self

    def update(self, counters: Counters) -> None:
        """New counters: redraw on a terminal; in a log, wait for the next interval."""
        with self._lock:
            self._counters = counters
            if self.tty:
                self._draw()

    def tick(self) -> None:
        """Redraw on a terminal; print a line in a log once ``interval`` has passed."""
        with self._lock:
            if self._counters is None:
                return
            if self.tty:
                self._draw()
            elif self.clock() - self._last_print >= self.interval:
                self._print()

    def close(self) -> None:
        """Stop ticking and leave the last state on its own line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._counters is None:
                return
            if self.tty:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
            else:
                self._print()

    def _loop(self) -> None:
        while not self._stop.wait(1.0 if self.tty else min(self.interval, 5.0)):
            self.tick()

    def _line(self) -> str:
        assert self._counters is not None
        return status_line(self._counters, self.rounds, self.clock() - self.started)

    def _draw(self) -> None:
        width = shutil.get_terminal_size((120, 20)).columns
        self.stream.write("\r" + self._line()[: width - 1] + "\x1b[K")
        self.stream.flush()

    def _print(self) -> None:
        self.stream.write(f"progress: {self._line()}\n")
        self.stream.flush()
        self._last_print = self.clock()
