"""Where models run: the device (INSTRUCTIR_EXPLORER_DEVICE), the precision, and the ZeroGPU hook.

    INSTRUCTIR_EXPLORER_DEVICE = auto (default: CUDA, else Apple MPS, else CPU) | cpu | cuda | cuda:1 | mps

Models of a billion parameters or more run in half precision on a GPU (their float32 weights
would not fit a 24 GB card, and retrieval quality does not need them); smaller ones stay in
float32 everywhere. On a ZeroGPU Space the `spaces` package is importable, and every encode call
runs under `spaces.GPU`, which attaches a GPU for the duration of the call; elsewhere the wrapper
is the function itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Callable

from demo.errors import UserError

HALF_PRECISION_PARAMS = 1_000_000_000
GPU_TYPES = ("cuda", "mps")


def _torch():
    import torch
    return torch


def available_devices(torch=None) -> dict[str, bool]:
    torch = torch or _torch()
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    return {"cuda": bool(torch.cuda.is_available()), "mps": bool(mps is not None and mps.is_available())}


def select_device(requested: str | None = None, torch=None) -> str:
    """The device models load on: the request (or INSTRUCTIR_EXPLORER_DEVICE), `auto` resolved."""
    requested = (requested if requested is not None else os.environ.get("INSTRUCTIR_EXPLORER_DEVICE", "auto"))
    requested = requested.strip().lower() or "auto"
    have = available_devices(torch)
    if requested == "auto":
        return "cuda" if have["cuda"] else "mps" if have["mps"] else "cpu"
    kind = requested.split(":", 1)[0]
    if kind == "cpu":
        return "cpu"
    if kind not in GPU_TYPES:
        raise UserError(f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps")
    if not have[kind]:
        raise UserError(f"device {requested!r} requested but torch sees no {kind.upper()} device here")
    return requested


def parse_devices(text: str | None, torch=None) -> list[str]:
    """A --devices list (`cuda:0,cuda:1`): each checked; empty means the one default device."""
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    return [select_device(t, torch) for t in items] or [select_device(None, torch)]


def dtype_for(params: int, device: str, torch=None):
    """Half precision for models of >= 1B parameters on a GPU; None (the checkpoint's float32) otherwise."""
    if params >= HALF_PRECISION_PARAMS and device.split(":", 1)[0] in GPU_TYPES:
        return (torch or _torch()).float16
    return None


def _spaces():
    if "spaces" in sys.modules:
        return sys.modules["spaces"]
    return importlib.import_module("spaces") if importlib.util.find_spec("spaces") is not None else None


def on_gpu(fn: Callable) -> Callable:
    """`spaces.GPU(fn)` where the `spaces` package is importable (ZeroGPU Spaces; elsewhere spaces.GPU
    itself does nothing), else fn unchanged."""
    spaces = _spaces()
    return fn if spaces is None else spaces.GPU(fn)
