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

A conditioned network (``conditioned=True``) takes a strength ``s`` in [0, 1] (see
:mod:`deepsteg.nets.conditioning`): every hidden layer of every subnetwork gets a FiLM scale
and shift from it, and ``phi``'s update of the cover branch a gain. Both passes use them, so
the inverse stays exact, and the reveal needs the strength the image was hidden with
(:attr:`InvertibleStegoNet.reveal_needs_strength`; :class:`~deepsteg.methods.DeepModel` sends
it in the stego image, :mod:`deepsteg.methods.header`).
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

from deepsteg.nets.conditioning import StrengthFiLM
from deepsteg.tiles import every_tile

#: (scale, shift) pairs, ``(N, hidden, 1, 1)`` each, for one subnetwork's hidden layers.
Films = list[tuple[torch.Tensor, torch.Tensor]]

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
    conditioned: bool = False  # both passes take a strength in [0, 1] (see the module docstring)

    def __post_init__(self) -> None:
        for name, top in (("blocks", 64), ("hidden", 1024), ("depth", 16)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise ValueError(f"{name} must be an int in 1..{top}, got {value!r}")
        if not isinstance(self.clamp, (int, float)) or not 0 < self.clamp <= 10:
            raise ValueError(f"clamp must be a number in (0, 10], got {self.clamp!r}")
        if not isinstance(self.conditioned, bool):
            raise ValueError(f"conditioned must be a bool, got {self.conditioned!r}")

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        if not self.conditioned:  # files from before conditioning existed stay byte-identical
            del fields["conditioned"]
        return json.dumps({"family": "invertible", **fields}, sort_keys=True)

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


def pad_to_even(image: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` with an odd side padded by one row or column (edge replication, bottom/right)."""
    h, w = image.shape[-2:]
    return F.pad(image, (0, w % 2, 0, h % 2), mode="replicate") if h % 2 or w % 2 else image


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

    def forward(self, x: torch.Tensor, films: Films | None = None) -> torch.Tensor:
        for i, conv in enumerate(self.body):
            x = conv(x)
            if films is not None:
                scale, shift = films[i]
                x = x * scale + shift
            x = F.leaky_relu(x, 0.2)
        return self.output(x).float()


@dataclass
class Condition:
    """A strength's FiLM parameters for one block's three subnetworks, and ``phi``'s gain ``(N, 1, 1, 1)``."""

    phi: Films
    rho: Films
    eta: Films
    gain: torch.Tensor


class CouplingBlock(nn.Module):
    """One affine coupling of the cover branch ``x1`` and the secret branch ``x2`` (12 bands each)."""

    def __init__(self, cfg: InvertibleConfig):
        super().__init__()
        self.clamp = cfg.clamp
        self.phi, self.rho, self.eta = _Subnet(cfg), _Subnet(cfg), _Subnet(cfg)

    def _log_scale(self, y1: torch.Tensor, c: Condition | None) -> torch.Tensor:
        return self.clamp * torch.tanh(self.rho(y1, c and c.rho) / self.clamp)

    def _update(self, x2: torch.Tensor, c: Condition | None) -> torch.Tensor:
        return self.phi(x2) if c is None else c.gain * self.phi(x2, c.phi)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, c: Condition | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        y1 = x1 + self._update(x2, c)
        return y1, x2 * torch.exp(self._log_scale(y1, c)) + self.eta(y1, c and c.eta)

    def inverse(self, y1: torch.Tensor, y2: torch.Tensor, c: Condition | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x2 = (y2 - self.eta(y1, c and c.eta)) * torch.exp(-self._log_scale(y1, c))
        return y1 - self._update(x2, c), x2


class InvertibleStegoNet(nn.Module):
    """Hide by the forward pass, reveal by the inverse pass of the same coupling blocks."""

    align = 2  # tiles start on the 2x2 Haar grid
    #: Strength a conditioned network hides with when none is given.
    default_strength = 0.5

    def __init__(self, cfg: InvertibleConfig | None = None):
        super().__init__()
        self.cfg = cfg or InvertibleConfig()
        self.blocks = nn.ModuleList(CouplingBlock(self.cfg) for _ in range(self.cfg.blocks))
        per_subnet = self.cfg.depth - 1
        self.strength = (StrengthFiLM(3 * self.cfg.blocks * per_subnet, self.cfg.hidden)
                         if self.cfg.conditioned else None)

    @property
    def conditioned(self) -> bool:
        """Whether both passes take a strength."""
        return self.cfg.conditioned

    @property
    def reveal_needs_strength(self) -> bool:
        """Whether :meth:`reveal` needs the strength the image was hidden with."""
        return self.cfg.conditioned

    def tile_edges(self, length: int, tile: int) -> list[int]:
        """Where tiles may start along a side: anywhere on the Haar grid (:func:`~deepsteg.tiles.every_tile`)."""
        return every_tile(length, tile)

    def _conditions(self, strength: torch.Tensor | float | None, n: int, device: torch.device
                    ) -> list[Condition | None]:
        """Per block, the strength's :class:`Condition` (``None`` for an unconditioned network)."""
        if self.strength is None:
            if strength is not None:
                raise ValueError(f"this network is not conditioned on a strength (got {strength})")
            return [None] * self.cfg.blocks
        s = self.default_strength if strength is None else strength
        films, gain = self.strength(torch.as_tensor(s, dtype=torch.float32, device=device).expand(n))
        k = self.cfg.depth - 1
        return [Condition(films[(3 * b) * k:(3 * b + 1) * k], films[(3 * b + 1) * k:(3 * b + 2) * k],
                          films[(3 * b + 2) * k:(3 * b + 3) * k], gain) for b in range(self.cfg.blocks)]

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
        return haar(pad_to_even(image).float())

    def hide(self, cover: torch.Tensor, secret: torch.Tensor, strength: torch.Tensor | float | None = None
             ) -> torch.Tensor:
        """Cover and secret ``(N,3,H,W)`` in [0,1] -> stego ``(N,3,H,W)`` float32, unclamped.
        ``strength`` (a float or ``(N,)`` in [0, 1]): a conditioned network's (default
        :attr:`default_strength`); other networks take none."""
        h, w = cover.shape[-2:]
        y1, y2 = self._bands(cover), self._bands(secret)
        for block, c in zip(self.blocks, self._conditions(strength, cover.shape[0], cover.device)):
            y1, y2 = block(y1, y2, c)
        return inverse_haar(y1)[..., :h, :w]

    def reveal(self, stego: torch.Tensor, strength: torch.Tensor | float | None = None) -> torch.Tensor:
        """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)`` float32, unclamped;
        a conditioned network needs the ``strength`` the stego image was hidden with."""
        h, w = stego.shape[-2:]
        y1 = self._bands(stego)
        y2 = torch.zeros_like(y1)
        conditions = self._conditions(strength, stego.shape[0], stego.device)
        for block, c in zip(reversed(self.blocks), reversed(conditions)):
            y1, y2 = block.inverse(y1, y2, c)
        return inverse_haar(y2)[..., :h, :w]

    def forward(self, cover: torch.Tensor, secret: torch.Tensor,
                channel: Callable[[torch.Tensor], torch.Tensor] | None = None,
                strength: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stego, revealed)``; ``channel`` (e.g. 8-bit rounding) acts on the stego image;
        ``strength`` ``(N,)`` for a conditioned network (both passes use it)."""
        stego = self.hide(cover, secret, strength)
        return stego, self.reveal(channel(stego) if channel is not None else stego, strength)
