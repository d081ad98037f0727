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
               revealed: torch.Tensor, beta: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All images ``(N, 3, H, W)`` in [0, 1]; ``beta`` a float or per sample ``(N,)`` (a
    conditioned network's strengths). Returns ``(loss, cover_mse, secret_mse)``, means over the batch."""
    cover_mse = ((stego.float() - cover.float()) ** 2).mean(dim=(1, 2, 3))
    secret_mse = ((revealed.float() - secret.float()) ** 2).mean(dim=(1, 2, 3))
    return (cover_mse + beta * secret_mse).mean(), cover_mse.mean(), secret_mse.mean()
