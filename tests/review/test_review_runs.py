"""The review app's run list: a run whose process is gone shows as interrupted, also when it
died after the app opened the store."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from formalize.corpus import Store
from formalize.liveness import ProcessIdentity, start_token

pytest.importorskip("starlette", reason="the review extra is not installed")


def test_a_run_whose_process_died_shows_as_interrupted(client: Any, store: Store) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    here = ProcessIdentity.current()
    with store._write() as con:
        con.execute(
            "INSERT INTO runs(id, started_at, status, config, code_version, pid, host, "
            "process_start, heartbeat_at) VALUES ('run-lost', 1, 'running', '{}', 'x', ?, ?, ?, 1)",
            (proc.pid, here.host, start_token(proc.pid)),
        )
    page = client.get("/").text
    row = page[page.index("run-lost") :]
    row = row[: row.index("</tr>")]
    assert "interrupted" in row and "running" not in row
    assert "rerun the same command to resume" in row
