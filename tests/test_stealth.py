"""The stealth mode: a small sealed payload by STC at HILL's costs; refusals; JPEG traces."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from deepsteg import jpeg
from deepsteg.errors import DeepStegError
from deepsteg.images import png_roundtrip
from deepsteg.jpeg_traces import has_jpeg_traces, jpeg_trace, prepare_cover
from deepsteg.methods.codec import NOT_FOUND
from deepsteg.methods.stealth import Stealth, hill_costs
from deepsteg.registry import load_model
from tests.conftest import smooth_image

data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def photos():
    """Three photos that were never JPEGs, 192x256."""
    return [np.ascontiguousarray(f()[:192, :256]) for f in (data.astronaut, data.coffee, data.rocket)]


def test_a_hide_reveals_the_exact_file_and_changes_few_values(photos, seeded_salts):
    cover, secret = photos[0], photos[1]
    method = Stealth(passphrase=b"right")
    notes: list[str] = []
    stego = png_roundtrip(method.hide(cover, secret, notes=notes))
    assert np.abs(stego.astype(int) - cover).max() == 1
    assert (stego != cover).mean() < 0.02
    file = method.extract(stego)
    assert 8 * len(file) <= 0.05 * cover.size
    assert f"{len(file)}-byte AVIF file" in notes[-1]
    revealed = method.reveal(stego)
    assert revealed.shape == cover.shape
    assert 10 * np.log10(255**2 / np.mean((revealed.astype(float) - secret) ** 2)) > 17


def test_a_larger_payload_gives_a_better_secret(photos, seeded_salts):
    cover, secret = photos[0], photos[2]
    quality = []
    for payload in (0.05, 0.2):
        method = Stealth(passphrase=b"k", payload=payload)
        back = method.reveal(png_roundtrip(method.hide(cover, secret)))
        quality.append(10 * np.log10(255**2 / np.mean((back.astype(float) - secret) ** 2)))
    assert quality[1] > quality[0] + 2


def test_a_secret_psnr_target_is_met_with_the_smallest_file(photos, seeded_salts):
    cover, secret = photos[1], photos[0]
    method = Stealth(passphrase=b"k", secret_psnr=24.0)
    stego = method.hide(cover, secret)
    back = method.reveal(stego)
    assert 10 * np.log10(255**2 / np.mean((back.astype(float) - secret) ** 2)) >= 24.0
    with pytest.raises(DeepStegError, match="cannot reach 60 dB"):
        Stealth(passphrase=b"k", secret_psnr=60.0).hide(cover, secret)


def test_wrong_passphrases_and_clean_photos_find_nothing(photos, seeded_salts):
    stego = Stealth(passphrase=b"right").hide(photos[0], photos[1])
    for k in range(5):
        with pytest.raises(DeepStegError, match="no hidden image found"):
            Stealth(passphrase=f"wrong {k}".encode()).reveal(stego)
    method = Stealth(passphrase=b"right")
    for clean in [*photos, *(smooth_image(120, 160, s) for s in range(5))]:
        with pytest.raises(DeepStegError, match="no hidden image found"):
            method.reveal(clean)


def test_a_cover_with_jpeg_traces_gets_the_warning_or_is_prepared(photos, seeded_salts):
    traced = jpeg.roundtrip(photos[0], 85)
    assert has_jpeg_traces(traced) and not has_jpeg_traces(photos[0])
    notes: list[str] = []
    Stealth(passphrase=b"k").hide(traced, photos[1], notes=notes)
    assert any("traces of an earlier JPEG" in n and "--prepare-cover" in n for n in notes)
    notes = []
    stego = Stealth(passphrase=b"k", prepare=True).hide(traced, photos[1], notes=notes)
    assert stego.shape == (96, 128, 3)
    assert any("downscaled by 2" in n for n in notes)
    assert Stealth(passphrase=b"k").reveal(stego).shape == (96, 128, 3)


@pytest.mark.parametrize("quality", [50, 75, 90])
def test_decoded_jpegs_show_traces_and_their_downscaled_photos_do_not(photos, quality):
    for photo in photos:
        assert jpeg_trace(jpeg.roundtrip(photo, quality)) > 0.3
        assert not has_jpeg_traces(prepare_cover(jpeg.roundtrip(photo, quality)))
        assert not has_jpeg_traces(photo)


def test_hill_costs_with_stc_change_about_as_much_as_conseals_simulator(photos):
    """Our STC at HILL's costs against conseal's binary simulator (the bound) at 0.1 bits per value."""
    simulate = pytest.importorskip("conseal.simulate")
    channel = photos[0][..., 1]
    plus, minus = hill_costs(channel)
    rng = np.random.default_rng(0)
    order = rng.permutation(channel.size)
    message = rng.integers(0, 2, channel.size // 10).astype(np.uint8)
    from deepsteg.methods import stc

    out = stc.embed_lsb(channel.ravel()[order], plus.ravel()[order], minus.ravel()[order], message)
    ours = (out != channel.ravel()[order]).mean()
    simulated = np.mean([np.abs(simulate.binary((np.minimum(plus, minus),), 0.1, channel.size, seed=s)).mean()
                         for s in range(5)])
    assert simulated <= ours <= 1.25 * simulated


def test_the_cli_hides_reveals_and_refuses(tmp_path, photos):
    cover, secret, key = tmp_path / "cover.png", tmp_path / "secret.png", tmp_path / "key.txt"
    Image.fromarray(photos[0]).save(cover)
    Image.fromarray(photos[1]).save(secret)
    key.write_text("our passphrase\n")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "deepsteg", *args], capture_output=True, text=True,
                              cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})

    done = cli("hide", "cover.png", "secret.png", "-o", "stego.png", "--stealth", "--passphrase-file", "key.txt")
    assert done.returncode == 0, done.stderr
    assert "bits per channel value" in done.stderr
    assert cli("reveal", "stego.png", "-o", "out.png", "--stealth", "--passphrase-file", "key.txt").returncode == 0
    assert Image.open(tmp_path / "out.png").size == (256, 192)
    wrong = cli("reveal", "stego.png", "-o", "wrong.png", "--stealth")
    assert wrong.returncode == 2 and NOT_FOUND in wrong.stderr and not (tmp_path / "wrong.png").exists()
    clean = cli("reveal", "cover.png", "-o", "clean.png", "--stealth", "--passphrase-file", "key.txt")
    assert clean.returncode == 2 and not (tmp_path / "clean.png").exists()
    misplaced = cli("hide", "cover.png", "secret.png", "-o", "x.png", "--payload", "0.1")
    assert misplaced.returncode == 2 and "--payload is a setting of --stealth" in misplaced.stderr
    bad = cli("hide", "cover.png", "secret.png", "-o", "x.png", "--stealth", "--payload", "0.9")
    assert bad.returncode == 2 and "payload 0.9" in bad.stderr and not (tmp_path / "x.png").exists()


def test_the_registry_and_api_give_the_stealth_method(photos, seeded_salts):
    method = load_model("stealth", passphrase=b"api")
    assert isinstance(method, Stealth) and method.keyed
    stego = method.hide(photos[0], photos[1])
    assert load_model("stealth", passphrase=b"api").reveal(stego).shape == photos[0].shape
    with pytest.raises(DeepStegError, match="--payload BPC or --secret-psnr"):
        method.hide(photos[0], photos[1], cover_psnr=40)


def test_a_cover_too_small_or_a_payload_too_small_is_refused_clearly(photos):
    with pytest.raises(DeepStegError, match="too small"):
        Stealth(passphrase=b"k").hide(photos[0][:64, :64], photos[1][:64, :64])
    with pytest.raises(DeepStegError, match="does not fit"):
        Stealth(passphrase=b"k", payload=0.001).hide(photos[0], photos[1])
