"""Settings of the Lean checker: plain, validated data; building a checker from them is separate.

``LeanConfig`` does no I/O: paths are not resolved, files are not read, nothing is started.
``formalize.lean.checker.LeanChecker`` turns a config into running workers.
"""

from __future__ import annotations

import os
import shlex
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BACKENDS = ("repl", "file", "kimina")
KIMINA_POSITIONS = ("auto", "body", "snippet")
SANDBOX_MODES = ("auto", "on", "off")
DEFAULT_HEADER = "import Mathlib"
# Where the REPL binary lands when lean_project/ requires it as a Lake package named "REPL"
# (``lake build repl``); relative to the Lake project.
REPL_BINARY = Path(".lake") / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"


ENV_LEAN_PROJECT = "FORMALIZE_LEAN_PROJECT"


def default_lean_project() -> Path:
    """The Lake project used when none is given: ``$FORMALIZE_LEAN_PROJECT``, else
    ``<data home>/lean_project``; the same from any directory (``formalize lean setup``
    builds it there)."""
    from formalize.home import data_home

    env = os.environ.get(ENV_LEAN_PROJECT)
    return Path(env).expanduser().absolute() if env else data_home() / "lean_project"


def default_workers() -> int:
    """One worker per core, leaving one core for the rest of the pipeline; at least one (the
    most ``workers`` None starts; the file and kimina backends start that many)."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass(frozen=True)
class LeanConfig:
    """How Lean checks run.

    - ``backend``: ``repl`` (pooled leanprover-community REPL processes, the default), ``file``
      (one ``lake env lean --json`` run per chunk of statements) or ``kimina`` (a running
      kimina-lean-server at ``kimina_url``).
    - ``lean_project``: the Lake project checks run in (default: ``default_lean_project()``).
    - ``repl_cmd``: the command that starts a REPL, run in ``lean_project``. None means
      ``lake env <lean_project>/.lake/packages/REPL/.lake/build/bin/repl``. Any executable that
      speaks the REPL protocol can stand in (the tests use a fake one).
    - ``header``: the header (imports, ``open``, allowed ``set_option`` lines) of statements
      that carry no ``import`` lines of their own.
    - ``timeout_s``: wall-clock limit of one check; ``import_timeout_s`` of one header import.
    - ``workers``: parallel Lean workers. None (the default) sizes the REPL pool to this
      machine: one worker per core but one, and no more than the memory available takes
      (``formalize.lean.memory.suggest_workers``, measured on the first worker); a number wins.
    - ``memory_mb``: cap on the private (anonymous) memory of one worker's process tree: the
      .olean files every worker maps do not count (``formalize.lean.memory``).
    - ``recycle_after``: a REPL process is replaced after this many checks (the REPL never frees
      environments, so memory only grows).
    - ``queue_size``: bound of the job queue (0: four jobs per worker).
    - ``probe``: ``"auto"`` verifies every imported header by asking Lean whether each imported
      module is loaded; ``""`` turns that off; any other text is sent as the probe command and
      must give no error.
    - ``toolchain``: the provenance stamp of results (and part of cache keys); None reads it from
      ``lean_project`` when the checker starts.
    - ``auto_implicit``: Lean's auto-bound implicits. Off by default: the checker adds
      ``set_option autoImplicit false`` (and ``relaxedAutoImplicit``) to every header, since
      with Lean's default a misspelt name in a statement (``sqrtt x``) silently becomes a
      variable and the statement compiles; statements may not set these options themselves.
    - ``sandbox``: run every Lean process under bubblewrap (``formalize.lean.sandbox``):
      ``auto`` where ``bwrap`` works (else a warning, once, and no sandbox), ``on`` (required:
      a ``SetupError`` where it cannot run), ``off`` (a warning, once).
    - ``sandbox_paths`` / ``sandbox_writable``: more paths the sandbox shows, read-only / writable
      (what a custom ``repl_cmd`` needs beyond its own file: an interpreter, a data directory).
    - ``sandbox_address_space_mb``, ``sandbox_cpu_s``, ``sandbox_nproc``: rlimits inside the
      sandbox (address space, CPU seconds per process, processes and threads per sandbox);
      None derives them from the settings above, 0 sets none. ``sandbox_file_mb``: the largest
      file Lean may write; ``sandbox_tmp_mb``: the size of its private ``/tmp``.
    """

    backend: str = "repl"
    lean_project: Path = field(default_factory=default_lean_project)
    repl_cmd: tuple[str, ...] | None = None
    lean_cmd: tuple[str, ...] = ("lake", "env", "lean", "--json")
    header: str = DEFAULT_HEADER
    workers: int | None = None
    timeout_s: float = 60.0
    import_timeout_s: float = 600.0
    memory_mb: int = 8192
    recycle_after: int = 200
    queue_size: int = 0
    probe: str = "auto"
    allowed_options: frozenset[str] | None = None
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    max_start_failures: int = 3
    memory_poll_s: float = 0.2
    file_chunk: int = 64
    kimina_url: str | None = None
    kimina_batch: int = 8
    kimina_positions: str = "auto"
    progress_min: int = 16
    toolchain: str | None = None
    auto_implicit: bool = False
    sandbox: str = "auto"
    sandbox_paths: tuple[Path, ...] = ()
    sandbox_writable: tuple[Path, ...] = ()
    sandbox_address_space_mb: int | None = None
    sandbox_cpu_s: int | None = None
    sandbox_nproc: int | None = None
    sandbox_file_mb: int = 64
    sandbox_tmp_mb: int = 256

    def __post_init__(self) -> None:
        # Accept plain data (lists, command strings, path strings), as a TOML file gives it.
        if isinstance(self.repl_cmd, str):
            object.__setattr__(self, "repl_cmd", tuple(shlex.split(self.repl_cmd)))
        elif self.repl_cmd is not None and not isinstance(self.repl_cmd, tuple):
            object.__setattr__(self, "repl_cmd", tuple(self.repl_cmd))
        if isinstance(self.lean_cmd, str):
            object.__setattr__(self, "lean_cmd", tuple(shlex.split(self.lean_cmd)))
        elif not isinstance(self.lean_cmd, tuple):
            object.__setattr__(self, "lean_cmd", tuple(self.lean_cmd))
        if not isinstance(self.lean_project, Path):
            object.__setattr__(self, "lean_project", Path(self.lean_project))
        for name in ("sandbox_paths", "sandbox_writable"):
            value = getattr(self, name)
            paths = (value,) if isinstance(value, str | Path) else value
            object.__setattr__(self, name, tuple(Path(p) for p in paths))
        if self.allowed_options is not None and not isinstance(self.allowed_options, frozenset):
            object.__setattr__(self, "allowed_options", frozenset(self.allowed_options))
        problems = _problems(self)
        if problems:
            raise ValueError("invalid LeanConfig: " + "; ".join(problems))

    @property
    def job_queue_size(self) -> int:
        """The effective bound of the job queue."""
        return self.queue_size or 4 * (self.workers or default_workers())

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> LeanConfig:
        """Build from plain data (a ``[lean]`` TOML table); unknown keys get a "did you mean".

        Raises ``ValueError`` with every problem named.
        """
        from formalize.settings import did_you_mean, type_problem

        hints = typing.get_type_hints(cls)
        problems = []
        for key, value in values.items():
            if key not in hints:
                hint = did_you_mean(key, hints)
                problems.append(f"unknown Lean setting {key!r}{hint}")
            elif value is not None and (why := type_problem(value, hints[key])):
                problems.append(f"{key}: {why}")
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**{k: v for k, v in values.items() if v is not None})

    def with_overrides(self, **changes: Any) -> LeanConfig:
        """A copy with the given fields changed; ``None`` values (flags not given) are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _problems(c: LeanConfig) -> list[str]:
    out: list[str] = []
    if c.backend not in BACKENDS:
        out.append(f"backend must be one of {', '.join(BACKENDS)}, not {c.backend!r}")
    if c.repl_cmd is not None and not c.repl_cmd:
        out.append("repl_cmd must not be empty (None selects the default)")
    if not c.lean_cmd:
        out.append("lean_cmd must not be empty")
    positive: Sequence[tuple[str, float]] = (
        ("workers", 1 if c.workers is None else c.workers),
        ("timeout_s", c.timeout_s),
        ("import_timeout_s", c.import_timeout_s),
        ("memory_mb", c.memory_mb),
        ("recycle_after", c.recycle_after),
        ("max_start_failures", c.max_start_failures),
        ("memory_poll_s", c.memory_poll_s),
        ("file_chunk", c.file_chunk),
        ("kimina_batch", c.kimina_batch),
    )
    out.extend(f"{name} must be > 0 (got {value})" for name, value in positive if value <= 0)
    if c.queue_size < 0:
        out.append(f"queue_size must be >= 0 (got {c.queue_size})")
    if c.backoff_s < 0 or c.backoff_max_s < c.backoff_s:
        out.append("need 0 <= backoff_s <= backoff_max_s")
    if c.kimina_positions not in KIMINA_POSITIONS:
        out.append(f"kimina_positions must be one of {', '.join(KIMINA_POSITIONS)}")
    if c.backend == "kimina" and not c.kimina_url:
        out.append("the kimina backend needs kimina_url (e.g. http://localhost:12332)")
    out.extend(_sandbox_problems(c))
    return out


def _sandbox_problems(c: LeanConfig) -> list[str]:
    out: list[str] = []
    if c.sandbox not in SANDBOX_MODES:
        out.append(f"sandbox must be one of {', '.join(SANDBOX_MODES)}, not {c.sandbox!r}")
    limits = (
        ("sandbox_address_space_mb", c.sandbox_address_space_mb),
        ("sandbox_cpu_s", c.sandbox_cpu_s),
        ("sandbox_nproc", c.sandbox_nproc),
        ("sandbox_file_mb", c.sandbox_file_mb),
    )
    out.extend(f"{name} must be >= 0 (got {v})" for name, v in limits if v is not None and v < 0)
    if c.sandbox_tmp_mb <= 0:
        out.append(f"sandbox_tmp_mb must be > 0 (got {c.sandbox_tmp_mb})")
    space = c.sandbox_address_space_mb
    if space and space < c.memory_mb:
        out.append(
            f"sandbox_address_space_mb ({space}) is below memory_mb ({c.memory_mb}): Lean maps "
            "its .olean files into its address space, so that limit would kill it first"
        )
    for path in (*c.sandbox_paths, *c.sandbox_writable):
        if path == Path("/"):
            out.append("the sandbox cannot show / itself: name the directories Lean needs")
    return out
