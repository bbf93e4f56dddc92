"""The training card written beside a trained checkpoint: ``training_card.json`` (everything) and
``README.md`` (the model card people read, with a YAML header the hub understands).

It records the data (the export's kind and the hash of its shards, recomputed at training
time), the base model, the method and every parameter, the code and library versions, and the
final metrics from the trainer's state. ``training_card.json`` is written last: its presence
says the training finished and the checkpoint is whole.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from pathlib import Path
from typing import Any

CARD_JSON = "training_card.json"
CARD_MD = "README.md"
LIBRARIES = ("formalize-lean", "trl", "transformers", "peft", "datasets", "torch", "accelerate")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a training depends on (None when absent)."""
    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def final_metrics(log_history: list[dict[str, Any]]) -> dict[str, Any]:
    """The last value logged for every metric, and the trainer's summary (``train_loss``,
    ``train_runtime``, ...) from its last entry."""
    metrics: dict[str, Any] = {}
    for entry in log_history:
        for key, value in entry.items():
            if isinstance(value, (int, float)) and not (
                isinstance(value, float) and math.isnan(value)
            ):
                metrics[key] = value
    return metrics


def write_card(folder: Path, card: dict[str, Any]) -> None:
    """Write ``README.md``, then ``training_card.json`` (the finished mark), into ``folder``."""
    (folder / CARD_MD).write_text(card_markdown(card), encoding="utf-8")
    text = json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n"
    tmp = folder / f".{CARD_JSON}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(folder / CARD_JSON)


def read_card(folder: Path) -> dict[str, Any] | None:
    """The training card of a checkpoint folder, None when it has none."""
    path = folder / CARD_JSON
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def card_markdown(card: dict[str, Any]) -> str:
    """The model card: what was trained on what, how, and how it ended."""
    config = card["config"]
    data = card["data"]
    base = card["base"]
    metrics = card["final_metrics"]
    shown = [
        k
        for k in (
            "train_loss",
            "loss",
            "reward",
            "rewards/verdict_matches_label/mean",
            "rewards/parseable_verdict/mean",
            "rewards/chosen",
            "rewards/margins",
            "eval_loss",
            "train_runtime",
            "epoch",
            "step",
        )
        if k in metrics
    ]
    hub_id = base.get("hub_id")
    header = [
        "---",
        "library_name: transformers",
        *([f"base_model: {hub_id}"] if hub_id else []),
        "tags:",
        *(f"- {t}" for t in ("formalize", "trl", config["method"], config["role"], "lean4")),
        "---",
    ]
    output = card["output"]
    lines = [
        *header,
        "",
        f"# A {config['role']} trained with {config['method'].upper()} by formalize",
        "",
        f"Base model `{base['spec']}`"
        + (f" (revision `{base['revision']}`)" if base.get("revision") else "")
        + f", trained on the `{data['kind']}` export `{data['folder']}` "
        f"(data hash `{data['data_sha256']}`) for {card['global_step']} steps"
        + (" with a LoRA adapter, merged into the weights saved here" if config["lora"] else "")
        + f". formalize {card['code_version']}, TRL {card['libraries'].get('trl')}.",
        "",
        "```bash",
        *(
            [f"formalize bench critic --suite proofnet-dev --critic hf:{output}"]
            if config["role"] == "critic"
            else []
        ),
        f"formalize run problems.jsonl --{config['role']} vllm:{output}",
        "```",
        "",
        "## Final metrics",
        "",
        "| metric | value |",
        "| --- | ---: |",
        *(f"| {k} | {metrics[k]:.6g} |" for k in shown),
        "",
        "Every logged value is in `training_card.json` (`log_history`).",
        "",
        "## Data",
        "",
        "| split | rows |",
        "| --- | ---: |",
        *(f"| {k} | {v} |" for k, v in data["rows"].items()),
        "",
        f"Label sources: {', '.join(f'{k} {v}' for k, v in sorted(data['label_sources'].items()))}."
        if data.get("label_sources")
        else "",
        "",
        "## Parameters",
        "",
        "```json",
        json.dumps(
            {
                "config": config,
                "trainer (beyond TRL's defaults)": card["trainer_args_changed"],
                "lora": card.get("lora"),
            },
            indent=2,
            default=str,
        ),
        "```",
        "",
    ]
    if card.get("resumed_from"):
        lines += [f"Resumed from `{card['resumed_from']}`.", ""]
    return "\n".join(lines)
