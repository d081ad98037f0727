"""Copy a folder of photos, scaled by a factor and saved as JPEG, to a new folder.

The GPU stage of the shipped model's training read such a copy of the training folder
(80% of the size, JPEG quality 91: 55 MB instead of 89 MB) because the machine it ran on
took at most 64 MB of input::

    python scripts/resize_folder.py ../shared/data/train gpu-train --scale 0.8 --quality 91

Files are read as ``deepsteg train`` reads them (``read_image``); unreadable ones are skipped
with a warning.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.images import read_image
from deepsteg.pairs import find_images


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    p.add_argument("--scale", type=float, default=0.8)
    p.add_argument("--quality", type=int, default=91)
    a = p.parse_args()
    if not 0 < a.scale <= 1 or not 1 <= a.quality <= 100:
        p.error("--scale must be in (0, 1] and --quality in [1, 100]")
    paths = find_images(a.src)
    a.dst.mkdir(parents=True, exist_ok=True)
    for path in tqdm(paths, unit="img"):
        try:
            im = Image.fromarray(read_image(path))
        except DeepStegError as e:
            tqdm.write(f"warning: skipped {e}", file=sys.stderr)
            continue
        size = (max(1, round(im.width * a.scale)), max(1, round(im.height * a.scale)))
        out = a.dst / path.relative_to(a.src).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        im.resize(size, Image.LANCZOS).save(out, "JPEG", quality=a.quality)
    return 0


if __name__ == "__main__":
    sys.exit(main())
