"""The keyed scramble's bake-off: which keyed, invertible scramble of the secret the hiding network carries best.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/scramble_bakeoff.py --covers ../shared/data/val --pairs 20

Every candidate is an orthogonal map about mid-grey (a reveal error keeps its size), keyed by a
random 32-byte key per pair, and is measured with the same network, the unkeyed
``deepsteg-inn-cond-v1`` at its default strength, not fine-tuned for any of them: the cover and
secret PSNR from PNG files (the secret after unscrambling), and the leak the issue warns of, the
correlation of the residual's smoothed magnitude (stego - cover) with the secret's edges minus
the same with an unrelated photo's edges.

- ``none``: the secret as it is (the reference, no key);
- ``pixels``: a keyed shuffle of the pixels (colour triples kept) and keyed reflections about mid-grey;
- ``block dct``: 8x8 block DCT, each coefficient position permuted across the blocks by its own key
  (the DC too) with keyed signs;
- ``frequency bins``: the whole image's DCT, coefficients permuted inside bins of 8x8 neighbouring
  frequencies with keyed signs (``deepsteg.methods.scramble`` without its mixing);
- ``frequency bins + mixing``: the same with each bin mixed by a Walsh-Hadamard transform, twice
  (``deepsteg.methods.scramble``, what ships).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from deepsteg.images import png_roundtrip, resize_to
from deepsteg.jpeg import BLOCK, dct_basis
from deepsteg.methods import DeepModel
from deepsteg.methods import scramble as shipped
from deepsteg.metrics import psnr
from deepsteg.pairs import load_pairs
from deepsteg.registry import load_model
from deepsteg.tensors import to_tensor, to_uint8

sys.path.insert(0, os.path.dirname(__file__))
from key_attack import outline  # noqa: E402

Map = tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]


def pixel_shuffle_map(key: bytes, h: int, w: int) -> Map:
    perm = torch.from_numpy(shipped.keyed_permutations(key, 1, h * w, 0)[0])
    signs = shipped.keyed_signs(key, 1, h * w, 1)[0]

    def apply(x):
        return ((x - 0.5).reshape(1, 3, -1)[..., perm] * signs).reshape(x.shape) + 0.5

    def invert(y):
        flat = (y - 0.5).reshape(1, 3, -1) * signs
        out = torch.empty_like(flat)
        out[..., perm] = flat
        return out.reshape(y.shape) + 0.5

    return apply, invert


def block_dct_map(key: bytes, h: int, w: int) -> Map:
    """8x8 block DCT; sides cropped to multiples of 8 by the caller."""
    rows, cols = h // BLOCK, w // BLOCK
    blocks = rows * cols
    perm = torch.from_numpy(shipped.keyed_permutations(key, BLOCK * BLOCK, blocks, 0))
    signs = shipped.keyed_signs(key, BLOCK * BLOCK, blocks, 1)
    basis = dct_basis()

    def coefficients(x):
        return torch.einsum("kp,ncpb->nckb", basis, F.pixel_unshuffle(x - 0.5, BLOCK).view(1, 3, 64, blocks))

    def image(c):
        return F.pixel_shuffle(torch.einsum("kp,nckb->ncpb", basis, c).reshape(1, 192, rows, cols), BLOCK) + 0.5

    def apply(x):
        c = coefficients(x)
        return image(torch.gather(c, 3, perm.expand_as(c)) * signs)

    def invert(y):
        c = coefficients(y)
        out = torch.empty_like(c)
        out.scatter_(3, perm.expand_as(c), c * signs)
        return image(out)

    return apply, invert


def frequency_map(key: bytes, h: int, w: int, mix: bool) -> Map:
    s = shipped.Scramble(key, h, w, rounds=shipped.ROUNDS if mix else 1, mix=mix)
    return s.apply, s.invert


CANDIDATES: dict[str, Callable[[bytes, int, int], Map]] = {
    "none": lambda key, h, w: (lambda x: x, lambda y: y),
    "pixels": pixel_shuffle_map,
    "block dct": block_dct_map,
    "frequency bins": lambda key, h, w: frequency_map(key, h, w, mix=False),
    "frequency bins + mixing": lambda key, h, w: frequency_map(key, h, w, mix=True),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--covers", required=True, help="validation folder (the protocol's photos)")
    ap.add_argument("--pairs", type=int, default=20)
    a = ap.parse_args()
    model = load_model("deepsteg-inn-cond-v1")
    assert isinstance(model, DeepModel)
    strength = model._strength()
    pairs = load_pairs(a.covers, limit=a.pairs, protocol=True)
    rows: dict[str, list[tuple[float, float, float]]] = {n: [] for n in CANDIDATES}
    rng = np.random.default_rng(0)
    for i, p in enumerate(tqdm(pairs, file=sys.stderr)):
        h, w = p.cover.shape[0] // BLOCK * BLOCK, p.cover.shape[1] // BLOCK * BLOCK
        cover, secret = p.cover[:h, :w], p.secret[:h, :w]
        unrelated = resize_to(pairs[(i + 1) % len(pairs)].secret, (w, h))
        for name, make in CANDIDATES.items():
            apply, invert = make(rng.bytes(32), h, w)
            hidden = apply(to_tensor(secret))
            stego = png_roundtrip(model._apply_uint8(lambda c, s: model.net.hide(c, s, strength=strength),
                                                     [cover, hidden], model.hide_margin))
            raw = model._apply(lambda x: model.net.reveal(x, strength=strength), [stego], model.reveal_margin,
                               raw=True)
            revealed = to_uint8(invert(raw))[0]
            secret_c, unrelated_c = outline(stego.astype(np.float64) - cover, secret, unrelated)
            rows[name].append((psnr(cover, stego), psnr(secret, revealed), secret_c - unrelated_c))
    print(f"\n{len(pairs)} protocol pairs (cropped to multiples of 8), deepsteg-inn-cond-v1 at strength "
          f"{strength:.3f}, not fine-tuned, from PNG files\n")
    print("| scramble | cover PSNR | secret PSNR | residual's outline (excess correlation) |\n|---|---|---|---|")
    for name, values in rows.items():
        c, s, o = np.mean(values, axis=0)
        print(f"| {name} | {c:.2f} dB | {s:.2f} dB | {o:+.3f} |")


if __name__ == "__main__":
    main()
