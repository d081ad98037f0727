"""Validation on fixed pairs, measured from 8-bit stego images as a saved PNG gives them (and, for
a network trained against JPEG, as a real JPEG file of them gives them)."""

from __future__ import annotations

import numpy as np

from deepsteg import jpeg
from deepsteg.evaluation.frontier import lsb_margin
from deepsteg.evaluation.measure import hide_and_reveal
from deepsteg.methods import HidingMethod
from deepsteg.metrics import psnr, ssim
from deepsteg.pairs import Pair


def validate(method: HidingMethod, pairs: list[Pair], frontier: list[tuple[float, float]] | None = None,
             jpeg_quality: int | None = None) -> dict[str, float]:
    """Hide each pair, pass the stego through a PNG encode/decode, reveal.

    Returns mean ``cover_psnr``, ``cover_ssim``, ``secret_psnr``, ``secret_ssim``, the
    worst pair's ``min_secret_psnr`` and, given the pairs' LSB ``frontier``
    (:func:`deepsteg.evaluation.run.lsb_frontier`), the ``lsb_margin``. With ``jpeg_quality``
    also ``jpeg_secret_psnr``: the mean secret PSNR revealed from the stego PNG re-encoded as a
    JPEG at that quality (Pillow, 4:2:0).
    """
    rows, after_jpeg = [], []
    for p in pairs:
        m = hide_and_reveal(method, p.cover, p.secret)
        rows.append((psnr(p.cover, m.stego), ssim(p.cover, m.stego), psnr(p.secret, m.revealed),
                     ssim(p.secret, m.revealed)))
        if jpeg_quality is not None:
            after_jpeg.append(psnr(p.secret, method.reveal(jpeg.roundtrip(m.stego, jpeg_quality))))
    r = np.asarray(rows, dtype=np.float64)
    out = {"cover_psnr": float(r[:, 0].mean()), "cover_ssim": float(r[:, 1].mean()),
           "secret_psnr": float(r[:, 2].mean()), "secret_ssim": float(r[:, 3].mean()),
           "min_secret_psnr": float(r[:, 2].min()), "pairs": len(rows)}
    if frontier is not None:
        out["lsb_margin"] = lsb_margin(out["cover_psnr"], out["secret_psnr"], frontier)
    if jpeg_quality is not None:
        out.update(jpeg_quality=jpeg_quality, jpeg_secret_psnr=float(np.mean(after_jpeg)))
    return out
