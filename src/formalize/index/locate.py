"""Where a Lean project's declaration index lives, and which sources it is built from.

The index of a project is ``<project>/.lake/formalize-index/decls-<key>.sqlite``, ``<key>``
derived from the revisions ``lake-manifest.json`` pins: a new revision means a new file."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INDEX_DIR = Path(".lake") / "formalize-index"
#: top-level source directories of a package that are not libraries users import
EXCLUDED_ROOTS = frozenset(
    {
        "Archive",
        "Counterexamples",
        "Test",
        "Tests",
        "MathlibTest",
        "LongestPole",
        "Cache",
        "DownstreamTest",
        "scripts",
        "docs",
        "test",
        "tests",
        "lake-packages",
    }
)


@dataclass(frozen=True)
class Package:
    """A dependency of the Lean project: its name, pinned revision and source directory."""

    name: str
    rev: str
    directory: Path


def read_manifest(lean_project: Path) -> list[Package] | None:
    """The packages ``lake-manifest.json`` pins (None when the project has no manifest)."""
    manifest_file = Path(lean_project) / "lake-manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    packages_dir = Path(lean_project) / manifest.get("packagesDir", ".lake/packages")
    out = []
    for entry in manifest.get("packages", []):
        name = str(entry.get("name", ""))
        rev = str(entry.get("rev") or entry.get("inputRev") or "")
        directory = Path(entry["dir"]) if entry.get("type") == "path" and "dir" in entry else None
        out.append(Package(name, rev, directory or packages_dir / name))
    return out


#: the libraries of Lean's own sources worth indexing (``Lean``, ``Lake`` are the compiler's)
CORE_LIBRARIES = ("Init", "Std")


def toolchain(lean_project: Path) -> str | None:
    """The project's ``lean-toolchain`` (``leanprover/lean4:v4.15.0``), or None."""
    try:
        return (Path(lean_project) / "lean-toolchain").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def core_sources(lean_project: Path) -> Path | None:
    """The directory of Lean's own sources for the project's toolchain, where elan installed
    them (``$ELAN_HOME/toolchains/leanprover--lean4---v4.15.0/src/lean``), else None."""
    name = toolchain(lean_project)
    if name is None:
        return None
    elan = Path(os.environ.get("ELAN_HOME") or Path.home() / ".elan")
    directory = elan / "toolchains" / name.replace("/", "--").replace(":", "---") / "src" / "lean"
    return directory if (directory / "Init.lean").is_file() else None


def dependency_revision(lean_project: Path) -> str | None:
    """The revision string of the project's dependencies (``name@rev`` of each package,
    sorted, comma-separated, and the toolchain), or None without a manifest."""
    packages = read_manifest(lean_project)
    if packages is None:
        return None
    revisions = sorted(f"{p.name}@{p.rev}" for p in packages)
    core = toolchain(lean_project)
    return ",".join(revisions + ([f"toolchain@{core}"] if core else []))


def index_file(lean_project: Path, revision: str) -> Path:
    """Where the index of ``revision`` for this project is (built or not)."""
    key = hashlib.sha256(revision.encode()).hexdigest()[:16]
    return Path(lean_project) / INDEX_DIR / f"decls-{key}.sqlite"


def index_path(lean_project: Path) -> Path | None:
    """The current index for the project's dependency revision, None when not built."""
    revision = dependency_revision(lean_project)
    if revision is None:
        return None
    path = index_file(lean_project, revision)
    return path if path.is_file() else None


def source_files(
    root: Path, libraries: tuple[str, ...] | None = None
) -> Iterator[tuple[Path, str]]:
    """The ``.lean`` files of a package's libraries with their module names.

    A library is a top-level directory ``X/`` beside a root file ``X.lean`` (Lake's layout:
    ``Mathlib/`` and ``Mathlib.lean``), tests and scripts excluded, only ``libraries`` when
    given; a tree without that layout is read whole."""
    root = Path(root)
    found = sorted(
        d
        for d in root.iterdir()
        if d.is_dir()
        and (root / f"{d.name}.lean").is_file()
        and d.name not in EXCLUDED_ROOTS
        and (libraries is None or d.name in libraries)
    )
    if found:
        for library in found:
            yield root / f"{library.name}.lean", library.name
            yield from _walk(root, library)
    else:
        yield from _walk(root, root)


def _walk(root: Path, directory: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(directory.rglob("*.lean")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part in EXCLUDED_ROOTS for part in relative.parts[:-1]):
            continue
        if relative.name == "lakefile.lean":
            continue
        yield path, ".".join(relative.with_suffix("").parts)
