"""``python -m deepsteg.demo``: hide one photo in another with the default model and measure it.

Uses two photos that scikit-image ships (``chelsea`` as the cover, ``coffee`` cropped to
the same size as the secret), runs ``deepsteg hide`` and ``deepsteg reveal`` with a passphrase
file on real PNG files, shows that a keyed model's reveal without it finds nothing, and prints
cover and secret PSNR measured on those files.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def demo_pair() -> tuple[np.ndarray, np.ndarray]:
    """(cover, secret): scikit-image's chelsea (300x451) and coffee cropped to that size."""
    from skimage import data

    cover = data.chelsea()
    secret = data.coffee()[50:350, 70:521]
    return np.ascontiguousarray(cover), np.ascontiguousarray(secret)


def main(argv: list[str] | None = None) -> int:
    from deepsteg.cli.main import main as cli
    from deepsteg.cli.options import PASSPHRASE_ENV
    from deepsteg.images import write_png
    from deepsteg.metrics import psnr
    from deepsteg.registry import DEFAULT_MODEL, REGISTRY

    ap = argparse.ArgumentParser(prog="python -m deepsteg.demo")
    ap.add_argument("--out", default="demo-output")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="default: the shipped model")
    a = ap.parse_args(argv)
    model = a.model
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cover, secret = demo_pair()
    write_png(cover, out / "cover.png")
    write_png(secret, out / "secret.png")
    key = out / "passphrase.txt"
    key.write_text("the demo's passphrase: choose your own\n")
    keyed = ["--model", model, "--passphrase-file", str(key)]
    steps = (["hide", str(out / "cover.png"), str(out / "secret.png"), "-o", str(out / "stego.png")],
             ["reveal", str(out / "stego.png"), "-o", str(out / "revealed.png")])
    for argv_ in steps:
        print("deepsteg " + " ".join(argv_ + keyed))
        if cli(argv_ + keyed) != 0:
            return 2
    if REGISTRY.get(model) and REGISTRY[model].keyed:
        print("deepsteg reveal ... without the passphrase:")
        os.environ.pop(PASSPHRASE_ENV, None)
        if cli(["reveal", str(out / "stego.png"), "-o", str(out / "nothing.png"), "--model", model]) != 2:
            return 2
    stego = np.asarray(Image.open(out / "stego.png").convert("RGB"))
    revealed = np.asarray(Image.open(out / "revealed.png").convert("RGB"))
    print(f"model {model}: cover PSNR {psnr(cover, stego):.2f} dB, secret PSNR {psnr(secret, revealed):.2f} dB "
          f"(measured on the PNG files in {out}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
