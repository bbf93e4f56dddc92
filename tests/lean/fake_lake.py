"""A built Lake project whose own Lean is the fake REPL, for the tests that need a Lean at a
known revision (``formalize.truth``): checks then take the default paths, ``lake env <REPL
binary>`` and ``lake env lean --json``, through the sandbox, without ``--repl-cmd``."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

from lean_fakes import FAKE_REPL, PYTHON

from formalize.lean.config import REPL_BINARY


def lean_project(tmp_path: Path, toolchain: str = "leanprover/lean4:v4.15.0") -> Path:
    """A directory with the files that name a Lean revision (nothing built: the fake runs)."""
    project = tmp_path / "lean_project"
    project.mkdir(exist_ok=True)
    (project / "lean-toolchain").write_text(toolchain + "\n", encoding="utf-8")
    manifest = {"packages": [{"name": "mathlib", "inputRev": "v4.15.0", "rev": "a" * 40}]}
    (project / "lake-manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return project


def lake_project(tmp_path: Path, *flags: str, toolchain: str = "") -> Path:
    """``lean_project`` made a built Lake project whose own REPL is the fake: the REPL binary
    (a script running the fake with ``flags``, copied in) where ``formalize lean setup``
    builds it, and on PATH a stand-in ``lake`` whose ``lake env CMD`` runs ``CMD`` and a
    ``lean`` playing ``lean --json``. Checks then take the default paths, ``lake env
    <binary>`` and ``lake env lean --json``, in the sandbox. PATH is changed: the caller
    restores it (``monkeypatch.setenv("PATH", os.environ["PATH"])`` first)."""
    project = lean_project(tmp_path, *([toolchain] if toolchain else []))
    (project / "lakefile.toml").write_text('name = "fake"\n', encoding="utf-8")
    shutil.copy(FAKE_REPL, project / "fake_repl.py")
    binary = project / REPL_BINARY
    binary.parent.mkdir(parents=True, exist_ok=True)
    argv = shlex.join([PYTHON, str(project / "fake_repl.py"), *flags])
    binary.write_text(f'#!/bin/sh\nexec {argv} "$@"\n', encoding="utf-8")
    binary.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    lake = bin_dir / "lake"
    lake.write_text('#!/bin/sh\n[ "$1" = env ] || exit 2\nshift\nexec "$@"\n', encoding="utf-8")
    lake.chmod(0o755)
    lean = bin_dir / "lean"  # `lean --json FILE`, for file mode
    lean.write_text(f'#!/bin/sh\nexec {argv} --lean-json "$2"\n', encoding="utf-8")
    lean.chmod(0o755)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return project
