"""``hf:PATH_OR_ID`` — generation with transformers on CPU or GPU.

Batched with left padding (longest prompts first, ``batch_size`` rows per forward pass, one row
per sample), prompts rendered with the tokenizer's chat template through the model profile,
GGUF checkpoints through ``?gguf_file=``. Sampling draws each row's tokens from its own
generator seeded by (seed, conversation, sample index), so a seeded conversation gets the same
samples whatever else is in the batch, as with vLLM's per-request seeds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from formalize.cache import Cache
from formalize.errors import SetupError
from formalize.install import install_hint
from formalize.models.base import (
    Engine,
    EngineSpec,
    Failure,
    FinishReason,
    GenerationParams,
    Outcome,
    RawCompletion,
    Unmet,
    sample_seed,
)
from formalize.models.devices import gpu_present, has_package
from formalize.models.hub import resolve_model, weights_unmet
from formalize.models.profiles import Message, ModelProfile
from formalize.models.spec import choice, parse_bool, positive_int

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")


class HFEngine(Engine):
    """A transformers causal LM behind the ``Engine`` interface."""

    name = "hf"
    OPTIONS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "gguf_file": (str, None, "GGUF file inside the model folder"),
        "dtype": (choice(*DTYPES), None, "weights dtype (default: float32 on CPU, auto on GPU)"),
        "device": (str, None, "cpu, cuda, cuda:N (default: cuda when available)"),
        "batch_size": (positive_int, 16, "rows (conversation samples) per forward pass"),
        "revision": (str, None, "hub revision to use from the local cache"),
        "trust_remote_code": (parse_bool, False, "allow model code shipped with the checkpoint"),
    }
    KEY_OPTIONS = ("gguf_file", "dtype")

    @classmethod
    def requirements(cls, spec: EngineSpec, options: Mapping[str, Any]) -> list[Unmet]:
        """torch and transformers, a GPU if ``device=cuda`` asks for one, and the weights."""
        unmet = []
        missing = [name for name in ("torch", "transformers") if not has_package(name)]
        if missing:
            unmet.append(Unmet(f"the hf engine needs {' and '.join(missing)}", install_hint("hf")))
        device = options.get("device") or ""
        if device.startswith("cuda") and not gpu_present():
            unmet.append(
                Unmet(
                    f"device={device} but no GPU was found",
                    "drop ?device= (the CPU is used when there is no GPU), or run on a GPU machine",
                )
            )
        return unmet + weights_unmet(spec.model, options)

    def __init__(
        self,
        spec: EngineSpec,
        options: Mapping[str, Any],
        *,
        profile: ModelProfile,
        cache: Cache | None = None,
    ) -> None:
        super().__init__(spec, options, profile=profile, cache=cache)
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise SetupError(
                f"the hf engine needs torch and transformers ({exc}): {install_hint('hf')}"
            ) from exc
        local = resolve_model(
            spec.model, gguf_file=self.options["gguf_file"], revision=self.options["revision"]
        )
        self.revision = local.revision
        self.options["gguf_file"] = local.gguf_file
        device = self.options["device"] or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = self.options["dtype"] or ("float32" if device == "cpu" else "auto")
        self.options.update(device=device, dtype=dtype_name)
        dtype = dtype_name if dtype_name == "auto" else getattr(torch, dtype_name)
        kwargs: dict[str, Any] = {"local_files_only": True}
        if local.gguf_file:
            kwargs["gguf_file"] = local.gguf_file
        if self.options["trust_remote_code"]:
            kwargs["trust_remote_code"] = True
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(local.folder, **kwargs)
            model: Any = transformers.AutoModelForCausalLM.from_pretrained(
                local.folder, dtype=dtype, **kwargs
            )
            self._model: Any = model.to(device).eval()
        except (OSError, ValueError, ImportError) as exc:
            raise SetupError(f"cannot load {spec.model!r} with transformers: {exc}") from exc
        self.device = device
        self.architecture = type(self._model).__name__
        self._busy = threading.Lock()  # one generate() at a time on this model
        limit = getattr(self._model.config, "max_position_embeddings", None)
        self.max_length: int | None = int(limit) if isinstance(limit, int) else None
        self.tokenizer.padding_side = "left"
        self._eos_ids = _eos_ids(self.tokenizer, self._model)
        pad = self.tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else (self._eos_ids[0] if self._eos_ids else 0)
        # Decoding is set by GenerationParams alone: drop the checkpoint's sampling defaults
        # (Qwen3 ships do_sample/temperature/top_k), which generate() would otherwise merge in.
        self._model.generation_config = transformers.GenerationConfig(
            eos_token_id=self._eos_ids or None,
            pad_token_id=self._pad_id,
            bos_token_id=getattr(self._model.generation_config, "bos_token_id", None),
        )

    def describe(self) -> dict[str, Any]:
        """Engine, model, revision, profile, options (device, dtype, ...) and architecture."""
        info = super().describe()
        info["architecture"] = self.architecture
        return info

    def close(self) -> None:
        """Drop the model (frees its memory once nothing else refers to it)."""
        if getattr(self, "_model", None) is not None:
            self._model = None
            if self.device.startswith("cuda"):
                import torch

                torch.cuda.empty_cache()
        super().close()

    # ------------------------------------------------------------------ generation

    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        import torch

        prompts: list[list[int]] = []
        results: list[Outcome | None] = [None] * len(conversations)
        for i, messages in enumerate(conversations):
            text, special = self.profile.render(messages, self.tokenizer)
            prompts.append(list(self.tokenizer(text, add_special_tokens=special)["input_ids"]))
            if self.max_length is not None and len(prompts[i]) >= self.max_length:
                results[i] = Failure(
                    f"the prompt has {len(prompts[i])} tokens; the model takes {self.max_length}"
                )
        # One row per (conversation, sample); rows carry their own sampling seed.
        rows = [
            (c, s, sample_seed(params.seed, self.conversation_key(conversations[c]), s))
            for c in range(len(conversations))
            if results[c] is None
            for s in range(params.n)
        ]
        rows.sort(key=lambda r: -len(prompts[r[0]]))
        outputs: list[list[RawCompletion | None]] = [[None] * params.n for _ in conversations]
        size = self.options["batch_size"]
        with self._busy, torch.inference_mode():
            for start in range(0, len(rows), size):
                batch = rows[start : start + size]
                done = self._run_batch(
                    [prompts[c] for c, _, _ in batch], [r[2] for r in batch], params
                )
                for (c, s, _), raw in zip(batch, done, strict=True):
                    outputs[c][s] = raw
        for c, row in enumerate(outputs):
            if results[c] is None:
                results[c] = [r for r in row if r is not None]
        return [r if r is not None else Failure("not generated") for r in results]

    def _run_batch(
        self, prompts: list[list[int]], seeds: list[int], params: GenerationParams
    ) -> list[RawCompletion]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            if p:
                ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
                mask[i, width - len(p) :] = 1
        room = params.max_tokens if self.max_length is None else self.max_length - width
        config = GenerationConfig(
            max_new_tokens=max(1, min(params.max_tokens, room)),
            do_sample=False,
            num_beams=1,
            pad_token_id=self._pad_id,
            eos_token_id=self._eos_ids or None,
        )
        processors = LogitsProcessorList()
        if not params.greedy:
            processors.append(_RowSampler(seeds, params.temperature, params.top_p))
        criteria = StoppingCriteriaList()
        stops = _StopStrings(self.tokenizer, params.stop, width) if params.stop else None
        if stops is not None:
            criteria.append(stops)
        out = self._model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            generation_config=config,
            logits_processor=processors,
            stopping_criteria=criteria,
        )
        results = []
        for row, (prompt, tokens) in enumerate(zip(prompts, out[:, width:].tolist(), strict=True)):
            ended = next((i for i, t in enumerate(tokens) if t in self._eos_ids), None)
            stopped = stops.stopped_at.get(row) if stops is not None else None
            if stopped is not None and (ended is None or stopped <= ended):
                kept, count, finish = tokens[:stopped], stopped, FinishReason.STOP
            elif ended is not None:
                kept, count, finish = tokens[:ended], ended + 1, FinishReason.STOP
            else:
                kept, count, finish = tokens, len(tokens), FinishReason.LENGTH
            text = str(self.tokenizer.decode(kept, skip_special_tokens=True))
            results.append(RawCompletion(text, finish, len(prompt), count))
        return results


def _eos_ids(tokenizer: Any, model: Any) -> list[int]:
    ids: list[int] = []
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, int) and item not in ids:
                ids.append(item)
    return ids


class _RowSampler:
    """Temperature/top-p sampling with one seeded generator per row.

    It picks each row's next token itself and leaves only that token allowed, so the greedy
    step of ``generate`` takes it; rows never share random state.
    """

    TOP_K_FAST = 256  # nucleus searched among the k likeliest tokens first (full sort if wider)

    def __init__(self, seeds: list[int], temperature: float, top_p: float) -> None:
        self.seeds = seeds
        self.generators: list[torch.Generator] = []
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        import torch

        if not self.generators:
            self.generators = [
                torch.Generator(device=scores.device).manual_seed(s) for s in self.seeds
            ]
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            probs = self._nucleus(probs)
        chosen = torch.cat(
            [torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(self.generators)]
        )
        forced = torch.full_like(scores, float("-inf"))
        forced[torch.arange(len(chosen), device=scores.device), chosen] = 0.0
        return forced

    def _nucleus(self, probs: torch.Tensor) -> torch.Tensor:
        """``probs`` with everything outside each row's top-p nucleus zeroed."""
        import torch

        k = min(self.TOP_K_FAST, probs.shape[-1])
        top, order = probs.topk(k, dim=-1)
        wide = top.sum(dim=-1) < self.top_p
        if bool(wide.any()):
            top, order = probs.sort(dim=-1, descending=True)
        before = top.cumsum(dim=-1) - top
        top = top.masked_fill(before >= self.top_p, 0.0)
        return torch.zeros_like(probs).scatter_(-1, order, top)


class _StopStrings:
    """Stops a row once its generated text contains a stop string (checked on a tail window
    of tokens) and records after how many generated tokens that happened."""

    def __init__(self, tokenizer: Any, stop: tuple[str, ...], prompt_width: int) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.start = prompt_width
        self.window = 2 * max(len(s) for s in stop) + 8
        self.stopped_at: dict[int, int] = {}

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> Any:
        import torch

        generated = input_ids.shape[1] - self.start
        tail = input_ids[:, max(self.start, input_ids.shape[1] - self.window) :].tolist()
        texts = self.tokenizer.batch_decode(tail, skip_special_tokens=True)
        for row, text in enumerate(texts):
            if row not in self.stopped_at and any(s in text for s in self.stop):
                self.stopped_at[row] = generated
        hits = [row in self.stopped_at for row in range(len(texts))]
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)
