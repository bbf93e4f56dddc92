"""``formalize train critic|translator``: train a critic or a translator on a training export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from formalize.cli.common import HelpFormatter

EPILOG = """\
examples:
  formalize corpus export --for critic-sft --output data/critic-sft
  formalize train critic --data data/critic-sft --base Qwen/Qwen3-8B --method sft \\
      --output models/critic-sft --lora
  formalize corpus export --for critic-rl --output data/critic-rl
  formalize train critic --data data/critic-rl --base models/critic-sft --method grpo \\
      --output models/critic-grpo --config grpo.toml
  formalize bench critic --suite proofnet-dev --critic hf:models/critic-grpo
  formalize train translator --data data/translator-dpo --base AI-MO/Kimina-Autoformalizer-7B \\
      --method dpo --output models/translator-dpo --lora

A critic trains with sft (critic-sft data) or grpo (critic-rl data); a translator with sft
(translator-sft) or dpo (translator-dpo). The checkpoint in --output loads as hf:DIR and
vllm:DIR (a LoRA adapter is merged into it; the adapter alone is in DIR/adapter); DIR/README.md
and DIR/training_card.json say what it was trained on, how, and how it ended. Any field of TRL's
SFTConfig / GRPOConfig / DPOConfig goes in the [trainer] table of --config, LoRA settings in
[peft]; flags win over the file. Rerunning an interrupted training resumes from its last
checkpoint. See docs/training.md."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``train`` command group."""
    parser = sub.add_parser(
        "train",
        help="train a critic or a translator on training data exported from the corpus",
        description="Train a critic (SFT, GRPO) or a translator (SFT, DPO) with TRL on a "
        "training export (`formalize corpus export --for ...`).",
    )
    group = parser.add_subparsers(dest="train_role", metavar="ROLE", required=True)
    for role, what in (
        ("critic", "train a critic: sft on critic-sft data, grpo on critic-rl data"),
        ("translator", "train a translator: sft on translator-sft data, dpo on translator-dpo"),
    ):
        command = group.add_parser(
            role,
            help=what,
            description=what[0].upper() + what[1:] + ".",
            epilog=EPILOG,
            formatter_class=HelpFormatter,
        )
        _add_options(command)
        command.set_defaults(func=cmd_train, role=role)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="DIR", help="a training export folder")
    parser.add_argument(
        "--base", metavar="MODEL", help="model to start from: a folder, or a hub id in the cache"
    )
    parser.add_argument(
        "--method", choices=("sft", "grpo", "dpo"), default=None, help="default: sft"
    )
    parser.add_argument("--output", "-o", metavar="DIR", help="where the checkpoint goes")
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps")
    parser.add_argument(
        "--lora",
        action="store_true",
        default=None,
        help="train a LoRA adapter (merged into the saved weights)",
    )
    parser.add_argument(
        "--config", type=Path, metavar="TOML", help="settings file ([trainer], [peft] tables)"
    )


def _absolute(path: str | None) -> str | None:
    # recorded with the training, so that a rerun from another folder resumes it
    return None if path is None else str(Path(path).expanduser().resolve())


def cmd_train(args: argparse.Namespace) -> int:
    """Train and report where the checkpoint is."""
    from formalize.train.config import load_file, resolve

    file_values = load_file(args.config) if args.config else {}
    config = resolve(
        file_values,
        {
            "role": args.role,
            "data": _absolute(args.data),
            "base": args.base,
            "method": args.method,
            "output": _absolute(args.output),
            "max_steps": args.max_steps,
            "lora": args.lora,
        },
        source=str(args.config) if args.config else "the config file",
    )
    from formalize.train.recipes import train

    print(
        f"training a {config.role} from {config.base} with {config.method}"
        f"{' + LoRA' if config.lora else ''} on {config.data}",
        file=sys.stderr,
    )
    result = train(config)
    if not result.card:  # another process of a distributed run: the main one reports
        return 0
    metrics = result.card["final_metrics"]
    loss = metrics.get("train_loss")
    print(
        f"done: {result.card['global_step']} steps"
        + (f", train loss {loss:.4g}" if isinstance(loss, (int, float)) else "")
        + f"; checkpoint {result.output} (hf:{result.output}, vllm:{result.output}); "
        f"training card {result.output / 'README.md'}",
        file=sys.stderr,
    )
    return 0
