"""Finding the strength that gives a cover PSNR target, cheaply on large photos.

A conditioned network's cover PSNR falls as its strength grows, so the strength for a target
is found by a bracketed search over one-pass hides (:func:`search_strength`). On a large photo
every try would be a full hide; there the search runs on a :class:`TileSample` instead (a few
tiles spread over the image, each hidden with a margin and measured in its centre), and one
full hide checks the result. The sample's PSNR and the whole image's differ by nearly the same
amount at every strength, so where the check misses, the search runs again on the sample for
the target moved by that difference, and the full hide is repeated once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from deepsteg.errors import DeepStegError
from deepsteg.methods.base import COVER_PSNR_TOLERANCE
from deepsteg.metrics import PSNR_IDENTICAL, psnr
from deepsteg.tiles import Box, grow_box

#: An image above this many pixels searches on a :class:`TileSample`.
SAMPLE_ABOVE = 1 << 20
#: The sample: a grid of ``SAMPLE_GRID x SAMPLE_GRID`` tiles of ``SAMPLE_TILE`` pixels a side, each
#: hidden with ``SAMPLE_MARGIN`` pixels of its surroundings (about 0.9 megapixels per try).
SAMPLE_GRID = 4
SAMPLE_TILE = 160
SAMPLE_MARGIN = 40

Image = np.ndarray | torch.Tensor  # uint8 (H, W, 3), or a float (1, 3, H, W) (a scrambled secret)


def search_strength(psnr_at: Callable[[float], float], target: float, tolerance: float = 0.1,
                    evaluations: int = 10, accept: float = COVER_PSNR_TOLERANCE, nearest: bool = False
                    ) -> tuple[float, float]:
    """The strength in [0, 1] whose cover PSNR ``psnr_at(strength)`` (falling as the strength grows)
    is ``target`` within ``tolerance`` dB: secant steps inside a bracket that shrinks at every
    step, alternating with bisection steps. Returns ``(strength, psnr)``, the closest found, once
    within ``tolerance`` or after ``evaluations`` hides; DeepStegError if the target lies outside
    ``psnr_at(1) .. psnr_at(0)`` or the closest is still more than ``accept`` dB off; with
    ``nearest``, the closest found instead of either error."""
    lo, hi = 0.0, 1.0
    p_lo, p_hi = psnr_at(lo), psnr_at(hi)
    if nearest and not p_hi < target < p_lo:
        return (lo, p_lo) if target >= p_lo else (hi, p_hi)
    if not p_hi - tolerance <= target <= p_lo + tolerance:
        raise DeepStegError(f"cover PSNR target {target:g} dB is outside this model's range on this image "
                            f"({p_hi:.2f} .. {p_lo:.2f} dB)")
    best = min(((lo, p_lo), (hi, p_hi)), key=lambda sp: abs(sp[1] - target))
    for i in range(evaluations - 2):
        if abs(best[1] - target) <= tolerance:
            break
        secant = lo + (hi - lo) * (p_lo - target) / (p_lo - p_hi) if p_lo != p_hi else (lo + hi) / 2
        s = secant if i % 2 == 0 else (lo + hi) / 2  # alternate: fast when smooth, safe when not
        p = psnr_at(s)
        if abs(p - target) < abs(best[1] - target):
            best = (s, p)
        if p > target:
            lo, p_lo = s, p
        else:
            hi, p_hi = s, p
    if abs(best[1] - target) > accept and not nearest:
        raise DeepStegError(f"cover PSNR target {target:g} dB not reached within {evaluations} hides "
                            f"(closest {best[1]:.2f} dB)")
    return best


def _crop(image: Image, box: Box) -> Image:
    y0, y1, x0, x1 = box
    return image[..., y0:y1, x0:x1] if isinstance(image, torch.Tensor) else image[y0:y1, x0:x1]


@dataclass(frozen=True)
class TileSample:
    """Tiles spread over an image: ``boxes`` of ``(outer, inner)`` pixel boxes ``(y0, y1, x0, x1)``;
    a tile is hidden whole (``outer``) and measured in its centre (``inner``)."""

    boxes: list[tuple[Box, Box]]

    @classmethod
    def of(cls, h: int, w: int, align: int = 1) -> TileSample:
        """:data:`SAMPLE_GRID` squared tiles, each centred in its cell of an ``h x w`` image, starting on
        multiples of ``align`` (a network's block grid)."""
        boxes = []
        for i in range(SAMPLE_GRID):
            for j in range(SAMPLE_GRID):
                y0, x0 = _start(h, i) // align * align, _start(w, j) // align * align
                inner = (y0, min(h, y0 + SAMPLE_TILE), x0, min(w, x0 + SAMPLE_TILE))
                boxes.append((grow_box(inner, SAMPLE_MARGIN, h, w), inner))
        return cls(boxes)

    def crops(self, image: Image) -> list[Image]:
        """Each tile's outer box of ``image``."""
        return [_crop(image, outer) for outer, _ in self.boxes]

    def psnr(self, covers: list[np.ndarray], stegos: list[np.ndarray]) -> float:
        """The PSNR (dB) of the tiles' centres together: uint8 crops of the cover and their stego images."""
        squared, count = 0.0, 0
        for (outer, inner), c, s in zip(self.boxes, covers, stegos):
            box = (inner[0] - outer[0], inner[1] - outer[0], inner[2] - outer[2], inner[3] - outer[2])
            d = c[box[0]:box[1], box[2]:box[3]].astype(np.float64) - s[box[0]:box[1], box[2]:box[3]]
            squared, count = squared + float(np.sum(d * d)), count + d.size
        mse = squared / max(count, 1)
        return PSNR_IDENTICAL if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _start(length: int, cell: int) -> int:
    """Where the tile of grid cell ``cell`` starts along a side of ``length`` pixels."""
    centre = (2 * cell + 1) * length // (2 * SAMPLE_GRID)
    return max(0, min(length - SAMPLE_TILE, centre - SAMPLE_TILE // 2))


Hide = Callable[[float, np.ndarray, Image], np.ndarray]


def find_strength(hide: Hide, cover: np.ndarray, secret: Image, target: float, align: int = 1,
                  nearest: bool = False) -> tuple[float, np.ndarray]:
    """The strength whose one-pass stego image of ``cover`` has the cover PSNR ``target``, and that
    stego image: ``(strength, stego)``. ``hide(strength, cover, secret)``: a one-pass stego image,
    uint8 ``(h, w, 3)``, of any crop of ``cover`` and ``secret`` (uint8 ``(H, W, 3)``, or a float
    ``(1, 3, H, W)``). An image above :data:`SAMPLE_ABOVE` pixels is searched on tiles starting on
    multiples of ``align`` (:func:`search_large`). Raises DeepStegError as :func:`search_strength`."""
    if cover.shape[0] * cover.shape[1] > SAMPLE_ABOVE:
        return search_large(hide, cover, secret, target, align, nearest)
    tried: dict[float, np.ndarray] = {}  # strength -> its stego image

    def psnr_at(strength: float) -> float:
        tried[strength] = hide(strength, cover, secret)
        return psnr(cover, tried[strength])

    strength, _ = search_strength(psnr_at, target, nearest=nearest)
    return strength, tried[strength]


def search_large(hide: Hide, cover: np.ndarray, secret: Image, target: float, align: int, nearest: bool
                 ) -> tuple[float, np.ndarray]:
    """:func:`find_strength` on a large image: searched on a :class:`TileSample` and checked by full
    hides (at most two). DeepStegError as :func:`search_strength`, or if the full image misses the
    target by more than :data:`COVER_PSNR_TOLERANCE` after the second hide (unless ``nearest``)."""
    sample = TileSample.of(cover.shape[0], cover.shape[1], align=align)
    covers = [np.asarray(c) for c in sample.crops(cover)]
    secrets = sample.crops(secret)
    measured: dict[float, float] = {}

    def sample_psnr(strength: float) -> float:
        if strength not in measured:
            measured[strength] = sample.psnr(covers, [hide(strength, c, s) for c, s in zip(covers, secrets)])
        return measured[strength]

    def moved(shift: float) -> Callable[[float], float]:
        return lambda strength: sample_psnr(strength) + shift

    offset = 0.0  # the full image's PSNR minus the sample's, once a full hide measured it
    for attempt in range(2):
        strength, _ = search_strength(moved(offset), target, nearest=nearest or attempt > 0)
        stego = hide(strength, cover, secret)
        reached = psnr(cover, stego)
        if abs(reached - target) <= 0.1:
            break
        offset = reached - sample_psnr(strength)
    if abs(reached - target) > COVER_PSNR_TOLERANCE and not nearest:
        raise DeepStegError(f"cover PSNR target {target:g} dB not reached (closest {reached:.2f} dB)")
    return strength, stego
