"""Shared fixtures: small images the tests make themselves, and tiny model files."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from deepsteg.nets import build_net
from deepsteg.nets.invertible import InvertibleConfig

os.environ.setdefault("DEEPSTEG_NO_TENSORBOARD", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


def smooth_image(h: int, w: int, seed: int) -> np.ndarray:
    """A photo-like uint8 (h, w, 3) image: smooth colour gradients, blobs and a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        a, b, p = rng.uniform(0.5, 3, 3)
        img[:, :, c] = 0.5 + 0.25 * np.sin(a * x / w * 6 + p) * np.cos(b * y / h * 6 - p)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, max(4, min(h, w) / 3))
        img += (((y - cy) ** 2 + (x - cx) ** 2) < r**2)[:, :, None] * rng.uniform(-0.3, 0.3, 3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


@pytest.fixture
def seeded_salts(monkeypatch):
    """Every hide's random bytes from seeded generators: the keyed models' salts, and the codec
    methods' salts, nonces, padding and filler. The same stego images, figures and verdicts (a
    codec-qim hide that refuses) on every run."""
    rng = np.random.default_rng(0)
    monkeypatch.setattr("deepsteg.methods.deep.new_salt", lambda: rng.bytes(16))
    monkeypatch.setattr("deepsteg.methods.codec.random_bytes", np.random.default_rng(0).bytes)


@pytest.fixture
def images(tmp_path):
    """Two 40x56 PNG files (cover, secret) and their arrays."""
    c, s = smooth_image(40, 56, 1), smooth_image(40, 56, 2)
    cp, sp = tmp_path / "cover.png", tmp_path / "secret.png"
    Image.fromarray(c).save(cp)
    Image.fromarray(s).save(sp)
    return {"cover": c, "secret": s, "cover_path": cp, "secret_path": sp}


@pytest.fixture
def image_folder(tmp_path):
    """A folder of 12 small training images in several formats and modes."""
    d = tmp_path / "imgs"
    (d / "sub dir").mkdir(parents=True)
    for i in range(12):
        a = smooth_image(48 + 4 * (i % 3), 56, 100 + i)
        im = Image.fromarray(a)
        if i % 4 == 1:
            im = im.convert("L")
        if i % 4 == 2:
            im = im.convert("RGBA")
        ext = (".png", ".jpg", ".webp", ".bmp")[i % 4] if i % 4 != 2 else ".png"
        name = f"img {i}'s{ext}" if i % 5 == 0 else f"img{i}{ext}"
        im.save((d / "sub dir" if i % 2 else d) / name)
    return d


#: A small invertible network conditioned on a strength.
INN_COND = InvertibleConfig(blocks=2, hidden=8, depth=2, conditioned=True)


def randomised(cfg):
    """A network of any design with seeded random convolution weights, large enough that every
    pixel depends on its neighbours (in eval mode)."""
    torch.manual_seed(0)
    net = build_net(cfg)
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.weight, std=0.3 / (m.in_channels * 9) ** 0.5)
    return net.eval()


def conditioned_inn(gain_slope: float = 4.0):
    """A small conditioned invertible network with random weights whose update gain is
    exp(gain_slope * (s - 0.5)) and whose FiLM is random: the cover PSNR falls as s grows."""
    net = randomised(INN_COND)
    torch.nn.init.normal_(net.strength.film.weight, std=0.3)
    plain = net.strength.forward

    def forward(strength):
        films, _ = plain(strength)
        return films, torch.exp(gain_slope * (strength.float() - 0.5)).view(-1, 1, 1, 1)

    net.strength.forward = forward
    return net.eval()


def default_label() -> str:
    """How comparisons name the default model hiding with the default refinement."""
    from deepsteg.registry import resolve_methods

    return resolve_methods([], baselines=False)[0].label
