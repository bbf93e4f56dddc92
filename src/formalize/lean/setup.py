"""``formalize lean setup`` and ``doctor``: make ``lean_project/`` real, and check that it works.

Setup writes a pinned ``lean-toolchain`` and a ``lakefile.toml`` requiring Mathlib and the
leanprover-community REPL at tags that match that Lean, then runs ``lake update`` (clone),
``lake exe cache get`` (Mathlib's prebuilt ``.olean`` files) and ``lake build repl``. When
``lake`` or git is missing, or GitHub cannot be reached, it stops at once and says what is
missing and how to get it. Doctor reports the versions it finds and whether Lean runs in the
sandbox (and what the sandbox shows it), and runs a two-statement check.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from formalize.errors import SetupError
from formalize.lean.config import REPL_BINARY, LeanConfig
from formalize.lean.project import find_repl_binary, read_versions
from formalize.records import CheckResult, CheckStatus

if TYPE_CHECKING:
    from formalize.lean.checker import LeanChecker


@dataclass(frozen=True)
class LeanPin:
    """One supported Lean version and the Mathlib/REPL revisions that build with it."""

    version: str
    mathlib: str
    repl: str
    why: str

    @property
    def toolchain(self) -> str:
        """The ``lean-toolchain`` line."""
        return f"leanprover/lean4:{self.version}"


# Tags checked against public lakefiles: Mathlib tags every release `vX.Y.0`; the REPL tags most
# of them (v4.28.0 has no REPL tag: its v4.28.0-rc1 tag is what projects pair with Mathlib v4.28.0).
PINS = {
    "v4.15.0": LeanPin(
        "v4.15.0",
        "v4.15.0",
        "v4.15.0",
        "default: the Lean/Mathlib the released translator and critic were trained against",
    ),
    "v4.26.0": LeanPin("v4.26.0", "v4.26.0", "v4.26.0", "kimina-lean-server's current default"),
    "v4.27.0": LeanPin("v4.27.0", "v4.27.0", "v4.27.0", "PutnamBench's Lean"),
    "v4.28.0": LeanPin("v4.28.0", "v4.28.0", "v4.28.0-rc1", "ProofNet-Verified's Lean"),
}
DEFAULT_VERSION = "v4.15.0"
ELAN_URL = "https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh"

NO_LAKE = f"""\
Lean is not installed: `lake` is not on PATH{{elan}}.
formalize checks statements with Lean 4, Mathlib and the leanprover-community REPL. To get them:
  1. install elan, the Lean version manager (it puts `lean` and `lake` in ~/.elan/bin):
       curl {ELAN_URL} -sSf | sh -s -- -y --default-toolchain none
     then open a new shell, or run `source ~/.elan/env`;
  2. run `formalize lean setup` again: it pins Lean {{version}}, downloads Mathlib's build cache
     (several GB, from GitHub) and builds the REPL in {{project}}.
Without a local Lean, `--backend kimina --kimina-url URL` checks through a kimina-lean-server."""


def lakefile_text(pin: LeanPin) -> str:
    """The ``lakefile.toml`` of ``lean_project/`` for ``pin``."""
    return f"""\
# Written by `formalize lean setup --lean-version {pin.version}`; rerun it to change versions.
name = "formalize_lean"
defaultTargets = []

[[require]]
name = "mathlib"
git = "https://github.com/leanprover-community/mathlib4"
rev = "{pin.mathlib}"

[[require]]
name = "REPL"
git = "https://github.com/leanprover-community/repl"
rev = "{pin.repl}"
"""


def pin_for(version: str) -> LeanPin:
    """The pin of ``version`` (``v4.15.0`` or ``4.15.0``); ``SetupError`` for unknown ones."""
    key = version if version.startswith("v") else f"v{version}"
    if key not in PINS:
        raise SetupError(
            f"unsupported Lean version {version!r}; choose one of {', '.join(PINS)} "
            f"(default {DEFAULT_VERSION})"
        )
    return PINS[key]


def write_project(project: Path, pin: LeanPin) -> bool:
    """Write ``lean-toolchain`` and ``lakefile.toml``; True when they changed (re-resolve)."""
    project.mkdir(parents=True, exist_ok=True)
    files = {"lean-toolchain": pin.toolchain + "\n", "lakefile.toml": lakefile_text(pin)}
    changed = False
    for name, text in files.items():
        path = project / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed = True
    return changed


def manifest_matches(project: Path, pin: LeanPin) -> bool:
    """True when ``lake-manifest.json`` already resolves Mathlib and the REPL at the pin."""
    try:
        manifest = json.loads((project / "lake-manifest.json").read_text(encoding="utf-8"))
        revs = {str(p.get("name", "")).lower(): p.get("inputRev") for p in manifest["packages"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return revs.get("mathlib") == pin.mathlib and revs.get("repl") == pin.repl


def github_reachable(timeout_s: float = 5.0) -> str | None:
    """None when github.com:443 accepts a connection, else why not."""
    try:
        with socket.create_connection(("github.com", 443), timeout=timeout_s):
            return None
    except OSError as exc:
        return str(exc) or type(exc).__name__


@dataclass(frozen=True)
class Step:
    """One command of the setup."""

    argv: tuple[str, ...]
    what: str
    network: bool


Runner = Callable[[Sequence[str], Path], int]


def _run_streaming(argv: Sequence[str], cwd: Path) -> int:
    return subprocess.run(list(argv), cwd=cwd, check=False).returncode


def setup_project(
    project: Path,
    version: str = DEFAULT_VERSION,
    *,
    runner: Runner = _run_streaming,
    say: Callable[[str], None] = print,
    which: Callable[[str], str | None] = shutil.which,
    network_check: Callable[[], str | None] = github_reachable,
) -> Path:
    """Make ``project`` a built Lake project for ``version``; returns the REPL binary.

    ``SetupError`` (fast, before any download) when ``lake`` or ``git`` is missing or GitHub
    cannot be reached, and when a step fails.
    """
    pin = pin_for(version)
    lake = which("lake")
    if lake is None:
        elan = which("elan")
        note = f" (elan is at {elan}: add its bin directory to PATH)" if elan else " (nor elan)"
        raise SetupError(NO_LAKE.format(elan=note, version=pin.version, project=project))
    if which("git") is None:
        raise SetupError("git is not on PATH; Lake needs it to fetch Mathlib and the REPL.")
    changed = write_project(project, pin)
    say(f"{project}: Lean {pin.version}, Mathlib {pin.mathlib}, REPL {pin.repl} ({pin.why})")
    steps = []
    if changed or not manifest_matches(project, pin):
        steps.append(Step((lake, "update"), "resolve and clone Mathlib and the REPL", True))
    steps.append(Step((lake, "exe", "cache", "get"), "download Mathlib's build cache", True))
    steps.append(Step((lake, "build", "repl"), "build the REPL", False))
    if any(s.network for s in steps):
        problem = network_check()
        if problem is not None:
            raise SetupError(
                f"cannot reach github.com ({problem}); setup downloads Lean {pin.version}, "
                "Mathlib and the REPL from GitHub. Check the network or proxy "
                "(HTTPS_PROXY), or copy a built lean_project/ from a machine that has one."
            )
    for step in steps:
        say(f"$ {' '.join(step.argv)}    # {step.what}")
        code = runner(step.argv, project)
        if code != 0:
            hint = " (it needs GitHub: check the network)" if step.network else ""
            raise SetupError(
                f"`{' '.join(step.argv)}` failed with exit code {code} in {project}{hint}. "
                "Its output is above; rerun `formalize lean setup` once fixed."
            )
    binary = find_repl_binary(project)
    if binary is None:
        raise SetupError(f"the REPL build finished but {project / REPL_BINARY} is missing")
    say(f"ready: {binary}")
    return binary


# --------------------------------------------------------------------------- doctor

DOCTOR_TRUE = "theorem formalize_doctor_true : (2 : Nat) + 2 = 4 := by sorry"
# A dotted name: an unknown atomic name in a signature would become an auto-bound implicit.
DOCTOR_WRONG = "theorem formalize_doctor_wrong : (2 : Nat) + 2 = Nat.undefined_ident := by sorry"


@dataclass
class DoctorReport:
    """What ``formalize lean doctor`` found."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is missing and the test check came out as expected."""
        return not self.problems

    def render(self) -> str:
        """A small aligned table, then the problems."""
        width = max((len(k) for k, _ in self.rows), default=0)
        lines = [f"{k.ljust(width)}  {v}" for k, v in self.rows]
        lines += [f"problem: {p}" for p in self.problems]
        lines.append("all good" if self.ok else "not ready")
        return "\n".join(lines)


def _version_of(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def doctor(
    config: LeanConfig,
    *,
    which: Callable[[str], str | None] = shutil.which,
    more: Callable[[LeanChecker], list[tuple[str, str]]] | None = None,
) -> DoctorReport:
    """Report toolchain, Mathlib and REPL versions, the sandbox, and run a test check; then
    the memory of the REPL workers (shared vs private) and the workers this machine takes;
    then ``more``'s rows, asked of the same checker (``formalize.truth``: Lean's tokens and
    the filters' self-test)."""
    from formalize.lean import sandbox
    from formalize.lean.checker import LeanChecker
    from formalize.lean.memory import report_rows

    report = DoctorReport()
    row = report.rows.append
    for tool in ("elan", "lake"):
        path = which(tool)
        row((tool, f"{path} ({_version_of([path, '--version'])})" if path else "not found"))
    project = config.lean_project
    versions = read_versions(project)
    row(("project", f"{project.resolve()}" + ("" if project.is_dir() else " (missing)")))
    row(("lean-toolchain", versions.toolchain or "missing"))
    row(("mathlib", versions.mathlib or "not resolved (lake-manifest.json)"))
    row(("repl", versions.repl or "not resolved (lake-manifest.json)"))
    binary = find_repl_binary(project)
    row(("repl binary", str(binary) if binary else "not built"))
    row(("backend", config.backend))
    if config.backend == "repl" and config.repl_cmd:
        row(("repl command", " ".join(config.repl_cmd)))
    if config.backend == "kimina":
        row(("kimina url", str(config.kimina_url)))
    row(("header", config.header.replace("\n", "; ")))
    row(("sandbox", sandbox.status(config)))
    try:
        with LeanChecker(config) as checker:
            checker.preflight()
            report.results = checker.check([DOCTOR_TRUE, DOCTOR_WRONG])
            launch = checker.launch
            samples = checker.worker_memory()
            extra = more(checker) if more is not None else []
    except SetupError as exc:
        report.problems.append(str(exc))
        return report
    true, wrong = report.results
    row(("test check", f"true statement: {true.status.value}; wrong one: {wrong.status.value}"))
    report.rows += launch.describe() if launch is not None else []
    if config.backend == "repl":
        report.rows += report_rows(samples, config.memory_mb, config.workers)
    report.rows += extra
    if true.status is not CheckStatus.OK:
        detail = true.reason or "; ".join(m.text for m in true.errors())
        report.problems.append(f"a true statement did not check: {true.status.value} ({detail})")
    if wrong.status is not CheckStatus.LEAN_ERROR:
        report.problems.append(f"a wrong statement was not refused by Lean: {wrong.status.value}")
    return report
