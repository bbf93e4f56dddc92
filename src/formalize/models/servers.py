"""Several OpenAI-compatible servers behind one engine: pick by load, skip the ones that fail.

An ``openai:MODEL@URL1,URL2,...`` spec names replicas serving the same model (vLLM servers
started by Slurm or Kubernetes). Each request goes to the healthy server with the fewest
requests outstanding (ties in turn, so a quiet run still alternates). A server whose request
failed for the server's sake (connection refused or dropped, a timeout, a 5xx) is *down*: no
request goes to it until its back-off has passed (``backoff`` seconds, doubling on each failed
probe up to ``max_backoff``); then the next request that needs a server probes it
(``GET /models``, the way the start-up check asks) and uses it again if it answers.

Pure bookkeeping: the probe is a function given to the set and the clock can be replaced, so
the rules are tested without servers or timing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Server:
    """One server of the set and what the set knows of it."""

    url: str
    client: Any = None  # the engine's HTTP client for this server
    outstanding: int = 0
    failures: int = 0  # failures since it last answered
    down_until: float | None = None  # None: healthy
    last_error: str = ""
    probing: bool = False

    @property
    def healthy(self) -> bool:
        """True unless the server is being skipped after a failure."""
        return self.down_until is None


class ServerSet:
    """Servers chosen by least outstanding requests, with failed ones skipped until a probe
    finds them answering again. Thread-safe."""

    def __init__(
        self,
        servers: Sequence[Server],
        *,
        probe: Callable[[str], str | None],
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not servers:
            raise ValueError("a ServerSet needs at least one server")
        self.servers = list(servers)
        self.probe = probe
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self._lock = threading.Lock()
        self._turn = 0

    def __len__(self) -> int:
        return len(self.servers)

    def acquire(self, avoid: Sequence[Server] = ()) -> Server | None:
        """A server for one request (count it outstanding until ``release``), or None when
        every server is down. Servers in ``avoid`` (those that just failed this request) are
        taken only when no other is healthy. Down servers whose back-off has passed are probed
        first."""
        self._probe_due()
        with self._lock:
            healthy = [s for s in self.servers if s.healthy]
            if not healthy:
                return None
            preferred = [s for s in healthy if s not in avoid] or healthy
            least = min(s.outstanding for s in preferred)
            tied = [s for s in preferred if s.outstanding == least]
            order = self.servers[self._turn :] + self.servers[: self._turn]
            chosen = next(s for s in order if s in tied)
            self._turn = (self.servers.index(chosen) + 1) % len(self.servers)
            chosen.outstanding += 1
            return chosen

    def release(self, server: Server) -> None:
        """The request sent to ``server`` has ended, whatever its outcome."""
        with self._lock:
            server.outstanding -= 1

    def answered(self, server: Server) -> None:
        """``server`` answered a request: it is healthy."""
        with self._lock:
            self._up(server)

    def failed(self, server: Server, reason: str) -> None:
        """A request to ``server`` failed for the server's sake: skip it for a while."""
        with self._lock:
            if server.healthy:  # requests in flight when it went down fail too: count it once
                log.warning(
                    "%s failed (%s): skipping it until it answers again", server.url, reason
                )
                self._down(server, reason)
            else:
                server.last_error = reason

    def any_healthy(self, avoid: Sequence[Server] = ()) -> bool:
        """Whether a server outside ``avoid`` is healthy now (no probing)."""
        with self._lock:
            return any(s.healthy and s not in avoid for s in self.servers)

    def down(self) -> list[Server]:
        """The servers being skipped now."""
        with self._lock:
            return [s for s in self.servers if not s.healthy]

    def summary(self) -> str:
        """Every server down with its last error, for a message."""
        return "; ".join(f"{s.url}: {s.last_error or 'down'}" for s in self.down())

    # ------------------------------------------------------------------ internals

    def _probe_due(self) -> None:
        now = self.clock()
        with self._lock:
            due = [
                s
                for s in self.servers
                if s.down_until is not None and s.down_until <= now and not s.probing
            ]
            for server in due:
                server.probing = True
        for server in due:
            try:
                problem = self.probe(server.url)
            except Exception as exc:  # a probe that breaks is a server that does not answer
                problem = f"{type(exc).__name__}: {exc}"
            with self._lock:
                server.probing = False
                if problem is None:
                    log.warning("%s answers again: using it", server.url)
                    self._up(server)
                else:
                    self._down(server, problem)

    def _up(self, server: Server) -> None:
        server.down_until = None
        server.failures = 0

    def _down(self, server: Server, reason: str) -> None:
        delay = min(self.max_backoff, self.backoff * 2**server.failures)
        server.failures += 1
        server.last_error = reason
        server.down_until = self.clock() + delay
