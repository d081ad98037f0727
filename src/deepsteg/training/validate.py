"""Validation on fixed pairs, measured from 8-bit stego images as a saved PNG gives them."""

from __future__ import annotations

import numpy as np

from deepsteg.imageio import png_roundtrip
from deepsteg.methods import HidingMethod
from deepsteg.metrics import psnr, ssim


def validate(method: HidingMethod, pairs: list[tuple[np.ndarray, np.ndarray, str]]) -> dict[str, float]:
    """Hide each (cover, secret), pass the stego through a PNG encode/decode, reveal.

    Returns mean ``cover_psnr``, ``cover_ssim``, ``secret_psnr``, ``secret_ssim`` and the
    worst pair's ``min_secret_psnr``.
    """
    rows = []
    for cover, secret, _ in pairs:
        stego = png_roundtrip(method.hide(cover, secret))
        revealed = png_roundtrip(method.reveal(stego))
        rows.append((psnr(cover, stego), ssim(cover, stego), psnr(secret, revealed), ssim(secret, revealed)))
    r = np.asarray(rows, dtype=np.float64)
    return {"cover_psnr": float(r[:, 0].mean()), "cover_ssim": float(r[:, 1].mean()),
            "secret_psnr": float(r[:, 2].mean()), "secret_ssim": float(r[:, 3].mean()),
            "min_secret_psnr": float(r[:, 2].min()), "pairs": len(rows)}
