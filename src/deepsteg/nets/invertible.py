"""An invertible hiding network in the Haar wavelet domain (after HiNet, Jing et al., ICCV 2021).

Data flow::

    cover  (N,3,H,W) --Haar--> x1 (N,12,H/2,W/2) --+                      +--> y1 --inverse Haar--> stego
                                                    +--> K coupling blocks +
    secret (N,3,H,W) --Haar--> x2 (N,12,H/2,W/2) --+                      +--> y2 (discarded)

    reveal: y1 = Haar(stego), y2 = 0 --> the K blocks run backwards --> x2 --inverse Haar--> secret

Each coupling block is an affine coupling (as in HiNet)::

    y1 = x1 + phi(x2)
    y2 = x2 * exp(s(y1)) + eta(y1),   s = clamp * tanh(rho(y1) / clamp)

and is inverted exactly: ``x2 = (y2 - eta(y1)) * exp(-s(y1))``, ``x1 = y1 - phi(x2)``. The
reveal is the inverse pass of the same weights, fed the stego image and zeros for the
discarded branch; so unlike Baluja's three networks, the cover term of the loss trains the
weights the reveal uses too (there is no separate reveal network to keep it from).
``phi``, ``rho`` and ``eta`` are small convolution stacks (3x3 convolutions with LeakyReLU).

The Haar transform is orthonormal: each 2x2 block ``[a b; c d]`` of a channel becomes
``(a+b+c+d, a-b+c-d, a+b-c-d, a-b-c+d) / 2``. Images with odd sides are padded (edge
replication) at the bottom/right and cropped back. All images are float ``(N, 3, H, W)`` in
[0, 1]. Under bf16 autocast the subnetworks run in bf16 and the couplings in float32.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Orthonormal 2x2 Haar analysis on the (0,0), (0,1), (1,0), (1,1) pixels of a block; symmetric
#: and its own inverse.
_HAAR = 0.5 * torch.tensor([[1.0, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])


@dataclass(frozen=True)
class InvertibleConfig:
    """``blocks`` coupling blocks; each subnetwork has ``depth`` 3x3 convolutions of ``hidden``
    channels (the last one to 12); scales are bounded by ``clamp`` (in log space)."""

    blocks: int = 8
    hidden: int = 56
    depth: int = 3
    clamp: float = 2.0

    def __post_init__(self) -> None:
        for name, top in (("blocks", 64), ("hidden", 1024), ("depth", 16)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise ValueError(f"{name} must be an int in 1..{top}, got {value!r}")
        if not isinstance(self.clamp, (int, float)) or not 0 < self.clamp <= 10:
            raise ValueError(f"clamp must be a number in (0, 10], got {self.clamp!r}")

    def to_json(self) -> str:
        return json.dumps({"family": "invertible", **dataclasses.asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> InvertibleConfig:
        data = json.loads(text)
        if data.pop("family", "invertible") != "invertible":
            raise ValueError("not an invertible architecture")
        return cls(**data)


def haar(image: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` with even H, W -> Haar bands ``(N, 12, H/2, W/2)`` (4 per colour)."""
    n, c, h, w = image.shape
    blocks = F.pixel_unshuffle(image, 2).view(n, c, 4, h // 2, w // 2)
    return torch.einsum("ij,ncjhw->ncihw", _HAAR.to(image), blocks).reshape(n, 4 * c, h // 2, w // 2)


def inverse_haar(bands: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`haar`."""
    n, c4, h, w = bands.shape
    blocks = torch.einsum("ij,ncjhw->ncihw", _HAAR.to(bands), bands.view(n, c4 // 4, 4, h, w))
    return F.pixel_shuffle(blocks.reshape(n, c4, h, w), 2)


class _Subnet(nn.Module):
    """12 bands -> 12 bands: ``depth`` 3x3 convolutions, LeakyReLU between them."""

    def __init__(self, cfg: InvertibleConfig):
        super().__init__()
        widths = [12] + [cfg.hidden] * (cfg.depth - 1)
        self.body = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in itertools.pairwise(widths))
        self.output = nn.Conv2d(widths[-1], 12, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.body:
            x = F.leaky_relu(conv(x), 0.2)
        return self.output(x).float()


class CouplingBlock(nn.Module):
    """One affine coupling of the cover branch ``x1`` and the secret branch ``x2`` (12 bands each)."""

    def __init__(self, cfg: InvertibleConfig):
        super().__init__()
        self.clamp = cfg.clamp
        self.phi, self.rho, self.eta = _Subnet(cfg), _Subnet(cfg), _Subnet(cfg)

    def _log_scale(self, y1: torch.Tensor) -> torch.Tensor:
        return self.clamp * torch.tanh(self.rho(y1) / self.clamp)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y1 = x1 + self.phi(x2)
        return y1, x2 * torch.exp(self._log_scale(y1)) + self.eta(y1)

    def inverse(self, y1: torch.Tensor, y2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x2 = (y2 - self.eta(y1)) * torch.exp(-self._log_scale(y1))
        return y1 - self.phi(x2), x2


class InvertibleStegoNet(nn.Module):
    """Hide by the forward pass, reveal by the inverse pass of the same coupling blocks."""

    align = 2  # tiles start on the 2x2 Haar grid

    def __init__(self, cfg: InvertibleConfig | None = None):
        super().__init__()
        self.cfg = cfg or InvertibleConfig()
        self.blocks = nn.ModuleList(CouplingBlock(self.cfg) for _ in range(self.cfg.blocks))

    @property
    def hide_margin(self) -> int:
        """Receptive-field radius in pixels: ``2 * depth`` positions per block, 2 pixels each."""
        return 2 * self.cfg.blocks * 2 * self.cfg.depth + 1

    reveal_margin = hide_margin

    def macs_per_pixel(self) -> float:
        """Multiply-adds per image pixel of hide + reveal (each runs every subnetwork once)."""
        weights = sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Conv2d))
        return 2 * weights / 4

    @staticmethod
    def _bands(image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        if h % 2 or w % 2:
            image = F.pad(image, (0, w % 2, 0, h % 2), mode="replicate")
        return haar(image.float())

    def hide(self, cover: torch.Tensor, secret: torch.Tensor, strength: None = None) -> torch.Tensor:
        """Cover and secret ``(N,3,H,W)`` in [0,1] -> stego ``(N,3,H,W)`` float32, unclamped.
        (No strength: the reveal, the inverse pass, could not know it.)"""
        if strength is not None:
            raise ValueError("the invertible network is not conditioned on a strength")
        h, w = cover.shape[-2:]
        y1, y2 = self._bands(cover), self._bands(secret)
        for block in self.blocks:
            y1, y2 = block(y1, y2)
        return inverse_haar(y1)[..., :h, :w]

    def reveal(self, stego: torch.Tensor) -> torch.Tensor:
        """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)`` float32, unclamped."""
        h, w = stego.shape[-2:]
        y1 = self._bands(stego)
        y2 = torch.zeros_like(y1)
        for block in reversed(self.blocks):
            y1, y2 = block.inverse(y1, y2)
        return inverse_haar(y2)[..., :h, :w]

    def forward(self, cover: torch.Tensor, secret: torch.Tensor,
                channel: Callable[[torch.Tensor], torch.Tensor] | None = None,
                strength: None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stego, revealed)``; ``channel`` (e.g. 8-bit rounding) acts on the stego image."""
        stego = self.hide(cover, secret, strength)
        return stego, self.reveal(channel(stego) if channel is not None else stego)
