"""The data home: where formalize keeps its corpus, benchmark runs and Lean project.

``$FORMALIZE_HOME`` when set, else ``$XDG_DATA_HOME/formalize`` (``~/.local/share/formalize``).
The same from any directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "FORMALIZE_HOME"


def data_home() -> Path:
    """Where formalize keeps its data: ``$FORMALIZE_HOME``, else ``$XDG_DATA_HOME/formalize``."""
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "formalize"
