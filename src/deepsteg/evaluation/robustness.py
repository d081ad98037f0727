"""How much of the secret survives when the stego image is distorted.

Each distortion acts on the 8-bit stego image the way real life does: JPEG re-encoding
(Pillow's encoder, baseline with 4:2:0 chroma subsampling, as a camera or chat app writes it),
Gaussian noise (0-255 scale, rounded and clipped), downscaling to 50% and back
(Lanczos), and cropping 5% off every side (10% of each dimension) before revealing, the
revealed crop compared with the same region of the secret.

A method may refuse to reveal anything from a distorted image (``codec-lsbm``'s tag check
fails on any changed bit, ``codec-qim``'s below the JPEG quality it is built for): such a pair
counts as a failure, not as a PSNR, and so does a pair the method cannot hide (a cover too small
for its smallest message). The table shows ``fail`` where every pair failed and the failures
beside a mean over the pairs that did reveal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from deepsteg import jpeg
from deepsteg.errors import DeepStegError
from deepsteg.evaluation.measure import hide_as_png
from deepsteg.methods import HidingMethod
from deepsteg.metrics import psnr
from deepsteg.pairs import Pair
from deepsteg.report import figure, text_table

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 of the secret the distorted image still shows


def _jpeg(q: int) -> Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, Box | None]]:
    def f(img, rng):
        return jpeg.roundtrip(img, q), None
    return f


def _noise(sigma: float):
    def f(img, rng):
        noisy = img.astype(np.float64) + rng.normal(0, sigma, img.shape)
        return np.clip(np.round(noisy), 0, 255).astype(np.uint8), None
    return f


def _rescale(img, rng):
    h, w = img.shape[:2]
    small = Image.fromarray(img).resize((max(1, w // 2), max(1, h // 2)), Image.LANCZOS)
    return np.asarray(small.resize((w, h), Image.LANCZOS)), None


def _crop(img, rng):
    h, w = img.shape[:2]
    dy, dx = round(h * 0.05), round(w * 0.05)
    return np.ascontiguousarray(img[dy:h - dy, dx:w - dx]), (dy, h - dy, dx, w - dx)


DISTORTIONS: dict[str, Callable] = {
    "none": lambda img, rng: (img, None),
    "jpeg95": _jpeg(95), "jpeg90": _jpeg(90), "jpeg75": _jpeg(75), "jpeg50": _jpeg(50),
    "noise1": _noise(1), "noise2": _noise(2), "noise5": _noise(5),
    "rescale50": _rescale, "crop10": _crop,
}


def robustness(methods: list[HidingMethod], pairs: list[Pair], seed: int = 0,
               progress: bool = True) -> dict[str, Any]:
    """``{"pairs": N, "distortions": [...], "results": [{"method", "cover_psnr", "secret_psnr": {distortion:
    dB or None}, "failures": {distortion: pairs that revealed nothing}}]}``; ``cover_psnr`` is the mean of
    the stego PNG files before any distortion, a secret PSNR the mean over the pairs that revealed
    (None if none did)."""
    results = []
    with tqdm(total=len(methods) * len(pairs), desc="robustness", unit="pair", file=sys.stderr,
              disable=not progress) as bar:
        for m in methods:
            scores: dict[str, list[float]] = {d: [] for d in DISTORTIONS}
            failures = dict.fromkeys(DISTORTIONS, 0)
            cover_psnrs = []
            for i, p in enumerate(pairs):
                try:
                    stego = hide_as_png(m, p.cover, p.secret)
                except DeepStegError:  # a cover too small for the method's smallest message
                    failures = {d: n + 1 for d, n in failures.items()}
                    bar.update(1)
                    continue
                cover_psnrs.append(psnr(p.cover, stego))
                for j, (name, distort) in enumerate(DISTORTIONS.items()):
                    rng = np.random.default_rng([seed, i, j])
                    attacked, box = distort(stego, rng)
                    try:
                        revealed = m.reveal(attacked)
                    except DeepStegError:
                        failures[name] += 1
                        continue
                    target = p.secret if box is None else p.secret[box[0]:box[1], box[2]:box[3]]
                    scores[name].append(psnr(target, revealed))
                bar.update(1)
            results.append({"method": m.label, "failures": failures,
                            "cover_psnr": float(np.mean(cover_psnrs)) if cover_psnrs else None,
                            "secret_psnr": {d: float(np.mean(v)) if v else None for d, v in scores.items()}})
    return {"pairs": len(pairs), "distortions": list(DISTORTIONS), "results": results}


def format_table(report: dict[str, Any]) -> str:
    ds = report["distortions"]
    rows, partial = [], False
    for r in report["results"]:
        cells = [r["method"], f"{r['cover_psnr']:.2f}" if r.get("cover_psnr") is not None else "-"]
        for d in ds:
            value, failed = r["secret_psnr"][d], r.get("failures", {}).get(d, 0)
            partial |= bool(failed) and value is not None
            cells.append("fail" if value is None else f"{value:.2f}" + (f" ({failed} fail)" if failed else ""))
        rows.append(cells)
    notes = ["(N fail): N pairs revealed nothing (or could not be hidden); the mean of those that did"] \
        if partial else []
    return text_table(["method", "cover", *ds], rows, notes,
                      title=f"cover PSNR of the stego PNG, and secret PSNR after distorting it (dB); "
                            f"{report['pairs']} pairs")


def plot(report: dict[str, Any], path) -> None:
    ds = report["distortions"]
    with figure(path, figsize=(11, 4.5)) as (fig, ax):
        _draw(ax, report, ds)


def _draw(ax, report: dict[str, Any], ds: list[str]) -> None:
    for r in report["results"]:
        ax.plot(range(len(ds)), [np.nan if r["secret_psnr"][d] is None else r["secret_psnr"][d] for d in ds],
                "o-", label=r["method"])
    ax.set_xticks(range(len(ds)), ds, rotation=30)
    ax.set(ylabel="secret PSNR (dB)", title=f"Secret PSNR after distortions of the stego image ({report['pairs']} pairs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
