"""The review app's listening socket: bound before the URL is printed, so a busy port is a clear
error naming the process that holds it (or, when no port was asked for, the next free one)."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from formalize.errors import FormalizeError

DEFAULT_PORT = 8765
TRIES = 20  # ports tried from the default on when none was asked for


def bind(host: str, port: int | None, *, default: int = DEFAULT_PORT) -> socket.socket:
    """A listening socket on ``host``: on ``port``, or (None) on the first free port from
    ``default`` on. A busy ``port`` raises a ``FormalizeError`` that says who holds it."""
    if port is not None:
        try:
            return _listen(host, port)
        except OSError as exc:
            raise FormalizeError(
                _why(exc, host, port) + "; or leave --port out to take the next free port"
            ) from exc
    last: OSError | None = None
    for candidate in range(default, min(default + TRIES, 65536)):
        try:
            return _listen(host, candidate)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise FormalizeError(_why(exc, host, candidate)) from exc
            last = exc
    raise FormalizeError(
        f"ports {default}-{default + TRIES - 1} on {host} are all in use; pick one with --port N"
    ) from last


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is no holder
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        who = holder(port)
        held = f" by {who}" if who else " by another process"
        return f"port {port} on {host} is in use{held}: stop it, or pick another with --port N"
    if exc.errno == errno.EACCES:
        return f"port {port} on {host} needs privileges (ports below 1024): pick --port above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: check --host"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def holder(port: int) -> str | None:
    """The process listening on TCP ``port`` (``name (pid N): command line``), from /proc;
    None where that cannot be read (another user's process, not Linux)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    proc = Path("/proc")
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return _describe(pid_dir)
    return None


def _listening_inodes(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                found.add(fields[9])
    return found


def _describe(pid_dir: Path) -> str:
    try:
        name = (pid_dir / "comm").read_text().strip()
        argv = (pid_dir / "cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a)
    except OSError:
        return f"pid {pid_dir.name}"
    return f"{name} (pid {pid_dir.name}: {command[:120]})"
