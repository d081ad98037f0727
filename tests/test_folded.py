"""Folded inference of the invertible networks, and the strength search on large images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepsteg.methods.strength as strength_search
import deepsteg.nets.folded as folded
from deepsteg.errors import DeepStegError
from deepsteg.methods import DeepModel
from deepsteg.methods.scramble import Scramble
from deepsteg.metrics import psnr
from deepsteg.nets.folded import FoldedInvertible, haar_bands, image_from_bands
from deepsteg.nets.invertible import InvertibleConfig, haar, inverse_haar
from deepsteg.tensors import to_tensor
from tests.conftest import conditioned_inn, randomised, smooth_image


@pytest.mark.parametrize("h, w", [(40, 56), (37, 51), (2, 2), (66, 10)])
def test_haar_bands_match_the_training_transform_and_invert(h, w):
    x = torch.rand(2, 3, h, w)
    bands = haar_bands(x)
    assert bands.is_contiguous(memory_format=torch.channels_last)
    # one image from a uint8 array (batch stride 0): its bands are stored channels last too
    assert haar_bands(to_tensor(smooth_image(h, w, 1))).stride(1) == 1
    padded = torch.nn.functional.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    torch.testing.assert_close(bands, haar(padded), atol=1e-6, rtol=0)
    torch.testing.assert_close(image_from_bands(bands, h, w), inverse_haar(haar(padded))[..., :h, :w])
    torch.testing.assert_close(image_from_bands(bands, h, w), x, atol=1e-6, rtol=0)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("rows", [1, 2, 5, 64])
def test_folded_float32_equals_the_training_code_in_any_strips(rows, fused, monkeypatch):
    """Folding FiLM and gains into the weights, streaming in strips (each as tall as ``rows``,
    with halos) and oneDNN's fused activations change nothing but float rounding."""
    if not fused:
        monkeypatch.setattr(folded, "fused_convolutions", lambda device, dtype: False)
    cases = [(conditioned_inn(gain_slope=3.0), s) for s in (0.0, 0.37, 1.0)]
    cases.append((randomised(InvertibleConfig(blocks=2, hidden=8, depth=3)), None))
    c, s = torch.rand(2, 3, 23, 30), torch.rand(2, 3, 23, 30)
    for net, strength in cases:
        fast = FoldedInvertible(net, strength, torch.float32, rows=rows)
        with torch.no_grad():
            stego = net.hide(c, s, strength) if strength is not None else net.hide(c, s)
            revealed = net.reveal(stego, strength) if strength is not None else net.reveal(stego)
        torch.testing.assert_close(fast.hide(c, s), stego, atol=2e-5, rtol=0)
        torch.testing.assert_close(fast.reveal(stego), revealed, atol=2e-5, rtol=0)


def test_folded_bf16_is_close_to_float32():
    net = conditioned_inn(gain_slope=3.0)
    c, s = torch.rand(1, 3, 48, 64), torch.rand(1, 3, 48, 64)
    exact, fast = FoldedInvertible(net, 0.5, torch.float32), FoldedInvertible(net, 0.5, torch.bfloat16, rows=7)
    stego = fast.hide(c, s)
    assert stego.dtype == torch.float32
    assert (stego - exact.hide(c, s)).abs().max() < 3 / 255
    revealed = fast.reveal(stego)
    assert revealed.dtype == torch.float32 and (revealed - exact.reveal(stego)).abs().max() < 3 / 255


def test_deep_model_folds_an_invertible_network_and_keeps_its_stego_images():
    """The folded path (the default) and the training code's tiles give the same 8-bit images
    (up to a rounding flip of a level), whole or tiled."""
    net = conditioned_inn(gain_slope=3.0)
    c, s = smooth_image(70, 90, 1), smooth_image(70, 90, 2)
    for tile in (None, 32):
        model = DeepModel(net, precision="fp32", strength=0.6, tile=tile)
        assert model.fold
        old = model.with_settings(fold=False)
        stego, reference = model.hide(c, s), old.hide(c, s)
        assert np.abs(stego.astype(int) - reference).max() <= 1 and np.mean(stego != reference) < 0.01
        revealed, expected = model.reveal(stego), old.reveal(stego)
        assert np.abs(revealed.astype(int) - expected).max() <= 1 and np.mean(revealed != expected) < 0.01


def test_the_folded_network_of_each_strength_is_made_once_and_few_are_kept():
    model = DeepModel(conditioned_inn(), precision="fp32")
    c, s = smooth_image(20, 24, 1), smooth_image(20, 24, 2)
    first = model._inference(0.5)
    assert model._inference(0.5) is first
    for strength in np.linspace(0, 1, 9):
        model.with_settings(strength=float(strength)).hide(c, s)
    assert len(model._folded) <= 4


def test_the_scramble_in_slabs_is_the_scramble_at_once(monkeypatch):
    x = torch.rand(1, 3, 90, 75)
    whole = Scramble(b"k" * 32, 90, 75).apply(x)
    monkeypatch.setattr("deepsteg.methods.scramble.SLAB_ROWS", 1)
    torch.testing.assert_close(Scramble(b"k" * 32, 90, 75).apply(x), whole, atol=1e-6, rtol=0)
    torch.testing.assert_close(Scramble(b"k" * 32, 90, 75).invert(whole), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("h, w, align", [(3000, 4000, 2), (1100, 1000, 1), (200, 170, 2)])
def test_the_tile_sample_spreads_aligned_tiles_inside_the_image(h, w, align):
    sample = strength_search.TileSample.of(h, w, align)
    assert len(sample.boxes) == strength_search.SAMPLE_GRID**2
    inners = set()
    for (oy0, oy1, ox0, ox1), (iy0, iy1, ix0, ix1) in sample.boxes:
        assert 0 <= oy0 <= iy0 < iy1 <= oy1 <= h and 0 <= ox0 <= ix0 < ix1 <= ox1 <= w
        assert iy0 % align == 0 and ix0 % align == 0
        inners.add((iy0, ix0))
    assert len(inners) == len(sample.boxes) or min(h, w) < 4 * strength_search.SAMPLE_TILE


def test_a_large_image_searches_its_strength_on_tiles_and_checks_it(monkeypatch):
    """Above SAMPLE_ABOVE pixels the search hides tiles, then at most two full images, and lands
    within 0.3 dB of every target in range."""
    monkeypatch.setattr(strength_search, "SAMPLE_ABOVE", 0)
    monkeypatch.setattr(strength_search, "SAMPLE_TILE", 24)
    monkeypatch.setattr(strength_search, "SAMPLE_MARGIN", 8)
    model = DeepModel(conditioned_inn(gain_slope=4.0), precision="fp32")
    c, s = smooth_image(150, 180, 7), smooth_image(150, 180, 8)
    lo = psnr(c, model.with_settings(strength=1.0).hide(c, s))
    hi = psnr(c, model.with_settings(strength=0.0).hide(c, s))
    assert hi - lo > 5
    full_hides = []
    network_hide = DeepModel._network_hide

    def counting(self, cover, secret):
        if cover.shape[:2] == c.shape[:2]:
            full_hides.append(1)
        return network_hide(self, cover, secret)

    monkeypatch.setattr(DeepModel, "_network_hide", counting)
    for target in np.linspace(lo + 0.5, hi - 0.5, 4):
        full_hides.clear()
        notes: list[str] = []
        stego = model.hide(c, s, cover_psnr=float(target), notes=notes)
        assert abs(psnr(c, stego) - target) <= 0.3 and "strength" in notes[0]
        assert 1 <= len(full_hides) <= 2
    with pytest.raises(DeepStegError, match="outside this model's range"):
        model.hide(c, s, cover_psnr=hi + 5)
