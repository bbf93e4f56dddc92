"""Sending chunks of one batch to a pool of Ray actors and getting the results in input order.

Each actor takes up to ``in_flight`` chunks at once (the next waits in its queue, so it never
idles between chunks); a free slot gets the next chunk, the least loaded actor first. When an
actor dies (node lost, killed for memory), Ray restarts it (``max_restarts``) and its chunks
are sent again, to another actor where there is one, at most ``retries`` times each. The
actor gets no new chunk until it answers a ping: a restarted actor does, one past its restart
budget fails the ping and leaves the pool. An exception the actor's code raised is not a
fault of the actor: it reaches the caller as it is.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import (
    NodeDiedError,
    ObjectLostError,
    OutOfMemoryError,
    RayActorError,
    RayTaskError,
    WorkerCrashedError,
)

from formalize.errors import FormalizeError, SetupError

log = logging.getLogger(__name__)

# In ``map``'s results: a chunk never sent, because ``cancel_pending`` was called.
CANCELLED: Any = type("Cancelled", (), {"__repr__": lambda self: "CANCELLED"})()

# What a chunk meets when its actor or node is lost, rather than its own code failing.
FAULTS = (RayActorError, ObjectLostError, OutOfMemoryError, NodeDiedError, WorkerCrashedError)


class PoolLost(SetupError):
    """No actor of a pool is left (each died more often than Ray restarts it)."""


class ChunkFailed(SetupError):
    """A chunk's actors died more often than the chunk may be retried."""


@dataclass
class DispatchStats:
    """What a dispatcher did: chunks sent (retries included), retried, and actors lost."""

    chunks: int = 0
    retried: int = 0
    actor_deaths: int = 0
    actors_dropped: int = 0
    deaths_by_actor: collections.Counter[int] = field(default_factory=collections.Counter)


class Dispatcher:
    """Runs ``method`` of a pool's actors over chunks; one dispatcher per pool.

    ``actors``: the pool's actor handles; ``in_flight``: chunks per actor at once;
    ``retries``: times a chunk is sent again after its actor died.
    """

    def __init__(
        self,
        name: str,
        actors: Sequence[Any],
        method: str,
        *,
        in_flight: int = 2,
        retries: int = 3,
    ) -> None:
        self.name = name
        self.actors = list(actors)
        self.method = method
        self.in_flight = in_flight
        self.retries = retries
        self.stats = DispatchStats()
        self._alive = set(range(len(self.actors)))
        self._suspect: dict[int, Any] = {}  # actor index -> ping ref, after a death
        self._lock = threading.Lock()
        self._maps: set[threading.Event] = set()  # one per ``map`` in progress: set = cancel

    @property
    def alive(self) -> int:
        """Actors still in the pool."""
        with self._lock:
            return len(self._alive)

    def cancel_pending(self) -> None:
        """Send no more chunks of the ``map`` calls in progress (a run is stopping): the chunks
        already sent finish, the others come back as ``CANCELLED``."""
        with self._lock:
            for cancelled in self._maps:
                cancelled.set()

    def map(self, chunks: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``method(*chunk)`` on some actor for each chunk; the results in chunk order
        (``CANCELLED`` for chunks never sent, after ``cancel_pending``)."""
        cancelled = threading.Event()
        with self._lock:
            self._maps.add(cancelled)
        try:
            return self._map(chunks, cancelled)
        finally:
            with self._lock:
                self._maps.discard(cancelled)

    def _map(self, chunks: Sequence[tuple[Any, ...]], cancelled: threading.Event) -> list[Any]:
        results: list[Any] = [None] * len(chunks)
        pending = collections.deque(range(len(chunks)))
        tries = [0] * len(chunks)
        last_actor: dict[int, int] = {}
        load = collections.Counter[int]()
        running: dict[Any, tuple[int, int]] = {}  # ref -> (chunk, actor)
        while pending or running:
            if cancelled.is_set():
                for index in pending:
                    results[index] = CANCELLED
                pending.clear()
                if not running:
                    break
            while pending:
                actor = self._pick(load, avoid=last_actor.get(pending[0]))
                if actor is None:
                    break
                index = pending.popleft()
                ref = getattr(self.actors[actor], self.method).remote(*chunks[index])
                running[ref] = (index, actor)
                load[actor] += 1
                with self._lock:
                    self.stats.chunks += 1
            waiting = [*running, *self._pings()]
            if not waiting:
                raise PoolLost(
                    f"every {self.name} actor died more often than Ray restarts it "
                    "(max_restarts in [ray]); the run stops, and a rerun resumes from the "
                    "corpus. See the Ray logs (/tmp/ray/session_latest/logs) for why."
                )
            done, _ = ray.wait(waiting, num_returns=1)
            for ref in done:
                if ref not in running:
                    self._pinged(ref)
                    continue
                index, actor = running.pop(ref)
                load[actor] -= 1
                try:
                    results[index] = ray.get(ref)
                except RayTaskError as exc:
                    # the actor's own code raised: a user-facing error is passed on as it is
                    if isinstance(exc.cause, FormalizeError):
                        raise exc.cause from None
                    raise
                except FAULTS as exc:
                    tries[index] += 1
                    last_actor[index] = actor
                    self._died(actor, exc)
                    if tries[index] > self.retries:
                        raise ChunkFailed(
                            f"a {self.name} chunk failed {tries[index]} times, each time "
                            f"because its actor died (last: {exc}); raise chunk_retries in "
                            "[ray], or see why the actors die in the Ray logs"
                        ) from exc
                    with self._lock:
                        self.stats.retried += 1
                    pending.appendleft(index)
        return results

    # ------------------------------------------------------------------ internals

    def _pick(self, load: collections.Counter[int], avoid: int | None) -> int | None:
        """The least loaded usable actor with a free slot (not ``avoid`` when another has one)."""
        with self._lock:
            usable = [a for a in self._alive if a not in self._suspect]
        free = [a for a in usable if load[a] < self.in_flight]
        if not free:
            return None
        others = [a for a in free if a != avoid]
        return min(others or free, key=lambda a: (load[a], a))

    def _died(self, actor: int, exc: BaseException) -> None:
        with self._lock:
            if actor not in self._alive or actor in self._suspect:
                return  # its other chunks in flight died with it: one death
            self.stats.actor_deaths += 1
            self.stats.deaths_by_actor[actor] += 1
            log.warning(
                "%s actor %d died (%s); its chunks go to another actor", self.name, actor, exc
            )
            # waits through Ray's restart; fails once the actor is past its restart budget
            handle = self.actors[actor]
            self._suspect[actor] = handle.ready.options(max_task_retries=-1).remote()

    def _pings(self) -> list[Any]:
        with self._lock:
            return list(self._suspect.values())

    def _pinged(self, ref: Any) -> None:
        with self._lock:
            actor = next((a for a, r in self._suspect.items() if r == ref), None)
            if actor is None:
                return
            del self._suspect[actor]
            try:
                ray.get(ref)
            except RayActorError:
                self._alive.discard(actor)
                self.stats.actors_dropped += 1
                log.warning(
                    "%s actor %d is gone for good; %d left", self.name, actor, len(self._alive)
                )


def split(items: Sequence[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive chunks of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
