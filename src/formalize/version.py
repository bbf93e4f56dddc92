"""The code version recorded in every run and output row."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from formalize import __version__


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``formalize`` version, plus the git commit (and ``-dirty``) when run from a checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return __version__
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{out}" if out else __version__
