"""Hosts left out of what is published: a datasets folder meant for ``--push-to-hub`` names the
models (``openai:Qwen3-8B@...``), not the servers that ran them.

Only fields that carry provenance are redacted (model specs, engine descriptions, run configs),
never problem or statement text, which may quote a URL on purpose.
"""

from __future__ import annotations

import re
from typing import Any

HOST = "<host>"
# scheme://[user[:password]@]host[:port]: everything up to the path
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^/\s\"'<>,;]+")


def redact_text(text: str) -> str:
    """``text`` with each URL's user, host and port replaced by ``<host>`` (path kept)."""
    return _URL.sub(lambda m: f"{m.group(1)}://{HOST}", text) if "://" in text else text


def redact_hosts(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings) with every URL's host redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_hosts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_hosts(item) for item in value]
    return value


def redact_fields(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``row`` with the provenance-bearing ``fields`` redacted (a new dict; others as they are)."""
    if not any(key in row for key in fields):
        return row
    return {key: redact_hosts(v) if key in fields else v for key, v in row.items()}
