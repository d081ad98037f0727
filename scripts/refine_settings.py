"""A JPEG-robust model's hide-time refinement at other settings, on the first protocol pairs.

Each pair is hidden in one pass, refined with the given settings through a real JPEG at
``--quality`` (:func:`deepsteg.methods.refine.refine_stego`, the whole image at once), written as
a PNG file and read back; the table gives the mean cover PSNR and the secret's from the PNG and
after Pillow's JPEG 75 of it. The hide's own settings are the defaults.

    .venv/bin/python scripts/refine_settings.py --covers ../shared/data/val --limit 6 --start 1 --lr 0.5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from deepsteg.images import jpeg_roundtrip, png_roundtrip
from deepsteg.methods.refine import jpeg_refinement, refine_stego
from deepsteg.metrics import psnr
from deepsteg.pairs import load_pairs
from deepsteg.registry import load_model
from deepsteg.report import cpu_name
from deepsteg.tensors import to_tensor, to_uint8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="deepsteg-robust-v3")
    ap.add_argument("--covers", required=True)
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--steps", type=int, default=None, help="refinement steps (default: the model's own)")
    ap.add_argument("--quality", type=int, default=75, help="the JPEG the refinement aims through")
    ap.add_argument("--cover-weight", type=float, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--start", type=float, default=None)
    ap.add_argument("--gradient", choices=("identity", "linear"), default="identity",
                    help="the JPEG's gradient: the identity (the hide's), or its linear part (training's: "
                         "luma whole, chroma through the 2x2 subsampling)")
    a = ap.parse_args()
    model = load_model(a.model, refine=None, progress=False)
    net = model.net.float().eval()
    steps = model.refine if a.steps is None else a.steps
    settings = jpeg_refinement(a.quality)
    for key, value in (("cover_weight", a.cover_weight), ("lr", a.lr), ("start", a.start)):
        if value is not None:
            settings[key] = value
    if a.gradient == "linear":
        from deepsteg.training.distortions import jpeg_straight_through

        settings["channel"] = lambda images: jpeg_straight_through(images, torch.full((images.shape[0],), a.quality))
    rows = []
    t0 = time.time()
    for pair in load_pairs(a.covers, limit=a.limit, protocol=True):
        cover, secret = to_tensor(pair.cover), to_tensor(pair.secret)
        with torch.no_grad():
            stego = net.hide(cover, secret)
        stego = png_roundtrip(to_uint8(refine_stego(net, cover, secret, stego, steps=steps, progress=False,
                                                     **settings))[0])
        rows.append((psnr(pair.cover, stego), psnr(pair.secret, model.reveal(stego)),
                     psnr(pair.secret, model.reveal(jpeg_roundtrip(stego, 75)))))
    cover_psnr, png, jpeg75 = np.mean(rows, axis=0)
    shown = {**{k: v for k, v in settings.items() if k != "channel"}, "gradient": a.gradient}
    print(f"{a.model}, {cpu_name()}, {len(rows)} pairs, {steps} steps through JPEG {a.quality}, {shown}, "
          f"{time.time() - t0:.0f} s")
    print("| cover | secret (PNG) | after JPEG 75 |\n|---|---|---|")
    print(f"| {cover_psnr:.2f} dB | {png:.2f} dB | {jpeg75:.2f} dB |")


if __name__ == "__main__":
    main()
