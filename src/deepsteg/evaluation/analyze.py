"""The paper's look at one pair: images, magnified residuals, error histograms, and whether
the residual leaks the secret.

Baluja (NIPS 2017) shows ``|stego - cover|`` and ``|revealed - secret|`` magnified 5x, 10x
and 20x and asks whether the secret can be seen in the residual. Here that question also
gets numbers: the Pearson correlation between the residual ``stego - cover`` and the
secret (per channel, and of the luminance), next to the same correlation with the cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deepsteg.evaluation.measure import hide_and_reveal
from deepsteg.files import atomic_write, ensure_dir
from deepsteg.images import write_png
from deepsteg.methods import HidingMethod
from deepsteg.metrics import all_metrics
from deepsteg.report import figure

MAGNIFICATIONS = (5, 10, 20)
_LUMA = np.array([0.299, 0.587, 0.114])


def magnify(a: np.ndarray, b: np.ndarray, factor: int) -> np.ndarray:
    """``|a - b| * factor``, clipped to uint8."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)) * factor
    return np.clip(d, 0, 255).astype(np.uint8)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(np.float64).ravel() - x.mean()
    y = y.astype(np.float64).ravel() - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else 0.0


def leakage(cover: np.ndarray, stego: np.ndarray, secret: np.ndarray) -> dict[str, Any]:
    """Correlations of the residual ``stego - cover`` with the secret and with the cover."""
    res = stego.astype(np.float64) - cover.astype(np.float64)
    return {
        "residual_vs_secret": {c: pearson(res[..., i], secret[..., i]) for i, c in enumerate("RGB")},
        "residual_vs_secret_luma": pearson(res @ _LUMA, secret.astype(np.float64) @ _LUMA),
        "abs_residual_vs_secret_luma": pearson(np.abs(res) @ _LUMA, secret.astype(np.float64) @ _LUMA),
        "residual_vs_cover_luma": pearson(res @ _LUMA, cover.astype(np.float64) @ _LUMA),
    }


def analyze_pair(method: HidingMethod, cover: np.ndarray, secret: np.ndarray, out_dir: str | Path) -> dict[str, Any]:
    """Write the images, ``analysis.png`` and ``report.md`` into ``out_dir``; return the figures."""
    measured = hide_and_reveal(method, cover, secret)
    stego, revealed = measured.stego, measured.revealed
    result = {"method": method.label, "size": [int(cover.shape[1]), int(cover.shape[0])],
              "cover": all_metrics(cover, stego), "secret": all_metrics(secret, revealed),
              "leakage": leakage(cover, stego, secret)}
    out = ensure_dir(out_dir)
    for name, img in (("cover", cover), ("secret", secret), ("stego", stego), ("revealed", revealed)):
        write_png(img, out / f"{name}.png")
    draw_figure(cover, stego, secret, revealed, method.label, out / "analysis.png")
    atomic_write(out / "report.md", lambda tmp: tmp.write_text(report_markdown(result)))
    return result


def draw_figure(cover, stego, secret, revealed, title: str, path: Path) -> None:
    with figure(path, dpi=80, grid=False, figsize=(16, 13)) as (fig, _):
        _draw(fig, cover, stego, secret, revealed, title)


def _draw(fig, cover, stego, secret, revealed, title: str) -> None:
    grid = fig.add_gridspec(4, 4, height_ratios=[1, 1, 1, 0.8])
    panels = [(cover, "cover"), (stego, "stego"), (secret, "secret"), (revealed, "revealed secret")]
    panels += [(magnify(stego, cover, m), f"|stego - cover| x{m}") for m in MAGNIFICATIONS]
    panels += [(None, None)]
    panels += [(magnify(revealed, secret, m), f"|revealed - secret| x{m}") for m in MAGNIFICATIONS]
    for i, (img, label) in enumerate(panels):
        if img is None:
            continue
        ax = fig.add_subplot(grid[i // 4, i % 4])
        ax.imshow(img)
        ax.set_title(label, fontsize=10)
        ax.axis("off")
    for j, (a, b, label) in enumerate(((stego, cover, "stego - cover"), (revealed, secret, "revealed - secret"))):
        ax = fig.add_subplot(grid[3, 2 * j:2 * j + 2])
        d = a.astype(np.int16) - b.astype(np.int16)
        lim = max(1, int(np.percentile(np.abs(d), 99.9)))
        bins = np.arange(-lim - 0.5, lim + 1.5)
        for i, colour in enumerate(("red", "green", "blue")):
            ax.hist(d[..., i].ravel(), bins=bins, histtype="step", color=colour, label=colour[0].upper())
        ax.set(title=f"error histogram: {label} (0-255 scale)", xlabel="difference", ylabel="pixels")
        ax.legend(fontsize=8)
    fig.suptitle(f"{title}: cover, stego, secret, revealed; magnified residuals; errors", fontsize=13)


def report_markdown(r: dict[str, Any]) -> str:
    c, s, lk = r["cover"], r["secret"], r["leakage"]
    lines = [f"# Analysis: {r['method']} on a {r['size'][0]}x{r['size'][1]} pair", "",
             "Measured on 8-bit PNG files (stego saved and read back before revealing).", "",
             "| | PSNR (dB) | SSIM | MAE (0-255) | RMSE (0-255) |", "|---|---|---|---|---|",
             f"| cover vs stego | {c['psnr']:.2f} | {c['ssim']:.4f} | {c['mae']:.2f} | {c['rmse']:.2f} |",
             f"| secret vs revealed | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['mae']:.2f} | {s['rmse']:.2f} |", "",
             "## Does the residual leak the secret?", "",
             "Pearson correlation of the residual `stego - cover` (0 = no linear trace):", "",
             "| with | R | G | B | luminance |", "|---|---|---|---|---|",
             "| secret | " + " | ".join(f"{lk['residual_vs_secret'][k]:+.3f}" for k in "RGB")
             + f" | {lk['residual_vs_secret_luma']:+.3f} |",
             f"| secret (\\|residual\\|) | | | | {lk['abs_residual_vs_secret_luma']:+.3f} |",
             f"| cover | | | | {lk['residual_vs_cover_luma']:+.3f} |", "",
             "![analysis](analysis.png)", ""]
    return "\n".join(lines)
