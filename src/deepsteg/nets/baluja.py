"""The three networks of Baluja, "Hiding Images in Plain Sight: Deep Steganography" (NIPS 2017).

Data flow::

    secret (N,3,H,W) --> PrepNet --> features (N,C,H,W) --+
                                                          +--> HideNet --> stego (N,3,H,W)
    cover  (N,3,H,W) -------------------------------------+
    stego  (N,3,H,W) --> RevealNet --> revealed secret (N,3,H,W)

Every layer is a :class:`~deepsteg.nets.layers.MultiKernelConv` (parallel 3x3, 4x4 and
5x5 convolutions, ReLU, concatenated). The prep network has ``prep_layers`` of them, the
hiding network ``hide_layers`` on concat(cover, prep features) and a final 3x3 convolution
to 3 channels, the reveal network ``reveal_layers`` and a final 3x3 convolution.

All images are float tensors ``(N, 3, H, W)`` in ``[0, 1]``; the networks are fully
convolutional, so any H, W works.

``scale`` > 1 runs the same three networks on a space-to-depth representation: every
``scale`` x ``scale`` block of pixels becomes one position with ``3 * scale**2`` channels
(``pixel_unshuffle``), so each layer sees ``scale**2`` times fewer positions and can be that
much wider at the same arithmetic per pixel, with a receptive field ``scale`` times larger.
Images whose sides are not multiples of ``scale`` are padded (edge replication) at the
bottom/right and cropped back.

Two output styles are supported by :class:`ArchConfig`:

* ``output="relu"``: the final convolutions are followed by a ReLU and the hiding network
  outputs the stego image directly (the original Keras DeepSteg model);
* ``output="residual"``: the final convolutions are linear and the hiding network outputs
  ``cover + residual`` (DeepSteg's own trained models).

Under bf16 autocast, the first layer of the prep and reveal networks (which read images)
and the final convolutions run in float32: the secret and the stego image keep their exact
8-bit levels and the small residual its precision. The hiding network reads the cover in
bf16; its output adds the residual to the float32 cover.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from deepsteg.nets.conditioning import StrengthFiLM
from deepsteg.nets.layers import final_conv, multi_kernel_stack, run_stack
from deepsteg.tiles import every_tile

OUTPUT_STYLES = ("relu", "residual")
#: Bounds on a config, checked before anything is built: a model file's metadata is untrusted.
MAX_WIDTH, MAX_LAYERS, MAX_SCALE = 1024, 32, 8


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class ArchConfig:
    """Architecture of a prep/hide/reveal network triple.

    ``widths``: filters of the 3x3, 4x4 and 5x5 branch of every layer.
    """

    widths: tuple[int, int, int] = (50, 10, 5)
    prep_layers: int = 2
    hide_layers: int = 5
    reveal_layers: int = 5
    output: str = "residual"
    scale: int = 1  # space-to-depth factor (1: the networks see pixels)
    conditioned: bool = False  # the hiding network takes a strength in [0, 1] (see nets.conditioning)

    def __post_init__(self) -> None:
        if not isinstance(self.widths, (tuple, list)) or not all(_is_int(w) for w in self.widths):
            raise ValueError(f"widths must be three ints, got {self.widths!r}")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) != 3 or min(self.widths) < 0 or sum(self.widths) == 0 or max(self.widths) > MAX_WIDTH:
            raise ValueError(f"widths must be three ints in 0..{MAX_WIDTH}, not all 0, got {self.widths}")
        if self.output not in OUTPUT_STYLES:
            raise ValueError(f"output must be one of {OUTPUT_STYLES}, got {self.output!r}")
        for name in ("prep_layers", "hide_layers", "reveal_layers"):
            if not _is_int(getattr(self, name)) or not 1 <= getattr(self, name) <= MAX_LAYERS:
                raise ValueError(f"{name} must be an int in 1..{MAX_LAYERS}, got {getattr(self, name)!r}")
        if not _is_int(self.scale) or not 1 <= self.scale <= MAX_SCALE:
            raise ValueError(f"scale must be an int in 1..{MAX_SCALE}, got {self.scale!r}")
        if self.scale > 1 and self.output != "residual":
            raise ValueError("scale > 1 needs output='residual'")
        if not isinstance(self.conditioned, bool) or (self.conditioned and self.output != "residual"):
            raise ValueError("conditioned must be a bool, and a conditioned network needs output='residual'")

    @property
    def channels(self) -> int:
        return sum(self.widths)

    @property
    def image_channels(self) -> int:
        """Channels of an image as the networks see it: 3 per pixel of a ``scale`` block."""
        return 3 * self.scale**2

    def to_json(self) -> str:
        return json.dumps({"family": "baluja", **dataclasses.asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArchConfig:
        data = json.loads(text)
        if data.pop("family", "baluja") != "baluja":
            raise ValueError("not a Baluja architecture")
        data["widths"] = tuple(data["widths"])
        return cls(**data)  # files written before ``scale`` existed lack it: scale 1


class PrepNet(nn.Module):
    """Secret ``(N,C,H,W)`` in [0,1] -> features ``(N, channels, H, W)`` (>= 0);
    ``C = cfg.image_channels`` (3 at scale 1)."""

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.layers = multi_kernel_stack(cfg.image_channels, cfg.widths, cfg.prep_layers)

    def forward(self, secret: torch.Tensor) -> torch.Tensor:
        return run_stack(self.layers, secret)


class HideNet(nn.Module):
    """Cover ``(N,C,H,W)`` in [0,1] and prep features -> stego ``(N,C,H,W)``, float32;
    ``C = cfg.image_channels``.

    The stego tensor is not clamped; :func:`deepsteg.tensors.to_uint8` clamps and rounds.
    """

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.residual = cfg.output == "residual"
        self.layers = multi_kernel_stack(cfg.image_channels + cfg.channels, cfg.widths, cfg.hide_layers)
        self.output = nn.Conv2d(cfg.channels, cfg.image_channels, 3, padding=1)
        self.strength = StrengthFiLM(cfg.hide_layers, cfg.channels) if cfg.conditioned else None

    def forward(self, cover: torch.Tensor, features: torch.Tensor, strength: torch.Tensor | None = None
                ) -> torch.Tensor:
        """``strength`` ``(N,)`` in [0, 1]: required by a conditioned network, ignored by others."""
        x = torch.cat([cover.to(features.dtype), features], 1)
        if self.strength is None:
            y = final_conv(self.output, self.layers(x), relu=not self.residual)
            return cover.float() + y if self.residual else y
        if strength is None:
            raise ValueError("a conditioned hiding network needs a strength")
        films, gain = self.strength(strength)
        for layer, (scale, shift) in zip(self.layers, films):
            x = layer(x) * scale.to(x.dtype) + shift.to(x.dtype)
        return cover.float() + gain * final_conv(self.output, x, relu=False)


class RevealNet(nn.Module):
    """Stego ``(N,C,H,W)`` in [0,1] -> revealed secret ``(N,C,H,W)``, float32, unclamped;
    ``C = cfg.image_channels``."""

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.relu_out = cfg.output == "relu"
        self.layers = multi_kernel_stack(cfg.image_channels, cfg.widths, cfg.reveal_layers)
        self.output = nn.Conv2d(cfg.channels, cfg.image_channels, 3, padding=1)

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        return final_conv(self.output, run_stack(self.layers, stego), relu=self.relu_out)


class StegoNet(nn.Module):
    """The prep, hiding and reveal networks trained as a pair."""

    def __init__(self, cfg: ArchConfig | None = None):
        super().__init__()
        self.cfg = cfg or ArchConfig()
        self.prep = PrepNet(self.cfg)
        self.hide_net = HideNet(self.cfg)
        self.reveal_net = RevealNet(self.cfg)

    @property
    def align(self) -> int:
        """Tiles must start at multiples of this many pixels to compute what the whole image does."""
        return self.cfg.scale

    @property
    def hide_margin(self) -> int:
        """Receptive-field radius of :meth:`hide` in pixels: 2 per multi-kernel layer and 1 for the
        output convolution, in positions of ``scale`` pixels, plus the rest of a block."""
        c = self.cfg
        return c.scale * (2 * (c.prep_layers + c.hide_layers) + 1) + c.scale - 1

    @property
    def reveal_margin(self) -> int:
        """Receptive-field radius of :meth:`reveal` in pixels."""
        c = self.cfg
        return c.scale * (2 * c.reveal_layers + 1) + c.scale - 1

    def macs_per_pixel(self) -> float:
        """Multiply-adds per image pixel of hide + reveal: every convolution weight once per
        position, and a position covers ``scale**2`` pixels."""
        weights = sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Conv2d))
        return weights / self.cfg.scale**2

    def _to_blocks(self, image: torch.Tensor) -> torch.Tensor:
        """``(N,3,H,W)`` -> ``(N, 3 s^2, ceil(H/s), ceil(W/s))``, edge-padded; identity at scale 1."""
        s = self.cfg.scale
        if s == 1:
            return image
        h, w = image.shape[-2:]
        pad = (0, -w % s, 0, -h % s)
        if any(pad):
            image = F.pad(image, pad, mode="replicate")
        return F.pixel_unshuffle(image, s)

    def _from_blocks(self, blocks: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """The inverse of :meth:`_to_blocks`, cropped to ``h`` x ``w``."""
        if self.cfg.scale == 1:
            return blocks
        return F.pixel_shuffle(blocks, self.cfg.scale)[..., :h, :w]

    #: Strength a conditioned network hides with when none is given.
    default_strength = 0.5
    #: The reveal network reads the stego image alone, whatever the strength.
    reveal_needs_strength = False

    @property
    def conditioned(self) -> bool:
        """Whether the hiding network takes a strength."""
        return self.cfg.conditioned

    def tile_edges(self, length: int, tile: int) -> list[int]:
        """Where tiles may start along a side: anywhere on the block grid (:func:`~deepsteg.tiles.every_tile`)."""
        return every_tile(length, tile)

    def hide(self, cover: torch.Tensor, secret: torch.Tensor, strength: torch.Tensor | float | None = None
             ) -> torch.Tensor:
        """Cover and secret ``(N,3,H,W)`` in [0,1] -> stego ``(N,3,H,W)`` float32. ``strength``
        (a float or ``(N,)`` in [0, 1]) sets how strongly a conditioned network hides
        (default :attr:`default_strength`); other networks take none."""
        h, w = cover.shape[-2:]
        if self.cfg.conditioned:
            s = self.default_strength if strength is None else strength
            strength = torch.as_tensor(s, dtype=torch.float32, device=cover.device).expand(cover.shape[0])
        elif strength is not None:
            raise ValueError(f"this network is not conditioned on a strength (got {strength})")
        stego = self.hide_net(self._to_blocks(cover), self.prep(self._to_blocks(secret)), strength)
        return self._from_blocks(stego, h, w)

    def reveal(self, stego: torch.Tensor, strength: None = None) -> torch.Tensor:
        """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)`` float32. (The reveal
        network reads every strength it was trained on; it is told none.)"""
        if strength is not None:
            raise ValueError("the reveal network takes no strength")
        h, w = stego.shape[-2:]
        return self._from_blocks(self.reveal_net(self._to_blocks(stego)), h, w)

    def forward(self, cover: torch.Tensor, secret: torch.Tensor,
                channel: Callable[[torch.Tensor], torch.Tensor] | None = None,
                strength: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stego, revealed)``; ``channel`` (e.g. 8-bit rounding) acts on the stego image
        between the hiding and the reveal network; ``strength`` ``(N,)`` for a conditioned network."""
        stego = self.hide(cover, secret, strength)
        return stego, self.reveal(channel(stego) if channel is not None else stego)
