"""The trained Baluja networks behind the :class:`HidingMethod` interface."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from deepsteg.imageio import to_tensor, to_uint8
from deepsteg.methods.base import HidingMethod
from deepsteg.nets import StegoNet

PRECISIONS = ("auto", "fp32", "bf16")


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class DeepModel(HidingMethod):
    """A :class:`StegoNet` that hides and reveals uint8 images.

    ``precision``: ``fp32``, ``bf16`` (autocast; the output convolutions stay float32) or
    ``auto`` (bf16 where the CPU/GPU runs it natively, else fp32).
    """

    def __init__(self, net: StegoNet, name: str = "model", card: dict[str, Any] | None = None,
                 device: str | torch.device = "cpu", precision: str = "auto"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=torch.channels_last).eval()
        self.name = name
        self.card = card or {}
        if precision == "auto":
            precision = "bf16" if bf16_supported(self.device) else "fp32"
        self.precision = precision

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _input(self, image: np.ndarray) -> torch.Tensor:
        return to_tensor(image).to(self.device).contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        with self._autocast():
            stego = self.net.hide(self._input(cover), self._input(secret))
        return to_uint8(stego)[0]

    @torch.inference_mode()
    def _reveal(self, stego: np.ndarray) -> np.ndarray:
        with self._autocast():
            secret = self.net.reveal(self._input(stego))
        return to_uint8(secret)[0]
