"""The sandbox for real: a hostile stand-in REPL tries to get out, and every attempt fails.

``hostile_repl.py`` runs through the real checker (REPL pool and file mode) inside bubblewrap
and, on the check, reads a file outside the project and one in the home directory, writes
into the project, outside and into its /tmp, connects to a TCP server this test runs on
127.0.0.1, reads secrets put in this process's environment, signals this process, and forks
without bound. The test looks at what the stand-in reports and at the host side (no file
written, no connection accepted). With ``sandbox = off`` the same stand-in does read the
secret: the test can fail. Skipped with the reason where the sandbox cannot run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from lean_fakes import PYTHON, PYTHON_HOME, fake_cmd

from formalize.lean import LeanChecker, LeanConfig, sandbox
from formalize.lean.repl import ReplProcess, ReplTimeout
from formalize.lean.sandbox import NOBODY, plan_command, support
from formalize.records import CheckStatus

HOSTILE = Path(__file__).resolve().with_name("hostile_repl.py")
SECRET = "sk-formalize-test-" + uuid.uuid4().hex
NPROC = 32
FORK_TRIES = 400  # well above NPROC; the stand-in's own cap where nothing else holds it


@pytest.fixture
def sandboxed() -> None:
    found = support()
    if not found.ok:
        pytest.skip(f"the Lean sandbox cannot run here: {found.problem}")


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.first = threading.Event()  # set once a connection has been accepted
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.first.set()
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def home_file() -> Path | None:
    """A file that exists in this user's home directory (what a leak would expose)."""
    home = Path.home()
    for name in (".bashrc", ".profile", ".gitconfig"):
        if (home / name).is_file():
            return home / name
    return next((p for p in sorted(home.iterdir()) if p.is_file()), None)


def hostile_setup(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch, *, fork: bool
) -> tuple[Path, dict[str, Any], list[str]]:
    """A Lake project, a secret file outside it, the plan of attempts, and the command."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "lakefile.toml").write_text('name = "hostile"\n', encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o777)  # so that only the sandbox stands in the way, also of nobody
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    reads = [outside / "secret.txt", *([home_file()] if home_file() else [])]
    plan: dict[str, Any] = {
        "read": [str(p) for p in reads],
        "write": [
            str(project / "pwned.txt"),
            str(outside / "pwned.txt"),
            f"/tmp/formalize-escape-{uuid.uuid4().hex}",  # the sandbox's own /tmp: allowed
        ],
        "connect": [listener.port],
        "secret": ["FORMALIZE_TEST_SECRET", "OPENAI_API_KEY"],
        "signal": [os.getpid()],
        "fork": [FORK_TRIES] if fork else [],
    }
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    monkeypatch.setenv("FORMALIZE_TEST_SECRET", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return project, plan, [PYTHON, str(HOSTILE), str(plan_file)]


def hostile_config(project: Path, command: list[str], backend: str, sandbox: str) -> LeanConfig:
    return LeanConfig(
        backend=backend,
        repl_cmd=command,
        lean_cmd=(*command, "--lean-json"),
        lean_project=project,
        workers=1,
        timeout_s=60.0,
        import_timeout_s=60.0,
        memory_mb=8192,  # the forked children are counted by the RSS poller too
        toolchain="hostile",
        sandbox=sandbox,
        sandbox_paths=(PYTHON_HOME,),
        sandbox_nproc=NPROC,
    )


def reports(config: LeanConfig) -> dict[tuple[str, str], dict[str, Any]]:
    """Check one statement; the stand-in's reports by (attempt, target)."""
    with LeanChecker(config) as checker:
        (result,) = checker.check(["theorem escape : True := by sorry"])
    assert result.status is CheckStatus.OK, result  # the check still answers
    found = [json.loads(m.text) for m in result.messages]
    return {(r["attempt"], r["target"]): r for r in found}


@pytest.mark.parametrize("backend", ["repl", "file"])
def test_every_escape_attempt_fails(
    backend: str,
    tmp_path: Path,
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
    sandboxed: None,
) -> None:
    project, plan, command = hostile_setup(tmp_path, listener, monkeypatch, fork=True)
    got = reports(hostile_config(project, command, backend, "on"))
    expected = sum(len(v) for v in plan.values()) + len(plan["secret"])  # + one scan each
    assert len(got) == expected, got
    private_tmp = plan["write"][2]
    escaped = {k: r for k, r in got.items() if r["ok"] and k != ("write", private_tmp)}
    assert escaped == {}
    for path in plan["read"]:
        assert "FileNotFoundError" in got[("read", path)]["detail"]  # not even there
    assert "Read-only file system" in got[("write", plan["write"][0])]["detail"]
    assert got[("write", private_tmp)]["ok"]  # its own /tmp is writable ...
    for path in plan["write"]:
        assert not Path(path).exists()  # ... and nothing it wrote reached this side
    # its own loopback, where nothing listens: this side's 127.0.0.1 is another network
    assert "Connection refused" in got[("connect", str(listener.port))]["detail"]
    assert listener.accepted == 0
    assert "ProcessLookupError" in got[("signal", str(os.getpid()))]["detail"]
    fork = got[("fork", str(FORK_TRIES))]["detail"]
    assert "Resource temporarily unavailable" in fork, fork  # RLIMIT_NPROC said no ...
    assert int(fork.split("refused after ")[1].split()[0]) < NPROC  # ... within the limit


def test_the_unprivileged_sandbox_holds_too(
    listener: Listener, monkeypatch: pytest.MonkeyPatch, sandboxed: None
) -> None:
    """As a user (not root) bwrap makes the user namespace itself; run that path as nobody."""
    python, setpriv = shutil.which("python3", path="/usr/bin:/bin"), shutil.which("setpriv")
    found = support()
    if os.geteuid() != 0 or python is None or setpriv is None or found.tools is None:
        pytest.skip("needs root (to become nobody), setpriv and a system python3")
    unprivileged = dataclasses.replace(found, tools=dataclasses.replace(found.tools, as_root=False))
    monkeypatch.setattr(sandbox, "support", lambda: unprivileged)
    base = Path(tempfile.mkdtemp(prefix="formalize-unprivileged-"))  # nobody can reach it
    try:
        base.chmod(0o755)
        project, plan, command = hostile_setup(base, listener, monkeypatch, fork=True)
        (base / "plan.json").chmod(0o644)
        config = hostile_config(project, [python, *command[1:]], "repl", "on")
        config = dataclasses.replace(config, sandbox_paths=())  # /usr holds this python
        launch = plan_command(config, config.repl_cmd or [], cwd=project)
        assert "--unshare-all" in launch.argv and "--reuid=65534" not in launch.argv
        drop = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        with ReplProcess([*drop, *launch.argv], env=launch.env, memory_mb=8192) as repl:
            repl.start()
            repl.request({"cmd": "import Mathlib"}, 30)
            reply = repl.request({"cmd": "theorem t : True := sorry", "env": 0}, 60)
        got = {
            (r["attempt"], r["target"]): r
            for r in map(json.loads, (m.text for m in reply.messages))
        }
        private_tmp = plan["write"][2]
        assert {k: r for k, r in got.items() if r["ok"] and k != ("write", private_tmp)} == {}
        assert not any(Path(p).exists() for p in plan["write"]) and listener.accepted == 0
        # bwrap's init is visible and readable here, and holds nothing but the allow-list
        assert "readable /proc/*/environ" in got[("environ", "OPENAI_API_KEY")]["detail"]
        assert "refused after" in got[("fork", str(FORK_TRIES))]["detail"]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_without_the_sandbox_the_same_attempts_succeed(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, plan, command = hostile_setup(tmp_path, listener, monkeypatch, fork=False)
    try:
        got = reports(hostile_config(project, command, "repl", "off"))
    finally:
        Path(plan["write"][2]).unlink(missing_ok=True)  # unconfined, it did write to /tmp
    assert got[("secret", "FORMALIZE_TEST_SECRET")]["ok"]
    assert got[("environ", "OPENAI_API_KEY")]["ok"]
    assert got[("read", plan["read"][0])]["ok"]
    assert got[("connect", str(listener.port))]["ok"]
    # the REPL's connect returns once the kernel queued it; the listener's thread counts it when
    # it is scheduled (under load, after the REPL's reply has been read)
    assert listener.first.wait(timeout=30) and listener.accepted == 1
    assert Path(plan["write"][0]).exists()


def sandboxed_repl(*flags: str, memory_mb: float = 400) -> ReplProcess:
    config = LeanConfig(sandbox="on", sandbox_paths=(PYTHON_HOME,), memory_mb=4096)
    plan = plan_command(config, fake_cmd(*flags), cwd=None)
    assert plan.sandboxed
    repl = ReplProcess(plan.argv, env=plan.env, memory_mb=memory_mb, memory_poll_s=0.05)
    repl.start()
    return repl


def test_a_timeout_kills_the_whole_sandboxed_tree(sandboxed: None) -> None:
    repl = sandboxed_repl()
    repl.request({"cmd": "import Mathlib"}, 10)
    assert repl.pid is not None
    tree = [psutil.Process(repl.pid), *psutil.Process(repl.pid).children(recursive=True)]
    assert len(tree) >= 3  # bwrap, its init in the PID namespace, the REPL
    with pytest.raises(ReplTimeout):
        repl.request({"cmd": "theorem t : fake_hang := sorry", "env": 0}, 0.5)
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def test_memory_polling_sees_through_the_sandbox(sandboxed: None) -> None:
    repl = sandboxed_repl(memory_mb=250)
    repl.request({"cmd": "import Mathlib"}, 10)
    with pytest.raises(Exception, match="over the 250 MB cap"):
        repl.request({"cmd": "theorem t : fake_oom := sorry", "env": 0}, 20)
    assert repl.peak_rss_mb > 250 and not repl.alive
