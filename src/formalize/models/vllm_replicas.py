"""Data parallelism for the vllm engine: ``dp`` worker processes, each with its own ``vllm.LLM``
on its own devices, sharing out each batch and answering in input order.

vLLM refuses ``data_parallel_size > 1`` inside one process, so each replica is a separate
(spawned) process that builds a ``dp=1`` engine from the same spec. On GPUs every replica sees
its own ``tp`` devices through the platform's visibility variable (``CUDA_VISIBLE_DEVICES`` for
CUDA); on the CPU build all replicas share the cores. As with vLLM itself, a script that builds
such an engine needs an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from formalize.errors import SetupError
from formalize.models.base import EngineSpec, Failure, GenerationError, GenerationParams, Outcome
from formalize.models.profiles import Message, ModelProfile

log = logging.getLogger(__name__)


def device_groups(dp: int, tp: int) -> list[dict[str, str]]:
    """The environment each replica needs to see only its own devices."""
    from vllm.platforms import current_platform

    if current_platform.is_cpu():
        return [{} for _ in range(dp)]
    variable = current_platform.device_control_env_var
    visible = os.environ.get(variable, "")
    devices = [d for d in visible.split(",") if d.strip()] or [
        str(i) for i in range(current_platform.device_count())
    ]
    if len(devices) < dp * tp:
        raise SetupError(
            f"dp={dp} x tp={tp} needs {dp * tp} devices; {len(devices)} are visible "
            f"({variable}={visible or 'unset'})"
        )
    return [{variable: ",".join(devices[r * tp : (r + 1) * tp])} for r in range(dp)]


def _replica_main(
    conn: Connection, spec: EngineSpec, options: dict[str, Any], profile: ModelProfile,
    env: dict[str, str],
) -> None:  # fmt: skip
    """A replica: build the engine, then answer (conversations, params) until told to stop."""
    os.environ.update(env)
    from formalize.models.vllm_engine import VLLMEngine

    try:
        engine = VLLMEngine(spec, {**options, "dp": 1}, profile=profile)
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", engine.max_model_len))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                break
            if message is None:
                break
            conversations, params = message
            try:
                conn.send(("ok", engine._generate(conversations, GenerationParams(**params))))
            except BaseException as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.close()


class Replicas:
    """vLLM worker processes, one per environment in ``envs``, each a ``dp=1`` engine."""

    def __init__(
        self,
        spec: EngineSpec,
        options: dict[str, Any],
        profile: ModelProfile,
        envs: Sequence[dict[str, str]],
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, Connection]] = []
        for rank, env in enumerate(envs):
            parent, child = context.Pipe()
            process = context.Process(
                target=_replica_main,
                args=(child, spec, options, profile, env),
                name=f"vllm-replica-{rank}",
            )
            process.start()
            child.close()
            self._workers.append((process, parent))
        lengths = [self._receive(rank, starting=True) for rank in range(len(envs))]
        self.max_model_len = int(min(lengths))

    def __len__(self) -> int:
        return len(self._workers)

    @property
    def pids(self) -> list[int]:
        """The replicas' process ids."""
        return [int(process.pid) for process, _ in self._workers]

    def _receive(self, rank: int, *, starting: bool = False) -> Any:
        process, conn = self._workers[rank]
        while not conn.poll(1.0):
            if not process.is_alive():
                self.close()
                raise SetupError(f"vLLM replica {rank} died (exit code {process.exitcode})")
        try:
            kind, payload = conn.recv()
        except EOFError:
            self.close()
            raise SetupError(f"vLLM replica {rank} closed its pipe") from None
        if kind == "error":
            if starting:
                self.close()
                raise SetupError(f"vLLM replica {rank} could not start: {payload}")
            raise GenerationError(f"vLLM replica {rank} failed: {payload}")
        return payload

    def generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        """Outcomes for ``conversations``, dealt round-robin to the replicas, in input order."""
        shards = [list(range(r, len(conversations), len(self))) for r in range(len(self))]
        busy = [r for r, shard in enumerate(shards) if shard]
        for r in busy:
            self._workers[r][1].send(([conversations[i] for i in shards[r]], vars(params)))
        results: list[Outcome] = [Failure("not generated")] * len(conversations)
        errors = []
        for r in busy:
            try:
                outcomes = self._receive(r)
            except GenerationError as exc:
                errors.append(str(exc))
                continue
            for i, outcome in zip(shards[r], outcomes, strict=True):
                results[i] = outcome
        if errors:
            raise GenerationError("; ".join(errors))
        return results

    def close(self) -> None:
        """Stop the replicas (waits a while, then terminates stragglers)."""
        for process, conn in self._workers:
            try:
                if process.is_alive():
                    conn.send(None)
            except OSError:
                pass
        for process, conn in self._workers:
            process.join(timeout=60)
            if process.is_alive():
                log.warning("vLLM replica %s did not stop; terminating it", process.pid)
                process.terminate()
                process.join(timeout=10)
            conn.close()
        self._workers = []
