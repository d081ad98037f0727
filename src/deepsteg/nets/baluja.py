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

from deepsteg.nets.layers import MultiKernelConv

OUTPUT_STYLES = ("relu", "residual")


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) != 3 or min(self.widths) < 0 or sum(self.widths) == 0:
            raise ValueError(f"widths must be three non-negative ints, got {self.widths}")
        if self.output not in OUTPUT_STYLES:
            raise ValueError(f"output must be one of {OUTPUT_STYLES}, got {self.output!r}")
        for name in ("prep_layers", "hide_layers", "reveal_layers"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1")

    @property
    def channels(self) -> int:
        return sum(self.widths)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArchConfig:
        data = json.loads(text)
        data["widths"] = tuple(data["widths"])
        return cls(**data)


#: Named architectures: the paper's reading (50 filters per kernel size) and the width of
#: the original Keras DeepSteg model (50/10/5).
ARCHITECTURES: dict[str, ArchConfig] = {
    "paper": ArchConfig(widths=(50, 50, 50)),
    "compact": ArchConfig(widths=(50, 10, 5)),
    "keras": ArchConfig(widths=(50, 10, 5), output="relu"),
}


def _stack(in_channels: int, widths: tuple[int, int, int], n: int) -> nn.Sequential:
    layers = []
    for _ in range(n):
        layers.append(MultiKernelConv(in_channels, widths))
        in_channels = sum(widths)
    return nn.Sequential(*layers)


def _run_stack(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """The stack with its first layer in float32 outside any autocast region: an image
    input keeps the exact 8-bit levels (bf16 rounds values above 0.5 to multiples of 1/256,
    which would blur the few grey levels that carry a hidden image)."""
    with torch.autocast(x.device.type, enabled=False):
        y = layers[0](x.float())
    return layers[1:](y)


def _final_conv(conv: nn.Conv2d, x: torch.Tensor, relu: bool) -> torch.Tensor:
    """The 3x3 output convolution, in float32 outside any autocast region."""
    with torch.autocast(x.device.type, enabled=False):
        y = conv(x.float())
    return F.relu(y) if relu else y


class PrepNet(nn.Module):
    """Secret ``(N,3,H,W)`` in [0,1] -> features ``(N, channels, H, W)`` (>= 0)."""

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.layers = _stack(3, cfg.widths, cfg.prep_layers)

    def forward(self, secret: torch.Tensor) -> torch.Tensor:
        return _run_stack(self.layers, secret)


class HideNet(nn.Module):
    """Cover ``(N,3,H,W)`` in [0,1] and prep features -> stego ``(N,3,H,W)``, float32.

    The stego tensor is not clamped; :func:`deepsteg.imageio.to_uint8` clamps and rounds.
    """

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.residual = cfg.output == "residual"
        self.layers = _stack(3 + cfg.channels, cfg.widths, cfg.hide_layers)
        self.output = nn.Conv2d(cfg.channels, 3, 3, padding=1)

    def forward(self, cover: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        x = torch.cat([cover.to(features.dtype), features], 1)
        y = _final_conv(self.output, self.layers(x), relu=not self.residual)
        return cover.float() + y if self.residual else y


class RevealNet(nn.Module):
    """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)``, float32, unclamped."""

    def __init__(self, cfg: ArchConfig):
        super().__init__()
        self.relu_out = cfg.output == "relu"
        self.layers = _stack(3, cfg.widths, cfg.reveal_layers)
        self.output = nn.Conv2d(cfg.channels, 3, 3, padding=1)

    def forward(self, stego: torch.Tensor) -> torch.Tensor:
        return _final_conv(self.output, _run_stack(self.layers, stego), relu=self.relu_out)


class StegoNet(nn.Module):
    """The prep, hiding and reveal networks trained as a pair."""

    def __init__(self, cfg: ArchConfig | None = None):
        super().__init__()
        self.cfg = cfg or ArchConfig()
        self.prep = PrepNet(self.cfg)
        self.hide_net = HideNet(self.cfg)
        self.reveal_net = RevealNet(self.cfg)

    def hide(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        """Cover and secret ``(N,3,H,W)`` in [0,1] -> stego ``(N,3,H,W)`` float32."""
        return self.hide_net(cover, self.prep(secret))

    def reveal(self, stego: torch.Tensor) -> torch.Tensor:
        """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)`` float32."""
        return self.reveal_net(stego)

    def forward(self, cover: torch.Tensor, secret: torch.Tensor,
                channel: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stego, revealed)``; ``channel`` (e.g. 8-bit rounding) acts on the stego image
        between the hiding and the reveal network."""
        stego = self.hide(cover, secret)
        return stego, self.reveal(channel(stego) if channel is not None else stego)
