"""The strength a conditioned invertible network hid with, carried in the stego image itself.

The reveal of a conditioned invertible network is the inverse pass at the hiding strength
(:mod:`deepsteg.nets.invertible`), so the stego image carries it: the strength as a byte
``q`` (strength ``q / 255``), written twice into the least significant bits of the image's
first :data:`HEADER_VALUES` channel values in raster order (``(0,0)`` R, G, B, ``(0,1)`` R, ...).
That changes at most 16 values by one grey level. The two copies must agree on reading; a
stego image without a header gives a one-line error (or, once in 256 images, a wrong strength).
"""

from __future__ import annotations

import numpy as np

from deepsteg.errors import DeepStegError

#: Channel values whose least significant bits hold the header: two copies of one byte.
HEADER_VALUES = 16


def quantize_strength(strength: float) -> float:
    """``strength`` in [0, 1] rounded to the 256 levels the header can carry."""
    return round(float(strength) * 255) / 255


def write_strength(stego: np.ndarray, strength: float) -> np.ndarray:
    """uint8 ``(H, W, 3)`` -> a copy carrying ``strength`` (in [0, 1], one of the 256 levels of
    :func:`quantize_strength`) in its first :data:`HEADER_VALUES` least significant bits."""
    if stego.size < HEADER_VALUES:
        raise DeepStegError(f"image too small to carry the strength ({stego.size} values, need {HEADER_VALUES})")
    q = round(float(strength) * 255)
    bits = np.unpackbits(np.array([q, q], np.uint8))
    out = stego.copy()
    flat = out.reshape(-1)
    flat[:HEADER_VALUES] = (flat[:HEADER_VALUES] & 0xFE) | bits
    return out


def read_strength(stego: np.ndarray) -> float:
    """The strength a :func:`write_strength` header carries; DeepStegError if the copies differ."""
    if stego.size < HEADER_VALUES:
        raise DeepStegError("image too small to carry a strength: not a stego image of this model")
    first, second = np.packbits(stego.reshape(-1)[:HEADER_VALUES] & 1)
    if first != second:
        raise DeepStegError("no strength header: not a stego image of this conditioned model "
                            "(or it was changed after hiding)")
    return int(first) / 255
