"""Memory of a Lean worker's process tree (resident, proportional, private) and how many
workers fit in this machine.

Mathlib's ``.olean`` files are memory-mapped read-only and shared by every REPL worker, yet the
resident-set size (RSS) counts them in each: a cap or a sizing rule on RSS runs several times
fewer workers than the memory allows. ``/proc/PID/smaps_rollup`` tells the parts apart, summed
here over the worker's process tree (bwrap, ``lake env``, the REPL):

- RSS; PSS (each shared page divided among the processes mapping it); USS
  (``Private_Clean + Private_Dirty``: pages no other process maps) and shared (RSS - USS);
- **private**: anonymous memory (``Anonymous``, plus ``Swap``): the heap and stacks, what the
  worker made itself and what one more worker adds to the machine. ``memory_mb`` caps this.

Why not USS: a file page mapped by one process only is "private" in smaps, so a worker alone
has the whole of Mathlib's .olean mapping in its USS (and in its PSS), and loses it from its
USS the moment a second worker maps the same files. The cap and the sizing would then depend
on how many workers happen to run, and the sizing is measured on the first worker, alone.
Anonymous memory does not: clean file pages are the page cache's, reclaimable and shared.

Where ``smaps_rollup`` cannot be read (not Linux, a kernel before 4.14, no permission to read
another user's process), RSS stands in for every figure and ``MemorySample.exact`` is False:
the cap then counts the shared mappings too, as it used to.

Sizing (``LeanConfig.workers`` None): the pool starts one worker, measures its private memory
once the header is imported, and starts as many more as ``suggest_workers`` allows (see there).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from dataclasses import dataclass

import psutil

from formalize.lean.config import default_workers

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: share of the memory available that the workers may take (the rest: models, the store, ...)
AVAILABLE_SHARE = 0.9
#: a worker's budget, as a multiple of its private memory after the import: what its checks
#: add before it is recycled (the REPL keeps every environment it made)
GROWTH_FACTOR = 2.0


@dataclass(frozen=True)
class MemorySample:
    """Memory of a process (or a tree of them), in MB (see the module docstring).
    ``exact`` False: smaps could not be read and every figure is the RSS."""

    rss_mb: float = 0.0
    pss_mb: float = 0.0
    uss_mb: float = 0.0
    private_mb: float = 0.0
    exact: bool = True

    @property
    def shared_mb(self) -> float:
        """Resident pages other processes map too (the .olean files of other workers)."""
        return max(0.0, self.rss_mb - self.uss_mb)

    def __add__(self, other: MemorySample) -> MemorySample:
        return MemorySample(
            self.rss_mb + other.rss_mb,
            self.pss_mb + other.pss_mb,
            self.uss_mb + other.uss_mb,
            self.private_mb + other.private_mb,
            self.exact and other.exact,
        )

    def describe(self) -> str:
        """``private 112 MB; RSS 812 MB = shared 700 MB + USS 112 MB; PSS 460 MB``."""
        if not self.exact:
            return f"RSS {self.rss_mb:.0f} MB (smaps unreadable here: RSS only)"
        return (
            f"private {self.private_mb:.0f} MB; RSS {self.rss_mb:.0f} MB = shared "
            f"{self.shared_mb:.0f} MB + USS {self.uss_mb:.0f} MB; PSS {self.pss_mb:.0f} MB"
        )


def over_cap(sample: MemorySample, cap_mb: float | None, who: str = "Lean") -> str | None:
    """Why ``sample`` breaks the cap on private memory (None when it does not)."""
    if cap_mb is None or sample.private_mb <= cap_mb:
        return None
    if not sample.exact:
        return f"{who} used {sample.rss_mb:.0f} MB (RSS), over the {cap_mb:g} MB cap"
    return (
        f"{who} used {sample.private_mb:.0f} MB of private memory, over the {cap_mb:g} MB "
        f"cap (RSS {sample.rss_mb:.0f} MB, of which {sample.shared_mb:.0f} MB shared)"
    )


def parse_rollup(text: str) -> MemorySample:
    """The sample in the text of a ``smaps_rollup`` file (values in kB)."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            fields[key] = int(parts[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    private = fields.get("Anonymous", 0) + fields.get("Swap", 0)
    kb = 1024
    return MemorySample(
        fields.get("Rss", 0) / kb, fields.get("Pss", 0) / kb, uss / kb, private / kb
    )


@functools.cache
def _rollup_exists() -> bool:
    return os.path.exists("/proc/self/smaps_rollup")


_warned: set[str] = set()


def process_memory(process: psutil.Process) -> MemorySample:
    """One process's memory; ``psutil.Error`` when it is gone."""
    if _rollup_exists():
        try:
            with open(f"/proc/{process.pid}/smaps_rollup", encoding="ascii") as f:
                return parse_rollup(f.read())
        except FileNotFoundError:
            raise psutil.NoSuchProcess(process.pid) from None
        except OSError as exc:  # e.g. no permission to read another user's process
            _warn_once(f"cannot read /proc/PID/smaps_rollup ({exc})")
    else:
        _warn_once("this system has no /proc/PID/smaps_rollup")
    rss = process.memory_info().rss / MB
    return MemorySample(rss, rss, rss, rss, exact=False)


def _warn_once(why: str) -> None:
    if why not in _warned:
        _warned.add(why)
        log.warning(
            "%s: the Lean memory cap and worker sizing use RSS, which counts the shared "
            ".olean mappings in every worker",
            why,
        )


class TreeMemory:
    """Memory of a process and all its descendants, summed.

    Finding descendants scans every process on the machine (milliseconds), so the list is
    refreshed every ``refresh_s`` only. Reading a process's RSS is cheap; reading its smaps
    is not (the kernel walks its page tables: about 5 ms per GB resident, so 30 ms for a
    Mathlib worker), so ``poll`` reads smaps only when the cap could have been crossed.
    """

    def __init__(self, pid: int, refresh_s: float = 2.0, exact_every_s: float = 2.0) -> None:
        self._root = psutil.Process(pid)
        self._refresh_s = refresh_s
        self._exact_every_s = exact_every_s
        self._procs: list[psutil.Process] = []
        self._next_refresh = 0.0
        self._last: MemorySample | None = None
        self._last_at = 0.0

    def _tree(self) -> list[psutil.Process]:
        now = time.monotonic()
        if now >= self._next_refresh:
            try:
                self._procs = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                self._procs = []
            self._next_refresh = now + self._refresh_s
        return self._procs

    def sample(self) -> MemorySample:
        """Current memory of the tree, read from smaps (zeros once the process is gone)."""
        total = MemorySample()
        for p in self._tree():
            try:
                total += process_memory(p)
            except psutil.Error:
                self._next_refresh = 0.0  # the tree changed: look again next time
        self._last, self._last_at = total, time.monotonic()
        return total

    def rss_mb(self) -> float:
        """Current total RSS (cheap)."""
        total = 0
        for p in self._tree():
            try:
                total += p.memory_info().rss
            except psutil.Error:
                self._next_refresh = 0.0
        return total / MB

    def poll(self, cap_mb: float) -> tuple[float, MemorySample | None]:
        """The tree's RSS, and its smaps sample when its private memory may be over
        ``cap_mb`` (None when it cannot be). Private memory is part of the RSS, and grows by
        at most what the RSS grew since the last reading; smaps is read when that bound is
        over the cap, and at least every ``exact_every_s`` while the RSS is (pages can turn
        private without the RSS growing: a copy-on-write, shared pages reclaimed)."""
        rss = self.rss_mb()
        if rss <= cap_mb:
            return rss, None
        last = self._last
        recent = last is not None and time.monotonic() < self._last_at + self._exact_every_s
        if recent and last and last.private_mb + max(0.0, rss - last.rss_mb) <= cap_mb:
            return rss, None
        return rss, self.sample()


def available_mb() -> float:
    """Memory available for new work without swapping (Linux: ``MemAvailable``)."""
    return psutil.virtual_memory().available / MB


def worker_budget_mb(sample: MemorySample, memory_mb: float) -> float:
    """The private memory to count per worker: ``GROWTH_FACTOR`` times a freshly imported
    worker's, never more than the cap (a worker over it is restarted)."""
    return min(float(memory_mb), max(1.0, GROWTH_FACTOR * sample.private_mb))


def suggest_workers(
    *, available_mb: float, budget_mb: float, running: int = 1, cores: int | None = None
) -> int:
    """How many workers this machine takes: the ``running`` ones (whose memory is no longer
    available) plus one per ``budget_mb`` in ``AVAILABLE_SHARE`` of the memory available, at
    most one per core but one (``default_workers``), at least one."""
    more = math.floor(AVAILABLE_SHARE * max(0.0, available_mb) / max(budget_mb, 1.0))
    cap = cores if cores is not None else default_workers()
    return max(1, min(cap, running + more))


def report_rows(
    samples: list[MemorySample], memory_mb: float, workers: int | None
) -> list[tuple[str, str]]:
    """What ``formalize lean doctor`` says about memory: each live worker's memory, shared vs
    private, the cap, the memory available and the workers this machine takes."""
    rows = [(f"worker {i} memory", sample.describe()) for i, sample in enumerate(samples, start=1)]
    available = available_mb()
    total = psutil.virtual_memory().total / MB
    rows.append(
        (
            "memory cap",
            f"{memory_mb:g} MB of private (anonymous) memory per worker; mapped files such as "
            ".olean do not count",
        )
    )
    rows.append(("memory available", f"{available:.0f} MB of {total:.0f} MB"))
    if samples:
        budget = worker_budget_mb(samples[0], memory_mb)
        n = suggest_workers(available_mb=available, budget_mb=budget, running=len(samples))
        rule = (
            f"{len(samples)} running + {AVAILABLE_SHARE:.0%} of the memory available / "
            f"{budget:.0f} MB per worker ({GROWTH_FACTOR:g} x the private memory of a worker "
            f"after its import, at most the cap), at most {default_workers()} (cores - 1)"
        )
        setting = "workers unset: a run uses this" if workers is None else f"workers = {workers}"
        rows.append(("suggested workers", f"{n}: {rule}; {setting}"))
    return rows
