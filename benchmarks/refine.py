"""Hide-time refinement: quality, time and memory against the number of steps.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/refine.py --covers ../shared/data/val --pairs 5
    .venv/bin/python benchmarks/refine.py --covers ../shared/data/val --steps 0,8,16 --pairs 50

Quality: the first ``--pairs`` pairs of the validation protocol, hidden with the default
model and each step count, measured from 8-bit PNG stego and revealed images; the LSB
margin is against the LSB frontier of the same pairs. Memory: peak resident memory of one
hide of a 1024x1024 pair (tiled refinement) in a fresh process, with and without refinement.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch

import deepsteg
from deepsteg.evaluation import lsb_margin
from deepsteg.evaluation.run import lsb_frontier
from deepsteg.images import png_roundtrip
from deepsteg.metrics import psnr
from deepsteg.pairs import load_pairs
from deepsteg.registry import DEFAULT_MODEL


def memory_child(steps: int, side: int) -> None:
    """One hide of a ``side`` x ``side`` random pair; prints seconds and peak MiB as JSON."""
    model = deepsteg.load_model(refine=steps, progress=False)
    rng = np.random.default_rng(0)
    c, s = (rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for _ in range(2))
    t0 = time.perf_counter()
    model.hide(c, s)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        memory_child(int(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--covers", required=True, help="validation folder (the protocol's 100 photos)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--steps", default="0,4,8,16,32", help="step counts to compare (default 0,4,8,16,32)")
    ap.add_argument("--memory-side", type=int, default=1024, help="image side for the memory rows (0: skip)")
    a = ap.parse_args()
    steps = [int(x) for x in a.steps.split(",")]
    pairs = load_pairs(a.covers, limit=a.pairs, protocol=True)
    frontier = lsb_frontier(pairs)
    print(f"model {DEFAULT_MODEL}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"\nvalidation protocol, first {len(pairs)} pairs (mean size {np.mean([p.cover.shape[0] * p.cover.shape[1] for p in pairs]) / 1e3:.0f} kpixels)")
    print(f"{'steps':>5} {'cover PSNR':>10} {'secret PSNR':>11} {'worst':>6} {'LSB margin':>10} {'s / hide':>8} {'x steps 0':>9}")
    ref = None
    for n in steps:
        model = deepsteg.load_model(refine=n, progress=False)
        rows, seconds = [], 0.0
        for p in pairs:
            t0 = time.perf_counter()
            stego = model.hide(p.cover, p.secret)
            seconds += time.perf_counter() - t0
            stego = png_roundtrip(stego)
            rows.append((psnr(p.cover, stego), psnr(p.secret, png_roundtrip(model.reveal(stego)))))
        c, s = np.mean(rows, axis=0)
        per = seconds / len(pairs)
        ref = ref or per
        print(f"{n:5d} {c:10.2f} {s:11.2f} {min(r[1] for r in rows):6.2f} {lsb_margin(c, s, frontier):+10.2f} "
              f"{per:8.2f} {per / ref:9.1f}", flush=True)
    if a.memory_side:
        print(f"\none hide of a {a.memory_side}x{a.memory_side} pair in a fresh process (refinement in tiles)")
        print(f"{'steps':>5} {'seconds':>8} {'peak MiB':>9}")
        for n in (0, 2):
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(a.memory_side)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{n:5d} {r['seconds']:8.2f} {r['peak_mib']:9.0f}", flush=True)


if __name__ == "__main__":
    main()
