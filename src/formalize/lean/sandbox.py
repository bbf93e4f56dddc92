"""The sandbox around every Lean process: bubblewrap, few read-only files, no network, no secrets.

Lean elaboration can run programs and read files (``#eval``, ``run_cmd``, ``initialize``,
macros); the statement gate refuses what it recognises, and this is the wall behind it for
what it misses. ``plan_command`` turns a command into a ``SandboxPlan``, the argv and
environment to start it with; every backend that starts Lean (the REPL pool, file mode, and
through them the doctor) starts what the plan says. With the sandbox on, that is

    bwrap <mounts> <namespaces> --die-with-parent --new-session --chdir DIR \\
        -- [setpriv --reuid=65534 ... -- unshare --user --] prlimit <rlimits> -- COMMAND

What the command then has:

- Files, read-only: the system directories programs need (``/usr``, ``/bin``, ``/sbin``,
  ``/lib*``, and from ``/etc`` only the dynamic linker's ``ld.so.cache``/``ld.so.conf``), the
  Lake project with its ``.lake/`` packages (Mathlib's ``.olean`` files), the Lean toolchain
  (the paths ``lake env`` names: ``LEAN_SYSROOT``, ``LEAN_PATH``, ...), the program itself,
  the files its arguments name, and ``sandbox_paths``. Writable: a private ``/tmp`` of
  ``sandbox_tmp_mb`` and ``sandbox_writable``. ``/``, ``/dev`` are read-only; ``/proc`` is the
  sandbox's own. The home directory, ``/root``, ``~/.ssh``, ``~/.aws``, other projects: absent.
- New namespaces: network (only a loopback of its own: the host's 127.0.0.1 and every other
  address are out of reach), PID (it sees and signals only its own processes), IPC, UTS, and
  a user namespace.
- An environment from an allow-list: ``PATH``, ``HOME=/tmp``, locale, Lean's search paths.
  bwrap itself is started with exactly that environment and passes it on: its init process
  is visible inside, so ``/proc/1/environ`` shows whatever bwrap was given (``--clearenv``
  alone would leave the secrets there; it is also missing from bwrap < 0.5).
- rlimits set by util-linux's ``prlimit`` just before the command: address space, CPU
  seconds, file size, processes (threads count), no core files.

``lake env CMD`` (the default REPL command and ``lean_cmd``): Lake would read its configuration
and may write to ``.lake/``, and would need all of elan inside. Instead ``lake env`` runs once,
outside, on trusted input only (``project.lake_environment``), and ``CMD`` runs directly inside
with the variables it set. Any other command runs inside as given.

Running as root: the kernel does not apply RLIMIT_NPROC to uid 0, also not to uid 0 of a user
namespace that maps it (measured on Linux 6.18). So as root bwrap makes no user namespace and
gives the command only CAP_SETUID and CAP_SETGID, which ``setpriv`` uses to become ``nobody``
(every capability is dropped by that switch, and bwrap sets no_new_privs); ``unshare --user``
then gives it a user namespace of its own, so that the process limit counts this sandbox's
processes, not every ``nobody`` process of the machine. Whatever is mounted must then be
readable by others, as toolchains and Lake projects normally are.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from formalize.errors import SetupError
from formalize.lean.config import LeanConfig
from formalize.lean.project import lake_environment

log = logging.getLogger(__name__)

NOBODY = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# Taken from the parent's environment when set; everything else is dropped.
PASS_THROUGH = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "LEAN_PATH", "LEAN_SRC_PATH", "LEAN_SYSROOT")
# Taken from what `lake env` set (PATH separately: only the directories Lake put in front).
LAKE_VARS = ("LEAN_PATH", "LEAN_SRC_PATH", "LEAN_SYSROOT", "LD_LIBRARY_PATH")
# Address space beyond the memory cap: Mathlib's .olean files are mapped whole (about 5 GB at
# v4.15, more since, shared between workers), glibc reserves 64 MB per malloc arena (up to 8
# per core) and each thread its stack. The private-memory poller (lean/memory.py) stays the
# memory cap; this is a backstop.
ADDRESS_SPACE_ALLOWANCE_MB = 32768
INSTALL_HINT = (
    "Install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu) or "
    "`sudo dnf install bubblewrap` (Fedora, RHEL); macOS has none. It also needs util-linux "
    "(prlimit; setpriv and unshare as root) and user namespaces (kernel.unprivileged_userns_clone"
    " or user.max_user_namespaces, or an AppArmor rule for bwrap on Ubuntu 24.04)."
)


@dataclass(frozen=True)
class Mount:
    """One entry of the sandbox's file tree: ``ro``/``rw`` bind of ``source``, or a symlink."""

    kind: str
    source: str
    dest: str


@dataclass(frozen=True)
class Limits:
    """rlimits of the sandboxed command; 0 leaves one as the parent had it."""

    address_space_mb: int
    cpu_s: int
    file_mb: int
    nproc: int

    def prlimit_args(self) -> list[str]:
        """The ``prlimit`` options setting them (soft = hard), and no core files."""
        mb = 1024 * 1024
        pairs = (
            ("as", self.address_space_mb * mb),
            ("cpu", self.cpu_s),
            ("fsize", self.file_mb * mb),
            ("nproc", self.nproc),
        )
        return [f"--{name}={value}" for name, value in pairs if value > 0] + ["--core=0"]


@dataclass(frozen=True)
class Tools:
    """The programs a sandbox needs, found on this machine, bwrap's version, whether we are root."""

    bwrap: str
    prlimit: str
    setpriv: str | None = None
    unshare: str | None = None
    as_root: bool = False
    version: tuple[int, ...] = ()


@dataclass(frozen=True)
class Support:
    """Whether the sandbox works here: the tools and bwrap's version, or the problem."""

    tools: Tools | None
    version: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when a sandbox was started here and ran a command."""
        return self.tools is not None and self.problem is None


@dataclass(frozen=True)
class SandboxPlan:
    """How to start one command: its argv, working directory and whole environment.

    ``env`` None means the parent's environment (no sandbox). ``program`` is the executable
    the command runs, resolved, or None when it cannot be found (starting it would fail).
    ``mounts`` are the paths shown beyond the system directories.
    """

    argv: tuple[str, ...]
    cwd: Path | None
    env: Mapping[str, str] | None
    program: str | None
    sandboxed: bool = False
    mounts: tuple[Mount, ...] = ()
    limits: Limits | None = None
    version: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        """Rows for ``formalize lean doctor``: what is mounted, the limits."""
        if not self.sandboxed or self.limits is None:
            return []
        ro = [m.dest for m in self.mounts if m.kind == "ro"]
        rw = [m.dest for m in self.mounts if m.kind == "rw"]
        lim = self.limits

        def shown(value: int, unit: str) -> str:
            return f"{value}{unit}" if value else "unlimited"

        limits = (
            f"address space {shown(lim.address_space_mb, ' MB')}, CPU {shown(lim.cpu_s, ' s')}, "
            f"file size {shown(lim.file_mb, ' MB')}, processes {shown(lim.nproc, '')}"
        )
        return [
            ("sandbox read-only", ", ".join(ro) or "-"),
            ("sandbox writable", ", ".join(["/tmp (private)", *rw])),
            ("sandbox limits", limits),
        ]


def limits_for(config: LeanConfig) -> Limits:
    """The rlimits of ``config``, with the defaults derived where a setting is None."""
    space = config.sandbox_address_space_mb
    if space is None:
        space = config.memory_mb + ADDRESS_SPACE_ALLOWANCE_MB
    cpu = config.sandbox_cpu_s
    if cpu is None:  # twice the longest a process may legitimately work: its import + its checks
        checks = max(config.recycle_after, config.file_chunk)
        cpu = math.ceil(2 * (config.import_timeout_s + checks * config.timeout_s))
    nproc = config.sandbox_nproc
    if nproc is None:  # Lean's task manager runs a thread per core, and more for blocked tasks
        nproc = max(256, 4 * (os.cpu_count() or 1))
    return Limits(space, cpu, config.sandbox_file_mb, nproc)


def build_argv(
    tools: Tools,
    command: Sequence[str],
    *,
    mounts: Sequence[Mount],
    limits: Limits,
    chdir: str,
    tmp_mb: int,
) -> tuple[str, ...]:
    """The bwrap command line running ``command`` (its program already resolved) sandboxed.

    Start it with the plan's ``env`` as its whole environment. ``--perms`` (a ``/tmp`` that
    ``nobody`` can write) needs bwrap 0.5, ``--size`` 0.7; older ones get a ``/tmp`` without.
    """
    argv = [tools.bwrap, "--dev", "/dev", "--remount-ro", "/dev", "--proc", "/proc"]
    if tools.version >= (0, 5):
        argv += ["--perms", "1777"]
    if tools.version >= (0, 7):
        argv += ["--size", str(tmp_mb * 1024 * 1024)]
    argv += ["--tmpfs", "/tmp"]
    # The directories leading to a mount: bwrap would make them 0700, closed to nobody.
    dests = [m.dest for m in mounts]
    parents = {str(p) for d in dests for p in Path(d).parents if str(p) not in ("/", "/tmp")}
    parents = {p for p in parents if not any(p == d or _under(p, d) for d in dests)}
    for m in sorted(
        [*mounts, *(Mount("dir", p, p) for p in parents)],
        key=lambda m: (m.dest.count("/"), m.dest),  # parents first
    ):
        if m.kind == "dir":
            argv += ["--dir", m.dest]
        elif m.kind == "symlink":
            argv += ["--symlink", m.source, m.dest]
        else:
            argv += ["--ro-bind-try" if m.kind == "ro" else "--bind-try", m.source, m.dest]
    argv += ["--remount-ro", "/"]
    if tools.as_root:
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        argv += ["--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-all"]
    argv += ["--die-with-parent", "--new-session", "--chdir", chdir, "--"]
    if tools.as_root:
        assert tools.setpriv and tools.unshare, "find_tools requires them as root"
        argv += [tools.setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        argv += [tools.unshare, "--user", "--"]
    argv += [tools.prlimit, *limits.prlimit_args(), "--", *command]
    return tuple(argv)


def sandbox_environment(
    parent: Mapping[str, str], lake: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The sandboxed command's environment: the allow-list, Lake's variables, a plain PATH."""
    env = {k: parent[k] for k in PASS_THROUGH if parent.get(k)}
    front: list[str] = []
    if lake is not None:
        env.update({k: lake[k] for k in LAKE_VARS if lake.get(k)})
        known = set(parent.get("PATH", "").split(os.pathsep))
        front = [p for p in lake.get("PATH", "").split(os.pathsep) if p and p not in known]
    env["PATH"] = os.pathsep.join([*front, SYSTEM_PATH])
    env["HOME"] = env["TMPDIR"] = "/tmp"
    env.setdefault("LANG", "C.UTF-8")
    return env


# --------------------------------------------------------------------------- this machine


def base_mounts(tools: Tools) -> list[Mount]:
    """What every sandbox shows: ``/usr`` and friends as this machine has them (``/lib`` is
    often a symlink to usr/lib), the dynamic linker's files, the helpers if they are elsewhere.
    """
    out = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            out.append(Mount("symlink", os.readlink(path), path))
        elif os.path.isdir(path):
            out.append(Mount("ro", path, path))
    out += [Mount("ro", path, path) for path in SYSTEM_FILES if os.path.exists(path)]
    helpers = (tools.prlimit, tools.setpriv, tools.unshare)
    out += [Mount("ro", p, p) for p in helpers if p and not _in_system(p)]
    return out


def find_tools(which: Callable[[str], str | None] = shutil.which) -> Tools | str:
    """The tools and bwrap's version, or what is missing."""
    as_root = os.geteuid() == 0
    bwrap = which("bwrap")
    if bwrap is None:
        return "bubblewrap (`bwrap`) is not installed"
    names = ("prlimit", "setpriv", "unshare") if as_root else ("prlimit",)
    found = {name: which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        return f"util-linux's {' and '.join(missing)} not found (the sandbox sets rlimits with it)"
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{bwrap} --version` failed: {exc}"
    return Tools(
        bwrap,
        found["prlimit"] or "prlimit",
        found.get("setpriv"),
        found.get("unshare"),
        as_root,
        parse_version(out.stdout),
    )


def parse_version(text: str) -> tuple[int, ...]:
    """``bubblewrap 0.8.0`` -> ``(0, 8, 0)``; ``()`` when there is no version in it."""
    match = re.search(r"(\d+(?:\.\d+)+)", text)
    return tuple(int(n) for n in match.group(1).split(".")) if match else ()


@functools.cache
def support() -> Support:
    """Whether the sandbox works here: the tools found, a program run in one. Once per process."""
    tools = find_tools()
    if isinstance(tools, str):
        return Support(None, problem=tools)
    version = "bubblewrap " + ".".join(map(str, tools.version)) if tools.version else None
    probe = build_argv(
        tools,
        [tools.prlimit, "--version"],
        mounts=base_mounts(tools),
        limits=Limits(1024, 10, 1, 64),
        chdir="/",
        tmp_mb=1,
    )
    try:
        ran = subprocess.run(probe, capture_output=True, text=True, timeout=30, env={})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Support(tools, version, problem=f"bwrap could not be run: {exc}")
    if ran.returncode != 0:
        why = ran.stderr.strip()[-500:] or f"exit code {ran.returncode}"
        return Support(tools, version, problem=f"bwrap cannot make a sandbox here ({why})")
    return Support(tools, version)


_WARNED: set[str] = set()
_WARN_LOCK = threading.Lock()


def _warn_once(message: str) -> None:
    with _WARN_LOCK:
        if message in _WARNED:
            return
        _WARNED.add(message)
    log.warning(message)


def active(config: LeanConfig) -> Support | None:
    """The sandbox to use for ``config``, or None to run Lean without one (warned once).

    ``SetupError`` when ``config.sandbox`` is ``on`` and the sandbox cannot run here.
    """
    if config.sandbox == "off":
        _warn_once(
            "the Lean sandbox is off (sandbox = off): Lean code from the models runs with your "
            "files, your network and your environment. Drop `--sandbox off` to confine it."
        )
        return None
    found = support()
    if found.ok:
        return found
    if config.sandbox == "on":
        raise SetupError(
            f"the Lean sandbox is required (--sandbox on), but {found.problem}. {INSTALL_HINT}"
        )
    _warn_once(
        f"Lean runs WITHOUT a sandbox: {found.problem}, so Lean code from the models can read "
        f"your files, use the network and see your environment. {INSTALL_HINT} "
        "`--sandbox off` silences this warning; `--sandbox on` makes it an error."
    )
    return None


def status(config: LeanConfig) -> str:
    """One line for ``formalize lean doctor``: whether Lean runs sandboxed, and why (not)."""
    if config.backend == "kimina":
        return "not ours: the kimina backend runs Lean on its server, isolated as it isolates it"
    if config.sandbox == "off":
        return "off (sandbox = off): Lean runs unconfined"
    found = support()
    if found.ok and found.tools is not None:
        who = f"as uid {NOBODY} in its own user namespace" if found.tools.as_root else "as you"
        return f"on: {found.version or 'bubblewrap'} ({who}; no network, no home, no secrets)"
    if config.sandbox == "on":
        return f"required but unavailable: {found.problem}. {INSTALL_HINT}"
    return f"missing: {found.problem}; Lean runs unconfined. {INSTALL_HINT}"


# --------------------------------------------------------------------------- plans


def plan_command(
    config: LeanConfig,
    command: Sequence[str],
    *,
    cwd: Path | None,
    read_only: Sequence[Path] = (),
) -> SandboxPlan:
    """How to start ``command`` (in ``cwd``) under ``config``'s sandbox setting.

    ``read_only``: more paths the command needs (file mode's generated file). Without a
    sandbox the plan is the command itself. ``SetupError`` for ``sandbox = on`` where the
    sandbox cannot run, for a mount that would show ``/`` or the home directory, and when
    ``lake env`` fails.
    """
    command = list(command)
    found = active(config)
    if found is None or found.tools is None:
        program = _find_program(command[0], os.environ.get("PATH", ""), cwd) if command else None
        return SandboxPlan(tuple(command), cwd, None, program)
    lake = None
    if len(command) > 2 and Path(command[0]).name == "lake" and command[1] == "env":
        lake = lake_environment(command[0], (cwd or config.lean_project).resolve())
        command = command[2:]
    env = sandbox_environment(os.environ, lake)
    # found where this side would find it (Lake's PATH for `lake env`), then shown inside
    search = (lake or os.environ).get("PATH", "")
    program = _find_program(command[0], search, cwd)
    if program is not None:
        command[0] = program
    ro = [str(config.lean_project), *map(str, config.sandbox_paths), *map(str, read_only)]
    ro += [a for a in command if os.path.isabs(a) and os.path.isfile(a)]
    ro += _search_paths(env)
    mounts = _mounts(ro, [str(p) for p in config.sandbox_writable])
    where = str(cwd.resolve()) if cwd is not None else "/tmp"
    chdir = where if _inside(where, mounts) else "/tmp"
    limits = limits_for(config)
    argv = build_argv(
        found.tools,
        command,
        mounts=[*base_mounts(found.tools), *mounts],
        limits=limits,
        chdir=chdir,
        tmp_mb=config.sandbox_tmp_mb,
    )
    return SandboxPlan(argv, None, env, program, True, tuple(mounts), limits, found.version)


def _find_program(name: str, path: str, cwd: Path | None) -> str | None:
    if os.sep in name:
        full = name if os.path.isabs(name) or cwd is None else os.path.join(cwd, name)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    return shutil.which(name, path=path)


def _search_paths(env: Mapping[str, str]) -> list[str]:
    """The toolchain and package directories Lean's variables (and PATH's front) name."""
    out = []
    for key in (*LAKE_VARS, "PATH"):
        out += [p for p in env.get(key, "").split(os.pathsep) if p and os.path.isabs(p)]
    system = set(SYSTEM_PATH.split(os.pathsep))
    return [p for p in out if p not in system and os.path.exists(p)]


def _mounts(read_only: Sequence[str], writable: Sequence[str]) -> list[Mount]:
    """Binds for the paths that exist, minus read-only ones already inside another.

    ``SetupError`` for a path that is ``/``, a home directory or ``/home``, or holds one: a
    setting that would undo the sandbox (paths inside them are fine: a toolchain in ``~/.elan``).
    """
    homes = {os.path.realpath(os.path.expanduser("~")), "/home", "/root"}
    kinds = [("ro", p) for p in read_only] + [("rw", p) for p in writable]
    seen: dict[str, str] = {}
    for kind, path in kinds:
        full = os.path.abspath(path)
        if not os.path.exists(full):
            continue
        real = os.path.realpath(full)
        if real == "/" or any(h == real or _under(h, real) for h in homes):
            raise SetupError(
                f"the Lean sandbox would show {full} (it is or holds a home directory, or is /): "
                "name the directories Lean needs instead (sandbox_paths, --sandbox-path)"
            )
        if kind == "ro" and _in_system(full):
            continue  # shown already
        if seen.get(full) != "rw":
            seen[full] = kind
    ro_roots = [p for p, kind in seen.items() if kind == "ro"]
    out = []
    for path, kind in seen.items():
        if kind == "ro" and any(_under(path, root) for root in ro_roots if root != path):
            continue
        out.append(Mount(kind, path, path))
    return out


def _under(path: str, root: str) -> bool:
    return path.startswith(root.rstrip("/") + "/")


def _in_system(path: str) -> bool:
    return any(path == d or _under(path, d) for d in SYSTEM_DIRS)


def _inside(path: str, mounts: Sequence[Mount]) -> bool:
    return any(path == m.dest or _under(path, m.dest) for m in mounts)
