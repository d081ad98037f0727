"""What happens to the stego image between hiding and revealing, as a differentiable training channel.

Every stego image is first clamped to [0, 1] (with the clamp's true gradient: a change past
black or white reaches nothing, so the secret's loss does not ask for one) and rounded to 8
bits (straight-through: the PNG file). A distortion
spec then adds, per sample, one of the attacks a photo meets on its way (``deepsteg train
--distort jpeg,noise,resize``):

* ``jpeg``: Pillow's real JPEG encoder (4:2:0, what ``deepsteg robustness`` and ``hide -o
  stego.jpg`` write) at an integer quality drawn per sample from 50..95 (``--jpeg-quality``),
  with the gradient of the differentiable stand-in's linear part
  (:func:`deepsteg.jpeg.straight_through`). The reveal network learns from the artefacts the
  real encoder leaves; the hiding network learns where the codec keeps nothing.
* ``noise``: Gaussian noise of a standard deviation drawn from 0..2 grey levels;
* ``resize``: bilinear down-scaling to a factor drawn from 0.5..1 and back up.

Each sample meets one distortion chosen uniformly among the spec's, or none with
probability ``1 / (len(spec) + 1)`` (the clean channel stays part of the training).
Images are float ``(N, 3, H, W)`` in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deepsteg.jpeg import straight_through
from deepsteg.tensors import quantize_8bit

DISTORTIONS = ("jpeg", "noise", "resize")
JPEG_QUALITY = (50, 95)
NOISE_SIGMA = 2.0  # grey levels, at most
RESIZE_FACTOR = (0.5, 1.0)


def parse_spec(spec: str | None) -> tuple[str, ...]:
    """``"jpeg,noise"`` -> ``("jpeg", "noise")``; ValueError for an unknown name."""
    names = tuple(s.strip() for s in (spec or "").split(",") if s.strip())
    bad = [n for n in names if n not in DISTORTIONS]
    if bad:
        raise ValueError(f"unknown distortion {bad[0]!r}; choose from {', '.join(DISTORTIONS)}")
    return tuple(dict.fromkeys(names))


def _resize(images: torch.Tensor, factor: float) -> torch.Tensor:
    h, w = images.shape[-2:]
    small = F.interpolate(images, size=(max(1, round(h * factor)), max(1, round(w * factor))), mode="bilinear",
                          align_corners=False, antialias=True)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


class Channel:
    """``channel(stego) -> received``: 8-bit rounding, then the spec's distortions per sample."""

    def __init__(self, spec: tuple[str, ...] = (), noise: float = 0.0, generator: torch.Generator | None = None,
                 jpeg_quality: tuple[int, int] = JPEG_QUALITY):
        self.spec = spec
        self.jpeg_quality = jpeg_quality  # (lo, hi): each JPEG sample's integer quality, uniform
        self.noise = noise  # fixed extra noise on every sample (``--noise``), 0-255 scale
        self.generator = generator

    def _uniform(self, n: int, lo: float, hi: float, device: torch.device) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.generator).to(device)

    def __call__(self, stego: torch.Tensor) -> torch.Tensor:
        received = quantize_8bit(stego.clamp(0.0, 1.0))
        if self.noise > 0:
            received = received + torch.randn_like(received) * (self.noise / 255.0)
        if not self.spec:
            return received
        n, device = received.shape[0], received.device
        choice = torch.randint(0, len(self.spec) + 1, (n,), generator=self.generator).to(device)
        out = received.clone()
        for k, kind in enumerate(self.spec, start=1):
            idx = (choice == k).nonzero().flatten()
            if idx.numel():
                out[idx] = self._apply(kind, received[idx])
        return out

    def _apply(self, kind: str, x: torch.Tensor) -> torch.Tensor:
        n, device = x.shape[0], x.device
        if kind == "jpeg":
            lo, hi = self.jpeg_quality
            return straight_through(x, torch.randint(lo, hi + 1, (n,), generator=self.generator).to(device))
        if kind == "noise":
            sigma = self._uniform(n, 0.0, NOISE_SIGMA, device).view(n, 1, 1, 1)
            return x + torch.randn(x.shape, generator=self.generator).to(device) * (sigma / 255.0)
        return torch.cat([_resize(x[i:i + 1], float(f)) for i, f in enumerate(self._uniform(n, *RESIZE_FACTOR, device))])
