"""The warden's attack suite against a keyed deep model: what the code and the weights give without the passphrase.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/key_attack.py --covers ../shared/data/val --train ../shared/data/train \\
        --warden-minutes 60 --out results/key_attack.json

The warden has the code, the weights and photos of their own, not the passphrase. Every stego
image is hidden with the keyed model (default: the shipped default) and a passphrase, saved as
an 8-bit PNG and read back. For each attack, the secret's PSNR and SSIM against the true
secret, beside *chance*: the same figures for a ``--force`` reveal of a clean photo (the pair's
cover, nothing hidden) with the right passphrase, and for an unrelated photo (the next pair's
secret) in place of a reveal.

- ``force, wrong passphrase``: ``reveal --force`` with random wrong passphrases;
- ``unkeyed reveal``: the previous, unkeyed default model's reveal (its inverse pass at the
  true strength, the warden's best case) of the keyed stego image;
- ``keyed net, no unscramble``: the keyed model's own reveal without the key's unscramble;
- ``warden network``: a keyless reveal network the warden trains for ``--warden-minutes`` on
  pairs they hide with random passphrases (crops of ``--train`` photos), starting from the
  shipped reveal weights (``--warden-checkpoint`` keeps it: a second run reuses it);
- the residual's outline: the correlation of the smoothed magnitude of ``stego - cover``
  (the true cover: the warden's best case) and of ``stego - denoised stego`` (a 3x3 median:
  what a real warden has) with the secret's smoothed edge map, against the same correlation
  with an unrelated photo's edges; the unkeyed default model beside it;
- the header: its bits at the true passphrase's places in the stego images, against the same
  places in the same pairs hidden under another passphrase (what those values would be without
  the header) and in the clean covers (share of ones, and a chi-square test of the pooled counts);
- refusals: ``deepsteg reveal`` of every photo of ``--covers`` (clean) with the passphrase, and of
  the stego images with a wrong one and with none: how many end in "no hidden image found",
  exit 2, one line on stderr, no file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage, stats
from tqdm import tqdm

from deepsteg.images import png_roundtrip, resize_to
from deepsteg.methods import DeepModel
from deepsteg.methods.sealed import COPIES, HEADER_VALUES, header_places
from deepsteg.metrics import psnr, ssim
from deepsteg.pairs import Pair, find_images, load_pairs
from deepsteg.registry import DEFAULT_MODEL, load_model
from deepsteg.tensors import quantize_8bit, to_tensor
from deepsteg.training.data import PairSampler, load_images

PASSPHRASE = b"the warden does not know this"
UNKEYED = "deepsteg-inn-cond-v1"


def scores(pairs: list[Pair], revealed: list[np.ndarray]) -> tuple[float, float]:
    """Mean PSNR and SSIM of each revealed image against its pair's secret."""
    return (float(np.mean([psnr(p.secret, r) for p, r in zip(pairs, revealed)])),
            float(np.mean([ssim(p.secret, r) for p, r in zip(pairs, revealed)])))


def unrelated(pairs: list[Pair], i: int) -> np.ndarray:
    """The next pair's secret at pair ``i``'s size: a photo that has nothing to do with pair ``i``."""
    h, w = pairs[i].secret.shape[:2]
    return resize_to(pairs[(i + 1) % len(pairs)].secret, (w, h))


def edge_map(image: np.ndarray) -> np.ndarray:
    """Smoothed Sobel magnitude of an image's grey levels, ``(H, W)``."""
    grey = image.astype(np.float64).mean(axis=2)
    return ndimage.gaussian_filter(np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)), 2)


def outline(residual: np.ndarray, secret: np.ndarray, unrelated: np.ndarray) -> tuple[float, float]:
    """Correlation of a residual's smoothed magnitude with the secret's edges and with an unrelated photo's."""
    magnitude = ndimage.gaussian_filter(np.abs(residual).sum(axis=2), 2).ravel()
    return (float(np.corrcoef(magnitude, edge_map(secret).ravel())[0, 1]),
            float(np.corrcoef(magnitude, edge_map(unrelated).ravel())[0, 1]))


def residual_rows(name: str, pairs: list[Pair], stegos: list[np.ndarray]) -> list[dict]:
    rows = []
    for kind in ("true cover", "denoised stego"):
        values = []
        for i, (p, st) in enumerate(zip(pairs, stegos)):
            base = p.cover if kind == "true cover" else ndimage.median_filter(st, size=(3, 3, 1))
            values.append(outline(st.astype(np.float64) - base, p.secret, unrelated(pairs, i)))
        secret_c, unrelated_c = np.mean(values, axis=0)
        rows.append({"model": name, "residual": kind, "secret_edges": float(secret_c),
                     "unrelated_edges": float(unrelated_c), "excess": float(secret_c - unrelated_c)})
    return rows


def header_test(stegos: list[np.ndarray], others: list[np.ndarray], covers: list[np.ndarray]) -> dict:
    """The header's bits at the true places in stego images, against the same places in stego
    images of the same pairs under another passphrase (no header there) and in the clean covers;
    each image's first copy of the header only, so that the bits compared are independent."""
    def bits(images: list[np.ndarray]) -> np.ndarray:
        """The first copy of the header's bits (the copies repeat it) at the places the rule gives."""
        return np.concatenate([img.reshape(-1)[places[:HEADER_VALUES // COPIES]] & 1 for img in images
                               if (places := header_places(img, PASSPHRASE)) is not None])

    header = bits(stegos)
    out: dict = {"bits": int(header.size), "header_ones": float(header.mean())}
    for name, reference in (("no_header", bits(others)), ("clean", bits(covers))):
        table = [[int(header.sum()), int(header.size - header.sum())],
                 [int(reference.sum()), int(reference.size - reference.sum())]]
        chi2, p, _, _ = stats.chi2_contingency(table)
        out[name] = {"ones": float(reference.mean()), "chi2": float(chi2), "p_value": float(p)}
    return out


def unkeyed_reveal(stegos: list[np.ndarray], strength: float) -> list[np.ndarray]:
    """The previous unkeyed default's inverse pass at ``strength`` (the warden's best guess: the true one)."""
    unkeyed = load_model(UNKEYED)
    assert isinstance(unkeyed, DeepModel)
    fn = lambda x: unkeyed.net.reveal(x, strength=strength)  # noqa: E731
    return [unkeyed._apply_uint8(fn, [st], unkeyed.reveal_margin) for st in stegos]


def own_reveal_scrambled(model: DeepModel, stegos: list[np.ndarray], strength: float) -> list[np.ndarray]:
    """The keyed model's reveal network without the unscramble: the scrambled secret."""
    fn = lambda x: model.net.reveal(x, strength=strength)  # noqa: E731
    return [model._apply_uint8(fn, [st], model.reveal_margin) for st in stegos]


# --------------------------------------------------------------------------- the warden's network
def warden_pool(model: DeepModel, train: str, n: int, side: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs the warden hides with random passphrases: stego and secret ``(n, 3, side, side)``."""
    paths = find_images(train)
    rng = np.random.default_rng(seed)
    images, _, _ = load_images([paths[i] for i in rng.choice(len(paths), min(len(paths), 2 * n), replace=False)],
                               progress=False)
    sampler = PairSampler(images, side, seed)
    stegos, secrets = [], []
    for step in tqdm(range(n), desc="warden's pairs", file=sys.stderr):
        c, s = sampler.batch(step, 1)
        st = png_roundtrip(model.with_settings(passphrase=os.urandom(16)).hide(c[0], s[0]))
        stegos.append(to_tensor(st))
        secrets.append(to_tensor(s[0]))
    return torch.cat(stegos), torch.cat(secrets)


def train_warden(model: DeepModel, train: str, minutes: float, checkpoint: Path, seed: int = 0) -> torch.nn.Module:
    """A copy of the keyed model's network whose reveal pass (at the default strength) is trained to
    give the true secret from keyed stego images, for ``minutes`` of wall-clock (pair making included)."""
    import copy

    net = copy.deepcopy(model.net).float().train()
    if checkpoint.exists():
        net.load_state_dict(torch.load(checkpoint))
        return net.eval()
    start = time.perf_counter()
    strength = model._strength()
    stegos, secrets = warden_pool(model, train, n=1024, side=128, seed=seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(seed)
    steps, losses = 0, []
    bar = tqdm(desc="warden's training", unit="step", file=sys.stderr)
    while time.perf_counter() - start < 60 * minutes:
        idx = torch.randint(0, len(stegos), (16,), generator=g)
        y, x = (int(v) * 2 for v in torch.randint(0, (stegos.shape[-1] - 64) // 2, (2,), generator=g))
        st, se = stegos[idx, :, y:y + 64, x:x + 64], secrets[idx, :, y:y + 64, x:x + 64]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net.reveal(st, strength=strength)
        loss = torch.mean((quantize_8bit(out) - se) ** 2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        losses.append(loss.item())
        bar.update(1)
        if steps % 50 == 0:
            bar.set_postfix(psnr=f"{-10 * np.log10(np.mean(losses[-50:])):.2f}dB")
    bar.close()
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), checkpoint)
    print(f"warden: {steps} steps of 16 crops in {minutes:g} min, last 50 steps {-10 * np.log10(np.mean(losses[-50:])):.2f} "
          "dB on its own pairs", file=sys.stderr)
    return net.eval()


def warden_reveal(model: DeepModel, net: torch.nn.Module, stegos: list[np.ndarray]) -> list[np.ndarray]:
    strength = model._strength()
    fn = lambda x: net.reveal(x, strength=strength)  # noqa: E731
    return [model._apply_uint8(fn, [st], model.reveal_margin) for st in stegos]


def refusals(model_name: str, paths: list[Path], stegos: list[np.ndarray], work: Path) -> dict[str, list[int]]:
    """Per case, ``[refused as promised, tried]``: exit 2, one stderr line saying "no hidden image
    found", no output file."""
    import contextlib
    import io

    from deepsteg.cli.main import main as cli
    from deepsteg.images import write_png

    def refused(path: Path, passphrase: bytes | None) -> bool:
        out = work / "revealed.png"
        err = io.StringIO()
        if passphrase is None:
            os.environ.pop("DEEPSTEG_PASSPHRASE", None)
        else:
            os.environb[b"DEEPSTEG_PASSPHRASE"] = passphrase
        with contextlib.redirect_stderr(err):
            code = cli(["reveal", str(path), "-o", str(out), "--model", model_name])
        lines = err.getvalue().strip().splitlines()
        ok = code == 2 and len(lines) == 1 and "no hidden image found" in lines[0] and not out.exists()
        out.unlink(missing_ok=True)
        return ok

    saved = []
    for i, st in enumerate(stegos):
        saved.append(work / f"stego{i}.png")
        write_png(st, saved[-1])
    cases = {"clean photos, right passphrase": [refused(p, PASSPHRASE) for p in tqdm(paths, desc="clean photos",
                                                                                        file=sys.stderr)],
             "stego images, wrong passphrase": [refused(p, PASSPHRASE + b"!") for p in saved],
             "stego images, no passphrase": [refused(p, None) for p in saved]}
    os.environ.pop("DEEPSTEG_PASSPHRASE", None)
    return {k: [int(sum(v)), len(v)] for k, v in cases.items()}


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--covers", required=True, help="validation folder (the protocol's photos)")
    ap.add_argument("--train", help="the warden's photos (for the warden's network; omit to skip it)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="the keyed model attacked (default: the shipped default)")
    ap.add_argument("--pairs", type=int, default=20, help="protocol pairs attacked (default 20)")
    ap.add_argument("--wrong", type=int, default=100, help="random wrong passphrases for --force (default 100)")
    ap.add_argument("--warden-minutes", type=float, default=60.0)
    ap.add_argument("--warden-checkpoint", default="runs/warden/net.pt")
    ap.add_argument("--out", help="write the figures as JSON here")
    a = ap.parse_args()
    model = load_model(a.model, passphrase=PASSPHRASE, progress=False)
    if not isinstance(model, DeepModel) or not model.keyed:
        sys.exit(f"{a.model}: not a keyed deep model")
    pairs = load_pairs(a.covers, limit=a.pairs, protocol=True)
    stegos = [png_roundtrip(model.hide(p.cover, p.secret)) for p in tqdm(pairs, desc="hiding", file=sys.stderr)]
    strength = model._strength() or 0.0
    rows: dict[str, tuple[float, float]] = {}
    rows["right passphrase"] = scores(pairs, [model.reveal(st) for st in stegos])
    rows["chance: --force reveal of a clean photo"] = scores(pairs, [model.reveal(p.cover, force=True) for p in pairs])
    rows["chance: an unrelated photo"] = scores(pairs, [unrelated(pairs, i) for i in range(len(pairs))])
    wrong = []
    for k in tqdm(range(a.wrong), desc="wrong passphrases", file=sys.stderr):
        i = k % len(pairs)
        wrong.append((i, model.with_settings(passphrase=os.urandom(12)).reveal(stegos[i], force=True)))
    rows[f"--force, {a.wrong} wrong passphrases"] = scores([pairs[i] for i, _ in wrong], [r for _, r in wrong])
    rows[f"unkeyed reveal ({UNKEYED}, true strength)"] = scores(pairs, unkeyed_reveal(stegos, strength))
    rows["keyed network's reveal, not unscrambled"] = scores(pairs, own_reveal_scrambled(model, stegos, strength))
    if a.train:
        net = train_warden(model, a.train, a.warden_minutes, Path(a.warden_checkpoint))
        warden = warden_reveal(model, net, stegos)
        rows[f"warden's network ({a.warden_minutes:g} min)"] = scores(pairs, warden)
        # its chance: the same outputs against the wrong secrets (what any smooth guess scores)
        rows["chance: the warden's outputs against an unrelated photo"] = (
            float(np.mean([psnr(unrelated(pairs, i), r) for i, r in enumerate(warden)])),
            float(np.mean([ssim(unrelated(pairs, i), r) for i, r in enumerate(warden)])))
    unkeyed = load_model(UNKEYED)
    plain = [png_roundtrip(unkeyed.hide(p.cover, p.secret)) for p in pairs]
    residual = residual_rows(a.model, pairs, stegos) + residual_rows(UNKEYED, pairs, plain)
    other = model.with_passphrase(PASSPHRASE + b" (another)")
    header = header_test(stegos, [png_roundtrip(other.hide(p.cover, p.secret)) for p in pairs], [p.cover for p in pairs])
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        refused = refusals(a.model, find_images(a.covers), stegos, Path(work))
    chance, photo = rows["chance: --force reveal of a clean photo"], rows["chance: an unrelated photo"]
    print(f"\n{a.model}, {len(pairs)} protocol pairs, from PNG files; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print("| attack | secret PSNR (dB) | SSIM | SSIM above a forced clean reveal | above an unrelated photo |\n"
          "|---|---|---|---|---|")
    for name, (p, s) in rows.items():
        print(f"| {name} | {p:.2f} | {s:.4f} | {s - chance[1]:+.4f} | {s - photo[1]:+.4f} |")
    print("\n| model | residual against | corr. with secret's edges | with an unrelated photo's | excess |\n"
          "|---|---|---|---|---|")
    for r in residual:
        print(f"| {r['model']} | {r['residual']} | {r['secret_edges']:.3f} | {r['unrelated_edges']:.3f} | "
              f"{r['excess']:+.3f} |")
    print(f"\nthe header's places ({header['bits']} bits): ones {header['header_ones']:.4f} with the header; "
          f"without it (another passphrase) {header['no_header']['ones']:.4f}, chi-square "
          f"{header['no_header']['chi2']:.2f}, p = {header['no_header']['p_value']:.3f}; in the clean covers "
          f"{header['clean']['ones']:.4f}, chi-square {header['clean']['chi2']:.2f}, p = {header['clean']['p_value']:.3f}")
    print("\n| reveal of | refused as promised |\n|---|---|")
    for k, (n, total) in refused.items():
        print(f"| {k} | {n} of {total} |")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"model": a.model, "pairs": len(pairs), "attacks": {
            k: {"psnr": v[0], "ssim": v[1]} for k, v in rows.items()}, "residual": residual, "header": header,
            "refusals": refused},
            indent=2) + "\n")


if __name__ == "__main__":
    main()
