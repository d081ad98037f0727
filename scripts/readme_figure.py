"""The picture at the top of the README: cover, stego image, |stego - cover| x 10, secret, revealed
(and for a keyed model, what a forced reveal with a wrong passphrase gives).

    .venv/bin/python scripts/readme_figure.py -o docs/default-model.png [--model NAME] [--refine N]

Hides scikit-image's ``coffee`` photo in its ``chelsea`` photo (the pair ``make demo`` uses),
writes the stego image as PNG and reads it back, reveals it, and draws the five panels with
the PSNRs measured on those files.
"""

from __future__ import annotations

import argparse

import numpy as np

from deepsteg.demo import demo_pair
from deepsteg.evaluation.measure import hide_and_reveal
from deepsteg.files import atomic_write
from deepsteg.methods import DEFAULT_REFINE_STEPS
from deepsteg.metrics import psnr
from deepsteg.registry import DEFAULT_MODEL, load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default="docs/default-model.png")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--refine", type=int, default=DEFAULT_REFINE_STEPS)
    a = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cover, secret = demo_pair()
    method = load_model(a.model, refine=a.refine, passphrase=b"the figure's passphrase")
    m = hide_and_reveal(method, cover, secret)
    residual = np.minimum(255, np.abs(m.stego.astype(int) - cover) * 10).astype(np.uint8)
    panels = [(cover, "cover"), (m.stego, f"stego ({psnr(cover, m.stego):.2f} dB)"), (residual, "|stego - cover| x 10"),
              (secret, "secret"), (m.revealed, f"revealed ({psnr(secret, m.revealed):.2f} dB)")]
    if method.keyed:
        wrong = method.with_passphrase(b"a wrong passphrase").reveal(m.stego, force=True)
        panels.append((wrong, f"wrong passphrase, --force ({psnr(secret, wrong):.2f} dB)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.9))
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.suptitle(f"{method.name}", fontsize=11)
    fig.tight_layout()
    atomic_write(a.output, lambda tmp: fig.savefig(tmp, dpi=80, format="png"))
    print(f"{a.output}: cover {psnr(cover, m.stego):.2f} dB, secret {psnr(secret, m.revealed):.2f} dB")


if __name__ == "__main__":
    main()
