"""Training data from the corpus: ``formalize corpus export --for KIND --output DIR``.

Four kinds, each a Hugging Face datasets folder (``datasets.load_dataset(DIR)`` loads it; the
TRL trainers take its columns as they are):

``critic-sft``      ``messages``: the critic prompt the pipeline sends (same template and
                    version), then the answer in the CriticLean form (``reasons``,
                    ``is_assistant_correct``), the reasons taken from a critic answer that agreed
                    with the label.
``critic-rl``       ``prompt`` (the critic prompt) and ``label``: what GRPO needs.
``translator-sft``  ``messages``: the translator's first-round prompt, then the accepted
                    statement.
``translator-dpo``  ``prompt``, ``chosen`` (the accepted statement), ``rejected`` (a statement
                    of the same problem labelled unfaithful: refuted, vacuous, by a human or,
                    with ``--include-critic-labels``, by the critic).

Labels follow ``formalize.train.labels`` (human, then Lean-verified signals, then critic
verdicts on request); every row names its ``label_source``. Problems are split by a seeded hash
of their id, so no problem is in two splits and a problem keeps its split as the corpus grows.
``--balance`` downsamples the majority label of each split (critic kinds).

    DIR/README.md                            the dataset card
    DIR/data/{train,validation,test}-00000-of-00001.parquet
    DIR/training.json                        kind, options, counts, prompts, runs, hashes
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from formalize.corpus import Store
from formalize.critic import DEFAULT_TEMPLATE, Critic
from formalize.errors import InputError
from formalize.export import export_metadata, write_parquet
from formalize.export_hub import (
    TAGS,
    card_header,
    data_digest,
    shard_digests,
    shard_path,
    write_folder,
)
from formalize.records import LabelValue
from formalize.redact import redact_fields, redact_hosts
from formalize.train.labels import (
    Drop,
    Pair,
    PairLabel,
    agreeing_reasons,
    iter_pairs,
    resolve,
)

KINDS = ("critic-sft", "critic-rl", "translator-sft", "translator-dpo")
SPLITS = ("train", "validation", "test")
DEFAULT_SHARES = (0.9, 0.05, 0.05)
DEFAULT_TRANSLATE_TEMPLATE = "translate_v1"
MANIFEST = "training.json"
CARD = "README.md"
NO_AGREEING_REASONS = "no_agreeing_critic_reasons"  # critic-sft: no answer to learn reasons from
NO_ACCEPTED = "no_accepted_statement"  # translator kinds: the problem has no entry
ACCEPTED_UNFAITHFUL = "accepted_labelled_unfaithful"  # a human overruled the corpus
NO_REJECTED = "no_unfaithful_statement"  # translator-dpo: nothing to pair the entry with


@dataclass(frozen=True)
class TrainingExport:
    """What to export: the ``kind``, whether critic verdicts may label pairs, whether to
    balance labels, the split seed and shares (train, validation, test), and the prompt
    templates (the pipeline's by default)."""

    kind: str
    include_critic_labels: bool = False
    balance: bool = False
    seed: int = 0
    shares: tuple[float, float, float] = DEFAULT_SHARES
    critic_template: str = DEFAULT_TEMPLATE
    translate_template: str = DEFAULT_TRANSLATE_TEMPLATE

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown training export {self.kind!r}; choose {', '.join(KINDS)}")
        if len(self.shares) != 3 or any(s < 0 for s in self.shares) or self.shares[0] <= 0:
            raise InputError("split shares are three numbers >= 0 (train > 0): 0.9,0.05,0.05")
        if abs(sum(self.shares) - 1.0) > 1e-6:
            raise InputError(f"split shares must add up to 1 (got {sum(self.shares):g})")
        if self.balance and not self.critic:
            raise InputError("--balance evens faithful/unfaithful labels: critic exports only")

    @property
    def critic(self) -> bool:
        """True for the critic kinds."""
        return self.kind.startswith("critic-")


@dataclass
class ExportSummary:
    """What an export wrote: rows per split and label, label sources, drops and their reasons."""

    kind: str
    splits: dict[str, Counter[str]] = field(default_factory=dict)  # split -> label -> rows
    sources: Counter[str] = field(default_factory=Counter)  # "source/label" -> rows
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> pairs or problems
    stale_labels: int = 0
    balanced_away: Counter[str] = field(default_factory=Counter)  # split -> rows dropped

    @property
    def rows(self) -> int:
        """Rows written over all splits."""
        return sum(sum(c.values()) for c in self.splits.values())


def split_of(problem_id: str, seed: int, shares: tuple[float, float, float]) -> str:
    """The split a problem belongs to: a seeded hash of its id, uniform in [0, 1), cut at the
    shares. Stable: the same problem lands in the same split in every export with that seed."""
    digest = hashlib.sha256(f"{seed}\0{problem_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    if point < shares[0]:
        return SPLITS[0]
    return SPLITS[1] if point < shares[0] + shares[1] else SPLITS[2]


def critic_answer(reasons: str, faithful: bool) -> str:
    """A critic answer in the CriticLean form the critic template asks for (and
    ``formalize.critic.parse_verdict`` reads): one JSON object in a ``json`` fence."""
    body = {"reasons": reasons, "is_assistant_correct": "Correct" if faithful else "Incorrect"}
    return "```json\n" + json.dumps(body, ensure_ascii=False, indent=2) + "\n```"


def translator_answer(header: str, lean: str) -> str:
    """A translator answer as Kimina-Autoformalizer writes one: the header and the statement
    in a ``lean4`` fence, the theorem under the name the prompt asks for."""
    from formalize.lean.statement import rename_declaration
    from formalize.translate import DEFAULT_HEADER, PROMPT_THEOREM_NAME

    with contextlib.suppress(ValueError):  # else kept under its corpus name
        lean = rename_declaration(lean, PROMPT_THEOREM_NAME)
    return f"```lean4\n{header.strip() or DEFAULT_HEADER}\n\n{lean.strip()}\n```"


# --------------------------------------------------------------------------- rows


class _Prompts:
    """The pipeline's own prompt builders: a Critic and a Translator without engines (only
    their prompts are used), so that exported prompts are exactly what the pipeline sends."""

    def __init__(self, options: TrainingExport) -> None:
        from formalize.translate import Translator

        self.critic = Critic(cast(Any, None), template=options.critic_template)
        self.translator = Translator(
            cast(Any, None), samples=1, template=options.translate_template
        )
        self.translate_template = self.translator.templates["first"]

    def critic_messages(self, pair: Pair) -> list[dict[str, str]]:
        return self.critic.conversation(pair.problem, pair.critic_lean)

    def translator_messages(self, pair: Pair) -> list[dict[str, str]]:
        from formalize.translate import TranslationRequest

        return self.translator.conversation(TranslationRequest(pair.problem))

    def describe(self) -> dict[str, Any]:
        return {
            "critic_prompt": self.critic.prompt_version,
            "critic_prompt_digest": self.critic.template.digest,
            "translate_prompt": self.translate_template.id,
            "translate_prompt_digest": self.translate_template.digest,
        }


def _pair_columns(pair: Pair, label: PairLabel) -> dict[str, Any]:
    first = pair.first
    return {
        "problem_id": pair.problem.id,
        "round": first.round,
        "sample": first.sample,
        "lean_sha": pair.lean_sha,
        "informal": pair.problem.informal,
        "lean": pair.lean,
        "status": first.status.value,
        "label": label.label.value,
        "label_source": label.source.value,
        "label_detail": label.detail,
        "annotators": label.annotators,
        "agreement": label.agreement,
        "error_type": None if label.error_type is None else label.error_type.value,
    }


def _critic_rows(
    pairs: Iterable[Pair], options: TrainingExport, prompts: _Prompts, summary: ExportSummary
) -> Iterator[dict[str, Any]]:
    for pair in pairs:
        summary.stale_labels += pair.stale_labels
        label = resolve(pair, options.include_critic_labels)
        if isinstance(label, Drop):
            summary.dropped[label.value] += 1
            continue
        row = _pair_columns(pair, label)
        row["critic_prompt"] = prompts.critic.prompt_version
        messages = prompts.critic_messages(pair)
        if options.kind == "critic-rl":
            row["prompt"] = messages
            yield row
            continue
        found = agreeing_reasons(pair, label)
        if found is None:
            summary.dropped[NO_AGREEING_REASONS] += 1
            continue
        reasons, attempt = found
        answer = critic_answer(reasons, label.faithful)
        row["messages"] = [*messages, {"role": "assistant", "content": answer}]
        row["reasons_from"] = attempt.provenance.get("critic")
        yield row


def _translator_rows(
    pairs: Iterable[Pair], options: TrainingExport, prompts: _Prompts, summary: ExportSummary
) -> Iterator[dict[str, Any]]:
    for _, group in itertools.groupby(pairs, key=lambda p: p.problem.id):
        problem_pairs = list(group)
        summary.stale_labels += sum(p.stale_labels for p in problem_pairs)
        accepted = next((p for p in problem_pairs if p.accepted), None)
        if accepted is None:
            summary.dropped[NO_ACCEPTED] += 1
            continue
        # the entry stands unless a human label overrules it (the critic accepted it anyway)
        chosen = resolve(accepted, include_critic=True)
        if isinstance(chosen, Drop) or not chosen.faithful:
            reason = chosen.value if isinstance(chosen, Drop) else ACCEPTED_UNFAITHFUL
            summary.dropped[reason] += 1
            continue
        header = accepted.first.candidate.header
        answer = translator_answer(header, accepted.lean)
        messages = prompts.translator_messages(accepted)
        base = _pair_columns(accepted, chosen)
        base["translate_prompt"] = prompts.translate_template.id
        if options.kind == "translator-sft":
            yield {**base, "messages": [*messages, {"role": "assistant", "content": answer}]}
            continue
        rejected = 0
        for pair in problem_pairs:
            if pair is accepted:
                continue
            label = resolve(pair, options.include_critic_labels)
            if isinstance(label, Drop) or label.faithful:
                continue
            rejected += 1
            header = pair.first.candidate.header
            yield {
                **_pair_columns(pair, label),
                "chosen_label_source": chosen.source.value,
                "chosen_lean": accepted.lean,
                "translate_prompt": prompts.translate_template.id,
                "prompt": messages,
                "chosen": [{"role": "assistant", "content": answer}],
                "rejected": [
                    {"role": "assistant", "content": translator_answer(header, pair.lean)}
                ],
            }
        if not rejected:
            summary.dropped[NO_REJECTED] += 1


def training_rows(
    store: Store, options: TrainingExport, summary: ExportSummary | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The rows of each split (balanced when asked), in problem order; ``summary`` is filled
    with what was kept and dropped."""
    summary = summary if summary is not None else ExportSummary(options.kind)
    prompts = _Prompts(options)
    build = _critic_rows if options.critic else _translator_rows
    splits: dict[str, list[dict[str, Any]]] = {name: [] for name in SPLITS}
    for row in build(iter_pairs(store), options, prompts, summary):
        splits[split_of(row["problem_id"], options.seed, options.shares)].append(row)
    if options.balance:
        for name in SPLITS:
            kept = balanced(splits[name], options.seed, name)
            summary.balanced_away[name] = len(splits[name]) - len(kept)
            splits[name] = kept
        if not splits["train"]:
            raise InputError(
                "--balance left the train split empty: it has rows of one label only "
                f"({', '.join(sorted(summary.sources)) or 'none'})"
            )
    for name, rows in splits.items():
        if rows:
            summary.splits[name] = Counter(r["label"] for r in rows)
            summary.sources.update(f"{r['label_source']}/{r['label']}" for r in rows)
    return {name: rows for name, rows in splits.items() if rows}


def balanced(rows: list[dict[str, Any]], seed: int, split: str) -> list[dict[str, Any]]:
    """``rows`` with each label downsampled to the rarest label's count (seeded), in their
    original order; no rows when a label is missing."""
    by_label: dict[str, list[int]] = {v.value: [] for v in LabelValue}
    for i, row in enumerate(rows):
        by_label[row["label"]].append(i)
    keep = min(len(ix) for ix in by_label.values())
    chosen: list[int] = []
    for label, ix in sorted(by_label.items()):
        chosen += random.Random(f"{seed}:{split}:{label}").sample(ix, keep)
    return [rows[i] for i in sorted(chosen)]


# --------------------------------------------------------------------------- the folder

_MESSAGE_FIELDS = {"role": "string", "content": "string"}
_COMMON = {
    "problem_id": "string",
    "round": "int64",
    "sample": "int64",
    "lean_sha": "string",
    "informal": "string",
    "lean": "string",
    "status": "string",
    "label": "string",
    "label_source": "string",
    "label_detail": "string",
    "annotators": "int64",
    "agreement": "float64",
    "error_type": "string",
}
_EXTRA: dict[str, dict[str, str]] = {
    "critic-sft": {"critic_prompt": "string", "reasons_from": "string", "messages": "chat"},
    "critic-rl": {"critic_prompt": "string", "prompt": "chat"},
    "translator-sft": {"translate_prompt": "string", "messages": "chat"},
    "translator-dpo": {
        "chosen_label_source": "string",
        "chosen_lean": "string",
        "translate_prompt": "string",
        "prompt": "chat",
        "chosen": "chat",
        "rejected": "chat",
    },
}


def training_schema(kind: str) -> Any:
    """The parquet schema of a training export (chat columns: lists of role/content)."""
    import pyarrow as pa

    chat = pa.list_(pa.struct([(k, getattr(pa, v)()) for k, v in _MESSAGE_FIELDS.items()]))
    columns = {**_COMMON, **_EXTRA[kind]}
    return pa.schema(
        [
            (name, chat if kind_ == "chat" else getattr(pa, kind_)())
            for name, kind_ in columns.items()
        ]
    )


def write_training_export(store: Store, folder: Path, options: TrainingExport) -> ExportSummary:
    """Write the training export to ``folder`` (replacing an earlier export there)."""
    summary = ExportSummary(options.kind)
    splits = training_rows(store, options, summary)
    if not splits:
        drops = ", ".join(f"{k}: {v}" for k, v in summary.dropped.most_common()) or "no pairs"
        raise InputError(
            f"nothing to export for {options.kind}: no labelled rows ({drops}). "
            + (
                ""
                if options.include_critic_labels
                else "Add human labels, or pass --include-critic-labels to use critic verdicts."
            )
        )
    prompts = _Prompts(options).describe()

    def fill(tmp: Path) -> None:
        schema = training_schema(options.kind)
        for name, rows in splits.items():
            public = (redact_fields(row, ("reasons_from",)) for row in rows)
            write_parquet(public, shard_path(tmp, name), schema)
        files = shard_digests(tmp)
        manifest = {
            "kind": options.kind,
            "options": {**asdict(options), "shares": list(options.shares)},
            "counts": {name: dict(c) for name, c in summary.splits.items()},
            "label_sources": dict(summary.sources),
            "dropped": dict(summary.dropped),
            "stale_labels": summary.stale_labels,
            "balanced_away": dict(summary.balanced_away),
            "prompts": prompts,
            "files": files,
            "data_sha256": data_digest(files),
            **redact_hosts(export_metadata(store)),  # a folder meant for the hub: no hosts
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
        (tmp / MANIFEST).write_text(text, "utf-8")
        (tmp / CARD).write_text(training_card(manifest), "utf-8")

    write_folder(folder, fill)
    return summary


def read_manifest(folder: Path) -> dict[str, Any]:
    """The ``training.json`` of a training export; ``InputError`` when there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(
            f"{folder} is not a training export (no {MANIFEST}); write one with "
            "`formalize corpus export --for KIND --output DIR`"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- the card

_WHAT = {
    "critic-sft": "Critic supervised fine-tuning: `messages` is the critic prompt formalize sends "
    "(template `{critic_prompt}`) and the answer in the CriticLean form, a JSON object with "
    "`reasons` and `is_assistant_correct`; the reasons are a critic's own, from an answer that "
    "agreed with the label.",
    "critic-rl": "Critic reinforcement learning (GRPO): `prompt` is the critic prompt formalize "
    "sends (template `{critic_prompt}`), `label` the verdict a reward checks the answer against.",
    "translator-sft": "Translator supervised fine-tuning: `messages` is the translator's prompt "
    "(template `{translate_prompt}`) and the accepted statement as the answer.",
    "translator-dpo": "Translator preference pairs (DPO): `prompt` is the translator's prompt "
    "(template `{translate_prompt}`), `chosen` the accepted statement, `rejected` a statement "
    "of the same problem labelled unfaithful (`label_source` says by whom).",
}
_TRAIN = {
    "critic-sft": "critic --method sft",
    "critic-rl": "critic --method grpo",
    "translator-sft": "translator --method sft",
    "translator-dpo": "translator --method dpo",
}


def training_card(manifest: dict[str, Any]) -> str:
    """The README.md of a training export: YAML configs for ``load_dataset``, then where the
    rows came from and how they were labelled, split and counted."""
    kind = manifest["kind"]
    options = manifest["options"]
    counts: dict[str, dict[str, int]] = manifest["counts"]
    role, _, method = kind.partition("-")
    runs = manifest.get("runs") or []
    lines = [
        *card_header(counts, (*TAGS, "formalize", role, method)),
        "",
        f"# formalize training data: {kind}",
        "",
        _WHAT[kind].format(**manifest["prompts"]),
        f"Exported by formalize {manifest.get('exported_by')} on {manifest.get('exported_at')}.",
        "",
        "```python",
        "from datasets import load_dataset",
        'data = load_dataset("PATH_OR_REPO")',
        "```",
        "",
        f"Train on it: `formalize train {_TRAIN[kind]} --data PATH --base MODEL --output DIR`.",
        "",
        "## Splits",
        "",
        "Problems are split by a seeded hash of their id (seed "
        f"{options['seed']}, shares train/validation/test "
        f"{'/'.join(f'{s:g}' for s in options['shares'])}): no problem is in two splits."
        + (
            " Each split is balanced: its majority label downsampled." if options["balance"] else ""
        ),
        "",
        "| split | rows | faithful | unfaithful |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {name} | {sum(c.values())} | {c.get('faithful', 0)} | {c.get('unfaithful', 0)} |"
            for name, c in counts.items()
        ),
        "",
        "## Labels",
        "",
        "By trust: human labels (the annotators' majority; ties dropped), then Lean-verified "
        "signals (vacuous or refuted: unfaithful; equivalent to the reference: faithful), then "
        + (
            "critic verdicts (included: `--include-critic-labels`)."
            if options["include_critic_labels"]
            else "critic verdicts, not used here (`--include-critic-labels` adds them)."
        )
        + " Each row's `label_source` and `label_detail` say where its label came from.",
        "",
        "| source/label | rows |",
        "| --- | ---: |",
        *(f"| {k} | {v} |" for k, v in sorted(manifest["label_sources"].items())),
        "",
        "Left out:",
        "",
        "| reason | count |",
        "| --- | ---: |",
        *(f"| {k} | {v} |" for k, v in sorted(manifest["dropped"].items())),
        *_stale_line(manifest["stale_labels"]),
        *(
            f"| balanced away from {name} | {n} |"
            for name, n in manifest["balanced_away"].items()
            if n
        ),
        "",
        "## Source runs",
        "",
        "| run | status | translator | critic |",
        "| --- | --- | --- | --- |",
        *(_run_line(run) for run in runs),
        "",
        "## Files",
        "",
        "| file | sha256 |",
        "| --- | --- |",
        *(f"| {name} | `{sha}` |" for name, sha in manifest["files"].items()),
        "",
        f"Data hash (over the shards): `{manifest['data_sha256']}`. `{MANIFEST}` holds all of "
        "this as JSON, with every run's config.",
        "",
    ]
    return "\n".join(lines)


def _run_line(run: dict[str, Any]) -> str:
    prov = run.get("provenance") or {}
    models = f"`{prov.get('translator')}` | `{prov.get('critic')}`"
    return f"| {run.get('id')} | {run.get('status')} | {models} |"


def _stale_line(stale: int) -> list[str]:
    return [f"| human labels on an earlier statement (stale) | {stale} |"] if stale else []


def describe_summary(summary: ExportSummary) -> str:
    """One line for the command line: rows per split, drops."""
    splits = ", ".join(f"{name} {sum(c.values())}" for name, c in summary.splits.items())
    drops = ", ".join(f"{k} {v}" for k, v in sorted(summary.dropped.items()))
    return f"{summary.rows} rows ({splits})" + (f"; left out: {drops}" if drops else "")


__all__ = [
    "KINDS",
    "ExportSummary",
    "TrainingExport",
    "balanced",
    "critic_answer",
    "read_manifest",
    "split_of",
    "training_rows",
    "write_training_export",
]
