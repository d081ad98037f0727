"""The one measurement every figure comes from: hide, the stego image through an 8-bit PNG, reveal.

Training validation, ``eval`` and ``analyze`` call :func:`hide_and_reveal`; ``robustness``,
``detect`` and the refinement benchmark, which attack or time the stego file itself, call
:func:`hide_as_png`. Every figure is thus measured on what a saved file gives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepsteg.images import png_roundtrip, read_image, write_png
from deepsteg.methods import HidingMethod


@dataclass
class Measured:
    stego: np.ndarray  # uint8 (H, W, 3), as read back from its PNG
    revealed: np.ndarray  # uint8 (H, W, 3), as read back from its PNG
    seconds: float  # hide + reveal, without the PNG coding


def hide_as_png(method: HidingMethod, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
    """The stego image as a saved PNG file gives it back (for attacks on the file itself)."""
    return png_roundtrip(method.hide(cover, secret))


def hide_and_reveal(method: HidingMethod, cover: np.ndarray, secret: np.ndarray,
                    files: Path | None = None, name: str = "pair", cover_psnr: float | None = None) -> Measured:
    """Hide ``secret`` in ``cover`` (at the ``cover_psnr`` target, if given: a target outside the
    method's reach on this pair is met by its nearest setting, and the miss shows in the figures), write the stego image
    as PNG and read it back, reveal from that, and pass the revealed secret through a PNG too.
    With ``files``, the PNG files are written there (``NAME-stego.png``, ``NAME-revealed.png``);
    else the round trips are in memory."""
    t0 = time.perf_counter()
    revealer = method
    if cover_psnr is None:
        stego = method.hide(cover, secret)
    else:
        stego, revealer = method.hide_at(cover, secret, cover_psnr, nearest=True)
    seconds = time.perf_counter() - t0
    stego = _through_png(stego, files, f"{name}-stego.png")  # the file, as reveal will read it
    t0 = time.perf_counter()
    revealed = revealer.reveal(stego)
    seconds += time.perf_counter() - t0
    return Measured(stego, _through_png(revealed, files, f"{name}-revealed.png"), seconds)


def _through_png(image: np.ndarray, folder: Path | None, filename: str) -> np.ndarray:
    if folder is None:
        return png_roundtrip(image)
    return read_image(write_png(image, folder / filename))
