#!/usr/bin/env python3
"""A stand-in REPL for the memory tests: it maps one large file, as a Mathlib REPL maps its
.olean files, and grows a little private memory per command.

usage: python mapped_repl.py --map FILE [--grow-kb N]

It speaks just enough of the REPL protocol for the pool (a request is the lines up to a blank
line; the reply is JSON followed by one blank line; env ids count up from 0): every command
gets ``{"env": N}`` with no messages, so imports and the header probe pass (one holding
``undefined_ident`` gets an error, for ``formalize lean doctor``). At start it maps
FILE read-only and shared and reads one byte of every page, so the whole file is resident and
the same pages serve every process mapping it. Every command with ``env`` keeps ``--grow-kb``
more of private memory (default 256: the environments a real REPL keeps). A command holding
``alloc_<MB>`` allocates that many MB of private memory, touched, then never answers, as a
statement whose elaboration blows up.
"""

from __future__ import annotations

import argparse
import json
import mmap
import re
import sys
import time

PAGE = mmap.PAGESIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", required=True, help="the file to map (the .olean stand-in)")
    parser.add_argument("--grow-kb", type=int, default=256)
    args = parser.parse_args()
    with open(args.map, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    touched = sum(mapped[i] for i in range(0, len(mapped), PAGE))  # make every page resident
    kept: list[bytearray] = []
    env = 0
    lines: list[str] = []
    for line in sys.stdin:
        if line.strip():
            lines.append(line)
            continue
        if not lines:
            continue
        request = json.loads("".join(lines))
        lines = []
        command = str(request.get("cmd", ""))
        wanted = re.search(r"alloc_(\d+)", command)
        if wanted:
            kept.append(bytearray(b"\x01" * (int(wanted.group(1)) * 1024 * 1024)))
            while True:
                time.sleep(3600)
        if "env" in request:
            kept.append(bytearray(b"\x01" * (args.grow_kb * 1024)))
        reply: dict[str, object] = {"env": env}
        if "undefined_ident" in command:  # enough Lean for `formalize lean doctor`
            where = {"line": 1, "column": 0}
            error = {"severity": "error", "pos": where, "endPos": where, "data": "unknown"}
            reply["messages"] = [error]
        sys.stdout.write(json.dumps(reply) + "\n\n")
        sys.stdout.flush()
        env += 1
    del touched


if __name__ == "__main__":
    main()
