"""`make demo-cpu`: the plumbing demo runs end to end on this machine and says what it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.tiny_models import ModelUnavailable, tinycoder_folder

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_plumbing_demo_runs_and_labels_itself(tmp_path: Path) -> None:
    try:
        tinycoder_folder()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    db = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "FORMALIZE_HOME": str(tmp_path)}
    script = [sys.executable, str(REPO / "scripts" / "demo_cpu.py"), "--model", "tinycoder"]
    done = subprocess.run(
        [*script, "--limit", "1", "--db", str(db)],
        capture_output=True,
        text=True,
        env={**env, "HF_HUB_OFFLINE": "1"},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PLUMBING DEMO (make demo-cpu): not a corpus." in done.stderr
    assert "plumbing demo done (not a corpus)" in done.stderr
    assert "problems" in done.stdout and "candidates" in done.stdout  # corpus stats ran
    assert db.is_file()
    # step 2: hand-written statements through the gate, the REPL and the filters' probes
    assert "sum-two-odds     ok         vacuous passed, refuted passed" in done.stderr
    assert "hostile          rejected   unexpected `#eval`" in done.stderr
