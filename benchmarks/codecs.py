"""Which image codec should ``codec-lsbm`` compress the secret with? Rate-distortion on real photos.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/codecs.py --images ../shared/data/val --limit 50 --bpp 3,2,1.5,1

For each codec setting of :data:`deepsteg.methods.codec.CODECS` and each payload budget
(bits per pixel of the secret), encodes every photo at the highest quality that fits the
budget (the search ``codec-lsbm`` itself runs), decodes it and measures PSNR against the
photo. Prints the mean PSNR per codec and budget, the share of photos that fit at all, and
the mean encode + decode seconds of the final setting. With ``--protocol`` (default) the
photos are the validation protocol's secrets (the second half of the sorted folder,
portrait ones transposed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from deepsteg.methods.codec import CODECS, decode_secret, encode_to_fit
from deepsteg.metrics import psnr
from deepsteg.pairs import load_pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True)
    ap.add_argument("--limit", type=int, default=50, help="pairs of the protocol (their secrets are measured)")
    ap.add_argument("--bpp", default="3,2,1.5,1", help="payload budgets, bits per secret pixel")
    a = ap.parse_args()
    secrets = [p.secret for p in load_pairs(a.images, limit=a.limit, protocol=True)]
    budgets = [float(b) for b in a.bpp.split(",")]
    print(f"{len(secrets)} photos ({secrets[0].shape[1]}x{secrets[0].shape[0]} and alike); mean PSNR in dB "
          "at the highest quality that fits (photos that fit / all), mean encode+decode seconds")
    print(f"{'codec':14} " + " ".join(f"{f'{b:g} bpp':>22}" for b in budgets))
    for codec in CODECS:
        cells = []
        for b in budgets:
            scores, secs = [], []
            for s in secrets:
                budget = int(b * s.shape[0] * s.shape[1] / 8)
                t0 = time.perf_counter()
                data = encode_to_fit(s, codec, budget)
                if data is None:
                    continue
                decoded = decode_secret(data)
                secs.append(time.perf_counter() - t0)
                scores.append(psnr(s, decoded))
            cell = (f"{np.mean(scores):6.2f} ({len(scores)}/{len(secrets)}) {np.mean(secs):5.2f}s" if scores
                    else "nothing fits")
            cells.append(f"{cell:>22}")
        print(f"{codec:14} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
