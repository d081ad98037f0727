"""Copy a random subset of a folder's files, unchanged, up to a total size, to a new folder.

The GPU stages 10 and 11 of the shipped model's training read such subsets of the training
folder (the original files, not recompressed) because the machine they ran on took at most
64 MB of input::

    python scripts/subset_folder.py ../shared/data/train gpu-train --max-mib 56.5 --seed 2026
    python scripts/subset_folder.py ../shared/data/train gpu-train2 --max-mib 55.5 --seed 2027 \\
        --first-missing-from gpu-train

Files are taken in a shuffled order (``random.Random(seed)`` over the sorted names) and each
is copied if it still fits under ``--max-mib``. With ``--first-missing-from DIR``, the files
that DIR lacks come first (in sorted order), then the shuffled rest.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    p.add_argument("--max-mib", type=float, required=True, help="total size limit in MiB")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--first-missing-from", type=Path, metavar="DIR",
                   help="take the files this folder lacks first")
    a = p.parse_args()
    if not a.src.is_dir():
        p.error(f"{a.src}: not a folder")
    if a.dst.exists() and any(a.dst.iterdir()):
        p.error(f"{a.dst}: exists and is not empty")
    files = sorted(f for f in a.src.iterdir() if f.is_file())
    if a.first_missing_from:
        have = {f.name for f in a.first_missing_from.iterdir()}
        missing = [f for f in files if f.name not in have]
        rest = [f for f in files if f.name in have]
        random.Random(a.seed).shuffle(rest)
        order = missing + rest
    else:
        order = list(files)
        random.Random(a.seed).shuffle(order)
    a.dst.mkdir(parents=True, exist_ok=True)
    limit, total, n = a.max_mib * 2**20, 0, 0
    for f in order:
        size = f.stat().st_size
        if total + size > limit:
            continue
        shutil.copy2(f, a.dst / f.name)
        total += size
        n += 1
    print(f"copied {n} of {len(files)} files ({total / 2**20:.1f} MiB) to {a.dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
