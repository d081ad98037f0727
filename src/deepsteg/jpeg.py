"""JPEG, in one place: the standard's tables and 8x8 DCT, the one encoding the project writes
and attacks with, and the differentiable stand-in training and refinement learn through.

* **Tables and transform**: JPEG's quality-50 luminance table (:data:`LUMA_Q50`), the tables
  libjpeg (and so Pillow) scales from it for any quality (:func:`luma_table`), the zigzag order,
  the orthonormal 8x8 DCT-II (:func:`dct_basis`) and the JFIF luma weights. ``codec-qim`` and
  the dither designs place their carriers with these.
* **The real codec**: Pillow's baseline encoder with 4:2:0 chroma subsampling, what cameras,
  chat apps and social sites write: :func:`write_jpeg` (a file, atomically), :func:`roundtrip`
  (in memory, decoded: what ``deepsteg robustness`` and every JPEG check use) and
  :func:`real_batch` (a batch of tensors, on threads: what training and refinement receive).
* **The stand-in**: a differentiable JPEG (kornia's: colour transform, 4:2:0 chroma, 8x8 DCT, the
  standard tables scaled by the quality) whose gradient, with every rounding taken straight
  through, is the linear part (:func:`linear_part`): luma passes whole, chroma through its
  2x2 resampling. :func:`straight_through` gives the real encoder's pixels with that gradient
  (training's ``--distort jpeg``); :func:`identity_through` gives them with the identity as the
  gradient (a robust model's hide-time refinement). Kornia's own polynomial rounding surrogate
  has the slope ``3 t**2`` at a distance ``t`` from the nearest step, which vanishes on the many
  coefficients close to a multiple of their step: a run with it stalled where the codec taken
  straight through went on learning (docs/history/robust-models.md).

Images in memory are uint8 ``(H, W, 3)``; tensors are float ``(N, 3, H, W)`` in [0, 1], with
even sides for the stand-in.
"""

from __future__ import annotations

import functools
import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write
from deepsteg.images import as_uint8_rgb
from deepsteg.tensors import to_tensor, to_uint8

#: JPEG's block side.
BLOCK = 8
#: JPEG's luminance quantisation table for quality 50 (ITU-T T.81, Annex K), row-major.
LUMA_Q50 = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)
#: JFIF luma weights of R, G, B.
LUMA = (0.299, 0.587, 0.114)
#: The qualities the encoder takes (Pillow's scale).
QUALITIES = range(1, 101)
#: The quality ``deepsteg hide -o stego.jpg`` writes unless told otherwise.
DEFAULT_QUALITY = 90


def zigzag() -> list[int]:
    """Row-major indices of an 8x8 block in JPEG's zigzag order (lowest frequencies first)."""
    cells = [(i, j) for i in range(BLOCK) for j in range(BLOCK)]
    cells.sort(key=lambda c: (c[0] + c[1], c[0] if (c[0] + c[1]) % 2 else -c[0]))
    return [i * BLOCK + j for i, j in cells]


def dct_basis() -> torch.Tensor:
    """``(64, 64)`` float32 orthonormal 2-D DCT-II of an 8x8 block: coefficient ``u*8+v`` of
    pixels ``i*8+j`` is row ``u*8+v`` times the row-major block."""
    k = torch.arange(BLOCK, dtype=torch.float64)
    d = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * BLOCK)) * math.sqrt(2 / BLOCK)
    d[0] /= math.sqrt(2)
    return torch.kron(d, d).float()


def luma_table(quality: int) -> np.ndarray:
    """The luma quantisation steps ``(64,)`` float (row-major) of a libjpeg/Pillow JPEG at ``quality`` 1..100."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((np.array(LUMA_Q50) * scale + 50) // 100, 1, 255).astype(float)


def _save(array: np.ndarray, target: Path | io.BytesIO, quality: int) -> None:
    """The one JPEG encoding of the project: baseline, 4:2:0 chroma subsampling."""
    Image.fromarray(array, "RGB").save(target, format="JPEG", quality=quality, subsampling=2)


def write_jpeg(array: np.ndarray, path: str | os.PathLike, quality: int) -> Path:
    """Write a uint8 ``(H, W, 3)`` array as a JPEG at ``quality`` (1..100), atomically."""
    if quality not in QUALITIES:
        raise DeepStegError(f"JPEG quality must be in 1..100, got {quality}")
    a = as_uint8_rgb(array)
    return atomic_write(path, lambda tmp: _save(a, tmp, quality))


def roundtrip(array: np.ndarray, quality: int) -> np.ndarray:
    """A uint8 ``(H, W, 3)`` image encoded as :func:`write_jpeg` writes it, in memory, and decoded."""
    buf = io.BytesIO()
    _save(as_uint8_rgb(array), buf, quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


@functools.cache
def _codec_threads() -> ThreadPoolExecutor:
    """Threads for Pillow's codec, which releases the GIL: a large batch on a GPU machine is
    not held up by one CPU core encoding every image."""
    return ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="jpeg")


def real_batch(images: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """:func:`roundtrip` of each image ``(N, 3, H, W)`` at its integer ``quality`` ``(N,)``; no gradient."""
    decoded = _codec_threads().map(roundtrip, to_uint8(images), [int(q) for q in quality.tolist()])
    return to_tensor(np.stack(list(decoded))).to(images.device)


def stand_in(images: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """Kornia's differentiable JPEG of ``images`` at per-sample ``quality`` ``(N,)``."""
    from kornia.enhance import jpeg_codec_differentiable

    return jpeg_codec_differentiable(images.float().clamp(0, 1), quality.float())


def linear_part(images: torch.Tensor) -> torch.Tensor:
    """The stand-in with every rounding straight through, as far as the gradient sees it: RGB to
    YCbCr, the chroma planes halved (bilinear, antialiased) and doubled back, YCbCr to RGB."""
    from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb

    ycbcr = rgb_to_ycbcr(images.float())
    h, w = images.shape[-2:]
    chroma = F.interpolate(ycbcr[:, 1:], size=(h // 2, w // 2), mode="bilinear", align_corners=False, antialias=True)
    chroma = F.interpolate(chroma, size=(h, w), mode="bilinear", align_corners=False)
    return ycbcr_to_rgb(torch.cat([ycbcr[:, :1], chroma], 1))


def straight_through(images: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """The real encoder's pixels (:func:`real_batch`) with the gradient of :func:`linear_part`;
    ``quality`` integers ``(N,)``."""
    linear = linear_part(images)
    return linear + (real_batch(images, quality) - linear).detach()


def identity_through(images: torch.Tensor, quality: int) -> torch.Tensor:
    """The real encoder's pixels at ``quality`` with the identity as their gradient: a loss after
    it scores what a real JPEG leaves, and each pixel learns where a change reaches it at all."""
    decoded = real_batch(images.detach(), torch.full((images.shape[0],), quality))
    return images + (decoded - images).detach()
