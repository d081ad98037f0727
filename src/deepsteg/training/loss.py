"""The loss of Baluja (NIPS 2017); the 8-bit rounding the stego image goes through is
:func:`deepsteg.tensors.quantize_8bit`.

``loss = ||c - c'||^2 + beta * ||s - s'||^2`` with per-pixel means (the mean squared
error on [0, 1] images; a constant rescaling of the paper's sums). The cover term depends
on the prep and hiding networks only, so it never trains the reveal network; the secret
term trains all three, through the stego image.
"""

from __future__ import annotations

import torch


def stego_loss(cover: torch.Tensor, stego: torch.Tensor, secret: torch.Tensor,
               revealed: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All ``(N, 3, H, W)`` in [0, 1]. Returns ``(loss, cover_mse, secret_mse)``."""
    cover_mse = torch.mean((stego.float() - cover.float()) ** 2)
    secret_mse = torch.mean((revealed.float() - secret.float()) ** 2)
    return cover_mse + beta * secret_mse, cover_mse, secret_mse
