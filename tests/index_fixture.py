"""The committed Mathlib-shaped fixture (tests/data/mathlib_fixture/, written for the tests) and
an index built from it, for the index's, the retrievers' and the name check's tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from formalize.index.build import build_index
from formalize.index.store import DeclarationIndex

FIXTURE = Path(__file__).parent / "data" / "mathlib_fixture"
#: the revision the fixture's lake-manifest.json pins for mathlib
FIXTURE_REV = json.loads((FIXTURE / "lake-manifest.json").read_text())["packages"][0]["rev"]


def build_fixture_index(tmp_path: Path) -> DeclarationIndex:
    """Build the fixture's index under ``tmp_path`` and open it (the caller closes it)."""
    path = Path(tmp_path) / "fixture-index.sqlite"
    build_index([("mathlib", FIXTURE)], path, f"mathlib@{FIXTURE_REV}")
    return DeclarationIndex.open(path)


def make_lean_project(tmp_path: Path, rev: str | None = None) -> Path:
    """A Lean project directory whose ``.lake/packages/mathlib`` holds the fixture, pinned at
    ``rev`` (the fixture's revision by default) in its ``lake-manifest.json``."""
    project = Path(tmp_path) / "lean_project"
    packages = project / ".lake" / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    target = packages / "mathlib"
    if not target.exists():
        shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("lake-manifest.json"))
    manifest = json.loads((FIXTURE / "lake-manifest.json").read_text())
    if rev is not None:
        manifest["packages"][0]["rev"] = rev
    (project / "lake-manifest.json").write_text(json.dumps(manifest, indent=1))
    return project
