"""The single-process driver against the fake REPL: round trips and every way a REPL fails."""

from __future__ import annotations

import time

import psutil
import pytest
from lean_fakes import fake_cmd

from formalize.lean.repl import (
    ReplCrashed,
    ReplGarbage,
    ReplNotStarted,
    ReplOutOfMemory,
    ReplProcess,
    ReplTimeout,
    run_capture,
)
from formalize.records import CheckStatus


def started(*flags: str, memory_mb: float | None = 400) -> ReplProcess:
    proc = ReplProcess(fake_cmd(*flags), memory_mb=memory_mb, memory_poll_s=0.05)
    proc.start()
    return proc


def test_round_trips_count_env_ids() -> None:
    with started() as repl:
        assert repl.request({"cmd": "import Mathlib"}, 10).env == 0
        ok = repl.request({"cmd": "theorem t : 1 = 1 := by sorry", "env": 0}, 10)
        assert ok.env == 1 and ok.sorries == 1
        bad = repl.request({"cmd": "theorem t : undefined_ident := sorry", "env": 0}, 10)
        assert bad.env == 2  # a new id, also for a command with errors
        assert repl.request({"cmd": "x", "env": 99}, 10).error == "Unknown environment."
        assert repl.replies == 4


def test_big_replies_and_a_chatty_stderr_do_not_stall() -> None:
    with started() as repl:
        repl.request({"cmd": "import Mathlib"}, 10)
        flood = repl.request({"cmd": "theorem t : fake_flood := sorry", "env": 0}, 20)
        assert len(flood.messages[-1].text) > 1_900_000
        # 1 MB on stderr before the reply: more than a pipe holds, so it must be drained
        chatty = repl.request({"cmd": "theorem t : fake_stderr := sorry", "env": 0}, 20)
        assert chatty.env == 2
        assert repl.stderr_tail().startswith("e")
        assert len(repl.stderr_tail()) <= 9000  # only a tail is kept


def test_timeout_kills_the_process_tree() -> None:
    repl = started()
    repl.request({"cmd": "import Mathlib"}, 10)
    pid = repl.pid
    begin = time.monotonic()
    with pytest.raises(ReplTimeout) as info:
        repl.request({"cmd": "theorem t : fake_hang := sorry", "env": 0}, 0.5)
    # not before the timeout; the upper bound only tells a kill from the 3600 s hang (the kill and
    # the reaping of the tree may take seconds on a loaded machine)
    assert 0.45 < time.monotonic() - begin < 60
    assert info.value.status is CheckStatus.TIMEOUT
    assert (not repl.alive and not psutil.pid_exists(pid or -1)) or psutil.Process(
        pid
    ).status() == "zombie"


def test_crash_reports_exit_code_and_stderr() -> None:
    repl = started()
    repl.request({"cmd": "import Mathlib"}, 10)
    with pytest.raises(ReplCrashed) as info:
        repl.request({"cmd": "theorem t : fake_die := sorry", "env": 0}, 10)
    assert "exit code 134" in info.value.reason and "INTERNAL PANIC" in info.value.reason
    assert not repl.alive


def test_memory_cap() -> None:
    repl = started(memory_mb=250)
    repl.request({"cmd": "import Mathlib"}, 10)
    with pytest.raises(ReplOutOfMemory) as info:
        repl.request({"cmd": "theorem t : fake_oom := sorry", "env": 0}, 20)
    assert info.value.status is CheckStatus.OUT_OF_MEMORY
    assert "over the 250 MB cap" in info.value.reason
    assert repl.peak_rss_mb > 250 and not repl.alive


def test_garbage_is_a_protocol_error() -> None:
    repl = started()
    with pytest.raises(ReplGarbage) as info:
        repl.request({"cmd": "fake_garbage"}, 10)
    assert info.value.status is CheckStatus.PROTOCOL_ERROR and "not JSON" in info.value.reason
    assert not repl.alive  # the stream cannot be trusted any more


def test_a_repl_that_never_flushes_times_out() -> None:
    # REPL <= v4.9 did not flush stdout after a reply: through a pipe it looks like a hang
    repl = started("--no-flush")
    with pytest.raises(ReplTimeout):
        repl.request({"cmd": "import Mathlib"}, 0.5)


def test_missing_command() -> None:
    with pytest.raises(ReplNotStarted, match="cannot run"):
        ReplProcess(["/nonexistent/repl"]).start()


def test_run_capture(tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "T.lean"
    src.write_text("import Mathlib\ntheorem t : undefined_ident := sorry\n")
    code, out, _ = run_capture(
        fake_cmd("--lean-json", str(src)), cwd=None, timeout_s=20, memory_mb=400
    )
    assert code == 1 and b"undefined_ident" in out
    src.write_text("theorem t : fake_hang := sorry\n")
    with pytest.raises(ReplTimeout):
        run_capture(fake_cmd("--lean-json", str(src)), cwd=None, timeout_s=0.5, memory_mb=400)
