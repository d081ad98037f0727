"""Inference of an invertible network at one strength: folded, fused, and streamed in row strips.

:class:`~deepsteg.nets.invertible.InvertibleStegoNet` is written for training: every hidden
layer applies its FiLM scale and shift as separate tensor operations, and a large image is
cut into tiles that each carry the network's whole receptive field (97 pixels) as margin,
recomputed by every neighbour. At inference the strength is fixed, so :class:`FoldedInvertible`

- folds each FiLM scale and shift (and ``phi``'s gain) into the convolution's weights and bias:
  ``(W x + b) * scale + shift == (scale W) x + (scale b + shift)``;
- keeps the weights in the compute dtype (bf16 where the CPU runs it natively) and
  channels_last, and fuses the LeakyReLU (and ``rho``'s tanh, its 1/clamp folded in too) into the
  convolution where oneDNN offers it;
- runs each coupling over the whole image in strips of :data:`STRIP_ROWS` Haar rows: a subnetwork
  reads its strip with a halo of ``depth`` rows, each convolution drops one halo row on each side
  (valid vertically, zero-padded horizontally), and rows outside the image are zeroed between
  layers, so every strip's output equals the whole-image output. The 56-channel activations
  live only for one strip, in the caches; the 12 Haar bands of each branch (float32, as in
  training) are updated in place.

The result equals :meth:`InvertibleStegoNet.hide` / ``reveal`` up to the compute dtype's
rounding. Images are float ``(N, 3, H, W)`` in [0, 1]; outputs are float32, unclamped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepsteg.nets.invertible import _HAAR, Films, InvertibleStegoNet, _Subnet, pad_to_even

#: Haar rows (2 image rows each) per strip: 64 rows of a 2000-position-wide image keep a
#: strip's activations within a few MiB (see benchmarks/speed.py for the effect on speed).
STRIP_ROWS = 64
LEAK = 0.2  # LeakyReLU slope of the subnetworks (as in nets.invertible)


def fused_convolutions(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether oneDNN's convolution with a fused activation runs ``dtype`` here (CPU builds with
    mkldnn; bfloat16 only where the CPU has the instructions oneDNN needs for it)."""
    return (device.type == "cpu" and torch.backends.mkldnn.is_available()
            and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
            and (dtype != torch.bfloat16 or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())))


def _haar_kernel(device: torch.device) -> torch.Tensor:
    """The Haar analysis of :func:`deepsteg.nets.invertible.haar` as a stride-2 convolution's weight
    ``(12, 1, 2, 2)`` (3 groups, one per colour); its transposed convolution is the synthesis."""
    return _HAAR.reshape(4, 1, 2, 2).repeat(3, 1, 1, 1).to(device)


def haar_bands(image: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` -> Haar bands ``(N, 12, ceil(H/2), ceil(W/2))`` float32 channels_last (odd sides
    padded by edge replication, as in training), computed in one pass into one tensor."""
    image = pad_to_even(image).float().contiguous(memory_format=torch.channels_last)
    bands = F.conv2d(image, _haar_kernel(image.device), stride=2, groups=3)
    # an image of batch 1 counts as channels_last whatever its batch stride, but the convolution
    # may still answer in NCHW (one from a uint8 array does): the strips need the channels last
    return bands.contiguous(memory_format=torch.channels_last) if bands.stride(1) != 1 else bands


def image_from_bands(bands: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The inverse of :func:`haar_bands`, cropped to ``h x w``: ``(N, 3, h, w)`` float32."""
    return F.conv_transpose2d(bands, _haar_kernel(bands.device), stride=2, groups=3)[..., :h, :w]


@dataclass(frozen=True)
class _Conv:
    """A 3x3 convolution, ``weight`` ``(out, in, 3, 3)`` channels_last and ``bias`` ``(out,)``, both in
    the compute dtype, and the activation that follows: ``"leaky_relu"``, ``"tanh"`` or ``"none"``."""

    weight: torch.Tensor
    bias: torch.Tensor
    activation: str


def _fold(sub: _Subnet, films: Films | None, gain: torch.Tensor | float, dtype: torch.dtype,
          output: str = "none") -> list[_Conv]:
    """``sub``'s convolutions with its FiLM ``(scale, shift)`` per hidden layer (batch 1) folded into
    their weights and biases, and its output multiplied by ``gain``, then passed through ``output``."""
    convs = [*sub.body, sub.output]
    folded = []
    for i, conv in enumerate(convs):
        w, b = conv.weight.detach().float(), conv.bias.detach().float()
        last = i == len(convs) - 1
        if films is not None and not last:
            scale, shift = (f.reshape(-1).float() for f in films[i])
            w, b = w * scale.view(-1, 1, 1, 1), b * scale + shift
        if last:
            w, b = w * gain, b * gain
        folded.append(_Conv(w.to(dtype).contiguous(memory_format=torch.channels_last), b.to(dtype),
                            output if last else "leaky_relu"))
    return folded


class _Strips:
    """Row strips of a Haar-band tensor ``(N, 12, h, w)`` (float32, channels_last) and the
    subnetworks that run on them."""

    def __init__(self, rows: int, dtype: torch.dtype, fused: bool):
        self.rows, self.dtype, self.fused = rows, dtype, fused

    def ranges(self, h: int) -> Iterator[tuple[int, int]]:
        for r0 in range(0, h, self.rows):
            yield r0, min(h, r0 + self.rows)

    def read(self, bands: torch.Tensor, r0: int, r1: int, halo: int) -> tuple[torch.Tensor, int, int]:
        """Rows ``r0 - halo .. r1 + halo`` of ``bands`` in the compute dtype, rows outside the image
        as zeros; with how many such rows lead and trail."""
        h = bands.shape[2]
        a, b = max(0, r0 - halo), min(h, r1 + halo)
        x = bands[:, :, a:b].to(self.dtype)
        top, bottom = halo - (r0 - a), halo - (b - r1)
        if top or bottom:
            x = F.pad(x, (0, 0, top, bottom))
        return x, top, bottom

    def run(self, convs: list[_Conv], x: torch.Tensor, top: int, bottom: int) -> torch.Tensor:
        """``convs`` on a strip read with a halo of ``len(convs)`` rows -> the strip's own rows."""
        for conv in convs:
            x = self._conv(conv, x)
            top, bottom = max(0, top - 1), max(0, bottom - 1)
            if conv.activation == "leaky_relu" and (top or bottom):  # the next layer's zero padding at the image's edge
                x[:, :, :top] = 0
                x[:, :, x.shape[2] - bottom:] = 0
        return x

    def _conv(self, conv: _Conv, x: torch.Tensor) -> torch.Tensor:
        leaky = conv.activation == "leaky_relu"
        if self.fused:
            return torch.ops.mkldnn._convolution_pointwise(
                x, conv.weight, conv.bias, [0, 1], [1, 1], [1, 1], 1, conv.activation, [LEAK] if leaky else [], "")
        x = F.conv2d(x, conv.weight, conv.bias, padding=(0, 1))
        return F.leaky_relu_(x, LEAK) if leaky else x.tanh_() if conv.activation == "tanh" else x


@dataclass(frozen=True)
class _Block:
    """One coupling block's three folded subnetworks (``rho`` gives ``tanh(rho / clamp)``) and its
    log-scale bound ``clamp``."""

    phi: list[_Conv]
    rho: list[_Conv]
    eta: list[_Conv]
    clamp: float


class FoldedInvertible:
    """An invertible network's hide and reveal at one ``strength`` (a conditioned network's; None
    for another), with its convolutions in ``dtype`` (bfloat16 or float32)."""

    def __init__(self, net: InvertibleStegoNet, strength: float | None = None,
                 dtype: torch.dtype = torch.float32, rows: int = STRIP_ROWS):
        device = next(net.parameters()).device
        with torch.no_grad():
            conditions = net._conditions(strength, 1, device)
            self.blocks = [
                _Block(_fold(b.phi, c and c.phi, c.gain.reshape(()) if c else 1.0, dtype),
                       _fold(b.rho, c and c.rho, 1 / b.clamp, dtype, output="tanh"),
                       _fold(b.eta, c and c.eta, 1.0, dtype), b.clamp)
                for b, c in zip(net.blocks, conditions)]
        self.halo = net.cfg.depth
        self.strips = _Strips(rows, dtype, fused_convolutions(device, dtype))

    def _add_update(self, y1: torch.Tensor, x2: torch.Tensor, block: _Block, sign: float) -> None:
        """``y1 += sign * phi(x2)``, strip by strip."""
        for r0, r1 in self.strips.ranges(y1.shape[2]):
            update = self.strips.run(block.phi, *self.strips.read(x2, r0, r1, self.halo))
            y1[:, :, r0:r1].add_(update, alpha=sign)

    def _scales(self, block: _Block, x: torch.Tensor, top: int, bottom: int, sign: float) -> torch.Tensor:
        """``exp(sign * s(y1))`` on a strip, float32 (``s = clamp * tanh(rho / clamp)``)."""
        return self.strips.run(block.rho, x, top, bottom).float().mul_(sign * block.clamp).exp_()

    def hide(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        """Cover and secret ``(N, 3, H, W)`` in [0, 1] -> stego ``(N, 3, H, W)`` float32, unclamped."""
        h, w = cover.shape[-2:]
        y1, y2 = haar_bands(cover), haar_bands(secret)
        for block in self.blocks:
            self._add_update(y1, y2, block, 1.0)
            for r0, r1 in self.strips.ranges(y1.shape[2]):
                x, top, bottom = self.strips.read(y1, r0, r1, self.halo)
                scales = self._scales(block, x, top, bottom, 1.0)
                y2[:, :, r0:r1].mul_(scales).add_(self.strips.run(block.eta, x, top, bottom))
        return image_from_bands(y1, h, w)

    def reveal(self, stego: torch.Tensor) -> torch.Tensor:
        """Stego ``(N, 3, H, W)`` in [0, 1] -> revealed secret ``(N, 3, H, W)`` float32, unclamped."""
        h, w = stego.shape[-2:]
        y1 = haar_bands(stego)
        y2 = torch.zeros_like(y1)
        for block in reversed(self.blocks):
            for r0, r1 in self.strips.ranges(y1.shape[2]):
                x, top, bottom = self.strips.read(y1, r0, r1, self.halo)
                scales = self._scales(block, x, top, bottom, -1.0)
                y2[:, :, r0:r1].sub_(self.strips.run(block.eta, x, top, bottom)).mul_(scales)
            self._add_update(y1, y2, block, -1.0)
        return image_from_bands(y2, h, w)
