"""codec-lsbm: the secret as a codec file, encrypted, embedded by LSB matching at keyed positions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage import data

from deepsteg.cli.main import main
from deepsteg.errors import DeepStegError
from deepsteg.methods.codec import (
    OVERHEAD,
    CodecLSBM,
    KeyedPermutation,
    _positions,
    decode_secret,
    encode_to_fit,
    rate_for_psnr,
)
from deepsteg.metrics import psnr
from deepsteg.registry import load_model


@pytest.fixture(scope="module")
def photos():
    """Two real photos of the same size (scikit-image's chelsea and a crop of coffee)."""
    cover = data.chelsea()
    secret = data.coffee()[:cover.shape[0], :cover.shape[1]]
    return cover, secret


@pytest.fixture(scope="module")
def hidden(photos):
    method = CodecLSBM(passphrase=b"correct horse")
    return method, method.hide(*photos)


@given(st.integers(1, 5000), st.binary(min_size=48, max_size=48))
@settings(max_examples=40, deadline=None)
def test_keyed_permutation_is_a_bijection(n, key):
    values = KeyedPermutation(n, key)(np.arange(n, dtype=np.uint64))
    assert sorted(values.tolist()) == list(range(n))


def test_positions_depend_on_the_key():
    a = next(_positions(10_000, 256, b"a" * 48))[1]
    b = next(_positions(10_000, 256, b"b" * 48))[1]
    assert np.mean(a == b) < 0.05


def test_revealed_secret_is_exactly_the_embedded_codec_file(photos, hidden):
    cover, secret = photos
    method, stego = hidden
    embedded = method.extract(stego)
    assert embedded == encode_to_fit(secret, "avif", method.capacity(cover.shape))  # the fitted codec file
    assert np.array_equal(method.reveal(stego), decode_secret(embedded))  # and nothing else


def test_default_rate_keeps_50_db_with_plus_minus_one_changes(photos, hidden):
    cover, secret = photos
    method, stego = hidden
    diff = stego.astype(int) - cover
    assert set(np.unique(diff)) <= {-1, 0, 1}
    assert psnr(cover, stego) >= 50
    assert psnr(secret, method.reveal(stego)) >= 38  # a real photo at about 3 bits per pixel
    # LSB matching: values move up as often as down (replacement would only pair 2k <-> 2k+1)
    ups, downs = np.sum(diff == 1), np.sum(diff == -1)
    assert abs(ups - downs) < 0.05 * (ups + downs)


def test_lower_rate_for_a_higher_cover_psnr(photos):
    cover, secret = photos
    assert rate_for_psnr(50) == 1.0 and rate_for_psnr(60) == pytest.approx(0.13, abs=0.005)
    method = CodecLSBM(cover_psnr=58)
    stego = method.hide(cover, secret)
    assert psnr(cover, stego) >= 58
    assert len(method.extract(stego)) <= method.capacity(cover.shape) < CodecLSBM().capacity(cover.shape) / 3


@pytest.mark.parametrize("damage", ["wrong passphrase", "clean photo", "one flipped payload bit", "public default"])
def test_nothing_found_without_the_right_key_and_intact_payload(photos, hidden, damage):
    cover, _ = photos
    method, stego = hidden
    reader, image = method, stego.copy()
    if damage == "wrong passphrase":
        reader = CodecLSBM(passphrase=b"correct horse!")
    elif damage == "public default":
        reader = CodecLSBM()
    elif damage == "clean photo":
        image = cover.copy()
    else:  # the LSB of the value holding message bit 8 * OVERHEAD + 1000 (inside the ciphertext)
        pos = next(_positions(image.size, 8 * OVERHEAD + 1001, method._positions_key))[1][-1]
        image.reshape(-1)[pos] ^= 1
    with pytest.raises(DeepStegError, match="no hidden image found"):
        reader.reveal(image)


def test_a_secret_that_cannot_fit_is_refused():
    tiny = np.full((6, 6, 3), 100, np.uint8)
    with pytest.raises(DeepStegError, match="does not fit"):
        CodecLSBM().hide(tiny, tiny)


def test_registry_and_cli_round_trip_with_a_passphrase_file(photos, tmp_path, monkeypatch, capsys):
    cover, secret = photos
    assert isinstance(load_model("codec-lsbm"), CodecLSBM)
    cp, sp = tmp_path / "c.png", tmp_path / "s.png"
    Image.fromarray(cover).save(cp)
    Image.fromarray(secret).save(sp)
    key = tmp_path / "key.txt"
    key.write_text("tr0ub4dor\n")
    stego, out = tmp_path / "stego.png", tmp_path / "out.png"
    assert main(["hide", str(cp), str(sp), "-o", str(stego), "--model", "codec-lsbm", "--passphrase-file", str(key)]) == 0
    assert main(["reveal", str(stego), "-o", str(out), "--model", "codec-lsbm", "--passphrase-file", str(key)]) == 0
    method = CodecLSBM(passphrase="tr0ub4dor")
    assert np.array_equal(np.asarray(Image.open(out)), method.reveal(np.asarray(Image.open(stego))))
    # the same passphrase from the environment works; none (the public default) finds nothing
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", "tr0ub4dor")
    out2 = tmp_path / "out2.png"
    assert main(["reveal", str(stego), "-o", str(out2), "--model", "codec-lsbm"]) == 0
    monkeypatch.delenv("DEEPSTEG_PASSPHRASE")
    capsys.readouterr()
    out3 = tmp_path / "out3.png"
    assert main(["reveal", str(stego), "-o", str(out3), "--model", "codec-lsbm"]) == 2
    err = capsys.readouterr().err
    assert "no hidden image found" in err and len(err.strip().splitlines()) == 1
    assert not out3.exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["reveal", str(stego), "-o", str(out3), "--model", "codec-lsbm", "--passphrase-file", str(empty)]) == 2
    assert not out3.exists()


@pytest.mark.parametrize("damage", ["wrong passphrase", "clean photo", "one flipped payload bit"])
def test_cli_reveal_finds_nothing_exits_2_and_writes_nothing(photos, hidden, tmp_path, monkeypatch, capsys, damage):
    cover, _ = photos
    method, stego = hidden
    image = cover if damage == "clean photo" else stego.copy()
    if damage == "one flipped payload bit":
        pos = next(_positions(image.size, 8 * OVERHEAD + 5001, method._positions_key))[1][-1]
        image.reshape(-1)[pos] ^= 1
    path, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(image).save(path)
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", "correct horse" + ("?" if damage == "wrong passphrase" else ""))
    assert main(["reveal", str(path), "-o", str(out), "--model", "codec-lsbm"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no hidden image found" in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_codec_follows_a_cover_psnr_target(photos):
    cover, secret = photos
    notes = []
    stego = CodecLSBM().hide(cover, secret, cover_psnr=60, notes=notes)
    assert psnr(cover, stego) >= 60 and "bits per channel value" in notes[-1]
