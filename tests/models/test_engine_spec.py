"""Engine specs, the registry's suggestions, and finding model files without the network."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from formalize.errors import InputError, SetupError
from formalize.models import load_engine, parse_spec
from formalize.models.hub import resolve_model


def test_hf_spec_parts() -> None:
    spec = parse_spec("hf:/models/tiny?gguf_file=tiny.gguf&dtype=float32&device=cpu")
    assert (spec.engine, spec.model, spec.base_url) == ("hf", "/models/tiny", None)
    assert spec.options == {"gguf_file": "tiny.gguf", "dtype": "float32", "device": "cpu"}


def test_openai_spec_parts_take_options_from_the_url() -> None:
    spec = parse_spec("openai:criticlean@http://127.0.0.1:8000/v1/?concurrency=4&api=completions")
    assert spec.model == "criticlean"
    assert spec.base_url == "http://127.0.0.1:8000/v1"
    assert spec.options == {"concurrency": "4", "api": "completions"}


def test_openai_spec_keeps_slashes_and_at_signs_in_the_model_name() -> None:
    spec = parse_spec("openai:m-a-p/CriticLeanGPT-Qwen3-8B-RL@https://api.example.org/v1")
    assert spec.model == "m-a-p/CriticLeanGPT-Qwen3-8B-RL"
    assert spec.base_url == "https://api.example.org/v1"


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [("hff:./model", "'hf'"), ("vlm:org/model", "'vllm'"), ("opneai:m@http://x/v1", "'openai'")],
)
def test_unknown_engine_suggests_the_nearest(spec: str, suggestion: str) -> None:
    with pytest.raises(InputError, match=f"Did you mean {suggestion}") as info:
        parse_spec(spec)
    assert "Known engines: hf, openai, vllm" in str(info.value)


@pytest.mark.parametrize("spec", ["no-colon", "hf:", "openai:name-without-url", "openai:@http://x"])
def test_malformed_specs_say_what_a_spec_looks_like(spec: str) -> None:
    with pytest.raises(InputError):
        parse_spec(spec)


def test_unknown_option_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Did you mean 'gguf_file'"):
        load_engine(f"hf:{tmp_path}?gguf=tiny.gguf")


def test_bad_option_value_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="batch_size"):
        load_engine(f"hf:{tmp_path}?batch_size=0")
    with pytest.raises(InputError, match="dtype"):
        load_engine(f"hf:{tmp_path}?dtype=float64")


def test_unknown_profile_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Did you mean 'qwen3'"):
        load_engine(f"hf:{tmp_path}?profile=qwen")


def test_importing_the_package_imports_no_engine_library() -> None:
    code = (
        "import sys, formalize.models\n"
        "heavy = [m for m in ('torch', 'transformers', 'vllm', 'openai') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


# ----------------------------------------------------------------------------- hub


def test_missing_hub_model_fails_fast_with_the_fetch_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # local_files_only alone must suffice
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    # fast means: no network call to wait on (counted, not timed: importing torch alone can take
    # over 10 s on a busy machine); an attempt is refused at once and recorded
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    with pytest.raises(SetupError) as info:
        load_engine("hf:AI-MO/Kimina-Autoformalizer-7B")
    assert attempts == [], "the check for the weights went to the network"
    message = str(info.value)
    assert "not in the local Hugging Face cache" in message
    assert "hf download AI-MO/Kimina-Autoformalizer-7B" in message
    assert "HF_HOME" in message


def _fake_hub_snapshot(cache: Path, repo: str, commit: str, files: dict[str, str]) -> Path:
    root = cache / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, text in files.items():
        (snapshot / name).write_text(text)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    return snapshot


def test_cached_hub_model_resolves_to_its_snapshot_and_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = _fake_hub_snapshot(tmp_path, "org/model", commit, {"config.json": "{}"})
    local = resolve_model("org/model")
    assert local.folder == snapshot
    assert local.revision == commit
    assert local.hub_id == "org/model"
    with pytest.raises(SetupError, match=r"hf download org/model w\.gguf"):
        resolve_model("org/model", gguf_file="w.gguf")


def test_local_paths(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "m.gguf").write_bytes(b"GGUF")
    assert resolve_model(str(tmp_path / "one")).gguf_file == "m.gguf"
    direct = resolve_model(str(tmp_path / "one" / "m.gguf"))
    assert (direct.folder, direct.gguf_file) == (tmp_path / "one", "m.gguf")
    (tmp_path / "one" / "n.gguf").write_bytes(b"GGUF")
    with pytest.raises(SetupError, match=r"\?gguf_file="):
        resolve_model(str(tmp_path / "one"))
    with pytest.raises(SetupError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))
    with pytest.raises(SetupError, match=r"no 'x\.gguf'"):
        resolve_model(str(tmp_path / "one"), gguf_file="x.gguf")
