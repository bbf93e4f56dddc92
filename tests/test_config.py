"""Run settings: defaults, a TOML file, CLI flags winning, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from formalize.cli.main import build_parser
from formalize.cli.run import resolve_config
from formalize.config import DEFAULT_CRITIC, DEFAULT_TRANSLATOR, RunConfig, load_toml, resolve
from formalize.errors import InputError


def test_defaults_name_the_released_models() -> None:
    config = RunConfig()
    assert config.translator == DEFAULT_TRANSLATOR == "vllm:AI-MO/Kimina-Autoformalizer-7B"
    assert config.critic == DEFAULT_CRITIC == "vllm:m-a-p/CriticLeanGPT-Qwen3-8B-RL"
    assert (config.samples, config.rounds, config.critic_samples) == (4, 3, 1)


def test_file_then_flags(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(
        'input = "p.jsonl"\nsamples = 8\nrounds = 5\ncritic-samples = 3\nvote = "unanimous"\n'
        "[lean]\nworkers = 4\ntimeout_s = 90.0\n",
        encoding="utf-8",
    )
    args = build_parser().parse_args(
        ["run", "--config", str(toml), "--samples", "2", "--timeout", "30", "--db", "x.db"]
    )
    config = resolve_config(args)
    assert config.input == "p.jsonl"  # from the file
    assert config.samples == 2  # the flag wins
    assert (config.rounds, config.critic_samples, config.vote) == (5, 3, "unanimous")
    assert config.lean == {"workers": 4, "timeout_s": 30.0}
    assert config.db == "x.db"
    assert config.to_dict()["lean"]["workers"] == 4


def test_unknown_key_suggests_the_near_one(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text("sample = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="did you mean 'samples'"):
        resolve(load_toml(toml), {})


@pytest.mark.parametrize(
    "values",
    [{"samples": 0}, {"rounds": 0}, {"critic_samples": 0}, {"limit": -1}, {"batch_size": 0}],
)
def test_invalid_values(values: dict[str, int]) -> None:
    with pytest.raises(InputError):
        resolve({}, values)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("samples = = 3", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_toml(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_toml(tmp_path / "none.toml")


def test_run_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    out = capsys.readouterr().out
    for words in ("--translator", "--critic-samples", "--repl-cmd", "resumes", "examples:"):
        assert words in out
