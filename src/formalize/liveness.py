"""Whether the process that recorded a run is still alive: what lets the store tell a run that
is running from one whose process was killed (SIGKILL, out of memory, a lost node).

A run records its process's id, host and start time. On the same host the answer is exact: the
process is gone when no process has that id, or when the one that has it started at another
time (the id was reused). On another host nothing can be asked (nor, on the same host, the
start time where ``/proc`` is missing); there the run's heartbeat (a time the run writes every
``HEARTBEAT_S``) decides: a run silent for ``STALE_S`` is taken as gone.
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
    """When process ``pid`` started, as an opaque token unique across reboots (Linux: the boot
    id and the start time in clock ticks from ``/proc``); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: fields restart after the last ")"
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"  # field 22 of the whole line: starttime


def process_gone(recorded: ProcessIdentity, heartbeat_age_s: float | None) -> bool:
    """True when the recorded process is certainly (same host) or presumably (another host,
    silent for ``STALE_S``) no longer running."""
    if recorded.host != socket.gethostname():
        return heartbeat_age_s is not None and heartbeat_age_s > STALE_S
    if not _pid_exists(recorded.pid):
        return True
    if recorded.start is None:  # an id in use, no start time to compare: the heartbeat says
        return heartbeat_age_s is not None and heartbeat_age_s > STALE_S
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
