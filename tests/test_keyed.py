"""Keyed deep hiding: the secret's scramble, the sealed header, and a keyed DeepModel (small networks)."""


import numpy as np
import pytest
import scipy.fft
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage import data

from deepsteg.errors import DeepStegError
from deepsteg.methods import DeepModel
from deepsteg.methods.codec import NOT_FOUND
from deepsteg.methods.scramble import BIN, Scramble, regions, training_bin, walsh_hadamard
from deepsteg.methods.sealed import COPIES, HEADER_VALUES, header_places, image_keys, read_header, write_header
from deepsteg.metrics import ssim
from deepsteg.tensors import to_tensor, to_uint8
from tests.conftest import conditioned_inn, smooth_image

KEY = bytes(range(32))


def key(seed: int, n: int = 32) -> bytes:
    """A fixed key per seed: the tests' draws are the same on every run."""
    return np.random.default_rng([7, seed]).bytes(n)


def photo(h: int = 96, w: int = 128) -> np.ndarray:
    return data.astronaut()[100:100 + h, 150:150 + w].copy()


# --------------------------------------------------------------------------- scramble
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 2, 8]), st.binary(min_size=32, max_size=32))
@settings(max_examples=40, deadline=None)
def test_scramble_is_inverted_exactly_and_keeps_the_energy(h, w, size, key):
    x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(h * w))
    s = Scramble(key, h, w, bin=size)
    y = s.apply(x)
    assert torch.allclose(s.invert(y), x, atol=1e-5)
    assert torch.allclose(((y - 0.5) ** 2).sum(), ((x - 0.5) ** 2).sum(), rtol=1e-4)


@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 2, 8]))
@settings(max_examples=40, deadline=None)
def test_the_regions_cut_the_grid_into_bins_exactly_once(h, w, size):
    grid = torch.arange(h * w, dtype=torch.float64).reshape(1, h, w)
    seen = torch.cat([part.take(grid).reshape(-1) for part in regions(h, w, size)])
    assert sorted(seen.tolist()) == list(range(h * w))
    for part in regions(h, w, size):  # each bin holds neighbouring frequencies
        bins = part.take(grid)[0].numpy().astype(int)
        assert (np.ptp(bins // w, axis=1) < size).all() and (np.ptp(bins % w, axis=1) < size).all()
        back = torch.zeros_like(grid)
        part.put(back, part.take(grid))
        region = back[:, part.top:part.bottom, part.left:part.right]
        assert torch.equal(region, grid[:, part.top:part.bottom, part.left:part.right])


def test_walsh_hadamard_is_orthonormal_and_its_own_inverse():
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(5, 64)))
    assert torch.allclose(walsh_hadamard(walsh_hadamard(x)), x)
    assert torch.allclose((walsh_hadamard(x) ** 2).sum(1), (x**2).sum(1))


@pytest.mark.parametrize("h, w", [(96, 128), (93, 126)])
def test_the_scramble_keeps_each_bins_energy_and_nothing_of_the_layout(h, w):
    x = to_tensor(photo(h, w))
    y = Scramble(KEY, h, w).apply(x)

    def bin_energy(img):
        c = torch.from_numpy(scipy.fft.dctn(img.numpy()[0] - 0.5, axes=(-2, -1), norm="ortho"))
        return torch.cat([(part.take(c) ** 2).sum(dim=(0, 2)) for part in regions(h, w, BIN)]).numpy()

    assert np.allclose(bin_energy(y), bin_energy(x), rtol=1e-3)


def chance_ssim(h: int = 96, w: int = 128) -> float:
    """SSIM of :func:`photo` against scrambles of an unrelated photo: what no information looks like."""
    other = to_tensor(data.coffee()[:h, :w].copy())
    return float(np.mean([ssim(photo(h, w), to_uint8(Scramble(key(i), h, w).apply(other))[0])
                          for i in range(20)]))


def test_the_scramble_keeps_nothing_of_the_layout():
    x = to_tensor(photo())
    scrambled = [ssim(photo(), to_uint8(Scramble(key(100 + i), 96, 128).apply(x))[0]) for i in range(20)]
    assert np.mean(scrambled) < chance_ssim() + 0.02


def test_a_wrong_key_unscrambles_to_noise():
    y = Scramble(KEY, 96, 128).apply(to_tensor(photo()))
    wrong = [ssim(photo(), to_uint8(Scramble(key(200 + i), 96, 128).invert(y))[0]) for i in range(20)]
    assert np.mean(wrong) < chance_ssim() + 0.02 and max(wrong) < 0.15


def test_training_bins_match_a_photos_scale():
    assert [training_bin(c) for c in (32, 64, 128, 256, 512)] == [1, 2, 4, 8, 16]


# --------------------------------------------------------------------------- sealed header
def test_the_header_round_trips_and_only_its_passphrase_opens_it():
    img = smooth_image(40, 56, 3)
    salt = bytes(16)
    stego = write_header(img, b"pw", salt, 107)
    assert np.abs(stego.astype(int) - img).max() <= 1
    assert (stego != img).sum() <= HEADER_VALUES
    header = read_header(stego, b"pw")
    assert header is not None and header.authentic and header.salt == salt and header.strength == 107
    assert not read_header(stego, b"pW").authentic
    assert not read_header(img, b"pw").authentic


def test_the_header_survives_a_few_changed_values_by_majority():
    img = smooth_image(40, 56, 3)
    stego = write_header(img, b"pw", bytes(16), 9)
    flat = stego.reshape(-1).copy()
    rng = np.random.default_rng(0)
    inner = np.flatnonzero((flat > 1) & (flat < 254))  # changes that leave no value saturated
    flat[rng.choice(inner, 40, replace=False)] ^= 1  # 40 random LSBs flipped
    assert read_header(flat.reshape(stego.shape), b"pw").authentic


def test_the_header_keeps_off_saturated_values_and_never_makes_one():
    img = smooth_image(40, 56, 3)
    img[:20] = 255  # the top half saturated
    img[20:25] = 0
    stego = write_header(img, b"pw", bytes(16), 9)
    changed = stego != img
    assert changed.any() and not changed[:25].any()  # nothing written where the values were 0 or 255
    assert ((stego[changed] > 0) & (stego[changed] < 255)).all()
    assert read_header(stego, b"pw").authentic
    with pytest.raises(DeepStegError, match="too small or too saturated"):
        write_header(np.full((40, 56, 3), 255, np.uint8), b"pw", bytes(16), 9)


def test_a_clean_photo_never_passes_for_a_header():
    for seed in range(100):  # a clean photo (or any passphrase) fails the 128-bit tag
        assert not read_header(smooth_image(24, 32, seed), key(seed, 8)).authentic


def test_the_headers_bits_are_balanced_and_look_like_a_clean_photos():
    ones, clean = [], []
    for seed in range(40):
        img = smooth_image(40, 56, seed)
        pw = f"pw{seed}".encode()
        stego = write_header(img, pw, key(seed, 16), seed)
        for image, out in ((stego, ones), (img, clean)):
            out.append((image.reshape(-1)[header_places(image, pw)[:HEADER_VALUES // COPIES]] & 1).mean())
    # 40 x 264 independent bits (one copy of each header): a fair coin's share of ones is 0.5 +- 0.027 (3 sigma)
    assert abs(np.mean(ones) - 0.5) < 0.027
    assert abs(np.mean(ones) - np.mean(clean)) < 0.05


def test_each_image_gets_its_own_keys():
    a, b = image_keys(b"pw", bytes(16)), image_keys(b"pw", bytes(15) + b"\x01")
    assert a.scramble != b.scramble and a.mac != b.mac
    assert COPIES % 2 == 1  # a majority always exists


# --------------------------------------------------------------------------- a keyed DeepModel
@pytest.fixture(scope="module")
def keyed():
    return DeepModel(conditioned_inn(), name="keyed-test", precision="fp32", keyed=True, passphrase=b"pw")


def test_a_keyed_model_round_trips_with_its_passphrase(keyed):
    # a random network does not reveal well, but the scramble, header and unscramble must line up
    cover, secret = smooth_image(48, 64, 1), smooth_image(48, 64, 2)
    stego = keyed.hide(cover, secret)
    plain = DeepModel(keyed.net, precision="fp32", strength=keyed.strength)
    # the keyed reveal equals unscrambling what the network reveals of the scrambled secret
    header = read_header(stego, b"pw")
    assert header.authentic and header.strength == round(keyed.strength * 255)
    s = Scramble(image_keys(b"pw", header.salt).scramble, 48, 64)
    raw = plain.net.reveal(to_tensor(stego), strength=header.strength / 255)
    assert np.abs(keyed.reveal(stego).astype(int) - to_uint8(s.invert(raw))[0]).max() <= 1


def test_a_keyed_model_refuses_a_wrong_or_missing_passphrase_and_clean_photos(keyed):
    stego = keyed.hide(smooth_image(48, 64, 1), smooth_image(48, 64, 2))
    for other in (keyed.with_settings(passphrase=b"wrong"), keyed.with_settings(passphrase=b"deepsteg public "
                                                                                            b"passphrase")):
        with pytest.raises(DeepStegError, match="no hidden image found"):
            other.reveal(stego)
    with pytest.raises(DeepStegError, match="no hidden image found"):
        keyed.reveal(smooth_image(48, 64, 5))
    with pytest.raises(DeepStegError, match="no hidden image found"):
        keyed.reveal(smooth_image(8, 8, 5))  # too small to hold a header
    assert NOT_FOUND.startswith("no hidden image found")


def test_a_forced_reveal_says_so(keyed):
    stego = keyed.hide(smooth_image(48, 64, 1), smooth_image(48, 64, 2))
    notes: list[str] = []
    out = keyed.with_settings(passphrase=b"wrong").reveal(stego, notes=notes, force=True)
    assert out.shape == stego.shape and len(notes) == 1 and "forced" in notes[0]
    notes.clear()
    keyed.reveal(stego, notes=notes, force=True)  # the header checks out: nothing to say
    assert notes == []


def test_two_hides_of_one_pair_differ_everywhere_in_the_scramble(keyed):
    cover, secret = smooth_image(48, 64, 1), smooth_image(48, 64, 2)
    a, b = keyed.hide(cover, secret), keyed.hide(cover, secret)
    assert read_header(a, b"pw").salt != read_header(b, b"pw").salt
