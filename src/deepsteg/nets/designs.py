"""Named architectures, and the config <-> network mapping for every design.

A config's JSON names its design in ``family``; files written before designs other than
Baluja's existed have no ``family`` and are Baluja configs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import torch
from torch import nn

from deepsteg.nets.baluja import ArchConfig, StegoNet
from deepsteg.nets.dither import DitherConfig, DitherStegoNet
from deepsteg.nets.invertible import InvertibleConfig, InvertibleStegoNet

#: family -> (config class, network class)
FAMILIES: dict[str, tuple[type, type[nn.Module]]] = {
    "baluja": (ArchConfig, StegoNet),
    "invertible": (InvertibleConfig, InvertibleStegoNet),
    "dither": (DitherConfig, DitherStegoNet),
}

#: Named architectures, the designs of the catalogue's models and the paper's reference:
#: ``paper``: the paper's reading of Baluja's networks (50 filters per kernel size); ``compact``: the
#: width of the original Keras DeepSteg model (50/10/5) with a residual output (deepsteg-compact-v11);
#: ``keras``: that model as it was (ReLU output; ``deepsteg import-keras``); ``s2d``: Baluja's networks
#: on 2x2 pixel blocks at twice the width (the compact model's arithmetic per pixel, twice its receptive
#: field: the architecture bake-off's third candidate, benchmarks/architectures.py); ``inn``: an invertible
#: network in the Haar domain at about the same arithmetic per pixel; ``inn-cond``: ``inn`` with both
#: passes conditioned on a strength (the default model's design); ``dither-k28``: an encoder and
#: decoder on 8x8 blocks around dither modulation of 28 luma DCT coefficients per JPEG block at a
#: 33 dB cover (deepsteg-robust-v1); ``dither-flat``: its 28 steps equal (DitherConfig.steps: more
#: through a JPEG; deepsteg-robust-v2); ``dither-flat-30``: its steps set for a 30 dB cover (1.41x
#: larger), for hides that refine the stego image against a real JPEG, which lifts the cover back
#: (deepsteg-robust-v3 and -v4). The designs' other options (Baluja's networks on 8x8 blocks or
#: conditioned on a strength, other dither steps) stay in their configs; docs/architectures.md and
#: docs/history/ tell what each gave.
ARCHITECTURES: dict[str, object] = {
    "paper": ArchConfig(widths=(50, 50, 50)),
    "compact": ArchConfig(widths=(50, 10, 5)),
    "keras": ArchConfig(widths=(50, 10, 5), output="relu"),
    "s2d": ArchConfig(widths=(100, 20, 10), scale=2),
    "inn": InvertibleConfig(blocks=8, hidden=56, depth=3),
    "inn-cond": InvertibleConfig(blocks=8, hidden=56, depth=3, conditioned=True),
    "dither-k28": DitherConfig(carriers=28, cover_psnr=33.0),
    "dither-flat": DitherConfig(carriers=28, cover_psnr=33.0, table_power=0.0),
    "dither-flat-30": DitherConfig(carriers=28, cover_psnr=30.0, table_power=0.0),
}


def _family(cfg: object) -> str:
    for name, (cfg_cls, _) in FAMILIES.items():
        if type(cfg) is cfg_cls:
            return name
    raise TypeError(f"not a network config: {cfg!r}")


def build_net(cfg: object) -> Network:
    """A freshly initialised network for ``cfg`` (any design's config)."""
    return FAMILIES[_family(cfg)][1](cfg)  # type: ignore[call-arg, return-value]


def arch_from_json(text: str) -> object:
    """The config a checkpoint or model file stores. Raises ValueError/TypeError/KeyError if bad."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("architecture is not a JSON object")
    family = data.pop("family", "baluja")
    if family not in FAMILIES:
        raise ValueError(f"unknown network family {family!r}")
    return FAMILIES[family][0].from_json(json.dumps(data))


class Network(Protocol):
    """What every design offers (see :mod:`deepsteg.nets`), for type checking; the capabilities
    :class:`~deepsteg.methods.DeepModel` asks about are declared here, not probed."""

    cfg: Any
    #: Strength a conditioned network hides with when none is given.
    default_strength: float

    @property
    def conditioned(self) -> bool: ...

    @property
    def reveal_needs_strength(self) -> bool: ...

    def tile_edges(self, length: int, tile: int) -> list[int]: ...

    @property
    def align(self) -> int: ...

    @property
    def hide_margin(self) -> int: ...

    @property
    def reveal_margin(self) -> int: ...

    def hide(self, cover: torch.Tensor, secret: torch.Tensor, strength: Any = None) -> torch.Tensor: ...

    def reveal(self, stego: torch.Tensor, strength: Any = None) -> torch.Tensor: ...

    def macs_per_pixel(self) -> float: ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...

    def to(self, *args: Any, **kwargs: Any) -> Network: ...

    def eval(self) -> Network: ...

    def train(self, mode: bool = True) -> Network: ...
