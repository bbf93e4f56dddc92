"""The local executor: every engine and the Lean pool in this process (today's behaviour)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formalize.cache import Cache
    from formalize.lean.checker import LeanChecker
    from formalize.lean.config import LeanConfig
    from formalize.models.base import Engine
    from formalize.preflight import Preflight


class LocalExecutor:
    """Engines loaded here, one ``LeanChecker`` with its REPL pool here (``executor = "local"``)."""

    name = "local"

    def prepare(self, check: Preflight) -> bool:
        """Nothing to reach: this process is where everything runs."""
        return True

    def check_engines(self, check: Preflight, roles: Sequence[tuple[str, str]]) -> None:
        """Each engine's package, device, weights or server, checked here."""
        check.engines(roles)

    def engine(self, spec: str, role: str, cache: Cache | None) -> Engine:
        """``load_engine(spec)``: the model loads (or the server is reached) now."""
        from formalize.models import load_engine

        return load_engine(spec, cache=cache)

    def checker(self, config: LeanConfig, cache: Cache | None) -> LeanChecker:
        """A ``LeanChecker`` on the configured backend."""
        from formalize.lean.checker import LeanChecker

        return LeanChecker(config, cache=cache)

    def lean_workers(self, config: LeanConfig) -> int:
        """The config's ``workers`` (unset: the most a self-sizing pool starts)."""
        from formalize.lean.config import default_workers

        return config.workers or default_workers()

    def close(self) -> None:
        """Nothing to release: engines and the checker close themselves."""
