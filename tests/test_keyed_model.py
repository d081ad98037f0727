"""The shipped keyed default: only its passphrase reveals, through the API, the command line and the server."""

import numpy as np
import pytest
from PIL import Image

import deepsteg
from deepsteg.cli.main import main
from deepsteg.demo import demo_pair
from deepsteg.errors import DeepStegError
from deepsteg.images import png_roundtrip
from deepsteg.metrics import psnr, ssim
from deepsteg.registry import DEFAULT_MODEL, REGISTRY

PASSPHRASE = b"correct horse battery staple"


pytestmark = pytest.mark.usefixtures("seeded_salts")


@pytest.fixture(scope="module")
def small_pair():
    cover, secret = demo_pair()
    return np.ascontiguousarray(cover[:128, :192]), np.ascontiguousarray(secret[:128, :192])


@pytest.fixture(scope="module")
def model():
    return deepsteg.load_model(passphrase=PASSPHRASE)


def test_the_default_model_is_keyed_and_says_so():
    assert REGISTRY[DEFAULT_MODEL].keyed
    assert deepsteg.load_model().keyed
    assert not REGISTRY["deepsteg-inn-cond-v1"].keyed


def test_a_wrong_passphrase_reveals_nothing_of_a_real_photo(model, small_pair):
    cover, secret = small_pair
    stego = png_roundtrip(model.hide(cover, secret))
    assert psnr(secret, model.reveal(stego)) > 28
    chance = ssim(secret, model.reveal(cover, force=True))  # a clean photo, forced: what chance looks like
    rng = np.random.default_rng(1)
    wrong = [ssim(secret, model.with_passphrase(rng.bytes(12)).reveal(stego, force=True)) for _ in range(20)]
    assert np.mean(wrong) < chance + 0.05


def test_cli_round_trip_with_a_passphrase_file_and_the_environment(small_pair, tmp_path, monkeypatch):
    cover, secret = small_pair
    cp, sp, key = tmp_path / "c.png", tmp_path / "s.png", tmp_path / "key.txt"
    Image.fromarray(cover).save(cp)
    Image.fromarray(secret).save(sp)
    key.write_bytes(PASSPHRASE + b"\n")
    stego, out = tmp_path / "stego.png", tmp_path / "out.png"
    assert main(["hide", str(cp), str(sp), "-o", str(stego), "--passphrase-file", str(key)]) == 0
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", PASSPHRASE.decode())
    assert main(["reveal", str(stego), "-o", str(out)]) == 0
    assert psnr(secret, np.asarray(Image.open(out))) > 28


@pytest.mark.parametrize("case", ["wrong passphrase", "no passphrase", "clean photo"])
def test_cli_refusals_say_one_line_exit_2_and_write_nothing(small_pair, tmp_path, monkeypatch, capsys, case):
    cover, secret = small_pair
    stego = deepsteg.load_model(passphrase=PASSPHRASE).hide(cover, secret)
    path, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(cover if case == "clean photo" else stego).save(path)
    if case == "wrong passphrase":
        monkeypatch.setenv("DEEPSTEG_PASSPHRASE", "correct horse battery stapler")
    elif case == "clean photo":
        monkeypatch.setenv("DEEPSTEG_PASSPHRASE", PASSPHRASE.decode())
    else:
        monkeypatch.delenv("DEEPSTEG_PASSPHRASE", raising=False)
    assert main(["reveal", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no hidden image found" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == [path]


def test_cli_force_reveals_with_a_note(small_pair, tmp_path, monkeypatch, capsys):
    cover, secret = small_pair
    path, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(deepsteg.load_model(passphrase=PASSPHRASE).hide(cover, secret)).save(path)
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", "not it")
    assert main(["reveal", str(path), "-o", str(out), "--force"]) == 0
    assert "forced" in capsys.readouterr().err and out.exists()


def test_no_passphrase_hides_under_the_public_one(small_pair):
    cover, secret = small_pair
    stego = deepsteg.load_model().hide(cover, secret)
    assert psnr(secret, deepsteg.load_model().reveal(stego)) > 28  # anyone can: the README says so
    with pytest.raises(DeepStegError, match="no hidden image found"):
        deepsteg.load_model(passphrase=PASSPHRASE).reveal(stego)


def test_the_demo_hides_with_a_passphrase_and_finds_nothing_without_it(tmp_path, capsys):
    from deepsteg.demo import main as demo

    assert demo(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "no hidden image found" in out.err and "secret PSNR" in out.out
    assert (tmp_path / "revealed.png").exists() and not (tmp_path / "nothing.png").exists()


def test_a_passphrase_given_to_a_model_without_a_key_gets_a_note(images, tmp_path, capsys):
    key = tmp_path / "key.txt"
    key.write_text("secret\n")
    out = tmp_path / "s.png"
    assert main(["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(out), "--model", "lsb4",
                 "--passphrase-file", str(key)]) == 0
    assert "lsb4 takes no passphrase: anyone with DeepSteg can reveal" in capsys.readouterr().err


def test_models_says_who_can_reveal_each_models_images(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    rows = {line[2:].split()[0]: line for line in lines if line[2:].strip() and not line.startswith("* default")}
    assert " passphrase " in rows[DEFAULT_MODEL] and " passphrase " in rows["codec-lsbm"]
    assert " anyone " in rows["deepsteg-inn-cond-v1"] and " anyone " in rows["lsb4"]
