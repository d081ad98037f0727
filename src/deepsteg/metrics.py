"""Image quality figures on uint8 images ``(H, W, 3)``, on the 0-255 scale.

PSNR, mean absolute error and RMSE in float64; SSIM from scikit-image
(``structural_similarity`` with ``channel_axis=2, data_range=255``, its default 7x7
window), the same definitions the validation protocol uses.
"""

from __future__ import annotations

import math

import numpy as np

#: PSNR reported for two identical images (the MSE is zero).
PSNR_IDENTICAL = 99.0


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    return a.astype(np.float64) - b.astype(np.float64)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(_diff(a, b) ** 2))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    m = mse(a, b)
    return PSNR_IDENTICAL if m == 0 else 10.0 * math.log10(255.0**2 / m)


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(_diff(a, b))))


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return math.sqrt(mse(a, b))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM with the default 7x7 window, narrowed (odd, >= 3) for images smaller than that.
    Needs scikit-image (the ``eval`` extra)."""
    from skimage.metrics import structural_similarity

    _diff(a, b)
    side = min(a.shape[0], a.shape[1])
    win = min(7, side if side % 2 else side - 1)
    if win < 3:
        return float("nan")
    return float(structural_similarity(a, b, channel_axis=2, data_range=255, win_size=win))


def all_metrics(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """``{"psnr", "ssim", "mae", "rmse"}`` of ``b`` against the reference ``a``."""
    return {"psnr": psnr(a, b), "ssim": ssim(a, b), "mae": mae(a, b), "rmse": rmse(a, b)}
