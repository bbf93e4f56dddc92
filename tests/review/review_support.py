"""Helpers the review tests share: the test client's address and CSRF header, and where the
browser tier finds Chromium."""

from __future__ import annotations

import os
import shutil

BASE_URL = "http://127.0.0.1:8765"
CSRF = {"X-Formalize-CSRF": "csrf-for-tests"}


def chromium_path() -> str:
    """Debian's chromium (``$FORMALIZE_CHROMIUM`` overrides)."""
    return (
        os.environ.get("FORMALIZE_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or "/usr/bin/chromium"
    )


def browser_reason() -> str | None:
    """Why the browser tier cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.path.exists(chromium_path()):
        return (
            f"no Chromium at {chromium_path()}: `apt-get install chromium` (Debian; `make test`"
            " installs it when run as root), or point FORMALIZE_CHROMIUM at one"
        )
    return None
