"""Validation on fixed pairs, measured from 8-bit stego images as a saved PNG gives them."""

from __future__ import annotations

import numpy as np

from deepsteg.imageio import png_roundtrip
from deepsteg.methods import HidingMethod
from deepsteg.metrics import psnr, ssim


def pairs_frontier(pairs: list[tuple[np.ndarray, np.ndarray, str]]) -> list[tuple[float, float]]:
    """The LSB frontier (see :mod:`deepsteg.evaluation.frontier`) of validation pairs."""
    from deepsteg.evaluation.pairs import Pair  # deepsteg.evaluation imports deepsteg.training
    from deepsteg.evaluation.run import lsb_frontier

    return lsb_frontier([Pair(name, cover, secret) for cover, secret, name in pairs])


def validate(method: HidingMethod, pairs: list[tuple[np.ndarray, np.ndarray, str]],
             frontier: list[tuple[float, float]] | None = None) -> dict[str, float]:
    """Hide each (cover, secret), pass the stego through a PNG encode/decode, reveal.

    Returns mean ``cover_psnr``, ``cover_ssim``, ``secret_psnr``, ``secret_ssim``, the
    worst pair's ``min_secret_psnr`` and, given the pairs' ``frontier``, the ``lsb_margin``.
    """
    rows = []
    for cover, secret, _ in pairs:
        stego = png_roundtrip(method.hide(cover, secret))
        revealed = png_roundtrip(method.reveal(stego))
        rows.append((psnr(cover, stego), ssim(cover, stego), psnr(secret, revealed), ssim(secret, revealed)))
    r = np.asarray(rows, dtype=np.float64)
    out = {"cover_psnr": float(r[:, 0].mean()), "cover_ssim": float(r[:, 1].mean()),
           "secret_psnr": float(r[:, 2].mean()), "secret_ssim": float(r[:, 3].mean()),
           "min_secret_psnr": float(r[:, 2].min()), "pairs": len(rows)}
    if frontier is not None:
        from deepsteg.evaluation.frontier import lsb_margin

        out["lsb_margin"] = lsb_margin(out["cover_psnr"], out["secret_psnr"], frontier)
    return out
