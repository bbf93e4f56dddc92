"""Settings of the Ray executor: plain, validated data from the run's ``[ray]`` table.

    [ray]
    max_restarts = 3        # Ray restarts a dead actor this many times
    chunk_retries = 3       # a chunk whose actor died is sent again this many times
    start_timeout_s = 600   # actors not started by then: the cluster lacks what they ask for
    [ray.translator]        # one engine per actor
    actors = 2
    num_gpus = 1
    [ray.lean]              # one LeanChecker (with its own REPL pool) per actor
    actors = 8
    num_cpus = 4
    memory_mb = 24000
    resources = {lean_node = 1}

Nothing here imports Ray; ``formalize.executors.ray`` turns these into actors.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from formalize.settings import did_you_mean, type_problem

POOLS = ("translator", "lean", "critic")


@dataclass(frozen=True)
class PoolSettings:
    """One actor pool: how many actors, what each asks Ray for, how work is cut for them.

    - ``actors``: actors in the pool.
    - ``num_cpus`` / ``num_gpus``: Ray resources per actor (``num_gpus`` None: the engine's
      ``tp`` x ``dp`` for a ``vllm:`` spec, else 0; ``num_cpus`` None: 1, or the workers
      per Lean actor for the Lean pool, ``formalize.executors.ray.actor_workers``).
    - ``memory_mb``: Ray's ``memory`` resource per actor (scheduling: an actor only goes where
      that much is free); None asks for none.
    - ``resources``: custom resources per actor, e.g. ``{lean_node = 1}`` to keep Lean on the
      nodes started with ``--resources='{"lean_node": 8}'``.
    - ``chunk_size``: items (conversations, Lean jobs) per chunk sent to one actor (None: 8
      for engines, 4 x the Lean ``workers`` for Lean).
    - ``in_flight``: chunks sent to one actor at once (the next waits in its queue, so the
      actor never idles between chunks).
    """

    actors: int = 1
    num_cpus: float | None = None
    num_gpus: float | None = None
    memory_mb: int | None = None
    resources: dict[str, float] = field(default_factory=dict)
    chunk_size: int | None = None
    in_flight: int = 2

    def problems(self, pool: str) -> list[str]:
        """What is wrong with these values, each naming ``[ray.<pool>]``."""
        out = []
        where = f"[ray.{pool}]"
        if self.actors < 1:
            out.append(f"{where} actors must be at least 1 (got {self.actors})")
        if self.in_flight < 1:
            out.append(f"{where} in_flight must be at least 1 (got {self.in_flight})")
        for name in ("num_cpus", "num_gpus"):
            value = getattr(self, name)
            if value is not None and value < 0:
                out.append(f"{where} {name} must be >= 0 (got {value})")
        for name in ("memory_mb", "chunk_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                out.append(f"{where} {name} must be at least 1 (got {value})")
        for key, value in self.resources.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                out.append(f"{where} resources.{key} must be a number >= 0 (got {value!r})")
        return out


@dataclass(frozen=True)
class RaySettings:
    """The Ray executor: where the cluster is, the three actor pools, how faults are handled.

    ``address`` None starts a local cluster for the run (stopped at its end); ``auto`` joins
    the cluster this node belongs to (``ray start``); else ``HOST:PORT`` or ``ray://...``.
    ``num_cpus`` / ``object_store_mb`` size that local cluster (None: this machine's cores,
    at least what the pools ask for; Ray's default store). ``max_restarts`` is Ray's restart
    budget per actor; ``chunk_retries`` bounds how often one chunk is sent again after its
    actor died; ``start_timeout_s`` bounds how long the driver waits for the actors to start.
    """

    address: str | None = None
    translator: PoolSettings = field(default_factory=PoolSettings)
    lean: PoolSettings = field(default_factory=PoolSettings)
    critic: PoolSettings = field(default_factory=PoolSettings)
    max_restarts: int = 3
    chunk_retries: int = 3
    start_timeout_s: float = 600.0
    num_cpus: int | None = None
    object_store_mb: int | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], address: str | None = None) -> RaySettings:
        """Build from a ``[ray]`` table (sub-tables per pool); unknown keys get a "did you
        mean". Raises ``ValueError`` naming every problem."""
        problems: list[str] = []
        kwargs: dict[str, Any] = {}
        top = typing.get_type_hints(cls)
        pool_hints = typing.get_type_hints(PoolSettings)
        for key, value in values.items():
            key = key.replace("-", "_")
            if key in POOLS:
                if not isinstance(value, Mapping):
                    problems.append(f"[ray.{key}] must be a table")
                    continue
                kwargs[key] = _pool(key, value, pool_hints, problems)
            elif key in top:
                if value is not None and (why := type_problem(value, top[key])):
                    problems.append(f"[ray] {key}: {why}")
                else:
                    kwargs[key] = value
            else:
                known = sorted({*top, *POOLS})
                hint = did_you_mean(key, known)
                problems.append(f"unknown Ray setting {key!r}{hint}")
        if address is not None:
            kwargs["address"] = address
        if problems:
            raise ValueError("; ".join(problems))
        settings = cls(**{k: v for k, v in kwargs.items() if v is not None})
        problems = settings.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return settings

    def problems(self) -> list[str]:
        """What is wrong with these values."""
        out = [p for name in POOLS for p in self.pool(name).problems(name)]
        if self.max_restarts < -1:
            out.append(f"[ray] max_restarts must be >= -1 (-1: always; got {self.max_restarts})")
        if self.chunk_retries < 0:
            out.append(f"[ray] chunk_retries must be >= 0 (got {self.chunk_retries})")
        if not self.start_timeout_s > 0:
            out.append("[ray] start_timeout_s must be > 0")
        for name in ("num_cpus", "object_store_mb"):
            value = getattr(self, name)
            if value is not None and value < 1:
                out.append(f"[ray] {name} must be at least 1 (got {value})")
        return out

    def pool(self, name: str) -> PoolSettings:
        """The settings of pool ``name`` (translator, lean or critic)."""
        value = getattr(self, name)
        assert isinstance(value, PoolSettings)
        return value


def _pool(
    name: str, values: Mapping[str, Any], hints: dict[str, Any], problems: list[str]
) -> PoolSettings:
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        key = key.replace("-", "_")
        if key not in hints:
            hint = did_you_mean(key, hints)
            problems.append(f"unknown setting {key!r} in [ray.{name}]{hint}")
        elif value is not None and (why := type_problem(value, hints[key])):
            problems.append(f"[ray.{name}] {key}: {why}")
        elif value is not None:
            kwargs[key] = dict(value) if key == "resources" else value
    return PoolSettings(**kwargs)
