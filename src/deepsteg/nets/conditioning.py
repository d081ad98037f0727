"""Conditioning the hiding network on a strength: one model, any cover quality.

As in variable-rate learned image codecs, the trade-off is an input of the network: a
strength ``s`` in [0, 1] (0: the faintest hiding, the highest cover PSNR; 1: the strongest)
is embedded by a small MLP, and gives every hidden layer of the hiding network a per-channel
scale and shift (FiLM, Perez et al. 2018) and the residual it adds to the cover a gain. The
last layers start at zero, so an untrained conditioning is the identity. Training draws
``s`` per sample and weighs that sample's secret error by ``beta(s)`` (log-uniform over the
run's beta range); the reveal network sees only the stego image, so it learns to read every
strength it was trained on.
"""

from __future__ import annotations

import torch
from torch import nn


class StrengthFiLM(nn.Module):
    """Strength ``(N,)`` in [0, 1] -> ``layers`` pairs of (scale, shift), each ``(N, channels, 1, 1)``,
    and the residual's gain ``(N, 1, 1, 1)`` (positive)."""

    def __init__(self, layers: int, channels: int, hidden: int = 32):
        super().__init__()
        self.layers, self.channels = layers, channels
        self.embed = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.film = nn.Linear(hidden, layers * 2 * channels)
        self.gain = nn.Linear(hidden, 1)
        for last in (self.film, self.gain):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, strength: torch.Tensor) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
        with torch.autocast(strength.device.type, enabled=False):
            e = self.embed(strength.float().view(-1, 1))
            film = self.film(e).view(-1, self.layers, 2, self.channels, 1, 1)
            gain = torch.exp(self.gain(e)).view(-1, 1, 1, 1)
        return [(1 + film[:, i, 0], film[:, i, 1]) for i in range(self.layers)], gain


def beta_of(strength: torch.Tensor, beta_range: tuple[float, float]) -> torch.Tensor:
    """The secret weight of a strength: log-uniform from ``beta_range[0]`` (s = 0) to ``[1]`` (s = 1)."""
    lo, hi = beta_range
    return lo * (hi / lo) ** strength
