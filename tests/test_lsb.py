import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from deepsteg import LSB, load_model
from deepsteg.images import png_roundtrip
from deepsteg.methods.lsb import xor_stream

pair = st.integers(2, 9).flatmap(
    lambda h: st.tuples(arrays(np.uint8, (h, 5, 3)), arrays(np.uint8, (h, 5, 3))))


@settings(max_examples=60, deadline=None)
@given(pair, st.integers(1, 7))
def test_lsb_round_trip_is_exact(cs, k):
    cover, secret = cs
    m = LSB(k)
    stego = m.hide(cover, secret)
    assert stego.dtype == np.uint8 and stego.shape == cover.shape
    # the cover keeps its 8-k high bits, the low bits are the secret's k high bits
    assert np.array_equal(stego >> k, cover >> k)
    assert np.array_equal(stego & ((1 << k) - 1), secret >> (8 - k))
    revealed = m.reveal(stego)
    # the secret's k high bits come back; the missing bits are filled with their midpoint
    expected = ((secret >> (8 - k)) << (8 - k)) + (1 << (7 - k))
    assert np.array_equal(revealed, expected.astype(np.uint8))
    assert np.abs(revealed.astype(int) - secret.astype(int)).max() <= (1 << (7 - k))


def test_lsb_known_values():
    c = np.full((2, 2, 3), 0b10110110, np.uint8)
    s = np.full((2, 2, 3), 0b11010011, np.uint8)
    m = load_model("lsb4")
    assert m.hide(c, s)[0, 0, 0] == 0b10111101
    assert m.reveal(m.hide(c, s))[0, 0, 0] == 0b11011000


def test_lsb_rejects_bad_bits():
    with pytest.raises(ValueError):
        LSB(0)


@settings(max_examples=40, deadline=None)
@given(pair, st.integers(1, 7))
def test_xor_variant_reveals_the_same_secret_through_whitened_bits(cs, k):
    cover, secret = cs
    plain, xor = LSB(k), LSB(k, xor=True)
    stego = xor.hide(cover, secret)
    assert np.array_equal(stego >> k, cover >> k)
    assert np.array_equal(xor.reveal(stego), plain.reveal(plain.hide(cover, secret)))


def test_xor_variant_stores_uniform_bits_of_a_constant_secret():
    cover = np.zeros((64, 64, 3), np.uint8)
    secret = np.full((64, 64, 3), 200, np.uint8)
    m = load_model("lsb4-xor")
    assert m.name == "lsb4-xor"
    low = m.hide(cover, secret) & 0xF
    # the plain variant would store the constant 12 everywhere; the XOR stream spreads it
    counts = np.bincount(low.ravel(), minlength=16)
    assert counts.min() > 0.8 * low.size / 16 and counts.max() < 1.2 * low.size / 16
    # the stream is fixed: the same image size always gets the same stego image
    assert np.array_equal(m.hide(cover, secret), load_model("lsb4-xor").hide(cover, secret))


def test_xor_stream_is_frozen():
    """Stego images written today must reveal with any later numpy: the stream is pinned."""
    assert xor_stream((2, 2, 3), 4).tolist() == [[[9, 10, 3], [13, 14, 3]], [[6, 4, 14], [12, 12, 12]]]
    assert xor_stream((1, 3, 3), 1).tolist() == [[[1, 0, 1], [1, 0, 1], [0, 0, 0]]]


def test_xor_variant_reveals_from_a_png_of_a_greyscale_and_an_rgba_input():
    rng = np.random.default_rng(0)
    cover = rng.integers(0, 256, (12, 9), dtype=np.uint8)  # greyscale
    secret = np.dstack([rng.integers(0, 256, (12, 9, 3), dtype=np.uint8), np.full((12, 9), 255, np.uint8)])  # RGBA
    m = LSB(3, xor=True)
    stego = png_roundtrip(m.hide(cover, secret))
    assert np.array_equal(m.reveal(stego), LSB(3).reveal(LSB(3).hide(cover, secret)))
    assert not np.array_equal(stego, LSB(3).hide(cover, secret))


def test_lsb_answers_a_cover_psnr_target_with_the_nearest_k_above(tmp_path, capsys):
    from deepsteg.cli.main import main
    from deepsteg.errors import DeepStegError
    from deepsteg.metrics import psnr
    from tests.conftest import smooth_image

    c, s = smooth_image(40, 56, 1), smooth_image(40, 56, 2)
    got = {k: psnr(c, LSB(k).hide(c, s)) for k in range(1, 8)}
    target = (got[2] + got[3]) / 2
    notes = []
    assert np.array_equal(LSB(4).hide(c, s, cover_psnr=target, notes=notes), LSB(2).hide(c, s))
    assert notes[0].startswith("lsb2:") and "--model lsb2" in notes[0]
    with pytest.raises(DeepStegError, match="above what LSB reaches"):
        LSB(4).hide(c, s, cover_psnr=got[1] + 1)
    stego, revealer = LSB(4).hide_at(c, s, got[1] + 1, notes, nearest=True)  # a comparison: 1 bit, the nearest
    assert np.array_equal(stego, LSB(1).hide(c, s)) and revealer.bits == 1 and "nearest below" in notes[-1]
    with pytest.raises(DeepStegError, match="between 0 and"):
        LSB(4).hide(c, s, cover_psnr=-3)
    cp, sp, out = tmp_path / "c.png", tmp_path / "s.png", tmp_path / "o.png"
    Image.fromarray(c).save(cp)
    Image.fromarray(s).save(sp)
    assert main(["hide", str(cp), str(sp), "-o", str(out), "--model", "lsb4", "--cover-psnr", "200"]) == 2
    assert not out.exists() and "between 0 and" in capsys.readouterr().err
    assert main(["hide", str(cp), str(sp), "-o", str(out), "--model", "lsb4", "--cover-psnr", f"{target}"]) == 0
    assert "reveal with --model lsb2" in capsys.readouterr().err
