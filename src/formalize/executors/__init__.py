"""Where the heavy stages run: the executor, chosen by one setting (``executor``).

``local`` (the default) loads each engine and the Lean pool in this process, as ever; ``ray``
runs them on Ray actor pools (``formalize.executors.ray``, the ``formalize-lean[ray]`` extra),
while the driver keeps the loop, the store and the caches. Both build the same things the
pipeline already uses, an ``Engine`` per spec and a ``LeanChecker``, so the stage logic does not
know which executor it runs on. Importing this package imports no Ray.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from formalize.errors import InputError, SetupError
from formalize.settings import did_you_mean

if TYPE_CHECKING:
    from formalize.cache import Cache
    from formalize.lean.checker import LeanChecker
    from formalize.lean.config import LeanConfig
    from formalize.models.base import Engine
    from formalize.preflight import Preflight

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    """What the runner needs from an executor."""

    name: str

    def prepare(self, check: Preflight) -> bool:
        """Reach what the stages will run on; False (the problem in ``check``) when it cannot."""
        ...

    def check_engines(self, check: Preflight, roles: Sequence[tuple[str, str]]) -> None:
        """Record in ``check`` what each ``(role, spec)`` engine lacks, before anything loads."""
        ...

    def engine(self, spec: str, role: str, cache: Cache | None) -> Engine:
        """The engine for ``spec`` (``role``: translator or a judge), caching in ``cache``."""
        ...

    def checker(self, config: LeanConfig, cache: Cache | None) -> LeanChecker:
        """The Lean checker."""
        ...

    def lean_workers(self, config: LeanConfig) -> int:
        """REPL workers checking at once, in all."""
        ...

    def close(self) -> None:
        """Release what the executor started."""
        ...


def check_executor(name: str) -> str | None:
    """Why ``name`` is not an executor (None when it is)."""
    if name in EXECUTORS:
        return None
    hint = did_you_mean(name, EXECUTORS)
    return f"unknown executor {name!r}{hint}; one of: {', '.join(EXECUTORS)}"


def build_executor(
    name: str, address: str | None = None, ray: Mapping[str, Any] | None = None
) -> Executor:
    """The executor ``name`` (``InputError`` for bad settings, ``SetupError`` when Ray is
    missing). Nothing is started yet."""
    problem = check_executor(name)
    if problem:
        raise InputError(problem)
    if name == "local":
        if address is not None:
            raise InputError(
                f"ray_address is {address!r} but the executor is local: add --executor ray"
            )
        from formalize.executors.local import LocalExecutor

        return LocalExecutor()
    from formalize.executors.settings import RaySettings

    try:
        settings = RaySettings.from_mapping(ray or {}, address=address)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    try:
        from formalize.executors.ray import RayExecutor
    except ImportError as exc:
        from formalize.install import install_hint

        raise SetupError(
            f"the ray executor needs the ray package ({exc}): {install_hint('ray')}, "
            "or run with --executor local"
        ) from None
    return RayExecutor(settings)
