"""Run settings: defaults, a TOML file, CLI flags winning, and clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from formalize.cli.main import build_parser
from formalize.cli.run import resolve_config
from formalize.config import (
    DEFAULT_CRITIC,
    DEFAULT_TRANSLATOR,
    RunConfig,
    config_keys,
    load_toml,
    resolve,
    resolve_leniently,
)
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
    config, issues = resolve_config(args)
    assert issues == []
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


def test_a_value_of_the_wrong_type_names_its_key_and_the_type(tmp_path: Path) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text('samples = "two"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        resolve(load_toml(toml), {}, source=str(toml))
    message = str(info.value)
    assert f"samples: expected an integer, got the string 'two' (in {toml})" in message
    assert "not supported" not in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("retry_exhausted", "yes", "expected true or false, got the string 'yes'"),
        ("samples", True, "expected an integer, got true"),
        ("translator_temperature", "hot", "expected a number, got the string 'hot'"),
        ("critic_max_tokens", 1.5, "expected an integer, got the number 1.5"),
        ("translator", 7, "expected a string, got the number 7"),
        ("lean", 3, "expected a [lean] table, got the number 3"),
    ],
)
def test_types_are_checked_for_every_key(key: str, value: object, expected: str) -> None:
    _, issues = resolve_leniently({key: value}, {})
    assert [(i.key, i.message.split(" (")[0]) for i in issues] == [(key, expected)]


def test_every_bad_setting_is_listed_at_once_and_left_at_its_default() -> None:
    file_values = {"samples": "two", "rounds": 0, "vote": "bogus", "sampels": 3}
    config, issues = resolve_leniently(file_values, {"critic_samples": 0})
    keys = sorted(i.key for i in issues)
    assert keys == ["critic_samples", "rounds", "sampels", "samples", "vote"]
    by_key = {i.key: i.message for i in issues}
    assert "did you mean 'samples'" in by_key["sampels"]
    assert "from --critic-samples" in by_key["critic_samples"]
    assert "bad vote rule" in by_key["vote"]
    assert (config.samples, config.rounds, config.vote) == (4, 3, "majority")


@pytest.mark.parametrize("rule", ["bogus", "min:1.5", "min:0", "min:"])
def test_a_bad_vote_rule_is_a_setting_error(rule: str) -> None:
    with pytest.raises(InputError, match=r"vote: bad vote rule"):
        resolve({}, {"vote": rule})


def test_every_setting_has_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    run = _subparser(build_parser(), "run")
    dests = {a.dest for a in run._actions}
    # tables live in the config file only: [lean] and [ray] (flags set some of their keys),
    # and [[judges]] (--critic covers one kind)
    tables = ("lean", "ray", "judges")
    missing = [k for k in config_keys() if k not in dests and k not in tables]
    assert missing == []


def test_every_option_has_help_and_no_help_says_default_none() -> None:
    parser = build_parser()
    without, none = [], []
    for name, sub in _all_parsers(parser):
        for action in sub._actions:
            if action.dest in ("help", "version") or isinstance(action, argparse._SubParsersAction):
                continue
            if not action.help:
                without.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
        if "default: None" in sub.format_help():
            none.append(name)
    assert without == [] and none == []


def test_a_relative_lean_project_in_a_config_file_is_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cfg").mkdir()
    toml = tmp_path / "cfg" / "run.toml"
    toml.write_text('[lean]\nlean-project = "../lp"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "cfg")
    here = load_toml("run.toml")["lean"]["lean_project"]
    monkeypatch.chdir("/")
    assert load_toml(toml)["lean"]["lean_project"] == here == str(tmp_path / "lp")


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    return dict(_all_parsers(parser))[name]


def _all_parsers(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                found.append((full, sub))
                found += _all_parsers(sub, f"{full} ")
    return found


def test_lean_settings_of_the_wrong_type_name_their_key() -> None:
    from formalize.lean.config import LeanConfig

    with pytest.raises(ValueError) as info:
        LeanConfig.from_mapping({"workers": "two", "workrs": 1})
    assert str(info.value) == (
        "workers: expected an integer, got the string 'two'; "
        "unknown Lean setting 'workrs' (did you mean 'workers'?)"
    )
