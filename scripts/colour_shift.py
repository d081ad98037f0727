"""How far a model moves saturated colours: a cover of pure red, green, blue, cyan, magenta and
yellow patches, a photo as the secret, and each channel's mean shift over each patch.

    .venv/bin/python scripts/colour_shift.py --model deepsteg-inn-v1 --refine 0

A default model must keep every shift within 3 grey levels (the stego image after a PNG round
trip); the shifts are printed per patch, and the largest last.
"""

from __future__ import annotations

import argparse

import numpy as np

import deepsteg
from deepsteg.evaluation.measure import hide_as_png

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255),
           "magenta": (255, 0, 255), "yellow": (255, 255, 0)}


def saturated_cover(side: int = 48) -> np.ndarray:
    """uint8 ``(2 side, 3 side, 3)``: the six colours of :data:`COLOURS` as square patches."""
    img = np.zeros((2 * side, 3 * side, 3), np.uint8)
    for i, c in enumerate(COLOURS.values()):
        y, x = divmod(i, 3)
        img[y * side:(y + 1) * side, x * side:(x + 1) * side] = c
    return img


def patch_shifts(cover: np.ndarray, stego: np.ndarray, side: int = 48) -> dict[str, np.ndarray]:
    """Per colour, the mean of ``stego - cover`` over its patch, per channel (grey levels)."""
    out = {}
    for i, name in enumerate(COLOURS):
        y, x = divmod(i, 3)
        box = (slice(y * side, (y + 1) * side), slice(x * side, (x + 1) * side))
        out[name] = stego[box].astype(np.float64).mean((0, 1)) - cover[box].astype(np.float64).mean((0, 1))
    return out


def main() -> None:
    from skimage import data

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--refine", type=int, default=0)
    a = ap.parse_args()
    cover = saturated_cover()
    secret = data.astronaut()[:cover.shape[0], :cover.shape[1]]
    shifts = patch_shifts(cover, hide_as_png(deepsteg.load_model(a.model, refine=a.refine), cover, secret))
    for name, d in shifts.items():
        print(f"{name:8} R {d[0]:+6.2f}  G {d[1]:+6.2f}  B {d[2]:+6.2f}")
    print(f"largest shift: {max(np.abs(d).max() for d in shifts.values()):.2f} grey levels (a default must keep <= 3)")


if __name__ == "__main__":
    main()
