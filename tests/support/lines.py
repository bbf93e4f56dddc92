"""A subprocess's text stream read line by line on a thread, so that a test can wait for a line
(with a deadline, failing with what came instead) while the process runs on."""

from __future__ import annotations

import queue
import re
import threading
import time
from typing import IO


class Lines:
    """``Lines(proc.stderr)``: ``wait_for(pattern)`` while the process runs, ``rest()`` after."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._fresh: queue.Queue[str | None] = queue.Queue()
        self._stream = stream
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            self._fresh.put(line)
        self._fresh.put(None)  # end of stream

    def wait_for(self, pattern: str, timeout: float = 120) -> str:
        """The first line from here on matching ``pattern``; fails if the stream ends first or
        ``timeout`` seconds pass, showing every line seen."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._fresh.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                why = f"in {timeout:g} s"
                break
            if line is None:
                why = "before the stream ended"
                self._fresh.put(None)  # for rest()
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} {why}; got:\n{''.join(self.seen)}")

    def rest(self, timeout: float = 300) -> str:
        """Everything the stream held, once it has ended (within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._fresh.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"the stream did not end in {timeout:g} s; got:\n{''.join(self.seen)}"
                ) from None
            if line is None:
                self._fresh.put(None)
                return "".join(self.seen)
            self.seen.append(line)
