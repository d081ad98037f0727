"""How far a model moves saturated colours (``deepsteg.evaluation.colour``): a cover of pure
red, green, blue, cyan, magenta and yellow patches, a photo as the secret, and each channel's
mean shift over each patch of the PNG stego image.

    .venv/bin/python scripts/colour_shift.py --model deepsteg-inn-v1 --refine 0

A default model must keep every shift within 3 grey levels; the shifts are printed per patch,
and the largest last.
"""

from __future__ import annotations

import argparse

import numpy as np

import deepsteg
from deepsteg.evaluation.colour import MAX_SHIFT, colour_shifts


def main() -> None:
    from skimage import data

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--refine", type=int, default=0)
    a = ap.parse_args()
    shifts = colour_shifts(deepsteg.load_model(a.model, refine=a.refine), data.astronaut())
    for name, d in shifts.items():
        print(f"{name:8} R {d[0]:+6.2f}  G {d[1]:+6.2f}  B {d[2]:+6.2f}")
    print(f"largest shift: {max(np.abs(d).max() for d in shifts.values()):.2f} grey levels "
          f"(a default must keep <= {MAX_SHIFT:g})")


if __name__ == "__main__":
    main()
