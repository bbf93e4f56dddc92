"""The Ray executor: the translator, Lean and critic stages on Ray actor pools.

The driver (``formalize run``) keeps the loop, the queue of rounds, the store and the caches:
an engine here is a ``RayEngine``, the ordinary ``Engine`` front (profile, cache, stop strings,
provenance) over a pool of ``EngineActor`` s, so only the conversations the cache lacks leave
the driver; the Lean checker is the ordinary ``LeanChecker`` (gate, headers, cache) over a
``RayLeanBackend``, a pool of ``LeanActor`` s. A rerun of a finished batch sends nothing.

Without an address a local cluster is started for the run and stopped at its end; a Ray that
is already initialised in this process (a notebook, the tests) is used as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

from formalize.cache import Cache
from formalize.errors import FormalizeError, SetupError
from formalize.executors.actors import EngineActor, LeanActor
from formalize.executors.dispatch import CANCELLED, Dispatcher, split
from formalize.executors.settings import PoolSettings, RaySettings
from formalize.lean.checker import LeanChecker
from formalize.lean.config import LeanConfig, default_workers
from formalize.lean.pool import ChecksCancelled, Job
from formalize.models.base import Engine, Failure, GenerationParams, Outcome
from formalize.models.profiles import Message
from formalize.models.spec import parse_spec
from formalize.preflight import Preflight
from formalize.records import CheckResult

log = logging.getLogger(__name__)

ENGINE_CHUNK = 8  # conversations per chunk when [ray.<pool>] chunk_size is not set


def actor_workers(config: LeanConfig, pool: PoolSettings) -> int:
    """REPL workers per Lean actor: ``[lean] workers``, else the actor's ``num_cpus``, else
    one per driver core but one. Fixed before the actors start (the chunk size and the CPUs
    they ask Ray for depend on it): a local pool's sizing by free memory does not apply, since
    an actor does not own its node."""
    if config.workers is not None:
        return config.workers
    if pool.num_cpus is not None:
        return max(1, int(pool.num_cpus))
    return default_workers()


def connect(settings: RaySettings, wanted_cpus: float = 0) -> bool:
    """Join the cluster ``settings.address`` names, or start a local one; True when this call
    started (or joined) Ray and so should shut it down. ``SetupError`` when no cluster answers."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
    if settings.address is None:
        cpus = settings.num_cpus or max(os.cpu_count() or 1, int(wanted_cpus + 0.999))
        kwargs["num_cpus"] = cpus
        if settings.object_store_mb:
            kwargs["object_store_memory"] = settings.object_store_mb * 2**20
        log.info("starting a local Ray cluster for the run (%d CPUs)", cpus)
    else:
        kwargs = {"address": settings.address, "log_to_driver": True}
        log.info("joining the Ray cluster at %s", settings.address)
    if settings.address not in (None, "auto"):
        _reachable(settings.address)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        check = (
            "check the address (and, with token authentication, that RAY_AUTH_MODE and "
            "RAY_AUTH_TOKEN are the cluster's)"
        )
        raise _no_cluster(settings.address, exc, check) from None
    return True


def _no_cluster(
    address: str | None, reason: object, check: str = "check the address"
) -> SetupError:
    """The error for a cluster that does not answer at ``address``, with what to do."""
    return SetupError(
        f"no Ray cluster answers at {address!r} ({reason}). Start one (`ray start --head` on "
        "the head node, `ray start --address HEAD:6379` on the others; docs/cluster.md), "
        f"{check}, or give no --ray-address to start a local cluster for the run"
    )


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    """``SetupError`` at once when nothing listens at a ``HOST:PORT`` address (``ray.init``
    itself retries for minutes)."""
    import socket

    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise SetupError(f"Ray address {address!r} is not auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise _no_cluster(address, exc) from None


def actor_options(
    pool: PoolSettings, settings: RaySettings, *, cpus: float, gpus: float
) -> dict[str, Any]:
    """The ``.options(...)`` of one actor of ``pool``."""
    options: dict[str, Any] = {
        "num_cpus": cpus,
        "num_gpus": gpus,
        "max_restarts": settings.max_restarts,
        "max_task_retries": 0,  # the dispatcher resends a dead actor's chunk, elsewhere
        "max_concurrency": 1,
    }
    if pool.memory_mb:
        options["memory"] = pool.memory_mb * 2**20
    if pool.resources:
        options["resources"] = dict(pool.resources)
    return options


def engine_gpus(spec: str, pool: PoolSettings) -> float:
    """GPUs per engine actor: the pool's ``num_gpus``, else ``tp`` x ``dp`` of a vllm spec."""
    if pool.num_gpus is not None:
        return pool.num_gpus
    parsed = parse_spec(spec)
    if parsed.engine != "vllm":
        return 0.0
    return float(int(parsed.options.get("tp", 1)) * int(parsed.options.get("dp", 1)))


def start_actors(
    cls: type, args: tuple[Any, ...], count: int, options: dict[str, Any], what: str, timeout: float
) -> list[Any]:
    """``count`` actors of ``cls``, once each answers ``ready`` (``SetupError`` otherwise)."""
    remote: Any = ray.remote(cls)
    actors = [remote.options(**options).remote(*args) for _ in range(count)]
    try:
        ray.get([a.ready.remote() for a in actors], timeout=timeout)
    except GetTimeoutError:
        for actor in actors:
            ray.kill(actor)
        asked = {
            k: v for k, v in options.items() if k in ("num_cpus", "num_gpus", "memory", "resources")
        }
        raise SetupError(
            f"the {what} actors did not start within {timeout:.0f} s: each asks for {asked} and "
            f"the cluster has {ray.cluster_resources()} in all ({ray.available_resources()} "
            "free). Lower the pool's num_cpus/num_gpus/memory_mb or actors in [ray], or add "
            "nodes (docs/cluster.md)"
        ) from None
    except RayActorError as exc:
        for actor in actors:
            ray.kill(actor)
        raise SetupError(f"the {what} actors could not start: {_reason(exc)}") from None
    return actors


def _reason(exc: BaseException) -> str:
    """The error an actor's constructor raised, without Ray's traceback around it: the last
    ``Name: message`` line (Ray passes a constructor's exception on as text only)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in reversed(lines):
        name, sep, message = line.partition(": ")
        if sep and name.rsplit(".", 1)[-1].endswith(("Error", "Exception")):
            return f"{name.rsplit('.', 1)[-1]}: {message}"
    return str(exc)


class RayEngine(Engine):
    """An ``Engine`` whose backend is a pool of ``EngineActor`` s: the cache, the profile's
    preparation and the completions' finishing run here, generation on the actors."""

    name = "ray"

    def __init__(self, spec: str, actors: Sequence[Any], dispatcher: Dispatcher, chunk: int, *,
                 cache: Cache | None) -> None:  # fmt: skip
        identity = ray.get(actors[0].identity.remote())
        super().__init__(parse_spec(spec), identity["options"], profile=identity["profile"],
                         cache=cache)  # fmt: skip
        self.revision = identity["revision"]
        self.actors = list(actors)
        self.dispatcher = dispatcher
        self.chunk = chunk
        self._identity = identity

    def describe(self) -> dict[str, Any]:
        """The actors' engine, as a local run describes it."""
        return dict(self._identity["describe"])

    def cache_identity(self) -> dict[str, Any]:
        """The actors' engine's identity: a run on Ray and a local run share the cache."""
        return dict(self._identity["cache_identity"])

    def _provenance(self) -> dict[str, Any]:
        return dict(self._identity["provenance"])

    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        chunks = [(part, params) for part in split(conversations, self.chunk)]
        out: list[Outcome] = []
        for (part, _), done in zip(chunks, self.dispatcher.map(chunks), strict=True):
            if done is CANCELLED:  # the others are cached as usual
                out += [Failure("cancelled: the run is stopping")] * len(part)
            else:
                out += done
        return out

    def cancel_pending(self) -> None:
        """Send no more chunks of the batches in flight (a run is stopping)."""
        self.dispatcher.cancel_pending()

    def close(self) -> None:
        """Release the actors' models and stop the actors."""
        if not self._closed:
            _stop(self.actors)
        super().close()

    def __repr__(self) -> str:
        return f"<RayEngine {self.spec!r} on {len(self.actors)} actors>"


class RayLeanBackend:
    """The ``LeanChecker`` backend of the Ray executor: jobs in chunks over ``LeanActor`` s,
    each with its own REPL pool; started on first use."""

    def __init__(self, config: LeanConfig, pool: PoolSettings, settings: RaySettings) -> None:
        self.workers = actor_workers(config, pool)
        self.config = dataclasses.replace(config, workers=self.workers)
        self.pool = pool
        self.settings = settings
        self.failed_headers: dict[str, CheckResult] = {}
        self.chunk = pool.chunk_size or 4 * self.workers
        self.actors: list[Any] = []
        self.dispatcher: Dispatcher | None = None

    def _start(self) -> Dispatcher:
        if self.dispatcher is None:
            cpus = self.pool.num_cpus if self.pool.num_cpus is not None else self.workers
            options = actor_options(
                self.pool, self.settings, cpus=cpus, gpus=self.pool.num_gpus or 0
            )
            self.actors = start_actors(LeanActor, (self.config,), self.pool.actors, options,
                                       "Lean", self.settings.start_timeout_s)  # fmt: skip
            self.dispatcher = Dispatcher("Lean", self.actors, "run", in_flight=self.pool.in_flight,
                                         retries=self.settings.chunk_retries)  # fmt: skip
        return self.dispatcher

    def preflight(self) -> None:
        """Each Lean actor's ``LeanChecker.preflight`` (on its own node)."""
        self._start()
        try:
            ray.get([a.preflight.remote() for a in self.actors])
        except RayTaskError as exc:
            if isinstance(exc.cause, FormalizeError):
                raise exc.cause from None
            raise
        except RayActorError as exc:
            raise SetupError(f"a Lean actor died in its preflight: {exc}") from None

    def run(
        self, jobs: Iterable[Job], progress: bool = False, total: int | None = None
    ) -> list[CheckResult]:
        """Check the jobs on the actors; body-relative results in job order."""
        todo = list(jobs)
        if not todo:
            return []
        dispatcher = self._start()
        parts = split(todo, self.chunk)
        out: list[CheckResult | None] = []
        for part, done in zip(parts, dispatcher.map([(part,) for part in parts]), strict=True):
            if done is CANCELLED:
                out += [None] * len(part)
                continue
            results, failed = done
            out.extend(results)
            self.failed_headers.update(failed)
        if any(result is None for result in out):
            raise ChecksCancelled(out)  # what did run is cached by the checker
        return [result for result in out if result is not None]

    def cancel_pending(self) -> None:
        """Send no more chunks of the checks in flight (a run is stopping)."""
        if self.dispatcher is not None:
            self.dispatcher.cancel_pending()

    def close(self) -> None:
        """Stop the Lean actors and their Lean processes."""
        actors, self.actors, self.dispatcher = self.actors, [], None
        _stop(actors)


def _stop(actors: Sequence[Any]) -> None:
    """Ask each actor to close (its processes, its model), then end it."""
    if not actors:
        return  # and no Ray call: one on an empty list would start a local Ray
    with contextlib.suppress(Exception):
        ray.get([a.close.remote() for a in actors], timeout=30)
    for actor in actors:
        with contextlib.suppress(Exception):
            ray.kill(actor)


class RayExecutor:
    """The heavy stages on Ray actor pools (``executor = "ray"``)."""

    name = "ray"

    def __init__(self, settings: RaySettings) -> None:
        self.settings = settings
        self._owned = False
        self._connected = False
        self._lean_workers = 1

    def _connect(self) -> None:
        if not self._connected:
            self._owned = connect(self.settings, self._wanted_cpus())
            self._connected = True

    def _wanted_cpus(self) -> float:
        s = self.settings
        defaults = {"translator": 1, "lean": self._lean_workers, "critic": 1}
        return sum(
            (cpus if (cpus := s.pool(p).num_cpus) is not None else n) * s.pool(p).actors
            for p, n in defaults.items()
        )

    def prepare(self, check: Preflight) -> bool:
        """Join (or start) the cluster; False, with the reason in ``check``, when none answers."""
        try:
            self._connect()
        except SetupError as exc:
            check.add("Ray cluster", str(exc))
            return False
        return True

    def check_engines(self, check: Preflight, roles: Sequence[tuple[str, str]]) -> None:
        """Valid specs here; packages, GPUs and weights are the actors' nodes' business (an
        actor that cannot build its engine stops the run with its reason)."""
        for role, spec in roles:
            try:
                parse_spec(spec)
            except FormalizeError as exc:
                check.add(f"{role} {spec}", str(exc))

    def engine(self, spec: str, role: str, cache: Cache | None) -> Engine:
        """A ``RayEngine`` for ``spec`` on the ``translator`` or ``critic`` pool."""
        self._connect()
        pool = self.settings.pool("translator" if role == "translator" else "critic")
        cpus = pool.num_cpus if pool.num_cpus is not None else 1
        options = actor_options(pool, self.settings, cpus=cpus, gpus=engine_gpus(spec, pool))
        actors = start_actors(EngineActor, (spec,), pool.actors, options, f"{role} ({spec})",
                              self.settings.start_timeout_s)  # fmt: skip
        dispatcher = Dispatcher(role, actors, "generate", in_flight=pool.in_flight,
                                retries=self.settings.chunk_retries)  # fmt: skip
        return RayEngine(spec, actors, dispatcher, pool.chunk_size or ENGINE_CHUNK, cache=cache)

    def checker(self, config: LeanConfig, cache: Cache | None) -> LeanChecker:
        """A ``LeanChecker`` (gate, headers, cache here) over the Lean actors (started on
        the checker's first use)."""
        self._lean_workers = actor_workers(config, self.settings.lean)
        backend = RayLeanBackend(config, self.settings.lean, self.settings)
        return LeanChecker(config, cache=cache, backend=backend)

    def lean_workers(self, config: LeanConfig) -> int:
        """REPL workers across the Lean actors (sizes the pipeline's check slices)."""
        return actor_workers(config, self.settings.lean) * self.settings.lean.actors

    def close(self) -> None:
        """Stop the local cluster this run started (a joined cluster keeps running)."""
        if self._owned:
            ray.shutdown()
            self._owned = False
