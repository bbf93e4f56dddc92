"""Build the declaration index of a Lean project's dependencies (or of any source tree)."""

from __future__ import annotations

import collections
import hashlib
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from formalize.errors import InputError
from formalize.index.locate import (
    CORE_LIBRARIES,
    Package,
    core_sources,
    dependency_revision,
    index_file,
    read_manifest,
    source_files,
)
from formalize.index.parser import ParseResult, parse_source
from formalize.index.resolve import resolve
from formalize.index.store import SCHEMA_VERSION, DeclarationIndex, write_index


@dataclass(frozen=True)
class BuildReport:
    """What a build read and wrote (``built`` False: the index was current, nothing done)."""

    path: Path
    revision: str
    built: bool
    files: int = 0
    declarations: int = 0
    skipped_spans: int = 0
    unresolved_targets: int = 0
    unreadable_files: int = 0
    seconds: float = 0.0

    def render(self) -> str:
        """One line for the CLI."""
        if not self.built:
            return f"index current: {self.path} ({self.revision})"
        return (
            f"indexed {self.declarations} declarations from {self.files} files in "
            f"{self.seconds:.1f} s ({self.skipped_spans} unreadable spans skipped, "
            f"{self.unresolved_targets} deprecation targets not found, "
            f"{self.unreadable_files} unreadable files): {self.path}"
        )


def build_index(
    sources: Sequence[tuple[str, Path]],
    out: Path,
    revision: str,
    *,
    libraries: dict[str, tuple[str, ...]] | None = None,
    say: Callable[[str], None] | None = None,
) -> BuildReport:
    """Parse every library file under each ``(package, directory)`` (only the
    ``libraries[package]`` ones when given) and write the index to ``out``."""
    started = time.perf_counter()
    results: list[ParseResult] = []
    unreadable = 0
    for package, directory in sources:
        if not Path(directory).is_dir():
            if say:
                say(f"note: {package} has no sources at {directory}; not indexed")
            continue
        for path, module in source_files(Path(directory), (libraries or {}).get(package)):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                unreadable += 1
                continue
            results.append(parse_source(text, module))
    if not results:
        raise InputError(f"no Lean sources found in {', '.join(str(d) for _, d in sources)}")
    declarations, unresolved = resolve(results)
    meta = {"packages": ",".join(p for p, _ in sources), "files": str(len(results))}
    count = write_index(out, declarations, revision, meta, uses=_uses(results))
    return BuildReport(
        path=out,
        revision=revision,
        built=True,
        files=len(results),
        declarations=count,
        skipped_spans=sum(r.parsed.skipped for r in results),
        unresolved_targets=unresolved,
        unreadable_files=unreadable,
        seconds=time.perf_counter() - started,
    )


def _uses(results: Sequence[ParseResult]) -> dict[str, int]:
    """Occurrences of each name in the sources: written whole (``Real.sqrt``), plus those of
    its last component (``sqrt``, ``.card``) under the key ``"." + last``."""
    whole: collections.Counter[str] = collections.Counter()
    for result in results:
        whole.update(result.uses)
    out = dict(whole)
    for token, n in whole.items():
        last = "." + token.rsplit(".", 1)[-1]
        out[last] = out.get(last, 0) + n
    return out


def _current(path: Path, revision: str) -> bool:
    """True when ``path`` is a readable index of this layout built from ``revision``."""
    if not path.is_file():
        return False
    try:
        with DeclarationIndex.open(path) as index:
            return index.revision == revision and index.meta.get("schema") == SCHEMA_VERSION
    except InputError:
        return False


def ensure_index(
    lean_project: Path, *, force: bool = False, say: Callable[[str], None] | None = None
) -> BuildReport:
    """Build the project's index unless the one for its dependency revision exists."""
    packages = read_manifest(lean_project)
    revision = dependency_revision(lean_project)
    if packages is None or revision is None:
        raise InputError(
            f"{lean_project} has no lake-manifest.json: set the project up first "
            "(formalize lean setup), or index a source tree with --from-source DIR"
        )
    path = index_file(lean_project, revision)
    if not force and _current(path, revision):
        return BuildReport(path=path, revision=revision, built=False)
    sources = _package_sources(packages)
    core = core_sources(lean_project)
    if core is not None:
        sources.append(("lean4", core))
    libraries: dict[str, tuple[str, ...]] = {"lean4": CORE_LIBRARIES}
    report = build_index(sources, path, revision, libraries=libraries, say=say)
    for stale in path.parent.glob("decls-*"):  # other revisions' files and their vectors
        if not stale.name.startswith(path.name):
            stale.unlink(missing_ok=True)
    return report


def _package_sources(packages: Sequence[Package]) -> list[tuple[str, Path]]:
    return [(p.name, p.directory) for p in packages]


def source_revision(directory: Path) -> str:
    """A revision for a bare source tree: its git commit when it is a checkout, else a hash of
    its files' names and sizes."""
    directory = Path(directory)
    if (directory / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "-C", str(directory), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            return f"source@{done.stdout.strip()}"
        except (OSError, subprocess.SubprocessError):
            pass
    digest = hashlib.sha256()
    for path, module in source_files(directory):
        digest.update(f"{module}:{path.stat().st_size}\n".encode())
    return f"source@{digest.hexdigest()[:16]}"


def build_from_source(
    directory: Path,
    lean_project: Path,
    *,
    revision: str | None = None,
    out: Path | None = None,
    force: bool = False,
    say: Callable[[str], None] | None = None,
) -> BuildReport:
    """Index any source tree (a Mathlib checkout, say); by default as the project's index
    (keyed by ``revision``, else the project's dependency revision, so runs use it, else the
    tree's commit or content hash)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"--from-source: {directory} is not a directory")
    revision = revision or dependency_revision(lean_project) or source_revision(directory)
    path = out or index_file(lean_project, revision)
    if not force and _current(path, revision):
        return BuildReport(path=path, revision=revision, built=False)
    return build_index([(directory.name, directory)], path, revision, say=say)
