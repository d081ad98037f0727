"""A dither model's secret with its windows and on the whole image at once: the same weights, the
protocol pairs through ``deepsteg robustness``'s distortions (real JPEG and the rest), every
figure from 8-bit files.

    .venv/bin/python scripts/dither_windows.py runs/k28.safetensors --covers ../shared/data/val --limit 20
"""

from __future__ import annotations

import argparse
import dataclasses

from deepsteg.evaluation.robustness import format_table, robustness
from deepsteg.pairs import load_pairs
from deepsteg.registry import load_model
from deepsteg.report import cpu_name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--covers", required=True)
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    pairs = load_pairs(a.covers, limit=a.limit, protocol=True)
    windowed, whole = (load_model(a.model, refine=0, tile=0, progress=False) for _ in range(2))  # one pass per image
    windowed.name += f", windows of {windowed.net.cfg.window} px"
    whole.net.cfg = dataclasses.replace(whole.net.cfg, window=0)
    whole.name += ", whole image"
    print(f"{a.model}, {cpu_name()}")
    print(format_table(robustness([windowed, whole], pairs)))


if __name__ == "__main__":
    main()
