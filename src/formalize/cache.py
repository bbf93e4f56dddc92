"""Content-hash keys and the small cache interface that engines and the Lean checker use.

The corpus store (``formalize.corpus.Store.cache``) is the durable implementation; ``MemoryCache``
serves tests and one-off runs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Protocol


def content_key(kind: str, *parts: Any) -> str:
    """A stable sha256 key over ``kind`` and JSON-serialisable ``parts`` (order matters)."""
    payload = json.dumps([kind, *parts], sort_keys=True, ensure_ascii=False, default=str)
    return f"{kind}:{hashlib.sha256(payload.encode('utf-8')).hexdigest()}"


class Cache(Protocol):
    """A key-value store of JSON text, keyed by ``content_key``."""

    def get(self, key: str) -> str | None:
        """The stored value, or None."""
        ...

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (last write wins)."""
        ...


class MemoryCache:
    """A thread-safe in-process ``Cache``."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The stored value, or None."""
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        with self._lock:
            self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)
