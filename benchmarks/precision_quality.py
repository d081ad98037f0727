"""Does the fast bf16 path train as well as fp32? Same seed, same batches, and a yardstick.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/precision_quality.py --data ../shared/data/train --val ../shared/data/val \\
        --steps 1200 --val-every 400 --val-pairs 32

Trains the compact model for ``--steps`` steps (cosine schedule) in fp32 and in bf16
autocast (the default path), both with seed 0, so they see the same batches; then, as the
yardstick for "the same", bf16 again with each seed of ``--extra-seeds``: how far apart two
runs of one precision land tells how large a gap between the precisions would have to be
to mean anything. Each run is validated every ``--val-every`` steps on the same pairs
(stego through an 8-bit PNG). Prints one table: wall time, pairs/s, and cover / secret
PSNR at each validation.
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
    ap.add_argument("--val-every", type=int, default=0, help="default: once, at the end")
    ap.add_argument("--val-pairs", type=int, default=8)
    ap.add_argument("--arch", default="compact")
    ap.add_argument("--extra-seeds", default="1", help="comma-separated seeds of extra bf16 runs ('' for none)")
    a = ap.parse_args()
    os.environ.setdefault("DEEPSTEG_NO_TENSORBOARD", "1")
    runs = [("fp32", 0), ("bf16", 0)] + [("bf16", int(s)) for s in a.extra_seeds.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for precision, seed in runs:
            cfg = TrainConfig(data=a.data, val=a.val, out=f"{tmp}/{precision}-{seed}", arch=a.arch, steps=a.steps,
                              batch=a.batch, crop=64, lr=1e-3, warmup=20, schedule="cosine",
                              val_every=a.val_every or a.steps, val_pairs=a.val_pairs, ckpt_every=a.steps,
                              precision=precision, seed=seed)
            t0 = time.perf_counter()
            hist = train(cfg, progress=False)
            rows.append((precision, seed, time.perf_counter() - t0, hist["val"]))
            print(f"done: {precision} seed {seed}", flush=True)
    print(f"\n{a.arch}, {a.steps} steps of batch {a.batch} at 64x64 (cosine, lr 1e-3), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; validation on {a.val_pairs} pairs (8-bit PNG stego), "
          "cover / secret PSNR in dB")
    steps = [v["step"] for v in rows[0][3]]
    print(f"{'precision':10} {'seed':>4} {'seconds':>8} {'pairs/s':>8} " + " ".join(f"{f'step {s}':>15}" for s in steps))
    for precision, seed, secs, vals in rows:
        cells = " ".join(f"{v['cover_psnr']:6.2f} / {v['secret_psnr']:5.2f}" for v in vals)
        print(f"{precision:10} {seed:>4} {secs:8.0f} {a.steps * a.batch / secs:8.1f} {cells}")


if __name__ == "__main__":
    main()
