"""The sandbox's parts: the bwrap command line, the environment, detection, the settings.

Pure tests of ``build_argv``/``sandbox_environment``/``limits_for``, the ``auto``/``on``/``off``
modes and their one-time warnings, config validation, the CLI flags and the doctor's report;
and ``lake env`` handled outside the sandbox, with a stand-in Lake and toolchain. The escape
tests are in ``test_sandbox_escape.py``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest
from lean_fakes import FAKE_REPL, PYTHON, PYTHON_HOME, fake_config, sandbox_mode

from formalize.cli.check import lean_overrides
from formalize.cli.main import build_parser
from formalize.errors import SetupError
from formalize.lean import LeanChecker, LeanConfig, sandbox
from formalize.lean.sandbox import (
    Limits,
    Mount,
    Support,
    Tools,
    build_argv,
    find_tools,
    limits_for,
    parse_version,
    plan_command,
    sandbox_environment,
    support,
)
from formalize.lean.setup import doctor
from formalize.records import CheckStatus

USER = Tools("/usr/bin/bwrap", "/usr/bin/prlimit", version=(0, 8, 0))
ROOT = Tools(
    "/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv", "/usr/bin/unshare", True, (0, 8, 0)
)
LIMITS = Limits(address_space_mb=1000, cpu_s=60, file_mb=2, nproc=16)


def argv_for(tools: Tools, mounts: list[Mount], limits: Limits = LIMITS) -> list[str]:
    return list(
        build_argv(tools, ["/repl", "--x"], mounts=mounts, limits=limits, chdir="/p", tmp_mb=8)
    )


def test_the_command_line_as_a_user() -> None:
    mounts = [
        Mount("ro", "/work/proj", "/work/proj"),
        Mount("symlink", "usr/lib", "/lib"),
        Mount("rw", "/work/proj/.out", "/work/proj/.out"),
        Mount("ro", "/usr", "/usr"),
    ]
    argv = argv_for(USER, mounts)
    tail = argv[argv.index("--") + 1 :]
    assert tail == [
        "/usr/bin/prlimit",
        "--as=1048576000",
        "--cpu=60",
        "--fsize=2097152",
        "--nproc=16",
        "--core=0",
        "--",
        "/repl",
        "--x",
    ]
    head = argv[: argv.index("--")]
    assert {"--unshare-all", "--die-with-parent", "--new-session"} <= set(head)
    assert "--cap-add" not in head and "--share-net" not in head
    assert head[head.index("--tmpfs") - 4 : head.index("--tmpfs") + 2] == [
        "--perms",
        "1777",
        "--size",
        str(8 * 1024 * 1024),
        "--tmpfs",
        "/tmp",
    ]
    order = [head.index(x) for x in ("--dir", "/work/proj", "/work/proj/.out")]
    assert order == sorted(order)  # /work made (open to nobody), then the project, then inside
    assert head[head.index("/work/proj/.out") - 1] == "--bind-try"
    assert head[head.index("/work/proj") - 1] == "--ro-bind-try"
    assert head.index("--remount-ro", head.index("--tmpfs")) > head.index("/work/proj/.out")
    assert head[head.index("--chdir") + 1] == "/p"


def test_the_command_line_as_root_becomes_nobody_in_a_user_namespace_of_its_own() -> None:
    argv = argv_for(ROOT, [])
    head, tail = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    assert "--unshare-all" not in head  # its user namespace would map uid 0: no RLIMIT_NPROC
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"} <= set(head)
    assert head.count("--cap-add") == 2 and {"CAP_SETUID", "CAP_SETGID"} <= set(head)
    assert tail[:7] == [
        "/usr/bin/setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        "/usr/bin/unshare",
        "--user",
    ]
    assert tail[-3:] == ["--", "/repl", "--x"] and "/usr/bin/prlimit" in tail


def test_old_bwrap_and_unset_limits() -> None:
    argv = argv_for(dataclasses.replace(USER, version=(0, 4, 1)), [], Limits(0, 0, 0, 0))
    assert "--perms" not in argv and "--size" not in argv  # bwrap < 0.5 / < 0.7 lack them
    assert argv[argv.index("/usr/bin/prlimit") :] == [
        "/usr/bin/prlimit",
        "--core=0",
        "--",
        "/repl",
        "--x",
    ]
    assert parse_version("bubblewrap 0.11.1\n") == (0, 11, 1) and parse_version("?") == ()


def test_the_environment_is_an_allow_list() -> None:
    parent = {
        "OPENAI_API_KEY": "sk-1",
        "HF_TOKEN": "hf_1",
        "AWS_SECRET_ACCESS_KEY": "a",
        "GITHUB_TOKEN": "g",
        "SSH_AUTH_SOCK": "/run/ssh",
        "LANG": "de_DE.UTF-8",
        "HOME": "/home/me",
        "PATH": "/home/me/bin:/usr/bin",
        "LEAN_PATH": "/mine",
    }
    env = sandbox_environment(parent)
    assert env == {
        "LANG": "de_DE.UTF-8",
        "LEAN_PATH": "/mine",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
    }
    lake = {
        "LEAN_PATH": "/p/.lake/build/lib/lean",
        "LEAN_SYSROOT": "/tc",
        "LD_LIBRARY_PATH": "/tc/lib",
        "PATH": "/tc/bin:/home/me/bin:/usr/bin",
        "LAKE": "/tc/bin/lake",
        "OPENAI_API_KEY": "sk-1",
    }
    env = sandbox_environment(parent, lake)
    assert env["LEAN_PATH"] == "/p/.lake/build/lib/lean" and env["LEAN_SYSROOT"] == "/tc"
    assert env["PATH"] == "/tc/bin:/usr/local/bin:/usr/bin:/bin"  # Lake's front, not ~/bin
    assert "LAKE" not in env and "OPENAI_API_KEY" not in env
    assert sandbox_environment({})["LANG"] == "C.UTF-8"


def test_limits_derived_from_the_checker_settings() -> None:
    config = LeanConfig(memory_mb=8192, timeout_s=60, import_timeout_s=600, recycle_after=200)
    limits = limits_for(config)
    assert limits.address_space_mb == 8192 + sandbox.ADDRESS_SPACE_ALLOWANCE_MB
    assert limits.cpu_s == 2 * (600 + 200 * 60) and limits.file_mb == 64
    assert limits.nproc >= 256
    set_ = limits_for(
        LeanConfig(sandbox_address_space_mb=0, sandbox_cpu_s=5, sandbox_nproc=7, sandbox_file_mb=1)
    )
    assert set_ == Limits(0, 5, 1, 7)


def test_finding_the_tools() -> None:
    assert find_tools(lambda name: None) == "bubblewrap (`bwrap`) is not installed"
    only_bwrap = find_tools(lambda name: "/usr/bin/bwrap" if name == "bwrap" else None)
    assert isinstance(only_bwrap, str) and "prlimit" in only_bwrap


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="sandbox must be one of auto, on, off"):
        LeanConfig(sandbox="maybe")
    with pytest.raises(ValueError, match="sandbox_nproc must be >= 0"):
        LeanConfig(sandbox_nproc=-1)
    with pytest.raises(ValueError, match="sandbox_tmp_mb must be > 0"):
        LeanConfig(sandbox_tmp_mb=0)
    with pytest.raises(ValueError, match="below memory_mb"):
        LeanConfig(memory_mb=8192, sandbox_address_space_mb=4096)
    with pytest.raises(ValueError, match="cannot show / itself"):
        LeanConfig(sandbox_writable=["/"])
    config = LeanConfig.from_mapping({"sandbox": "off", "sandbox_paths": ["/opt/a", "/opt/b"]})
    assert config.sandbox_paths == (Path("/opt/a"), Path("/opt/b"))
    assert LeanConfig(sandbox_paths="/opt/a").sandbox_paths == (Path("/opt/a"),)
    with pytest.raises(ValueError, match="did you mean 'sandbox'"):
        LeanConfig.from_mapping({"sandbx": "off"})


@pytest.mark.parametrize("command", ["check", "run", "lean doctor"])
def test_the_flags(command: str) -> None:
    flags = ["--sandbox", "off", "--sandbox-path", "/opt/a", "--sandbox-path", "/opt/b"]
    words = [*command.split(), *(["in.jsonl"] if command != "lean doctor" else [])]
    args = build_parser().parse_args([*words, *flags])
    overrides = lean_overrides(args)
    assert overrides["sandbox"] == "off" and overrides["sandbox_paths"] == ["/opt/a", "/opt/b"]
    config = LeanConfig().with_overrides(**overrides)
    assert config.sandbox == "off" and config.sandbox_paths == (Path("/opt/a"), Path("/opt/b"))
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command.split(), "--sandbox", "maybe"])


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_WARNED", set())


def test_off_warns_once_and_runs_the_command_itself(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = LeanConfig(sandbox="off")
    with caplog.at_level(logging.WARNING, logger="formalize.lean.sandbox"):
        plans = [plan_command(config, [PYTHON, "-V"], cwd=None) for _ in range(3)]
    assert all(p.argv == (PYTHON, "-V") and p.env is None and not p.sandboxed for p in plans)
    assert len(caplog.records) == 1 and "sandbox is off" in caplog.text


def test_where_bwrap_is_missing(
    fresh_warnings: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    missing = Support(None, problem="bubblewrap (`bwrap`) is not installed")
    monkeypatch.setattr(sandbox, "support", lambda: missing)
    with caplog.at_level(logging.WARNING, logger="formalize.lean.sandbox"):
        for _ in range(2):
            assert not plan_command(LeanConfig(), [PYTHON, "-V"], cwd=None).sandboxed
    assert len(caplog.records) == 1
    for hint in ("WITHOUT a sandbox", "apt-get install bubblewrap", "dnf install", "macOS"):
        assert hint in caplog.text
    with pytest.raises(SetupError, match=r"required \(--sandbox on\), but bubblewrap .*apt-get"):
        plan_command(LeanConfig(sandbox="on"), [PYTHON, "-V"], cwd=None)
    with pytest.raises(SetupError, match="sandbox is required"):  # at once, not at a check
        LeanChecker(fake_config(tmp_path, sandbox="on")).preflight()
    assert sandbox.status(LeanConfig()).startswith("missing: bubblewrap")
    assert sandbox.status(LeanConfig(sandbox="off")).startswith("off")
    kimina = LeanConfig(backend="kimina", kimina_url="http://x")
    assert "kimina" in sandbox.status(kimina) and "server" in sandbox.status(kimina)


def test_the_sandbox_works_wherever_bwrap_is_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (`make install-test` installs it where it can)")
    assert support().ok, support().problem  # installed but broken must not pass as "skipped"


def test_mounts_never_show_the_home_directory(tmp_path: Path) -> None:
    if sandbox_mode() == "off":
        pytest.skip(f"the sandbox cannot run here: {support().problem}")
    home = Path.home()
    for shown in {home, home.parent, Path("/home")} - {Path("/")}:  # LeanConfig refuses "/"
        config = LeanConfig(sandbox="on", sandbox_paths=(shown,))
        with pytest.raises(SetupError, match="is or holds a home directory"):
            plan_command(config, [PYTHON, "-V"], cwd=None)
    plan = plan_command(fake_config(tmp_path), [PYTHON, str(FAKE_REPL)], cwd=None)
    shown_paths = {m.dest for m in plan.mounts}
    assert str(FAKE_REPL) in shown_paths and PYTHON_HOME in shown_paths  # named, configured
    assert plan.env is not None and "OPENAI_API_KEY" not in plan.env
    assert plan.argv[0] == support().tools.bwrap  # type: ignore[union-attr]


def test_doctor_reports_the_sandbox(tmp_path: Path) -> None:
    report = doctor(fake_config(tmp_path))
    assert report.ok, report.render()
    rows = dict(report.rows)
    if sandbox_mode() == "on":
        assert rows["sandbox"].startswith("on: bubblewrap")
        assert str(FAKE_REPL) in rows["sandbox read-only"]
        assert rows["sandbox writable"].startswith("/tmp (private)")
        assert "processes" in rows["sandbox limits"]
    off = dict(doctor(fake_config(tmp_path, sandbox="off")).rows)
    assert off["sandbox"].startswith("off") and "sandbox limits" not in off


# ---------------------------------------------------------------- `lake env`, resolved outside

LAKE = """#!{python}
import json, os, sys
from pathlib import Path
root = Path(__file__).resolve().parent.parent
with open(root / "lake.log", "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
assert sys.argv[1] == "env", sys.argv
toolchain = root / "toolchain"
env = dict(
    os.environ,
    LEAN_SYSROOT=str(toolchain),
    LEAN_PATH=f"{{Path.cwd()}}/.lake/build/lib/lean:{{toolchain}}/lib/lean",
    LD_LIBRARY_PATH=f"{{toolchain}}/lib",
    PATH=f"{{toolchain}}/bin:" + os.environ["PATH"],
    LAKE=str(Path(__file__).resolve()),
)
os.execvpe(sys.argv[2], sys.argv[2:], env)
"""
LEAN = """import json, os, sys
lines = open(sys.argv[-1]).read().split("\\n")
at = next(n for n, text in enumerate(lines, 1) if text.startswith("theorem"))
seen = {k: os.environ.get(k) for k in ("LEAN_PATH", "LEAN_SYSROOT", "LAKE", "PATH")}
print(json.dumps({"severity": "information", "pos": {"line": at, "column": 0},
                  "endPos": None, "data": json.dumps(seen)}))
"""


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def lake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Lake project with a built "REPL", a stand-in `lake` on PATH and a "toolchain"."""
    if sandbox_mode() == "off":
        pytest.skip(f"the sandbox cannot run here: {support().problem}")
    lake = executable(tmp_path / "bin" / "lake", LAKE.format(python=PYTHON))
    executable(tmp_path / "toolchain" / "bin" / "lean.py", LEAN)
    executable(
        tmp_path / "toolchain" / "bin" / "lean",
        f'#!/bin/sh\nexec {PYTHON} "$(dirname "$0")/lean.py" "$@"\n',
    )
    (tmp_path / "toolchain" / "lib" / "lean").mkdir(parents=True)
    project = tmp_path / "project"
    (project / ".lake" / "build" / "lib" / "lean").mkdir(parents=True)
    (project / "lakefile.toml").write_text('name = "p"\n', encoding="utf-8")
    shutil.copy(FAKE_REPL, project / "fake_repl.py")
    binary = project / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"
    executable(binary, f'#!/bin/sh\nexec {PYTHON} {project / "fake_repl.py"} "$@"\n')
    monkeypatch.setenv("PATH", f"{lake.parent}{os.pathsep}{os.environ['PATH']}")
    return project


def lake_calls(project: Path) -> list[list[str]]:
    log = project.parent / "lake.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_the_default_repl_command_runs_without_lake_inside(lake_project: Path) -> None:
    config = LeanConfig(
        lean_project=lake_project,
        workers=1,
        toolchain="fake",
        sandbox="on",
        sandbox_paths=(PYTHON_HOME,),
    )
    with LeanChecker(config) as checker:
        (result,) = checker.check(["theorem t : 1 = 1 := by sorry"])
        launch = checker.launch
    assert result.status is CheckStatus.OK, result
    assert launch is not None and launch.env is not None
    assert launch.argv[-1].endswith("/.lake/build/bin/repl")  # the REPL itself, not `lake env`
    assert not any(a.endswith("/lake") for a in launch.argv)
    assert launch.env["LEAN_PATH"].startswith(str(lake_project.resolve()))
    (call,) = lake_calls(lake_project)  # once, outside, to read the environment
    assert call[:2] == ["env", sys.executable]


def test_file_mode_runs_lean_with_lakes_environment(lake_project: Path) -> None:
    config = LeanConfig(
        backend="file",
        lean_project=lake_project,
        workers=1,
        toolchain="fake",
        sandbox="on",
        sandbox_paths=(PYTHON_HOME,),
    )
    with LeanChecker(config) as checker:
        (result,) = checker.check(["theorem t : 1 = 1 := by sorry"])
    seen = json.loads(result.messages[0].text)
    toolchain = lake_project.parent / "toolchain"
    assert seen["LEAN_SYSROOT"] == str(toolchain)
    assert (
        seen["LEAN_PATH"] == f"{lake_project.resolve()}/.lake/build/lib/lean:{toolchain}/lib/lean"
    )
    assert seen["LAKE"] is None and seen["PATH"].startswith(f"{toolchain}/bin:")
    assert len(lake_calls(lake_project)) == 1


def test_read_only_paths_stay_read_only_inside_a_writable_directory(tmp_path: Path) -> None:
    """A writable directory that holds the Lake project (or the toolchain, or a file the
    command names) does not make them writable: each keeps a read-only bind of its own.
    Otherwise a candidate that ran code could rewrite the lakefile, which `lake` runs
    outside the sandbox."""
    if sandbox_mode() == "off":
        pytest.skip(f"the sandbox cannot run here: {support().problem}")
    import subprocess

    shared = tmp_path / "shared"
    project = shared / "project"
    project.mkdir(parents=True)
    for folder in (shared, project):
        folder.chmod(0o777)  # as root the sandbox runs as nobody: only the mounts may refuse
    config = dataclasses.replace(
        fake_config(tmp_path), sandbox="on", lean_project=project, sandbox_writable=(shared,)
    )
    write = (
        "import sys\n"
        "for folder in sys.argv[1:]:\n"
        "    try:\n"
        "        open(folder + '/written', 'w').write('x')\n"
        "        print(folder, 'written')\n"
        "    except OSError as exc:\n"
        "        print(folder, exc.errno)\n"
    )
    plan = plan_command(config, [PYTHON, "-c", write, str(shared), str(project)], cwd=None)
    kinds = {(m.kind, m.dest) for m in plan.mounts}
    assert ("rw", str(shared)) in kinds and ("ro", str(project)) in kinds
    done = subprocess.run(plan.argv, env=plan.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{shared} written", f"{project} 30"]  # 30: EROFS
    assert not (project / "written").exists()
