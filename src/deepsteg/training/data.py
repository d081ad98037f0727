"""Training data: every image under a folder, random crops, and random cover/secret pairs.

Images are decoded once into memory as uint8 ``(H, W, 3)`` arrays (greyscale, palette and
alpha images converted to RGB; unreadable files skipped with a warning and counted).
A training batch is a pure function of ``(seed, step)``: the images of epoch ``e`` are a
permutation drawn from ``seed`` and ``e`` (reseeded per epoch), consecutive images of it
form the cover/secret pairs, and crops and flips come from a generator seeded by
``(seed, step)``. Resuming at a step therefore sees exactly the batches an uninterrupted
run would, and data-parallel ranks take disjoint slices of the same global batch.

Photos rarely hold flat saturated colour (logos, signs, graphics, screenshots), the case where
a hiding network's changes are cut by the clamp at black or white. ``saturate`` is the share
of covers that get such patches painted in (:func:`paint_saturated`), from a generator of
its own, so ``saturate=0`` leaves every batch as it was.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.images import read_image


def load_images(paths: list[Path], progress: bool = True) -> tuple[list[np.ndarray], list[Path], list[Path]]:
    """Decode ``paths``; returns (images, their paths, skipped paths). Bad files warn on stderr."""
    images, kept, skipped = [], [], []
    for p in tqdm(paths, desc="loading images", unit="img", disable=not progress, file=sys.stderr):
        try:
            images.append(read_image(p))
            kept.append(p)
        except DeepStegError as e:
            skipped.append(p)
            tqdm.write(f"warning: skipped {e}", file=sys.stderr)
    return images, kept, skipped


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size`` x ``size`` crop at a random place, randomly flipped left-right.

    An image with a side below ``size`` is first scaled up (bicubic) so that side fits.
    """
    h, w = image.shape[:2]
    if min(h, w) < size:
        scale = size / min(h, w)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        image = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BICUBIC))
        h, w = nh, nw
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    crop = image[y:y + size, x:x + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def paint_saturated(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 ``(S, S, 3)`` -> a copy with 1-3 rectangles (a quarter to all of each side) of
    saturated colour: each channel at 0 or 255 (one in five at a random level), plus the
    crop's own texture there at a random contrast from none (flat) to full, then clipped."""
    out = crop.astype(np.float32)
    size = crop.shape[0]
    for _ in range(int(rng.integers(1, 4))):
        h, w = (int(rng.integers(size // 4, size + 1)) for _ in range(2))
        y, x = int(rng.integers(0, size - h + 1)), int(rng.integers(0, size - w + 1))
        level = np.where(rng.random(3) < 0.8, 255.0 * rng.integers(0, 2, 3), rng.integers(0, 256, 3))
        box = out[y:y + h, x:x + w]
        out[y:y + h, x:x + w] = level + (box - box.mean((0, 1))) * rng.random()
    return np.clip(out, 0, 255).round().astype(np.uint8)


@dataclass
class PairSampler:
    """Cover/secret crop pairs from a list of images, a pure function of (seed, step)."""

    images: list[np.ndarray]
    crop: int
    seed: int
    saturate: float = 0.0  # share of covers given saturated patches (paint_saturated)

    def __post_init__(self) -> None:
        if len(self.images) < 2:
            raise DeepStegError(f"need at least 2 readable training images, found {len(self.images)}")
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch, 1]).permutation(len(self.images))}
        return self._perms[epoch]

    def batch(self, step: int, batch: int, rank: int = 0, world: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Covers and secrets, uint8 ``(batch // world, crop, crop, 3)`` each, for this rank.

        ``batch`` is the global batch; rank ``r`` of ``world`` gets pairs ``r::world`` of it.
        """
        n = len(self.images)
        rng = np.random.default_rng([self.seed, step, 2])
        crops = []
        for j in range(2 * batch):
            g = step * 2 * batch + j
            img = self.images[self._perm(g // n)[g % n]]
            crops.append(random_crop(img, self.crop, rng))  # every rank draws all: same rng stream
        pairs = np.stack(crops).reshape(batch, 2, self.crop, self.crop, 3)
        if self.saturate > 0:
            paint = np.random.default_rng([self.seed, step, 4])
            for i in np.flatnonzero(paint.random(batch) < self.saturate):
                pairs[i, 0] = paint_saturated(pairs[i, 0], paint)
        pairs = pairs[rank::world]
        return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
