"""Can the warden's SRNet-class CNN detect anything in its time budget? A control for its P_E.

    python benchmarks/srnet_check.py --covers ../shared/data/train --covers ../shared/data/val \
        --rate 0.4 --minutes 10 --json results/srnet-check.json

The same covers, split and training as ``deepsteg detect --rich --cnn-minutes`` (trace-free covers,
1,200 training photos), with stego images made by LSB matching of random bits at ``--rate`` bits per
channel value at random places (what ``codec-lsbm`` does with a sealed file; cheap to make). A CNN
that learns this in the same budget is a working detector; one that does not says nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from deepsteg.methods.codec import match_bits
from deepsteg.steganalysis.detect import roc_auc
from deepsteg.steganalysis.rich import detector_error
from deepsteg.steganalysis.srnet import srnet_scores, train_srnet
from deepsteg.steganalysis.warden import trace_free_covers


def lsb_matching(cover: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``cover`` with random bits in a random ``rate`` share of its values, by LSB matching."""
    flat = cover.reshape(-1).copy()
    places = rng.choice(flat.size, int(rate * flat.size), replace=False)
    flat[places] = match_bits(flat[places], rng.integers(0, 2, places.size).astype(np.uint8), rng)
    return flat.reshape(cover.shape)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--covers", required=True, action="append")
    p.add_argument("--rate", type=float, default=0.4)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--train-pairs", type=int, default=1200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", required=True)
    args = p.parse_args(argv)
    covers = [c for _, c in trace_free_covers(args.covers)]
    rng = np.random.default_rng(args.seed)
    stegos = [lsb_matching(c, args.rate, rng) for c in covers]
    order = np.random.default_rng(args.seed).permutation(len(covers))
    train, test = order[:args.train_pairs], order[args.train_pairs:]
    net, steps = train_srnet([covers[i] for i in train], [stegos[i] for i in train], args.minutes, None,
                             seed=args.seed, log=lambda line: print(line, file=sys.stderr))
    neg, pos = srnet_scores(net, [covers[i] for i in test]), srnet_scores(net, [stegos[i] for i in test])
    report = {"rate_bpc": args.rate, "minutes": args.minutes, "steps": steps, "train_pairs": int(train.size),
              "test_pairs": int(test.size), "pe": detector_error(neg, pos), "auc": roc_auc(neg, pos)}
    print(json.dumps(report))
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
