"""Refit a JPEG-robust model's reveal network to the stego images its refined hide makes.

The hiding network is trained for one pass, but a model whose card names a default refinement
(``deepsteg-robust-v3``) hides by refining the stego image through a real JPEG
(:mod:`deepsteg.methods.refine`). The reveal network then reads refined stego images, which it
never saw in training. This script makes such examples and trains the reveal network on them:

1. ``--crops`` random window-sized crops of ``--data`` (cover and secret from different
   photos), one-pass hidden, refined as ``deepsteg hide`` does (``--refine`` steps through JPEG
   ``--quality``), the refined stego image passed through Pillow's JPEG at that quality; and the
   one-pass stego image through a JPEG of a random quality in ``--mix-quality``, so that the
   reveal keeps what it had for one-pass stego images and other qualities. Saved in
   ``OUT/examples.npz`` (uint8), and reused by a later run.
2. The reveal network (the hiding network frozen) trained on both kinds, ``--mix`` of each batch
   one-pass, the secret's mean squared error, Adam. A tenth of the crops is held out: their
   secret PSNR after each epoch is printed, from the refined and from the one-pass examples.
3. ``OUT/model.safetensors``: the model with the refitted reveal network, its card noting how.

    .venv/bin/python scripts/refit_reveal.py deepsteg-robust-v3 --data ../shared/data/train \\
        --out runs/refit --crops 1024 --epochs 8 --refine-lr 0.5 --start 1
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from deepsteg.methods.refine import jpeg_refinement, refine_stego
from deepsteg.metrics import psnr
from deepsteg.pairs import find_images
from deepsteg.registry import load_model
from deepsteg.report import cpu_name
from deepsteg.tensors import real_jpeg, to_tensor, to_uint8
from deepsteg.training.data import load_images, random_crop
from deepsteg.weights import save_model


def make_examples(net, images: list[np.ndarray], crops: int, size: int, refine: int, settings: dict,
                  quality: int, mix_quality: tuple[int, int], batch: int,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """uint8 ``(crops, size, size, 3)`` arrays: ``secret``, ``refined`` (the refined stego image
    after JPEG ``quality``) and ``one_pass`` (the one-pass stego image after a JPEG in
    ``mix_quality``); ``settings``: :func:`refine_stego`'s, as :func:`jpeg_refinement` gives them."""
    out: dict[str, list[np.ndarray]] = {"secret": [], "refined": [], "one_pass": []}
    for start in tqdm(range(0, crops, batch), desc="refining crops", unit="batch", file=sys.stderr):
        n = min(batch, crops - start)
        picks = rng.choice(len(images), size=(n, 2), replace=True)
        cover = to_tensor(np.stack([random_crop(images[a], size, rng) for a, _ in picks]))
        secret = to_tensor(np.stack([random_crop(images[b], size, rng) for _, b in picks]))
        with torch.no_grad():
            stego = net.hide(cover, secret)
        refined = refine_stego(net, cover, secret, stego, steps=refine, progress=False, **settings)
        qualities = torch.from_numpy(rng.integers(mix_quality[0], mix_quality[1] + 1, size=n))
        out["secret"].append(to_uint8(secret))
        out["refined"].append(to_uint8(real_jpeg(refined, torch.full((n,), quality))))
        out["one_pass"].append(to_uint8(real_jpeg(stego.clamp(0, 1), qualities)))
    return {k: np.concatenate(v) for k, v in out.items()}


def held_out_psnr(net, received: np.ndarray, secret: np.ndarray, batch: int = 32) -> float:
    """Mean PSNR (dB) of the secrets revealed from uint8 ``received`` against ``secret``."""
    values = []
    with torch.no_grad():
        for i in range(0, len(received), batch):
            revealed = to_uint8(net.reveal(to_tensor(received[i:i + batch])))
            values.extend(psnr(s, r) for s, r in zip(secret[i:i + batch], revealed))
    return float(np.mean(values))


def fit_reveal(net, ex: dict[str, np.ndarray], train: np.ndarray, held: np.ndarray, epochs: int, batch: int,
               lr: float, mix: float, rng: np.random.Generator) -> None:
    """Adam on the reveal network's weights (cosine to a tenth), the rest frozen."""
    reveal = [p for name, p in net.named_parameters() if name.startswith(("reveal_layers", "reveal_output"))]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in reveal:
        p.requires_grad_(True)
    opt = torch.optim.Adam(reveal, lr=lr)
    total = epochs * math.ceil(len(train) / batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / total)))

    def report(epoch: int) -> None:
        net.eval()
        print(f"epoch {epoch}: held-out secret {held_out_psnr(net, ex['refined'][held], ex['secret'][held]):.2f} dB "
              f"(refined), {held_out_psnr(net, ex['one_pass'][held], ex['secret'][held]):.2f} dB (one pass)",
              flush=True)

    report(0)
    for epoch in range(1, epochs + 1):
        net.train()
        order = rng.permutation(train)
        for i in tqdm(range(0, len(order), batch), desc=f"epoch {epoch}", unit="batch", file=sys.stderr, leave=False):
            idx = order[i:i + batch]
            one_pass = rng.random(len(idx)) < mix
            received = np.where(one_pass[:, None, None, None], ex["one_pass"][idx], ex["refined"][idx])
            revealed = net.reveal(to_tensor(received))
            loss = ((revealed - to_tensor(ex["secret"][idx])) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        report(epoch)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--crops", type=int, default=1024)
    ap.add_argument("--refine", type=int, default=None, help="refinement steps (default: the model's own)")
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--refine-lr", type=float, default=None, help="refinement's first step (default: the hide's)")
    ap.add_argument("--start", type=float, default=None, help="refinement's start (default: the hide's)")
    ap.add_argument("--mix-quality", default="75,90")
    ap.add_argument("--mix", type=float, default=0.3, help="share of one-pass examples in each batch")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    model = load_model(a.model, refine=None, progress=False)
    net = model.net.float().eval()
    refine = model.refine if a.refine is None else a.refine
    size = net.cfg.window
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "examples.npz"
    print(f"{a.model}, {cpu_name()}", flush=True)
    if cache.exists():
        ex = dict(np.load(cache))
    else:
        t0 = time.time()
        images, _, _ = load_images(find_images(a.data))
        lo, hi = (int(q) for q in a.mix_quality.split(","))
        settings = jpeg_refinement(a.quality)
        settings.update({k: v for k, v in (("lr", a.refine_lr), ("start", a.start)) if v is not None})
        ex = make_examples(net, images, a.crops, size, refine, settings, a.quality, (lo, hi), 32, rng)
        np.savez(cache, **ex)
        print(f"{len(ex['secret'])} examples in {time.time() - t0:.0f} s", flush=True)
    order = rng.permutation(len(ex["secret"]))
    held, train = order[: len(order) // 10], order[len(order) // 10:]
    fit_reveal(net, ex, train, held, a.epochs, a.batch, a.lr, a.mix, rng)
    card = dict(model.card)
    card["reveal_refit"] = {"crops": len(ex["secret"]), "refine": refine, "quality": a.quality,
                            "refine_lr": a.refine_lr, "start": a.start,
                            "mix": a.mix, "mix_quality": a.mix_quality, "epochs": a.epochs, "lr": a.lr,
                            "batch": a.batch, "data": a.data, "seed": a.seed}
    save_model(net, out / "model.safetensors", card=card, dtype=torch.float32)
    print(f"wrote {out / 'model.safetensors'}", flush=True)


if __name__ == "__main__":
    main()
