"""The suite's Lean against the project's, and what a difference means for a bench run.

The intended pairing: `formalize run` checks candidates with the project's Lean (v4.15.0 by
default, the era the released translator and critics were trained in); a suite keeps the Lean
its statements were written for (proofnet-dev: v4.28.0). `bench critic` runs no Lean: the critic
reads each statement as text, so the project's Lean does not change a benchmark's numbers. What
a newer suite does measure is how well the critic reads Mathlib names of that newer era: that is
what the note says, once per run, and the report records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from formalize.bench.suites import Suite, repo_root


@dataclass(frozen=True)
class ProjectLean:
    """The Lean version statements are checked with here, and where that was read."""

    version: str
    source: str


def normalize(version: str) -> str:
    """``leanprover/lean4:v4.15.0``, ``4.15.0`` and ``v4.15.0`` all as ``v4.15.0``."""
    text = version.strip().rpartition(":")[2].strip()
    return text if text.startswith("v") else f"v{text}"


def project_lean() -> ProjectLean:
    """The ``lean-toolchain`` of the Lean project (``$FORMALIZE_LEAN_PROJECT``, the data home's,
    then the checkout's ``lean_project/``); else the version ``formalize lean setup`` installs."""
    from formalize.lean.config import default_lean_project
    from formalize.lean.setup import DEFAULT_VERSION

    projects = [default_lean_project()]
    root = repo_root()
    if root is not None:
        projects.append(root / "lean_project")
    for project in projects:
        toolchain = Path(project) / "lean-toolchain"
        try:
            text = toolchain.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if text:
            return ProjectLean(normalize(text), str(toolchain))
    return ProjectLean(DEFAULT_VERSION, "the default of `formalize lean setup`")


def lean_record(suite: Suite) -> dict[str, str | bool | None]:
    """The suite's and the project's Lean versions, for results.json."""
    project = project_lean()
    suite_version = normalize(suite.lean_version) if suite.lean_version else None
    return {
        "suite": suite_version,
        "project": project.version,
        "project_source": project.source,
        "differs": None if suite_version is None else suite_version != project.version,
    }


def lean_note(suite: Suite) -> str | None:
    """A note when the suite records a Lean version other than the project's, saying what the
    difference does (and does not) mean for the numbers."""
    record = lean_record(suite)
    if not record["differs"]:
        return None
    return (
        f"note: suite {suite.name} was written for Lean {record['suite']}; this project's Lean "
        f"is {record['project']} ({record['project_source']}). bench critic runs no Lean (the "
        "critic reads the statements as text), so this does not change the numbers; they do "
        f"include how well the critic reads Mathlib of the {record['suite']} era"
    )
