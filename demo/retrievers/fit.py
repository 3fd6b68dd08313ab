"""Which models fit this machine: a model is offered only when its memory estimate fits the device
it would run on, and refused with the reason (before anything loads) otherwise.

    estimate = parameters x bytes per parameter x OVERHEAD + ACTIVATIONS

Bytes per parameter follow demo.devices.dtype_for: 4 (float32) on CPU, 2 (float16) for models of
a billion parameters or more on a GPU. OVERHEAD and ACTIVATIONS cover what loading and encoding add
to the weights (framework buffers, a batch's activations, the tokenizer). Measured on MiniLM and
MPNet (benchmarks/memory_fit.py, benchmarks/RESULTS-space.md): peak resident memory added by
loading and one encode of 64 passages was 248 MB for 87 MB of weights (2.86x) and 720 MB for
418 MB (1.72x); a line through both is 1.43 x weights + 124 MB, rounded up here to 1.45 x + 256 MB
(MiniLM's higher ratio is the batch's activations, which do not grow with the parameters).

The memory a model may use is the device's: GPU memory on CUDA (torch.cuda), else the machine's
RAM (MemTotal in /proc/meminfo, or the container's cgroup limit when lower: a Space's 16 GB are a
cgroup limit on a bigger host), of which a share (USABLE_RAM, USABLE_GPU) is for models; the rest is the app's (data, indexes,
memos). INSTRUCTIR_EXPLORER_MODEL_MEMORY_GB overrides the memory found; `0` turns the check off.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GiB = 2**30
OVERHEAD = 1.45
ACTIVATIONS = 256 * 2**20
USABLE_RAM = 0.75  # share of RAM models may take: the rest is the app's (data, indexes, memos)
USABLE_GPU = 0.9  # share of GPU memory (the app keeps nothing there; CUDA's context takes some)
ENV = "INSTRUCTIR_EXPLORER_MODEL_MEMORY_GB"
ZEROGPU_MEMORY = 74_625_056_768  # what the `spaces` package reports for a ZeroGPU slice (ZEROGPU_CUDA_TOTAL_MEMORY)


@dataclass(frozen=True)
class Machine:
    device: str  # "cpu", "cuda", "cuda:N" or "mps"
    memory: int  # bytes of the device's memory (models may take a share of it: usable())

    @property
    def gpu(self) -> bool:
        return self.device.split(":", 1)[0] in ("cuda", "mps")

    def usable(self) -> int:
        return int(self.memory * (USABLE_GPU if self.device.startswith("cuda") else USABLE_RAM))

    def describe(self) -> str:
        where = "GPU memory" if self.device.startswith("cuda") else "memory"
        return f"{_gb(self.memory)} of {where} ({self.device})"


def _gb(n: float) -> str:
    """Bytes as GB (binary gigabytes, as GPU cards and Space hardware are sold: 16 GB = 16 GiB)."""
    return f"{n / GiB:.0f} GB" if n >= 10 * GiB else f"{n / GiB:.1f} GB"


def ram_bytes(meminfo: Path = Path("/proc/meminfo"), cgroup_root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Total RAM: MemTotal, or the cgroup's memory limit when lower (v2 memory.max, v1 limit_in_bytes)."""
    total = None
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                total = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    for limit_file in (cgroup_root / "memory.max", cgroup_root / "memory" / "memory.limit_in_bytes"):
        try:
            raw = limit_file.read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < (total or 2**62):
            total = int(raw)
    return total


@lru_cache(maxsize=1)
def machine() -> Machine | None:
    """The device models load on and its memory; None when the check is off or memory is unknown."""
    from demo.devices import select_device
    from demo.errors import UserError
    raw = os.environ.get(ENV, "").strip()
    try:
        device = "cpu" if _surely_cpu() else select_device()
    except UserError:  # a device that is not here: each model says so when it loads
        device = "cpu"
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1
        return Machine(device, int(value * GiB)) if value > 0 else None
    if os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true"):
        return Machine("cuda", int(os.environ.get("ZEROGPU_CUDA_TOTAL_MEMORY", ZEROGPU_MEMORY)))
    if device.startswith("cuda"):
        import torch
        index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
        return Machine(device, int(torch.cuda.get_device_properties(index).total_memory))
    ram = ram_bytes()
    return Machine(device, ram) if ram else None


def _surely_cpu() -> bool:
    """CPU without importing torch (seconds, and the first page waits for the model list): the
    default device on Linux with no NVIDIA device node, or INSTRUCTIR_EXPLORER_DEVICE=cpu."""
    requested = os.environ.get("INSTRUCTIR_EXPLORER_DEVICE", "auto").strip().lower() or "auto"
    if requested == "cpu":
        return True
    return (requested == "auto" and sys.platform.startswith("linux") and "torch" not in sys.modules
            and not Path("/dev/nvidia0").exists() and not Path("/dev/nvidiactl").exists())


def bytes_per_param(params: int, device: str) -> int:
    from demo.devices import HALF_PRECISION_PARAMS, GPU_TYPES
    return 2 if params >= HALF_PRECISION_PARAMS and device.split(":", 1)[0] in GPU_TYPES else 4


def estimate(params: int, device: str) -> int:
    """Bytes a model of `params` parameters needs on `device`, loaded and encoding."""
    return int(params * bytes_per_param(params, device) * OVERHEAD + ACTIVATIONS)


def gpu_needed(params: int) -> int:
    """The smallest GPU memory (bytes, whole GB) on which the model fits in half precision."""
    return math.ceil(estimate(params, "cuda") / USABLE_GPU / GiB) * GiB


def fits(params: int, where: Machine | None = None) -> str | None:
    """None when a model of `params` parameters fits `where` (default: this machine), else why not."""
    where = machine() if where is None else where
    if where is None or not params:
        return None
    need = estimate(params, where.device)
    if need <= where.usable():
        return None
    gpu = gpu_needed(params)
    advice = f"needs a GPU with ≥ {gpu / GiB:.0f} GB" if not where.gpu or gpu > where.memory else "needs more memory"
    dtype = "float16" if bytes_per_param(params, where.device) == 2 else "float32"
    return (f"too big for this machine: about {_gb(need)} ({params / 1e9:.1f}B parameters in {dtype}) "
            f"with {where.describe()}; {advice}")


def model_fits(spec, where: Machine | None = None) -> str | None:
    """For a registry ModelSpec (promptriever: its base model's parameters)."""
    return fits(spec.params, where) if spec.loader != "bm25" else None


def reranker_fits(spec, where: Machine | None = None) -> str | None:
    return fits(spec.params, where)
