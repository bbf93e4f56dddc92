#!/usr/bin/env python3
"""A stand-in REPL that tries to break out of the Lean sandbox whenever it checks a statement.

Run as ``python tests/lean/hostile_repl.py PLAN`` (standard library only). It speaks enough
of the REPL protocol for the pool (``../shared/lean-repl/PROTOCOL.md``): a request is the
lines up to a blank line, every request gets ``{"env": N}`` back, followed by a blank line. A
command on an environment that is not the header probe (the probe names ``getModuleIdx?``)
is a check: the stand-in makes every attempt PLAN lists and reports each as one info message
whose text is JSON, ``{"attempt", "target", "ok", "detail"}``; ``ok`` true means the attempt
worked. With ``--lean-json FILE`` it plays ``lean --json FILE`` (file mode): the same
messages, one JSON line each.

PLAN is a JSON file, not arguments, because the sandbox shows the files a command's
arguments name. Its keys, each a list: ``read`` (files to read), ``write`` (files to create),
``connect`` (TCP ports on 127.0.0.1), ``secret`` (environment variables to read, and to look
for in every ``/proc/*/environ`` it can read), ``signal`` (process ids to send signal 0),
``fork`` (fork up to N children that wait to be killed, within 5 s, then kill them: bounded
by RLIMIT_NPROC inside the sandbox, by N outside it).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import signal
import socket
import sys
import time
from typing import Any

FORK_SECONDS = 5.0


def attempt(name: str, target: str, action: Any) -> dict[str, Any]:
    """Run ``action``; what it gave, or the error that stopped it."""
    try:
        detail = action()
    except Exception as exc:
        return {"attempt": name, "target": target, "ok": False, "detail": f"{exc!r}"}
    return {"attempt": name, "target": target, "ok": True, "detail": str(detail)[:200]}


def read(path: str) -> str:
    with open(path, "rb") as fh:
        return f"read {len(fh.read(4096))} bytes"


def write(path: str) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("written from inside the sandbox\n")
    return "written"


def connect(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=3):
        return "connected"


def secret(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise LookupError(f"{name} is not set")
    return f"{name} has {len(value)} characters"


def scan_environs(name: str) -> str:
    seen = 0
    for path in glob.glob("/proc/[0-9]*/environ"):
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            seen += 1
            if f"{name}=".encode() in fh.read():
                return f"found in {path}"
    raise LookupError(f"not in any of the {seen} readable /proc/*/environ")


def fork_bomb(limit: int) -> str:
    """Fork until refused, ``limit`` children or ``FORK_SECONDS``; ok only if never refused."""
    children: list[int] = []
    refused: OSError | None = None
    deadline = time.monotonic() + FORK_SECONDS
    try:
        while len(children) < limit and time.monotonic() < deadline:
            try:
                pid = os.fork()
            except OSError as exc:
                refused = exc
                break
            if pid == 0:
                try:
                    time.sleep(FORK_SECONDS * 2)
                finally:
                    os._exit(0)
            children.append(pid)
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
    if refused is not None:
        raise OSError(refused.errno, f"refused after {len(children)} children: {refused}")
    return f"{len(children)} children, never refused"


def attempts(plan: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every attempt the plan asks for, in a fixed order (the fork bomb last)."""
    out = [attempt("read", p, lambda p=p: read(p)) for p in plan.get("read", [])]
    out += [attempt("write", p, lambda p=p: write(p)) for p in plan.get("write", [])]
    out += [attempt("connect", str(n), lambda n=n: connect(n)) for n in plan.get("connect", [])]
    for name in plan.get("secret", []):
        out.append(attempt("secret", name, lambda n=name: secret(n)))
        out.append(attempt("environ", name, lambda n=name: scan_environs(n)))
    for pid in plan.get("signal", []):
        out.append(attempt("signal", str(pid), lambda p=pid: os.kill(p, 0) or "delivered"))
    out += [attempt("fork", str(n), lambda n=n: fork_bomb(n)) for n in plan.get("fork", [])]
    return out


def message(report: dict[str, Any], line: int = 1) -> dict[str, Any]:
    return {
        "severity": "info",
        "pos": {"line": line, "column": 0},
        "endPos": None,
        "data": json.dumps(report),
    }


def serve(plan: dict[str, list[Any]]) -> None:
    env = 0
    lines: list[str] = []
    for raw in sys.stdin:
        if raw.strip():
            lines.append(raw)
            continue
        if not lines:
            continue
        request = json.loads("".join(lines))
        lines = []
        reply: dict[str, Any] = {"env": env}
        cmd = str(request.get("cmd", ""))
        if "env" in request and "getModuleIdx?" not in cmd:
            reply["messages"] = [message(r) for r in attempts(plan)]
        env += 1
        sys.stdout.write(json.dumps(reply, indent=1) + "\n\n")
        sys.stdout.flush()


def lean_json(plan: dict[str, list[Any]], path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    # on the statement's line: file mode gives a message to the statement whose lines hold it
    at = next((n for n, text in enumerate(lines, 1) if text.startswith("theorem")), len(lines))
    for report in attempts(plan):
        line = message(report, at) | {"severity": "information", "fileName": path}
        print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="A REPL stand-in that tries to escape.")
    parser.add_argument("plan", help="JSON file listing the attempts")
    parser.add_argument("--lean-json", metavar="FILE", help="play `lean --json FILE` instead")
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as fh:
        plan = json.load(fh)
    if args.lean_json:
        lean_json(plan, args.lean_json)
    else:
        serve(plan)


if __name__ == "__main__":
    main()
