"""Traces of an earlier JPEG in a cover, and the fix.

A decoded JPEG keeps its quantisation: the 8x8 block DCT of its luma, on the JPEG grid, has
coefficients close to multiples of each frequency's quantisation step (Fan and de Queiroz,
"Identification of bitmap compression history: JPEG detection and quantizer estimation",
IEEE TIP 2003). Any +-1 change to such an image pulls coefficients off those multiples,
which a warden finds at any payload, so a cover for the stealth mode must have none.

:func:`jpeg_trace` measures it: for each of the lowest AC frequencies, and each step ``q`` from 3
up, the nonzero multiples' neighbourhoods (within ``q / 4``) are compared with the gaps between
them (the rest, away from 0); a decoded JPEG leaves the gaps nearly empty at its step, a photo
that was never a JPEG fills both alike. :func:`prepare_cover` removes the trace by downscaling
by 2 with area averaging (each output pixel the mean of a 2x2 block).

Images are uint8 ``(H, W, 3)``. Only the grid that starts at the top-left pixel is checked: a
JPEG cropped off its grid is not recognised, nor one of quality above 90 (whose low frequencies
have steps of 1 or 2, lost in the decoder's rounding).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from deepsteg.jpeg import BLOCK, LUMA, dct_basis, zigzag

#: A score above this marks a decoded JPEG (decoded JPEGs of quality 50..90 against the same
#: photos downscaled by 2: ``benchmarks/jpeg_traces.py``).
TRACE_THRESHOLD = 0.3
#: Frequencies examined: zigzag positions 1 .. _MODES - 1 (the lowest AC ones).
_MODES = 21
#: Steps tried for each frequency.
_STEPS = np.arange(3, 41)
#: A frequency counts once this many of its coefficients lie away from 0.
_MIN_COUNT = 40
#: Blocks examined at most (evenly spread over a large image).
_MAX_BLOCKS = 8192


def _luma_blocks(image: np.ndarray) -> np.ndarray:
    """The level-shifted luma's 8x8 blocks on the top-left grid, float ``(B, 64)`` (B <= :data:`_MAX_BLOCKS`)."""
    h, w = image.shape[0] // BLOCK * BLOCK, image.shape[1] // BLOCK * BLOCK
    y = image[:h, :w, :3].astype(np.float64) @ np.asarray(LUMA) - 128.0
    blocks = y.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK * BLOCK)
    if len(blocks) > _MAX_BLOCKS:
        blocks = blocks[np.linspace(0, len(blocks) - 1, _MAX_BLOCKS).astype(int)]
    return blocks


def _gap_share(coefficients: np.ndarray) -> float | None:
    """The least share, over the steps tried, of the coefficients away from 0 that lie in the gaps
    between multiples of the step (about 1/2 for a smooth spread; near 0 at a JPEG's step), or None
    when too few lie away from 0 for any step."""
    best = None
    for q in _STEPS:
        c = coefficients[np.abs(coefficients) >= q / 2]
        if c.size < _MIN_COUNT:
            break
        off = np.abs(c - q * np.round(c / q))
        share = float((off >= q / 4).mean())
        best = share if best is None else min(best, share)
    return best


def jpeg_trace(image: np.ndarray) -> float:
    """How strongly ``image`` shows an earlier JPEG's quantisation, 0..1: one minus twice the median,
    over the lowest AC frequencies with enough data, of :func:`_gap_share` (about 0 for a photo that
    was never a JPEG; near 1 for a decoded JPEG; above :data:`TRACE_THRESHOLD` means a trace)."""
    if min(image.shape[:2]) < 4 * BLOCK:
        return 0.0
    basis = dct_basis().double().numpy()
    modes = zigzag()[1:_MODES]
    coefficients = _luma_blocks(image) @ basis[modes].T
    shares = [s for s in (_gap_share(coefficients[:, k]) for k in range(len(modes))) if s is not None]
    if not shares:
        return 0.0
    return float(max(0.0, 1.0 - 2.0 * np.median(shares)))


def has_jpeg_traces(image: np.ndarray) -> bool:
    """Whether ``image`` looks like a decoded JPEG (see :func:`jpeg_trace`)."""
    return jpeg_trace(image) > TRACE_THRESHOLD


def prepare_cover(image: np.ndarray) -> np.ndarray:
    """``image`` downscaled by 2 with area averaging (odd sides lose their last row or column):
    a cover without an earlier JPEG's quantisation, of half the width and height."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    if h < 2 or w < 2:
        return image
    return np.asarray(Image.fromarray(np.ascontiguousarray(image[:h, :w])).reduce(2))
