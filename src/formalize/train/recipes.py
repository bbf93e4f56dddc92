"""Training recipes on TRL: critics with SFT or GRPO, translators with SFT or DPO, full weights
or a LoRA adapter (PEFT), from a training export to a checkpoint ``hf:DIR`` and ``vllm:DIR``
load.

    OUTPUT/                   the model (a LoRA adapter merged in) and its tokenizer
    OUTPUT/adapter/           the LoRA adapter alone (with --lora)
    OUTPUT/checkpoints/       TRL's checkpoints while training (``save_steps``)
    OUTPUT/train_config.json  the settings, written first (a rerun resumes if they match)
    OUTPUT/README.md, training_card.json   the training card, written last

* SFT (``SFTTrainer``): each row's chat ``messages`` become a prompt (all but the last
  message) and a completion (the last, the assistant's answer), so the loss is on the answer
  only (TRL's ``completion_only_loss``).
* GRPO (``GRPOTrainer``): the critic prompt, ``num_generations`` answers per prompt, rewarded
  by ``formalize.train.rewards`` (the critic's own parser: the verdict matches the label; a
  verdict can be parsed at all).
* DPO (``DPOTrainer``): ``prompt``, ``chosen``, ``rejected``; the reference model is the base
  (with LoRA: the base with the adapter switched off).

Progress and logs are TRL's own (a progress bar, a line of metrics every ``logging_steps``);
trackers are TRL's ``report_to`` (default none), set in ``[trainer]`` and installed by the user.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formalize.errors import InputError, SetupError
from formalize.export_hub import data_digest, shard_digests
from formalize.export_training import read_manifest
from formalize.install import install_hint
from formalize.train.card import CARD_JSON, final_metrics, library_versions, write_card
from formalize.train.config import DEFAULT_REWARD_WEIGHTS, TrainConfig
from formalize.version import code_version

log = logging.getLogger(__name__)

CONFIG_JSON = "train_config.json"
CHECKPOINTS = "checkpoints"
ADAPTER = "adapter"
#: method -> (TRL config class, TRL trainer class)
TRAINERS = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "grpo": ("GRPOConfig", "GRPOTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
}
#: method -> the dataset columns its trainer reads
COLUMNS = {
    "sft": ("prompt", "completion"),
    "grpo": ("prompt", "label"),
    "dpo": ("prompt", "chosen", "rejected"),
}


@dataclass(frozen=True)
class TrainResult:
    """A finished training: where the checkpoint is, and its training card."""

    output: Path
    card: dict[str, Any]


def train(config: TrainConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train ``config.base`` on the export ``config.data`` and save the checkpoint and its
    training card in ``config.output``; a rerun after an interruption resumes from the last
    checkpoint. ``callbacks`` are transformers ``TrainerCallback``s."""
    trl = _import("trl")
    data = Path(config.data).expanduser()
    manifest = read_manifest(data)
    if manifest.get("kind") != config.data_kind:
        raise InputError(
            f"{data} holds {manifest.get('kind')!r} data; a {config.role} trained with "
            f"{config.method} needs {config.data_kind!r} (`formalize corpus export --for "
            f"{config.data_kind} --output DIR`)"
        )
    torch = _import("torch")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    output = Path(config.output).expanduser()
    args, changed = _trainer_args(trl, config, output, device)
    base = _resolve_base(config.base)
    lora = config.lora_options() if config.lora else None
    peft_config = _lora_config(lora) if lora is not None else None
    resume = _prepare_output(output, config)
    started = time.time()
    tokenizer, model = _load_base(base.folder, config.dtype, device)
    with tempfile.TemporaryDirectory(prefix="formalize-train-") as cache:
        splits = _load_splits(data, config.method, cache)
        strategy = getattr(args, "eval_strategy", "no")
        evaluating = getattr(strategy, "value", strategy) != "no"
        kwargs: dict[str, Any] = {
            "model": model,
            "args": args,
            "train_dataset": splits["train"],
            "processing_class": tokenizer,
            "callbacks": list(callbacks),
        }
        if evaluating:
            if "validation" not in splits:
                raise InputError(f"eval_strategy is set but {data} has no validation split")
            kwargs["eval_dataset"] = splits["validation"]
        if peft_config is not None:
            kwargs["peft_config"] = peft_config
        if config.method == "grpo":
            from formalize.train.rewards import REWARDS

            kwargs["reward_funcs"] = list(REWARDS)
        trainer = getattr(trl, TRAINERS[config.method][1])(**kwargs)
        if len(trainer.train_dataset) == 0:
            raise InputError(
                f"no training row of {data} fits in max_length={getattr(args, 'max_length', '?')}"
                " tokens with its answer; raise [trainer] max_length"
            )
        log.info("training %s with %s on %s", config.base, config.method, data)
        trainer.train(resume_from_checkpoint=resume)
        rows = {name: len(split) for name, split in splits.items()}
    _save(trainer, tokenizer, output, base.folder, config.dtype, device)
    if not trainer.accelerator.is_main_process:
        return TrainResult(output, {})
    files = shard_digests(data)
    card = {
        "format": 1,
        "config": config.to_dict(),
        "output": str(output.resolve()),
        "base": {
            "spec": config.base,
            "folder": str(base.folder),
            "hub_id": base.hub_id,
            "revision": base.revision,
        },
        "data": {
            "folder": str(data.resolve()),
            "kind": manifest["kind"],
            "data_sha256": data_digest(files),
            "files": files,
            "exported_data_sha256": manifest.get("data_sha256"),
            "rows": rows,
            "label_sources": manifest.get("label_sources", {}),
            "prompts": manifest.get("prompts", {}),
            "exported_by": manifest.get("exported_by"),
        },
        "trainer": TRAINERS[config.method][1],
        "trainer_args": _plain(args.to_dict()),
        "trainer_args_changed": changed,
        "lora": lora,
        "rewards": _reward_info(args) if config.method == "grpo" else None,
        "device": device,
        "code_version": code_version(),
        "libraries": library_versions(),
        "global_step": trainer.state.global_step,
        "final_metrics": final_metrics(trainer.state.log_history),
        "log_history": _plain(trainer.state.log_history),
        "resumed_from": resume,
        "started_at": started,
        "elapsed_s": round(time.time() - started, 3),
    }
    if card["data"]["data_sha256"] != card["data"]["exported_data_sha256"]:
        log.warning("the shards of %s changed since they were exported", data)
    write_card(output, card)
    return TrainResult(output, card)


# --------------------------------------------------------------------------- steps


def _import(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SetupError(f"formalize train needs {name} ({exc}): {install_hint('train')}") from exc


def _prepare_output(output: Path, config: TrainConfig) -> str | None:
    """Check ``output`` can take this training; the checkpoint to resume from, if any (an
    unfinished training with the same settings, ``max_steps`` aside)."""
    settings = _plain({k: v for k, v in config.to_dict().items() if k != "max_steps"})
    if (output / CARD_JSON).exists():
        raise InputError(f"{output} holds a finished training; give another --output")
    saved = output / CONFIG_JSON
    checkpoints = sorted(
        (output / CHECKPOINTS).glob("checkpoint-*"),
        key=lambda p: int(p.name.rpartition("-")[2] or 0),
    )
    if checkpoints:
        if not saved.is_file() or json.loads(saved.read_text(encoding="utf-8")) != settings:
            raise InputError(
                f"{output} holds an unfinished training with other settings; give another "
                "--output, or the same settings to resume it"
            )
        log.info("resuming from %s", checkpoints[-1])
        return str(checkpoints[-1])
    ours = (CONFIG_JSON, CHECKPOINTS)  # a training that stopped before its first checkpoint
    if output.exists() and any(p.name not in ours for p in output.iterdir()):
        raise InputError(f"{output} is not empty; give a new or empty folder as --output")
    output.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return None


def _lora_config(options: dict[str, Any]) -> Any:
    peft = _import("peft")
    try:
        return peft.LoraConfig(task_type="CAUSAL_LM", **options)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the [peft] settings do not make a LoraConfig: {exc}") from exc


def _resolve_base(spec: str) -> Any:
    from formalize.models.hub import resolve_model

    ref = spec.removeprefix("hf:")
    if "?" in ref:
        raise InputError(f"--base {spec}: give the model's folder or hub id, without options")
    local = resolve_model(ref)
    if local.gguf_file:
        raise InputError(f"--base {spec} is a GGUF file; train from a transformers checkpoint")
    return local


def _load_base(folder: Path, dtype: str, device: str) -> tuple[Any, Any]:
    """The tokenizer and the model."""
    torch = _import("torch")
    transformers = _import("transformers")
    if dtype == "auto":
        dtype = "float32" if device == "cpu" else "auto"
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            folder,
            dtype=dtype if dtype == "auto" else getattr(torch, dtype),
            local_files_only=True,
        )
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot load {folder} with transformers: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(tokenizer, "chat_template", None) is None:
        raise InputError(f"{folder} has no chat template: the training data are chat messages")
    return tokenizer, model


def _load_splits(data: Path, method: str, cache: str) -> dict[str, Any]:
    """The export's splits with the columns the method's trainer reads."""
    datasets = _import("datasets")
    loaded = datasets.load_dataset(str(data), cache_dir=cache, keep_in_memory=True)
    if "train" not in loaded:
        raise InputError(f"{data} has no train split")
    out = {}
    for name, split in loaded.items():
        if method == "sft":
            split = split.map(_prompt_and_completion, remove_columns=split.column_names)
        else:
            split = split.select_columns(list(COLUMNS[method]))
        out[name] = split
    return out


def _prompt_and_completion(row: dict[str, Any]) -> dict[str, Any]:
    messages = row["messages"]
    if not messages or messages[-1]["role"] != "assistant":
        raise InputError("an SFT row's messages must end with the assistant's answer")
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def _trainer_args(
    trl: Any, config: TrainConfig, output: Path, device: str
) -> tuple[Any, dict[str, Any]]:
    """The TRL config of the method, and what it sets beyond TRL's defaults."""
    cls = getattr(trl, TRAINERS[config.method][0])
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(config.trainer) - known)
    if unknown:
        hints = [
            f"{k}" + (f" (did you mean {close[0]!r}?)" if close else "")
            for k in unknown
            for close in [difflib.get_close_matches(k, sorted(known), n=1)]
        ]
        raise InputError(f"[trainer] keys {cls.__name__} does not have: {', '.join(hints)}")
    needed: dict[str, Any] = {"output_dir": str(output / CHECKPOINTS)}
    if device == "cpu":  # TRL defaults to bf16, which needs a GPU unless told it is a CPU
        needed.update(use_cpu=True, bf16=False)
    values: dict[str, Any] = {**needed, "seed": config.seed}
    if config.method == "grpo":
        values["reward_weights"] = list(DEFAULT_REWARD_WEIGHTS)
    values.update(config.trainer)
    if config.max_steps is not None:
        values["max_steps"] = config.max_steps
    try:
        args = cls(**values)
        defaults = cls(**needed).to_dict()
    except (TypeError, ValueError) as exc:
        raise InputError(f"the [trainer] settings do not make a {cls.__name__}: {exc}") from exc
    changed = {k: v for k, v in _plain(args.to_dict()).items() if _plain(defaults.get(k)) != v}
    return args, changed


def _save(trainer: Any, tokenizer: Any, output: Path, base: Path, dtype: str, device: str) -> None:
    """The trained weights and the tokenizer, in ``output``. A LoRA adapter is saved alone in
    ``output/adapter``, then merged into a fresh copy of the base read from disk (so that the
    merge never depends on how the training sharded the weights)."""
    lora = hasattr(trainer.accelerator.unwrap_model(trainer.model), "merge_and_unload")
    trainer.save_model(str(output / ADAPTER if lora else output))  # every rank takes part
    if not trainer.accelerator.is_main_process:
        return
    tokenizer.save_pretrained(output)
    if lora:
        peft = _import("peft")
        fresh = _load_base(base, dtype, device)[1]
        merged = peft.PeftModel.from_pretrained(fresh, str(output / ADAPTER)).merge_and_unload()
        merged.save_pretrained(output)


def _reward_info(args: Any) -> dict[str, Any]:
    from formalize.train.rewards import REWARDS

    weights = getattr(args, "reward_weights", None) or [1.0] * len(REWARDS)
    return {"functions": [f.__name__ for f in REWARDS], "weights": list(weights)}


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data (enums and other objects as strings)."""
    return json.loads(json.dumps(value, default=str))
