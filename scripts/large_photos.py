"""Write a folder of 768x512 photos from outside the training and validation sets: the colour
photos scikit-image ships (astronaut, coffee, rocket, both motorcycle views, Hubble deep field,
immunohistochemistry, retina), each cut to 3:2 around its centre and resized with Lanczos
filtering (most are smaller than 768x512, so they come out smoother than BSDS500's photos).

    .venv/bin/python scripts/large_photos.py --out runs/large
    deepsteg eval --covers runs/large --refine 0      # 4 pairs: first half covers, second half secrets
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = (768, 512)


def photos() -> dict[str, np.ndarray]:
    """name -> uint8 ``(H, W, 3)``, as scikit-image ships them."""
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    return {"astronaut": data.astronaut(), "coffee": data.coffee(), "rocket": data.rocket(),
            "hubble": data.hubble_deep_field(), "motorcycle-left": left, "immunohistochemistry":
            data.immunohistochemistry(), "retina": data.retina(), "motorcycle-right": right}


def to_size(image: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """The largest centred crop of ``image`` with the aspect of ``size = (W, H)``, resized to it."""
    h, w = image.shape[:2]
    aspect = size[0] / size[1]
    cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
    y, x = (h - ch) // 2, (w - cw) // 2
    crop = Image.fromarray(np.ascontiguousarray(image[y:y + ch, x:x + cw]))
    return np.asarray(crop.resize(size, Image.Resampling.LANCZOS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write the PNG files in")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for i, (name, image) in enumerate(photos().items()):
        Image.fromarray(to_size(image)).save(out / f"{i:02d}-{name}.png")
    print(f"wrote {len(photos())} photos of {SIZE[0]}x{SIZE[1]} to {out}")


if __name__ == "__main__":
    main()
