"""How far a method moves saturated colours: a cover of flat pure red, green, blue, cyan,
magenta and yellow patches, a photo hidden in it, and each channel's mean shift over each
patch of the stego image as an 8-bit PNG gives it back.

A hiding network's changes are cut at black and white, so on a saturated patch they lose one
side and the patch's mean colour moves (yellow turning orange); the eye sees that first. A
default model keeps every shift within :data:`MAX_SHIFT` grey levels.
"""

from __future__ import annotations

import numpy as np

from deepsteg.evaluation.measure import hide_as_png
from deepsteg.methods import HidingMethod

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255),
           "magenta": (255, 0, 255), "yellow": (255, 255, 0)}

#: The largest mean shift (grey levels, any channel, any patch) a default model may make.
MAX_SHIFT = 3.0


def saturated_cover(side: int = 48) -> np.ndarray:
    """uint8 ``(2 side, 3 side, 3)``: the six colours of :data:`COLOURS` as square patches."""
    img = np.zeros((2 * side, 3 * side, 3), np.uint8)
    for i, c in enumerate(COLOURS.values()):
        y, x = divmod(i, 3)
        img[y * side:(y + 1) * side, x * side:(x + 1) * side] = c
    return img


def patch_shifts(cover: np.ndarray, stego: np.ndarray, side: int = 48) -> dict[str, np.ndarray]:
    """Per colour of a :func:`saturated_cover`, the mean of ``stego - cover`` over its patch,
    float64 ``(3,)`` per channel in grey levels."""
    out = {}
    for i, name in enumerate(COLOURS):
        y, x = divmod(i, 3)
        box = (slice(y * side, (y + 1) * side), slice(x * side, (x + 1) * side))
        out[name] = stego[box].astype(np.float64).mean((0, 1)) - cover[box].astype(np.float64).mean((0, 1))
    return out


def colour_shifts(method: HidingMethod, secret: np.ndarray, side: int = 48) -> dict[str, np.ndarray]:
    """Hide ``secret`` (uint8 ``(H, W, 3)``, at least ``2 side`` x ``3 side``; its top-left part
    is used) in a :func:`saturated_cover`; the :func:`patch_shifts` of the PNG stego image."""
    cover = saturated_cover(side)
    return patch_shifts(cover, hide_as_png(method, cover, secret[:cover.shape[0], :cover.shape[1]]), side)
