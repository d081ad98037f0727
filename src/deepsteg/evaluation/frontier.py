"""The LSB frontier and a method's LSB margin.

LSB with k = 1, 2, ... bits trades cover PSNR for secret PSNR, about one dB for one dB.
The frontier joins the (cover PSNR, secret PSNR) points of the LSB methods measured on
the same pairs with straight lines (extended linearly past the end points). A method's
**LSB margin** is its secret PSNR minus the frontier's secret PSNR at the method's cover
PSNR: positive means it beats plain LSB at the same cover quality.
"""

from __future__ import annotations

import numpy as np


def lsb_margin(cover_psnr: float, secret_psnr: float, frontier: list[tuple[float, float]]) -> float:
    """``frontier``: (cover PSNR, secret PSNR) of LSB methods (any order, at least 2)."""
    pts = sorted(frontier)
    if len(pts) < 2:
        raise ValueError("the frontier needs at least two LSB points")
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    if cover_psnr <= xs[0]:
        i = 0
    elif cover_psnr >= xs[-1]:
        i = len(xs) - 2
    else:
        i = int(np.searchsorted(xs, cover_psnr)) - 1
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    return float(secret_psnr - (ys[i] + slope * (cover_psnr - xs[i])))
