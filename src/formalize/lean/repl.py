"""One REPL process: start it, send a request, read the reply under a deadline and a memory cap.

Plain pipes, not pexpect. The REPL is a line protocol on stdin/stdout with no terminal in
sight; pexpect would put a pty in between, whose echo and ``\\r\\n`` translation have to be
undone, whose line discipline limits the length of an input line (long statements), and which
merges stderr into stdout. With pipes, one non-blocking ``select`` loop per request reads
stdout and stderr as they come (a chatty stderr can never fill its pipe and stall the REPL),
enforces a wall-clock deadline, and samples the private memory (``formalize.lean.memory``: the
shared .olean mappings do not count) of the whole process tree (bwrap starts the REPL in its
sandbox as a grandchild, ``lake env`` as its child) every ``memory_poll_s``. Each pool worker
is one thread driving one ``ReplProcess``; the loop costs nothing while it waits.

POSIX only: the process gets its own session so that a kill takes ``lake`` and the REPL down
together; a kill also takes every descendant by process id (a sandboxed REPL has a session of
its own), and bwrap's ``--die-with-parent`` ends what is left.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import psutil

from formalize.lean.memory import MemorySample, TreeMemory, over_cap
from formalize.lean.protocol import ProtocolError, ReplResponse, encode_request, parse_reply_text
from formalize.records import CheckStatus

_READ = 1 << 16
_STDERR_TAIL = 8192
# Live processes, killed at interpreter exit: they run in their own sessions and would
# otherwise outlive a program that forgot to close its checker.
_LIVE: weakref.WeakSet[ReplProcess] = weakref.WeakSet()
_ATEXIT = threading.Lock()
_atexit_registered = False


def _kill_live() -> None:
    for proc in list(_LIVE):
        proc.kill()


def _track(proc: ReplProcess) -> None:
    global _atexit_registered
    with _ATEXIT:
        if not _atexit_registered:
            atexit.register(_kill_live)
            _atexit_registered = True
        _LIVE.add(proc)


class ReplFailure(Exception):
    """The process failed to answer; ``status`` says how. The process is dead afterwards."""

    status: ClassVar[CheckStatus] = CheckStatus.CRASHED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplTimeout(ReplFailure):
    """No reply before the deadline."""

    status = CheckStatus.TIMEOUT


class ReplOutOfMemory(ReplFailure):
    """The process tree's private memory went over the memory cap."""

    status = CheckStatus.OUT_OF_MEMORY


class ReplCrashed(ReplFailure):
    """The process exited (or closed stdout) without a reply."""

    status = CheckStatus.CRASHED


class ReplGarbage(ReplFailure):
    """The reply was not JSON of a known shape; the stream can no longer be trusted."""

    status = CheckStatus.PROTOCOL_ERROR


class ReplNotStarted(ReplFailure):
    """The command could not be run at all (not found, not executable)."""

    status = CheckStatus.CRASHED


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process, its session's process group and any descendant, then reap it."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
        proc.wait(timeout=5)


def run_capture(
    cmd: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str] | None = None,
    timeout_s: float,
    memory_mb: float | None,
    memory_poll_s: float = 0.2,
) -> tuple[int, bytes, str]:
    """Run a command to completion under a deadline and a memory cap (used by file mode).

    Returns (exit code, stdout, stderr tail). Raises ``ReplTimeout`` / ``ReplOutOfMemory``
    (after killing the tree) or ``ReplNotStarted``. ``env`` None: this process's environment.
    """
    try:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=None if env is None else dict(env),
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise ReplNotStarted(f"cannot run {' '.join(cmd)!r}: {exc}") from None
    assert proc.stdout and proc.stderr
    out, err = bytearray(), collections.deque[bytes]()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "err")
    memory = TreeMemory(proc.pid)
    deadline = time.monotonic() + timeout_s
    next_poll = time.monotonic() + memory_poll_s
    try:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                raise ReplTimeout(f"the Lean run did not finish within {timeout_s:g} s")
            if now >= next_poll:
                if memory_mb is not None:
                    sample = memory.poll(memory_mb)[1]
                    problem = over_cap(sample, memory_mb) if sample else None
                    if problem:
                        raise ReplOutOfMemory(problem)
                next_poll = now + memory_poll_s
            for key, _ in sel.select(max(0.0, min(deadline, next_poll) - now)):
                chunk = os.read(key.fd, _READ)
                if not chunk:
                    sel.unregister(key.fd)
                elif key.data == "out":
                    out += chunk
                else:
                    err.append(chunk)
                    while sum(map(len, err)) > _STDERR_TAIL and len(err) > 1:
                        err.popleft()
        code = proc.wait()
    except ReplFailure:
        kill_tree(proc)
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return code, bytes(out), b"".join(err).decode("utf-8", errors="replace").strip()


class ReplProcess:
    """A running REPL speaking the JSON protocol; ``request`` is one round trip."""

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        memory_mb: float | None = None,
        memory_poll_s: float = 0.2,
    ) -> None:
        self.cmd = list(cmd)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.memory_mb = memory_mb
        self.memory_poll_s = memory_poll_s
        self.replies = 0
        self.peak_rss_mb = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._sel: selectors.BaseSelector | None = None
        self._buf = bytearray()
        self._scan = 0
        self._stderr: collections.deque[bytes] = collections.deque()
        self._stderr_len = 0
        self._memory: TreeMemory | None = None
        self._next_poll = 0.0

    # ------------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        """Process id of the started command (None before ``start``)."""
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the command; ``ReplNotStarted`` when it cannot be run."""
        if self._proc is not None:
            raise RuntimeError("ReplProcess.start called twice")
        try:
            self._proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                bufsize=0,
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            raise ReplNotStarted(f"cannot run {' '.join(self.cmd)!r}: {exc}") from None
        assert self._proc.stdin and self._proc.stdout and self._proc.stderr
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            os.set_blocking(stream.fileno(), False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout.fileno(), selectors.EVENT_READ, "out")
        self._sel.register(self._proc.stderr.fileno(), selectors.EVENT_READ, "err")
        try:
            self._memory = TreeMemory(self._proc.pid)
        except psutil.Error:
            self._memory = None
        self._next_poll = time.monotonic() + self.memory_poll_s
        _track(self)

    def close(self) -> None:
        """Kill the process tree (the REPL keeps nothing worth a graceful exit)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        kill_tree(proc)
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def kill(self) -> None:
        """Kill the process tree but leave the pipes to the thread using them (it sees EOF)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            kill_tree(proc)

    def __enter__(self) -> ReplProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stderr_tail(self) -> str:
        """The last few KB the process wrote to stderr."""
        tail = b"".join(self._stderr)[-_STDERR_TAIL:]
        return tail.decode("utf-8", errors="replace").strip()

    def rss_mb(self) -> float:
        """Current resident memory of the process tree."""
        return self._memory.rss_mb() if self._memory else 0.0

    def memory(self) -> MemorySample:
        """Current memory of the process tree: private, RSS, PSS, USS."""
        return self._memory.sample() if self._memory else MemorySample()

    # ------------------------------------------------------------------ round trip

    def request(self, payload: Mapping[str, Any], timeout_s: float) -> ReplResponse:
        """Send one request and return its parsed reply (error objects included).

        Raises a ``ReplFailure`` (after killing the process) on timeout, memory cap, EOF or a
        reply that is not JSON.
        """
        if self._proc is None or self._sel is None:
            raise RuntimeError("ReplProcess.request before start")
        deadline = time.monotonic() + timeout_s
        try:
            raw = self._round_trip(encode_request(payload), deadline, timeout_s)
            text = raw.decode("utf-8", errors="replace")
            try:
                reply = parse_reply_text(text)
            except ProtocolError as exc:
                raise ReplGarbage(f"unreadable REPL reply: {exc}") from None
        except ReplFailure:
            self.close()
            raise
        self.replies += 1
        return reply

    def _round_trip(self, data: bytes, deadline: float, timeout_s: float) -> bytes:
        assert self._proc is not None and self._sel is not None and self._proc.stdin
        stdin_fd = self._proc.stdin.fileno()
        pending = memoryview(data)
        pending = pending[self._write(stdin_fd, pending) :]
        if pending:
            self._sel.register(stdin_fd, selectors.EVENT_WRITE, "in")
        try:
            while True:
                reply = self._take_reply()
                if reply is not None:
                    return reply
                now = time.monotonic()
                if now >= deadline:
                    raise ReplTimeout(f"no reply within {timeout_s:g} s")
                if now >= self._next_poll:
                    self._check_memory()
                    self._next_poll = now + self.memory_poll_s
                wait = max(0.0, min(deadline, self._next_poll) - now)
                for key, _ in self._sel.select(wait):
                    if key.data == "in":
                        pending = pending[self._write(stdin_fd, pending) :]
                        if not pending:
                            self._sel.unregister(stdin_fd)
                    elif key.data == "out":
                        self._read_stdout(key.fd)
                    else:
                        self._read_stderr(key.fd)
        finally:
            if pending and self._sel is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(stdin_fd)

    def _write(self, fd: int, data: memoryview) -> int:
        if not data:
            return 0
        try:
            return os.write(fd, data)
        except BlockingIOError:
            return 0
        except (BrokenPipeError, ConnectionResetError):
            raise self._crashed("the REPL closed its input") from None

    def _read_stdout(self, fd: int) -> None:
        try:
            chunk = os.read(fd, _READ)
        except BlockingIOError:
            return
        if not chunk:
            raise self._crashed("the REPL closed its output")
        self._buf += chunk

    def _read_stderr(self, fd: int) -> None:
        assert self._sel is not None
        try:
            chunk = os.read(fd, _READ)
        except BlockingIOError:
            return
        if not chunk:
            self._sel.unregister(fd)
            return
        self._stderr.append(chunk)
        self._stderr_len += len(chunk)
        while self._stderr_len - len(self._stderr[0]) >= _STDERR_TAIL:
            self._stderr_len -= len(self._stderr.popleft())

    def _take_reply(self) -> bytes | None:
        """Cut one reply (lines up to a blank line) off the front of the buffer, if complete."""
        buf = self._buf
        start = 0
        while start < len(buf) and buf[start] in b"\r\n":
            start += 1
        if start:
            del buf[:start]
            self._scan = 0
        idx = buf.find(b"\n\n", max(0, self._scan - 1))
        crlf = buf.find(b"\n\r\n", max(0, self._scan - 2))
        if crlf >= 0 and (idx < 0 or crlf < idx):
            reply = bytes(buf[:crlf])
            del buf[: crlf + 3]
        elif idx >= 0:
            reply = bytes(buf[:idx])
            del buf[: idx + 2]
        else:
            self._scan = len(buf)
            return None
        self._scan = 0
        return reply

    def _check_memory(self) -> None:
        if self._memory is None or self.memory_mb is None:
            return
        rss, sample = self._memory.poll(self.memory_mb)
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        problem = over_cap(sample, self.memory_mb, "the REPL's process tree") if sample else None
        if problem:
            raise ReplOutOfMemory(problem)

    def _crashed(self, what: str) -> ReplCrashed:
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        self._drain_stderr()
        status = f"exit code {code}" if code is not None else "still running"
        tail = self.stderr_tail()
        detail = f"; stderr: {tail[-1000:]}" if tail else "; nothing on stderr"
        return ReplCrashed(f"{what} without a reply ({status}){detail}")

    def _drain_stderr(self) -> None:
        if self._proc is None or self._proc.stderr is None:
            return
        fd = self._proc.stderr.fileno()
        for _ in range(64):
            try:
                chunk = os.read(fd, _READ)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._stderr.append(chunk)
            self._stderr_len += len(chunk)
