"""A dither model's secret with its windows and on the whole image at once: the same weights, the
protocol pairs hidden and revealed both ways, every figure from 8-bit files (the stego image
through PNG, and through a real JPEG at each quality).

    .venv/bin/python scripts/dither_windows.py runs/k28.safetensors --covers ../shared/data/val --limit 20
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from deepsteg.evaluation.measure import hide_as_png
from deepsteg.images import jpeg_roundtrip, png_roundtrip
from deepsteg.metrics import psnr
from deepsteg.pairs import load_pairs
from deepsteg.registry import load_model
from deepsteg.report import cpu_name, text_table


def measure(model, pairs, qualities: list[int]) -> list[float]:
    """Mean cover PSNR, secret PSNR from the PNG, then after JPEG at each quality (dB)."""
    rows = []
    for pair in pairs:
        stego = hide_as_png(model, pair.cover, pair.secret)
        reads = [stego] + [jpeg_roundtrip(stego, q) for q in qualities]
        rows.append([psnr(pair.cover, stego)] + [psnr(pair.secret, png_roundtrip(model.reveal(r))) for r in reads])
    return list(np.mean(rows, 0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--covers", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--qualities", default="90,75,50")
    a = ap.parse_args()
    qualities = [int(q) for q in a.qualities.split(",")]
    pairs = load_pairs(a.covers, limit=a.limit, protocol=True)
    model = load_model(a.model, refine=0, tile=0, progress=False)  # no tiles: one pass per image
    window = model.net.cfg.window
    rows = []
    for label, size in ((f"windows of {window} px", window), ("whole image", 0)):
        model.net.cfg = dataclasses.replace(model.net.cfg, window=size)
        rows.append([label] + [f"{x:.2f} dB" for x in measure(model, pairs, qualities)])
    header = ["inference", "cover", "secret (PNG)"] + [f"after JPEG {q}" for q in qualities]
    print(f"{len(pairs)} protocol pairs, {a.model}, {cpu_name()}")
    print(text_table(header, rows))


if __name__ == "__main__":
    main()
