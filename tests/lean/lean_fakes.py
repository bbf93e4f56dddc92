"""Helpers for the Lean tests: the fake REPL command, configs using it, its request log.

The configs run the fake REPL inside the sandbox wherever bubblewrap works here (``sandbox =
on``, so that a broken sandbox fails the tests rather than being skipped quietly), and without
one where it cannot (a clone on macOS); ``test_sandbox`` fails when ``bwrap`` is installed but
cannot make a sandbox.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from formalize.lean.config import LeanConfig
from formalize.lean.sandbox import support

FAKE_REPL = Path(__file__).resolve().with_name("fake_repl.py")
REPO = Path(__file__).resolve().parents[2]
SHARED_REPL = REPO.parent / "shared" / "lean-repl"
# The interpreter itself: a venv's `python` is a symlink whose venv the sandbox does not show.
PYTHON = os.path.realpath(sys.executable)
# What the sandbox must show for PYTHON to run (the fake REPL needs the standard library only).
PYTHON_HOME = sys.base_prefix


def sandbox_mode() -> str:
    """``on`` where the sandbox works on this machine, ``off`` where it cannot."""
    return "on" if support().ok else "off"


def fake_cmd(*flags: str) -> list[str]:
    """The command running the fake REPL with ``flags``."""
    return [PYTHON, str(FAKE_REPL), *flags]


def fake_cli_args(*flags: str) -> list[str]:
    """``formalize`` options that check with the fake REPL (in the sandbox where it works)."""
    return ["--repl-cmd", shlex.join(fake_cmd(*flags)), "--sandbox-path", PYTHON_HOME]


def shared_dir(tmp_path: Path) -> Path:
    """A directory the sandboxed fake REPL may write (its ``--log``), also as ``nobody``."""
    path = tmp_path / "shared"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


def log_path(tmp_path: Path) -> Path:
    """Where the fake REPL's ``--log`` goes: in ``shared_dir``."""
    return shared_dir(tmp_path) / "requests.jsonl"


def fake_config(tmp_path: Path, *flags: str, **overrides: Any) -> LeanConfig:
    """A config driving the fake REPL: small limits so failures are quick."""
    values: dict[str, Any] = {
        "repl_cmd": fake_cmd(*flags),
        "lean_project": tmp_path / "no-project",
        "workers": 2,
        "timeout_s": 5.0,
        "import_timeout_s": 10.0,
        "memory_mb": 400,
        "backoff_s": 0.01,
        "backoff_max_s": 0.05,
        "memory_poll_s": 0.05,
        "toolchain": "fake-lean",
        "lean_cmd": (*fake_cmd(*flags), "--lean-json"),
        "sandbox": sandbox_mode(),
        "sandbox_paths": (PYTHON_HOME,),
        "sandbox_writable": (shared_dir(tmp_path),),
    }
    values.update(overrides)
    return LeanConfig(**values)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The requests the fake REPL logged (``--log``): process ids and request text, in order."""
    if not path.exists():
        return []
    data = path.read_bytes()
    done = data[: data.rfind(b"\n") + 1]  # a line the REPL is still writing is read next time
    return [json.loads(line) for line in done.decode("utf-8").split("\n")[:-1]]


def requests(path: Path) -> list[dict[str, Any]]:
    """The logged requests, decoded."""
    return [json.loads(entry["request"]) for entry in read_log(path)]
