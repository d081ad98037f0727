"""The loss of Baluja (NIPS 2017), and the 8-bit rounding the stego image goes through.

``loss = ||c - c'||^2 + beta * ||s - s'||^2`` with per-pixel means (the mean squared
error on [0, 1] images; a constant rescaling of the paper's sums). The cover term depends
on the prep and hiding networks only, so it never trains the reveal network; the secret
term trains all three, through the stego image.
"""

from __future__ import annotations

import torch


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """``x`` clamped to [0, 1] and rounded to multiples of 1/255 (what an 8-bit PNG keeps),
    with a straight-through gradient (identity), so the reveal network trains on the
    exact pixel values it will read from a saved stego image."""
    q = torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0
    return x + (q - x).detach()


def stego_loss(cover: torch.Tensor, stego: torch.Tensor, secret: torch.Tensor,
               revealed: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All ``(N, 3, H, W)`` in [0, 1]. Returns ``(loss, cover_mse, secret_mse)``."""
    cover_mse = torch.mean((stego.float() - cover.float()) ** 2)
    secret_mse = torch.mean((revealed.float() - secret.float()) ** 2)
    return cover_mse + beta * secret_mse, cover_mse, secret_mse
