"""What a Lake project provides: the REPL binary, the command that runs it, its versions.

Read-only inspection of ``lean_project/`` (or any Lake project given by ``--lean-project``).
``formalize.lean.setup`` is the part that writes and builds it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from formalize.errors import SetupError
from formalize.lean.config import REPL_BINARY

SETUP_HINT = "Run `formalize lean setup` (it says what is missing), or pass --repl-cmd."
_ENV_MARK = "formalize-lake-env:"
# Prints the environment `lake env` runs its command with, on one marked line.
_DUMP_ENV = f"import json, os; print({_ENV_MARK!r} + json.dumps(dict(os.environ)))"


@dataclass(frozen=True)
class ProjectVersions:
    """Versions pinned and built in a Lake project (None where unknown)."""

    toolchain: str | None = None
    mathlib: str | None = None
    repl: str | None = None

    def stamp(self) -> str | None:
        """A short provenance string: toolchain and Mathlib revision."""
        if self.toolchain is None:
            return None
        return self.toolchain + (f" mathlib@{self.mathlib}" if self.mathlib else "")


def absolute_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` with every argument that names an existing file made absolute, so it stays
    valid when the command runs in the project; other arguments (flags, JSON, a name too long
    for a path) unchanged."""
    out = []
    for arg in argv:
        try:
            out.append(str(Path(arg).resolve()) if Path(arg).exists() else arg)
        except (OSError, ValueError):  # too long for a path, or a NUL in it
            out.append(arg)
    return out


def is_lake_project(path: Path) -> bool:
    """True when ``path`` holds a Lake configuration file."""
    return (path / "lakefile.toml").is_file() or (path / "lakefile.lean").is_file()


def find_repl_binary(project: Path) -> Path | None:
    """The REPL executable built as a dependency of ``project`` (any capitalisation)."""
    expected = project / REPL_BINARY
    if expected.is_file():
        return expected
    packages = project / ".lake" / "packages"
    if packages.is_dir():
        for pkg in sorted(packages.iterdir()):
            if pkg.name.lower() == "repl":
                candidate = pkg / ".lake" / "build" / "bin" / "repl"
                if candidate.is_file():
                    return candidate
    own = project / ".lake" / "build" / "bin" / "repl"  # project *is* a REPL checkout
    return own if own.is_file() else None


def default_repl_command(project: Path) -> list[str]:
    """``lake env <repl>`` for ``project``; ``SetupError`` saying what is missing otherwise."""
    lake = shutil.which("lake")
    if lake is None:
        raise SetupError(
            "no Lean toolchain: `lake` is not on PATH. Install elan "
            "(https://github.com/leanprover/elan), then run `formalize lean setup`; "
            "or point --repl-cmd at a REPL."
        )
    if not project.is_dir():
        raise SetupError(f"the Lean project {project} does not exist. {SETUP_HINT}")
    binary = find_repl_binary(project)
    if binary is None:
        raise SetupError(f"the REPL is not built in {project} (no {REPL_BINARY}). {SETUP_HINT}")
    return [lake, "env", str(binary.resolve())]


def read_versions(project: Path) -> ProjectVersions:
    """Toolchain from ``lean-toolchain``, Mathlib and REPL revisions from ``lake-manifest.json``."""
    toolchain = None
    with contextlib.suppress(OSError):
        toolchain = (project / "lean-toolchain").read_text(encoding="utf-8").strip() or None
    mathlib = repl = None
    try:
        manifest = json.loads((project / "lake-manifest.json").read_text(encoding="utf-8"))
        for pkg in manifest.get("packages", []):
            name = str(pkg.get("name", "")).lower()
            rev = pkg.get("inputRev") or pkg.get("rev")
            short = f"{rev}" if not pkg.get("rev") else f"{rev} ({str(pkg['rev'])[:12]})"
            if name == "mathlib":
                mathlib = short
            elif name == "repl":
                repl = short
    except (OSError, ValueError, AttributeError):
        pass
    return ProjectVersions(toolchain, mathlib, repl)


@functools.cache
def lake_environment(lake: str, project: Path, timeout_s: float = 600.0) -> dict[str, str]:
    """The environment ``lake env`` gives commands in ``project`` (``LEAN_PATH``, sysroot, ...).

    For the sandbox (``formalize.lean.sandbox``): Lake runs here once per process, outside any
    sandbox and on trusted input only (the project's own configuration, no statement), so that
    the REPL or ``lean`` can then run inside with this environment and without Lake, which
    would want to read its configuration and write to ``.lake/``. ``SetupError`` when Lake
    fails.
    """
    argv = [lake, "env", sys.executable, "-c", _DUMP_ENV]
    try:
        done = subprocess.run(
            argv, cwd=project, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run `{lake} env` in {project}: {exc}") from None
    for line in reversed(done.stdout.splitlines() if done.returncode == 0 else []):
        if line.startswith(_ENV_MARK):
            with contextlib.suppress(ValueError, AttributeError):
                env = json.loads(line[len(_ENV_MARK) :])
                return {str(k): str(v) for k, v in env.items()}
    tail = (done.stderr or done.stdout).strip()[-1000:]
    raise SetupError(
        f"`{lake} env` failed in {project} (exit code {done.returncode}): {tail}. {SETUP_HINT}"
    )
