"""Does the fast bf16 path train as well as fp32? Two short runs, same seed, same batches.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/precision_quality.py --data ../shared/data/train --val ../shared/data/val

Trains the compact model for ``--steps`` steps in fp32 and in bf16 autocast (the default
path), validates both on the same pairs (stego through an 8-bit PNG) and prints one table
with wall time, pairs/s and validation PSNR of each.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from deepsteg.training import TrainConfig, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--val-pairs", type=int, default=8)
    ap.add_argument("--arch", default="compact")
    a = ap.parse_args()
    os.environ.setdefault("DEEPSTEG_NO_TENSORBOARD", "1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("fp32", "bf16"):
            cfg = TrainConfig(data=a.data, val=a.val, out=f"{tmp}/{precision}", arch=a.arch, steps=a.steps,
                              batch=a.batch, crop=64, lr=1e-3, warmup=20, val_every=a.steps, val_pairs=a.val_pairs,
                              ckpt_every=a.steps, precision=precision, seed=0)
            t0 = time.perf_counter()
            hist = train(cfg, progress=False)
            rows.append((precision, time.perf_counter() - t0, hist["val"][-1]))
    print(f"{a.arch}, {a.steps} steps of batch {a.batch} at 64x64, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; validation on {a.val_pairs} pairs (8-bit PNG stego)")
    print(f"{'precision':10} {'seconds':>8} {'pairs/s':>8} {'cover PSNR':>11} {'secret PSNR':>12}")
    for precision, secs, v in rows:
        print(f"{precision:10} {secs:8.0f} {a.steps * a.batch / secs:8.1f} {v['cover_psnr']:11.2f} {v['secret_psnr']:12.2f}")


if __name__ == "__main__":
    main()
