"""Whether the process that recorded a run is still alive: what lets the store tell a run that
is running from one whose process was killed (SIGKILL, out of memory, a lost node).

A run records its process's id, host and start time (with the boot and the process-id
namespace it was seen from). On the same host, seen from the same namespace, the answer is
exact: the process is gone when the host has rebooted since, when no process has that id, or
when the one that has it started at another time (the id was reused). From another host, or
another namespace (a container beside the run's), or where ``/proc`` does not say, nothing can
be asked; there the run's heartbeat (a time the run writes every ``HEARTBEAT_S``) decides: a run
silent for ``STALE_S`` is taken as gone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

HEARTBEAT_S = 60.0  # how often a running run writes its heartbeat
STALE_S = 600.0  # a run on another host silent this long is taken as gone


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as a run records it: id, host, and a start-time token (None where the
    system does not say)."""

    pid: int
    host: str
    start: str | None

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process."""
        pid = os.getpid()
        return cls(pid, socket.gethostname(), start_token(pid))


def start_token(pid: int) -> str | None:
    """When process ``pid`` started, as an opaque token ``BOOT|NAMESPACE|TICKS`` (Linux: the
    boot id, this process's pid namespace, the start time in clock ticks from ``/proc``); None
    where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: fields restart after the last ")"
    fields = stat[stat.rfind(")") + 2 :].split()
    where = _where()
    if len(fields) < 20 or where is None:
        return None
    return f"{where[0]}|{where[1]}|{fields[19]}"  # field 22 of the whole line: starttime


def _where() -> tuple[str, str] | None:
    """This boot's id and this process's pid namespace, or None where unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return boot, namespace


def process_gone(recorded: ProcessIdentity, heartbeat_age_s: float | None) -> bool:
    """True when the recorded process is certainly (same host and namespace) or presumably
    (elsewhere, silent for ``STALE_S``) no longer running."""
    silent = heartbeat_age_s is not None and heartbeat_age_s > STALE_S
    if recorded.host != socket.gethostname():
        return silent
    parts = recorded.start.split("|") if recorded.start else []
    where = _where()
    if len(parts) != 3 or where is None:  # nothing to compare the process with
        return silent if _pid_exists(recorded.pid) else True
    if parts[0] != where[0]:
        return True  # the host has rebooted since
    if parts[1] != where[1]:
        return silent  # another pid namespace: its ids mean other processes here
    if not _pid_exists(recorded.pid):
        return True
    now = start_token(recorded.pid)
    return now is not None and now != recorded.start


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the id
    return True
