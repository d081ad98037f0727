"""A JPEG-robust design: a learned encoder and decoder around a dither-modulation hiding layer.

Data flow::

    secret (N,3,H,W) --8x8 blocks--> encoder --> phases v (N,K,H/8,W/8), periods -+
                                                                                  +--> dither layer --> stego
    cover  (N,3,H,W) -------------------------------------------------------------+
    stego  (N,3,H,W) --luma 8x8 DCT--> u = c / step --> (sin 2 pi u, cos 2 pi u) --+--> decoder --> secret
           (N,3,H,W) --8x8 blocks------------------------------------------------+

The hiding layer (no weights) is dither modulation (quantisation index modulation, Chen and
Wornell 2001) on JPEG's own grid: in every 8x8 block of the cover's luma it takes the ``K``
lowest-frequency DCT coefficients (zigzag order) and moves each, by less than half a step,
to the nearest value whose position within its step is the encoder's phase:
``c' = c + step * wrap(v - c / step)``, ``wrap(x) = x - round(x)``. The same change is added
to R, G and B, which changes luma alone. The reveal reads each coefficient's phase back (and the
stego image's blocks, which show where clipping at 0 or 255 or a flat block made a phase
unreliable). The cover drops out of the phase: taking it out is what a convolutional network
finds hard to learn (the cover's coefficients are tens of times larger than the change).

JPEG at quality ``q`` rounds each luma coefficient to a multiple of its quantisation step,
the JPEG luminance table scaled for ``q``. Each carrier's step is the quality-50 table to the
power ``table_power`` times one factor. With power 1 (the default) every carrier loses the same
share of its phase to a JPEG of a given quality (at quality 75 at most a tenth of a period, for
the default cover PSNR); with power 0 all steps are equal, which passes more through a JPEG for
the same cover cost (:meth:`DitherConfig.steps`). The factor is set by the config's
``cover_psnr``: changes spread evenly over half a step either way cost
``sum(step**2) / 12 / 64`` per pixel. Prep and reveal are
:class:`~deepsteg.nets.layers.MultiKernelConv` stacks on 8x8 pixel blocks (192 channels
per position); they learn to compress the secret into ``K`` phases per block and to undo
that, trained as a pair through the real JPEG.

The steps fix the cover PSNR for phases spread evenly over a period (``cover_psnr``). The
cover term of the loss reaches only the encoder, which never sees the cover, but a cover's
higher-frequency coefficients are mostly small against their step: phases near 0 change them
less, so the encoder can trade phases spread less widely (less hidden) for a cleaner cover,
and ``beta`` sets that trade as in Baluja's loss.

The encoder's last convolution is the hiding network's learnt part. Gradients: ``round``
passes none, so ``wrap`` has slope 1 and the phase reaches the reveal one to one through a
channel whose luma gradient is the identity.

All images are float ``(N, 3, H, W)`` in [0, 1]; sides that are not multiples of 8 are
padded (edge replication) and cropped back. The dither layer and the DCTs run in float32.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from deepsteg.jpeg import BLOCK, LUMA, LUMA_Q50, dct_basis, zigzag
from deepsteg.nets.layers import final_conv, multi_kernel_stack, run_stack
from deepsteg.tiles import every_tile


def wrap(x: torch.Tensor) -> torch.Tensor:
    """``x`` minus its nearest integer, in [-0.5, 0.5]; slope 1 (``round`` passes no gradient)."""
    return x - torch.round(x)


@dataclass(frozen=True)
class DitherConfig:
    """``carriers``: luma DCT coefficients per 8x8 block that carry a phase (zigzag order from
    DC); ``cover_psnr``: the cover PSNR (dB) the steps are set for; ``widths``, ``prep_layers``,
    ``reveal_layers``: the encoder's and decoder's multi-kernel stacks (on 8x8 blocks);
    ``table_power``: the steps' shape, in proportion to the quality-50 table to this power (1: as
    the table, so a JPEG takes every carrier's phase in the same share; 0: all steps equal, which
    carries the most through a JPEG for a given cover PSNR, :meth:`steps`); ``window``: the largest
    side (pixels) of the windows an image is cut into (:func:`window_edges`), each hidden and
    revealed on its own as the training crops were (0: the whole image at once)."""

    carriers: int = 15
    cover_psnr: float = 34.0
    widths: tuple[int, int, int] = (256, 64, 0)
    prep_layers: int = 6
    reveal_layers: int = 6
    window: int = 128
    table_power: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.widths, (tuple, list)) or len(self.widths) != 3 or not all(
                isinstance(w, int) and not isinstance(w, bool) and 0 <= w <= 1024 for w in self.widths) \
                or sum(self.widths) == 0:
            raise ValueError(f"widths must be three ints in 0..1024, not all 0, got {self.widths!r}")
        object.__setattr__(self, "widths", tuple(self.widths))
        for name, top in (("carriers", BLOCK * BLOCK), ("prep_layers", 32), ("reveal_layers", 32)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise ValueError(f"{name} must be an int in 1..{top}, got {value!r}")
        if not isinstance(self.cover_psnr, (int, float)) or not 20 <= self.cover_psnr <= 60:
            raise ValueError(f"cover_psnr must be a number in 20..60 dB, got {self.cover_psnr!r}")
        if not isinstance(self.window, int) or isinstance(self.window, bool) or self.window < 0 \
                or self.window % BLOCK:
            raise ValueError(f"window must be 0 or a positive multiple of {BLOCK}, got {self.window!r}")
        if not isinstance(self.table_power, (int, float)) or isinstance(self.table_power, bool) \
                or not 0 <= self.table_power <= 2:
            raise ValueError(f"table_power must be a number in 0..2, got {self.table_power!r}")

    @property
    def channels(self) -> int:
        return sum(self.widths)

    def steps(self) -> list[float]:
        """The ``carriers`` dither steps in grey levels (0..255 units): the quality-50 luma table
        at the carriers to the power :attr:`table_power`, times the factor that gives
        :attr:`cover_psnr`.

        Why equal steps carry more: a JPEG's rounding moves a carrier by up to half its
        quantisation step ``q``, so a carrier of step ``s`` passes about ``log2(s / q)`` bits,
        at a cover cost of ``s**2 / 12``. For a fixed cover cost that sum is largest with all
        steps equal; steps in the table's proportion give the low frequencies, which JPEG
        quantises finely, less than they could carry (at quality 75, 28 carriers and a 33 dB
        cover: about 41 bits per block with equal steps, 31 with the table's)."""
        table = [float(LUMA_Q50[i]) ** self.table_power for i in zigzag()[: self.carriers]]
        mse = 255.0**2 / 10 ** (self.cover_psnr / 10)  # per pixel = sum(step^2) / 12 / 64
        factor = math.sqrt(mse * 12 * BLOCK * BLOCK / sum(t * t for t in table))
        return [t * factor for t in table]

    def to_json(self) -> str:
        return json.dumps({"family": "dither", **dataclasses.asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DitherConfig:
        data = json.loads(text)
        if data.pop("family", "dither") != "dither":
            raise ValueError("not a dither-modulation architecture")
        data["widths"] = tuple(data["widths"])
        if data.pop("pixel_head", 0):  # older files name a reveal stage that is gone (0: none)
            raise ValueError("a dither design with a pixel head is no longer supported")
        return cls(**data)


def window_edges(length: int, size: int) -> list[int]:
    """Where the windows along a side of ``length`` pixels start, and ``length`` at the end:
    as few windows as keep each within ``size`` pixels (a multiple of 8), their sides whole
    8x8 blocks as nearly equal as may be (the larger first; the last one ends in the image's
    partial block, if any). Equal windows leave no window mostly padding: cut in ``size``
    steps, a 321-pixel side ends in a window of 65 pixels and 63 of padding, half of whose
    carriers the crop drops, unlike any training crop; windows of 112, 112 and 97
    pixels instead give more secret after a JPEG (docs/history/robust-models.md, "Balanced windows")."""
    blocks = -(-length // BLOCK)
    count = -(-blocks // (size // BLOCK))
    base, larger = divmod(blocks, count)
    edges = [0]
    for i in range(count):
        edges.append(edges[-1] + (base + (i < larger)) * BLOCK)
    edges[-1] = length
    return edges


def window_tile_edges(length: int, size: int, tile: int) -> list[int]:
    """Window edges (:func:`window_edges`) grouped into tiles of at most ``tile`` pixels (a
    window larger than that is a tile of its own): only where a tile's own windows are the
    whole side's, so that each tile, hidden or revealed on its own, computes what the whole
    image does."""
    edges = window_edges(length, size)
    cuts, start = [0], 0
    for i in range(1, len(edges)):
        span = [e - edges[start] for e in edges[start:i + 1]]
        if i - 1 > start and (edges[i] - edges[start] > tile or window_edges(span[-1], size) != span):
            cuts.append(edges[i - 1])
            start = i - 1
    cuts.append(length)
    return cuts


def in_windows(fn: Callable[..., torch.Tensor], size: int, *images: torch.Tensor) -> torch.Tensor:
    """``fn`` run on every window of ``images`` (float ``(N,C,H,W)``, the same N, H, W; windows
    of at most ``size`` x ``size`` pixels, :func:`window_edges`) as on separate images, windows
    of one shape in one batch, its outputs ``(N*windows,C',h,w)`` put back in place:
    ``(N,C',H,W)``. The last partial 8x8 block is padded by edge replication and cropped back;
    ``size`` 0 runs ``fn`` on the whole images."""
    if not size:
        return fn(*images)
    n, _, h, w = images[0].shape
    rows, cols = window_edges(h, size), window_edges(w, size)
    pad = (0, -w % BLOCK, 0, -h % BLOCK)
    if any(pad):
        images = tuple(F.pad(x, pad, mode="replicate") for x in images)
    rows[-1], cols[-1] = h + pad[3], w + pad[1]
    shapes: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for y0, y1 in zip(rows, rows[1:]):
        for x0, x1 in zip(cols, cols[1:]):
            shapes.setdefault((y1 - y0, x1 - x0), []).append((y0, x0))
    out: torch.Tensor | None = None
    for (wh, ww), corners in shapes.items():
        batch = [torch.cat([x[..., y:y + wh, x0:x0 + ww] for y, x0 in corners]) for x in images]
        res = fn(*batch)
        if out is None:
            out = res.new_empty((n, res.shape[1], rows[-1], cols[-1]))
        for k, (y, x0) in enumerate(corners):
            out[..., y:y + wh, x0:x0 + ww] = res[k * n:(k + 1) * n]
    assert out is not None
    return out[..., :h, :w]


class DitherStegoNet(nn.Module):
    """Encoder, dither-modulation hiding layer and decoder, trained as a pair (module docstring)."""

    def __init__(self, cfg: DitherConfig | None = None):
        super().__init__()
        self.cfg = cfg or DitherConfig()
        c, k = self.cfg, self.cfg.carriers
        self.prep = multi_kernel_stack(3 * BLOCK**2, c.widths, c.prep_layers)
        self.output = nn.Conv2d(c.channels, k, 3, padding=1)  # -> phases (the hiding network's weights)
        self.reveal_layers = multi_kernel_stack(2 * k + 3 * BLOCK**2, c.widths, c.reveal_layers)
        self.reveal_output = nn.Conv2d(c.channels, 3 * BLOCK**2, 3, padding=1)
        basis = dct_basis()[zigzag()[:k]]  # (K, 64)
        luma = torch.tensor(LUMA).view(1, 3, 1, 1)
        self.register_buffer("basis", basis, persistent=False)
        self.register_buffer("step", torch.tensor(c.steps()).view(1, k, 1, 1), persistent=False)
        self.register_buffer("luma", luma, persistent=False)

    #: Tiles start on the block grid (:meth:`tile_edges` cuts them between windows).
    align = BLOCK
    #: The cover PSNR is set by the design, not by a strength.
    conditioned = False
    reveal_needs_strength = False
    default_strength = 0.5

    def tile_edges(self, length: int, tile: int) -> list[int]:
        """Where tiles of about ``tile`` pixels start along a side of ``length`` pixels, and
        ``length`` at the end: between whole windows (:func:`window_tile_edges`), each
        window being independent, else every ``tile`` pixels."""
        if self.cfg.window:
            return window_tile_edges(length, self.cfg.window, tile)
        return every_tile(length, tile)

    @property
    def hide_margin(self) -> int:
        """Receptive-field radius of :meth:`hide` in pixels (2 blocks per layer, 1 for the output);
        0 with windows, which see nothing outside themselves."""
        return 0 if self.cfg.window else BLOCK * (2 * self.cfg.prep_layers + 1) + BLOCK - 1

    @property
    def reveal_margin(self) -> int:
        """As :attr:`hide_margin`."""
        return 0 if self.cfg.window else BLOCK * (2 * self.cfg.reveal_layers + 1) + BLOCK - 1

    def macs_per_pixel(self) -> float:
        """Convolution weights once per 64 pixels, and the three partial DCTs (K each per pixel)."""
        blocks = sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Conv2d))
        return blocks / BLOCK**2 + 3 * self.cfg.carriers

    def _pad(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        pad = (0, -w % BLOCK, 0, -h % BLOCK)
        return F.pad(image, pad, mode="replicate") if any(pad) else image

    def coefficients(self, image: torch.Tensor) -> torch.Tensor:
        """Image ``(N,3,H,W)`` in [0,1], sides multiples of 8 -> the carriers' luma DCT
        coefficients ``(N,K,H/8,W/8)`` in grey levels, float32."""
        y = (image.float() * self.luma).sum(1, keepdim=True) * 255.0
        return torch.einsum("kp,nphw->nkhw", self.basis, F.pixel_unshuffle(y, BLOCK))

    def phases(self, secret: torch.Tensor) -> torch.Tensor:
        """Secret ``(N,3,H,W)`` in [0,1], sides multiples of 8 -> phases ``(N,K,H/8,W/8)`` in
        periods: any real number, of which only the fractional part is hidden (no squashing
        function, so no phase ever stops passing gradient)."""
        features = run_stack(self.prep, F.pixel_unshuffle(secret, BLOCK))
        return final_conv(self.output, features, relu=False)

    def hide(self, cover: torch.Tensor, secret: torch.Tensor, strength: None = None) -> torch.Tensor:
        """Cover and secret ``(N,3,H,W)`` in [0,1] -> stego ``(N,3,H,W)`` float32, unclamped;
        window by window (:attr:`DitherConfig.window`)."""
        if strength is not None:
            raise ValueError(f"this network is not conditioned on a strength (got {strength})")
        return in_windows(self._hide_whole, self.cfg.window, cover.float(), secret)

    def _hide_whole(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        h, w = cover.shape[-2:]
        cover = self._pad(cover.float())
        v = self.phases(self._pad(secret))
        with torch.autocast(cover.device.type, enabled=False):
            c = self.coefficients(cover)
            change = self.step * wrap(v.float() - c / self.step)  # (N,K,h,w) grey levels
            luma = F.pixel_shuffle(torch.einsum("kp,nkhw->nphw", self.basis, change), BLOCK)
            return (cover + luma / 255.0)[..., :h, :w]

    def reveal(self, stego: torch.Tensor, strength: None = None) -> torch.Tensor:
        """Stego ``(N,3,H,W)`` in [0,1] -> revealed secret ``(N,3,H,W)`` float32, unclamped;
        window by window."""
        if strength is not None:
            raise ValueError("the reveal network takes no strength")
        return in_windows(self._reveal_whole, self.cfg.window, stego.float())

    def _reveal_whole(self, stego: torch.Tensor) -> torch.Tensor:
        h, w = stego.shape[-2:]
        with torch.autocast(stego.device.type, enabled=False):
            stego = self._pad(stego.float())
            angle = 2 * math.pi * self.coefficients(stego) / self.step
            features = torch.cat([torch.sin(angle), torch.cos(angle), F.pixel_unshuffle(stego, BLOCK)], 1)
        hidden = run_stack(self.reveal_layers, features)
        secret = F.pixel_shuffle(final_conv(self.reveal_output, hidden, relu=False), BLOCK)
        return secret[..., :h, :w]

    def forward(self, cover: torch.Tensor, secret: torch.Tensor,
                channel: Callable[[torch.Tensor], torch.Tensor] | None = None,
                strength: None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(stego, revealed)``; ``channel`` acts on the stego image between hiding and reveal."""
        stego = self.hide(cover, secret, strength)
        return stego, self.reveal(channel(stego) if channel is not None else stego)
