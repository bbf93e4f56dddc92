"""The classes the Ray executor runs as actors: an engine per actor, a ``LeanChecker`` per actor.

Plain classes (``ray.remote`` wraps them when the executor starts), so that this module imports
no Ray and each class can be tried in-process. An actor does the heavy work only: no cache and
no store, which stay with the driver; the driver sends prepared conversations and gated Lean
jobs and gets raw outcomes and body-relative results back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from formalize.lean.config import LeanConfig
from formalize.lean.pool import Job
from formalize.models.base import GenerationParams, Outcome
from formalize.models.profiles import Message
from formalize.records import CheckResult


class EngineActor:
    """One text-generation engine (``load_engine(spec)``, no cache), answering chunks."""

    def __init__(self, spec: str) -> None:
        from formalize.models import load_engine

        self.engine = load_engine(spec, cache=None)

    def ready(self) -> int:
        """The actor's process id, once the engine is built."""
        return os.getpid()

    def identity(self) -> dict[str, Any]:
        """What the driver needs to key the cache and record provenance like a local run."""
        engine = self.engine
        return {
            "name": engine.name,
            "options": dict(engine.options),
            "profile": engine.profile,
            "revision": engine.revision,
            "describe": engine.describe(),
            "cache_identity": engine.cache_identity(),
            "provenance": engine.provenance(),
        }

    def generate(
        self, conversations: Sequence[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        """Raw outcomes for prepared conversations, in input order."""
        return self.engine.generate_prepared(list(conversations), params)

    def close(self) -> None:
        """Release the model."""
        self.engine.close()


class LeanActor:
    """One ``LeanChecker`` with its own REPL pool (``workers`` processes), answering chunks of
    jobs the driver's checker has already gated and looked up in its cache."""

    def __init__(self, config: LeanConfig) -> None:
        from formalize.lean.checker import LeanChecker

        self.checker = LeanChecker(config, cache=None)

    def ready(self) -> int:
        """The actor's process id."""
        return os.getpid()

    def preflight(self) -> None:
        """``LeanChecker.preflight`` on this actor's node (``SetupError`` when Lean is missing)."""
        self.checker.preflight()

    def run(self, jobs: Sequence[Job]) -> tuple[list[CheckResult], dict[str, CheckResult]]:
        """Body-relative results in job order, and the headers that failed to import."""
        return self.checker.run_jobs(jobs)

    def close(self) -> None:
        """Stop every Lean process of this actor."""
        self.checker.close()
