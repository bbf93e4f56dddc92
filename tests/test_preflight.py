"""The preflight of ``formalize run``: every requirement checked, everything missing listed at
once with how to get it, before any model loads."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from formalize.cli.main import main
from formalize.preflight import Missing, PreflightError, engine_missing, render

REPO = Path(__file__).resolve().parents[1]
FAKE_REPL = REPO / "tests" / "lean" / "fake_repl.py"


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading any engine fails the test: the preflight must stop before."""

    def load_engine(spec: str, cache: Any = None) -> Any:
        raise AssertionError(f"an engine was loaded: {spec}")

    monkeypatch.setattr("formalize.models.load_engine", load_engine)


@pytest.fixture
def bare_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Lean, no GPU, no vLLM, an empty Hugging Face cache: the demo on a fresh laptop."""
    import huggingface_hub.constants

    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    for where in ("formalize.models.vllm_engine", "formalize.models.hf_engine"):
        monkeypatch.setattr(f"{where}.gpu_present", lambda: False)
    monkeypatch.setattr("formalize.models.vllm_engine.vllm_cpu_build", lambda: False)
    real = __import__("formalize.models.devices", fromlist=["has_package"]).has_package
    monkeypatch.setattr(
        "formalize.models.vllm_engine.has_package", lambda name: name != "vllm" and real(name)
    )


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr, the list's line wrapping undone."""
    code = main(["run", *argv])
    return code, " ".join(capsys.readouterr().err.split())


def test_the_demo_on_a_bare_machine_lists_everything_missing_at_once(
    home: Path, bare_machine: None, no_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([str(REPO / "examples" / "problems.jsonl"), "--no-progress"], capsys)
    assert code == 2
    assert "formalize run cannot start: 5 problems, found before loading any model" in err
    assert "Lean (repl backend): no Lean toolchain: `lake` is not on PATH" in err
    assert "vLLM is not installed" in err and "vllm-cpu" in err
    assert "no GPU found" in err
    assert "'AI-MO/Kimina-Autoformalizer-7B' is not in the local Hugging Face cache" in err
    assert "'m-a-p/CriticLeanGPT-Qwen3-8B-RL' is not in the local Hugging Face cache" in err
    assert "fix: fetch it on a machine with network access: `hf download AI-MO/Kimina" in err
    # vLLM and the GPU are needed by both models: said once, naming both
    assert err.count("vLLM is not installed") == 1
    assert "translator vllm:AI-MO/Kimina-Autoformalizer-7B; critic vllm:m-a-p/" in err
    # and a way to see the pipeline work here anyway
    assert err.rstrip().endswith("a plumbing demo whose output is not a corpus).")
    assert "`make demo-cpu`" in err


def test_bad_settings_and_an_unusable_engine_are_listed_before_anything_loads(
    home: Path, no_models: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('samples = "two"\n', encoding="utf-8")
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"id": "a", "problem": "Show 1 = 1."}) + "\n")
    argv = [
        str(problems),
        "--config",
        str(toml),
        "--vote",
        "min:1.5",
        "--translator",
        f"hf:{tmp_path / 'no-such-model'}",
        "--critic",
        "hf:./x?dtyp=float32",
        "--repl-cmd",
        f"{sys.executable} {FAKE_REPL}",
    ]
    code, err = run(argv, capsys)
    assert code == 2
    assert "4 problems" in err
    assert "setting samples: expected an integer, got the string 'two'" in err
    assert "setting vote: bad vote rule 'min:1.5'" in err
    assert "no-such-model' does not exist" in err
    assert "unknown option 'dtyp'" in err and "Did you mean 'dtype'?" in err
    assert "Lean (repl backend)" not in err  # the fake REPL is there


def test_an_unreachable_server_is_listed(
    home: Path, no_models: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"id": "a", "problem": "Show 1 = 1."}) + "\n")
    spec = f"openai:kimina@http://127.0.0.1:{port}/v1"
    argv = [str(problems), "--translator", spec, "--critic", spec, "--repl-cmd", "/no/repl"]
    code, err = run(argv, capsys)
    assert code == 2
    assert f"translator and critic {spec}: no server answers at http://127.0.0.1:{port}/v1" in err
    assert "--served-model-name kimina" in err
    assert "the REPL command '/no/repl' was not found" in err


def test_a_directory_as_input_says_what_it_is_and_what_is_expected(
    home: Path, no_models: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "minif2f.jsonl").write_text("{}\n")
    code, err = run([str(folder), "--repl-cmd", "/no/repl"], capsys)
    assert code == 2
    assert f"input: {folder} is a directory; give a problems file (.jsonl, " in err
    assert "files there that would do: minif2f.jsonl" in err
    assert main(["check", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder} is a directory; give a statements file (.jsonl, .lean)" in err
    assert "does not exist" not in err


def test_a_spec_for_both_roles_is_checked_once() -> None:
    missing = engine_missing("vllm:/nowhere/model", "translator and critic")
    assert [m.what for m in missing][-1] == "translator and critic vllm:/nowhere/model"


def test_the_list_gives_each_fix_under_its_problem() -> None:
    text = str(PreflightError([Missing("Lean", "lake is missing", "install elan")]))
    assert text.splitlines()[:3] == [
        "formalize run cannot start: 1 problem, found before loading any model:",
        " 1. Lean: lake is missing",
        "    fix: install elan",
    ]
    assert "make demo-cpu" in text.splitlines()[3]  # a missing machine part: the demo hint
    settings = render([Missing("setting a", "x"), Missing("input", "y")])
    assert settings.count("\n") == 2 and "demo-cpu" not in settings
