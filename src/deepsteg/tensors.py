"""The single pair of image <-> tensor helpers, and the 8-bit rounding used in training and refinement.

Images in memory are ``uint8`` arrays ``(H, W, 3)`` (RGB, 0-255); tensors are float32
``(N, 3, H, W)`` in ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` or ``(N, H, W, 3)`` -> float32 ``(N, 3, H, W)`` in [0, 1]."""
    a = np.ascontiguousarray(image)
    if a.ndim == 3:
        a = a[None]
    if not a.flags.writeable:
        a = a.copy()
    return torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255.0)


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """``x`` clamped to [0, 1] and rounded to multiples of 1/255 (what an 8-bit PNG keeps),
    with a straight-through gradient (identity), so training and hide-time refinement see
    the exact pixel values the reveal network will read from a saved stego image."""
    q = torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0
    return x + (q - x).detach()


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Float ``(N, 3, H, W)`` (clamped to [0, 1]) -> rounded uint8 ``(N, H, W, 3)``."""
    return (x.detach().float().clamp(0, 1).mul_(255.0).round_().to(torch.uint8)
            .permute(0, 2, 3, 1).contiguous().cpu().numpy())
