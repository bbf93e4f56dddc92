"""The stop handler (signals sent to this process, its hard exit off), telling a live run's
process from a gone one, and the store showing lost runs as interrupted (migration 7)."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from formalize.corpus import Store
from formalize.liveness import STALE_S, ProcessIdentity, process_gone, start_token
from formalize.stopping import Abort, StopHandler

RELEASE_STORE = Path(__file__).resolve().parent / "data" / "store-757477a.db"


class Calls:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> None:
        self.n += 1


def handler(grace_s: float = 20.0) -> tuple[StopHandler, Calls]:
    calls = Calls()
    return StopHandler(calls, grace_s=grace_s, stream=sys.stderr), calls


def test_sigterm_asks_the_run_to_stop_once_and_a_second_signal_aborts() -> None:
    # what was there before (another test in this process may have left a handler: ray.init
    # installs one for SIGTERM) is what must be back afterwards
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    stop, calls = handler()
    stop.install()
    try:
        signal.raise_signal(signal.SIGTERM)
        assert calls.n == 1
        assert (stop.signal_name, stop.exit_code, stop.aborted) == ("SIGTERM", 143, False)
        with pytest.raises(Abort):
            signal.raise_signal(signal.SIGINT)
        assert stop.aborted and calls.n == 1
        assert stop.exit_code == 143  # the first signal decides the exit code
        signal.raise_signal(signal.SIGINT)  # while unwinding, further signals are ignored
    finally:
        stop.restore()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_ctrl_c_exits_130_and_has_no_deadline() -> None:
    stop, calls = handler(grace_s=0.01)
    stop.install()
    try:
        signal.raise_signal(signal.SIGINT)
        assert (calls.n, stop.exit_code) == (1, 130)
        assert not any(t.name == stop.timer_name for t in threading.enumerate())
    finally:
        stop.restore()


def test_after_sigterm_the_work_in_flight_is_aborted_before_the_grace_period_ends() -> None:
    stop, _ = handler(grace_s=0.4)
    never = threading.Event()
    stop.install()
    try:
        signal.raise_signal(signal.SIGTERM)
        with pytest.raises(Abort, match="grace period"):
            never.wait(60)  # the work in flight, which would not finish in time
        assert stop.aborted
    finally:
        stop.restore()


def test_restore_cancels_a_pending_deadline() -> None:
    stop, _ = handler(grace_s=60.0)
    stop.install()
    signal.raise_signal(signal.SIGTERM)
    (timer,) = [t for t in threading.enumerate() if t.name == stop.timer_name]
    stop.restore()
    timer.join(30)
    assert not timer.is_alive() and not stop.aborted


# ---------------------------------------------------------------------- liveness


def ended_process() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_this_process_is_alive_and_an_exited_one_is_gone() -> None:
    me = ProcessIdentity.current()
    assert not process_gone(me, heartbeat_age_s=None)
    gone = ProcessIdentity(ended_process(), me.host, me.start)
    assert process_gone(gone, heartbeat_age_s=0.0)


@pytest.mark.skipif(start_token(1) is None, reason="no /proc here: start times are unknown")
def test_a_reused_id_a_reboot_and_another_namespace_are_told_apart() -> None:
    me = ProcessIdentity.current()
    assert me.start is not None
    boot, namespace, ticks = me.start.split("|")
    assert not process_gone(me, None)
    # the id now belongs to a process that started at another time: the run's is gone
    assert process_gone(ProcessIdentity(me.pid, me.host, f"{boot}|{namespace}|{ticks}0"), None)
    # recorded before a reboot: gone, whatever holds the id now
    assert process_gone(ProcessIdentity(me.pid, me.host, f"other-boot|{namespace}|{ticks}"), None)
    # recorded in another pid namespace (a container on this host): its ids mean nothing here,
    # so the heartbeat decides
    elsewhere = ProcessIdentity(ended_process(), me.host, f"{boot}|pid:[1]|{ticks}")
    assert not process_gone(elsewhere, heartbeat_age_s=1.0)
    assert process_gone(elsewhere, heartbeat_age_s=STALE_S * 2)


def test_on_another_host_only_a_silent_heartbeat_says_gone() -> None:
    other = ProcessIdentity(1, socket.gethostname() + "-elsewhere", None)
    assert not process_gone(other, heartbeat_age_s=None)
    assert not process_gone(other, heartbeat_age_s=STALE_S / 2)
    assert process_gone(other, heartbeat_age_s=STALE_S * 2)


def add_running_run(store: Store, run_id: str, pid: int, host: str, beat: float) -> None:
    with store._write() as con:
        con.execute(
            "INSERT INTO runs(id, started_at, status, config, code_version, pid, host, "
            "process_start, heartbeat_at) VALUES (?, ?, 'running', '{}', 'x', ?, ?, ?, ?)",
            (run_id, beat, pid, host, start_token(pid), beat),
        )


def test_the_store_shows_runs_whose_process_is_gone_as_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "corpus.db"
    here = socket.gethostname()
    now = time.time()
    with Store(db) as store:
        live = store.start_run({}, "x")  # this process: alive
        add_running_run(store, "killed", ended_process(), here, now)
        add_running_run(store, "lost-node", 1, here + "-elsewhere", now - 2 * STALE_S)
        add_running_run(store, "busy-node", 1, here + "-elsewhere", now)
    with Store(db) as store:
        status = {r["id"]: r["status"] for r in store.runs()}
        ended = {r["id"]: r["ended_at"] for r in store.runs()}
    assert status == {
        live: "running",
        "killed": "interrupted",
        "lost-node": "interrupted",
        "busy-node": "running",
    }
    assert ended["killed"] is not None and ended[live] is None


def test_a_running_run_writes_its_heartbeat(tmp_path: Path) -> None:
    with Store(tmp_path / "corpus.db") as store:
        run_id = store.start_run({}, "x")
        with store._write() as con:
            con.execute("UPDATE runs SET heartbeat_at = 0 WHERE id = ?", (run_id,))
        store.heartbeat(run_id)
        (beat,) = store._query_one("SELECT heartbeat_at FROM runs") or (0,)
        assert beat > 0
        store.finish_run(run_id, "completed", {})
        store.heartbeat(run_id)  # a finished run is left alone
        assert store.runs()[0]["status"] == "completed"


def test_migration_7_adds_the_process_columns_and_ends_runs_left_running(tmp_path: Path) -> None:
    db = tmp_path / "release.db"
    shutil.copy(RELEASE_STORE, db)
    con = sqlite3.connect(db)
    con.execute("UPDATE runs SET status = 'running', ended_at = NULL")  # as a SIGTERM left it
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.schema_version() >= 7
        (record,) = store.runs()
        assert record["status"] == "interrupted"
        columns = {row[1] for row in store._query("PRAGMA table_info(runs)")}
    assert {"pid", "host", "process_start", "heartbeat_at"} <= columns


def test_corpus_stats_counts_runs_by_status_with_lost_ones_interrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from formalize.cli.main import main

    db = tmp_path / "corpus.db"
    with Store(db) as store:
        store.finish_run(store.start_run({}, "x"), "completed", {})
        add_running_run(store, "killed", ended_process(), socket.gethostname(), time.time())
    assert main(["corpus", "stats", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^runs +2$", out, re.M)
    assert re.search(r"^  completed +1$", out, re.M)
    assert re.search(r"^  interrupted +1$", out, re.M)


def test_without_a_start_time_a_live_id_is_judged_by_the_heartbeat() -> None:
    me = ProcessIdentity.current()
    unknown = ProcessIdentity(me.pid, me.host, None)
    assert not process_gone(unknown, heartbeat_age_s=1.0)
    assert process_gone(unknown, heartbeat_age_s=STALE_S * 2)
