"""Cover/secret pairs and image discovery, shared by hiding, training and evaluation.

A pair is always a :class:`Pair` (name, cover, secret: uint8 ``(H, W, 3)`` arrays of one size).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepsteg.errors import DeepStegError
from deepsteg.images import read_image, resize_to

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".bmp", ".tif", ".tiff"}


def find_images(root: str | Path) -> list[Path]:
    """Every image file (by suffix) under ``root``, recursively, sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise DeepStegError(f"{root}: not a folder of images")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


@dataclass
class Pair:
    name: str
    cover: np.ndarray  # uint8 (H, W, 3)
    secret: np.ndarray  # uint8 (H, W, 3), the cover's size


def _landscape(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(1, 0, 2)) if a.shape[0] > a.shape[1] else a


def fit_secret(cover: np.ndarray, secret: np.ndarray, rotate: bool = False,
               notes: list[str] | None = None) -> np.ndarray:
    """The secret at the cover's size: with ``rotate``, first turned 90 degrees if its
    orientation differs from the cover's (evaluation pairs); then resized (Lanczos) if the
    sizes still differ, with a note appended to ``notes`` when given (what ``hide`` does)."""
    if rotate and (cover.shape[0] > cover.shape[1]) != (secret.shape[0] > secret.shape[1]) and \
            cover.shape[0] != cover.shape[1] and secret.shape[0] != secret.shape[1]:
        secret = np.ascontiguousarray(np.rot90(secret))
    h, w = cover.shape[:2]
    if secret.shape[:2] != (h, w):
        if notes is not None:
            notes.append(f"secret {secret.shape[1]}x{secret.shape[0]} resized to the cover's {w}x{h}")
        secret = resize_to(secret, (w, h))
    return secret


def load_pairs(covers: str | Path, secrets: str | Path | None = None, limit: int | None = None,
               protocol: bool = False, skipped: list[str] | None = None) -> list[Pair]:
    """Pairs from ``covers`` and ``secrets`` (both sorted by name, zipped), or, with no
    ``secrets``, the first half of the sorted images of ``covers`` as covers and the second
    half as secrets.

    ``protocol=True`` is the validation protocol: every portrait image is transposed to
    landscape first, and a pair of different sizes is cropped to the common size.

    With ``skipped``, a pair with an image that cannot be read is left out and the reason
    appended there (up to ``limit`` usable pairs are taken); DeepStegError only when no pair is
    left. Without it, the first unreadable image raises DeepStegError.
    """
    if limit is not None and limit < 1:
        raise DeepStegError(f"--limit must be >= 1, got {limit}")
    cpaths = find_images(covers)
    if secrets is None:
        half = len(cpaths) // 2
        cpaths, spaths = cpaths[:half], cpaths[half:2 * half]
    else:
        spaths = find_images(secrets)
    pairs: list[Pair] = []
    for cp, sp in zip(cpaths, spaths):
        if limit and len(pairs) == limit:
            break
        try:
            c, s = read_image(cp), read_image(sp)
        except DeepStegError as e:
            if skipped is None:
                raise
            skipped.append(f"pair {cp.name} / {sp.name} skipped: {e}")
            continue
        if protocol:
            c, s = _landscape(c), _landscape(s)
            h, w = min(c.shape[0], s.shape[0]), min(c.shape[1], s.shape[1])
            c, s = np.ascontiguousarray(c[:h, :w]), np.ascontiguousarray(s[:h, :w])
        else:
            s = fit_secret(c, s, rotate=True)
        pairs.append(Pair(cp.stem, c, s))
    if not pairs:
        raise DeepStegError(f"no usable cover/secret pairs found in {covers}" + (f" and {secrets}" if secrets else ""))
    return pairs
