"""Helpers for the Lean tests: the fake REPL command, configs using it, its request log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from formalize.lean.config import LeanConfig

FAKE_REPL = Path(__file__).resolve().with_name("fake_repl.py")
REPO = Path(__file__).resolve().parents[2]
SHARED_REPL = REPO.parent / "shared" / "lean-repl"


def fake_cmd(*flags: str) -> list[str]:
    """The command running the fake REPL with ``flags``."""
    return [sys.executable, str(FAKE_REPL), *flags]


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
    }
    values.update(overrides)
    return LeanConfig(**values)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The requests the fake REPL logged (``--log``): pid and request text, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def requests(path: Path) -> list[dict[str, Any]]:
    """The logged requests, decoded."""
    return [json.loads(entry["request"]) for entry in read_log(path)]
