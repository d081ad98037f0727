"""Hostile input: damaged files of every format Pillow writes, foreign formats, odd metadata,
and outputs that cannot be written. Each must end in one line and exit 2 (or a clean read),
never a traceback, and leave no output file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from deepsteg.cli.main import main
from deepsteg.errors import DeepStegError
from deepsteg.images import RASTER_FORMATS, read_image
from tests.conftest import smooth_image

#: Formats Pillow can write, to make files that the mutation loop then damages.
WRITABLE = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif", "GIF": ".gif",
            "PPM": ".ppm", "TGA": ".tga", "AVIF": ".avif", "DDS": ".dds", "ICO": ".ico", "PCX": ".pcx",
            "SGI": ".sgi", "QOI": ".qoi", "IM": ".im", "EPS": ".eps", "PDF": ".pdf"}


def _encoded(fmt: str) -> bytes:
    im = Image.fromarray(smooth_image(24, 32, 5))
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def _mutations(data: bytes, rng: np.random.Generator, n: int):
    """``n`` damaged copies: random bytes overwritten, runs deleted or duplicated, a cut tail."""
    for _ in range(n):
        b = bytearray(data)
        kind = rng.integers(4)
        if kind == 0:
            for i in rng.integers(0, len(b), size=rng.integers(1, 16)):
                b[i] = int(rng.integers(256))
        elif kind == 1:
            i = int(rng.integers(len(b)))
            del b[i:i + int(rng.integers(1, 64))]
        elif kind == 2:
            i = int(rng.integers(len(b)))
            b[i:i] = b[i:i + int(rng.integers(1, 64))] * int(rng.integers(2, 8))
        else:
            b = b[:int(rng.integers(1, len(b)))]
        yield bytes(b)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(WRITABLE))
def test_damaged_files_read_cleanly_or_fail_in_one_line(fmt, tmp_path):
    try:
        data = _encoded(fmt)
    except (OSError, KeyError, ValueError) as e:
        pytest.skip(f"this Pillow cannot write {fmt}: {e}")
    rng = np.random.default_rng(sum(map(ord, fmt)))
    path = tmp_path / f"x{WRITABLE[fmt]}"
    deadline = time.monotonic() + 10
    outcomes = {"read": 0, "refused": 0}
    for damaged in _mutations(data, rng, 60):
        path.write_bytes(damaged)
        try:
            arr = read_image(path)
            assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3
            outcomes["read"] += 1
        except DeepStegError as e:
            assert "\n" not in str(e) and str(path) in str(e)
            outcomes["refused"] += 1
        assert time.monotonic() < deadline, f"{fmt}: the mutation loop took too long"
    if fmt not in RASTER_FORMATS:  # a foreign format is refused whatever its bytes
        assert outcomes["read"] == 0
        path.write_bytes(data)
        with pytest.raises(DeepStegError, match="supported format"):
            read_image(path)
    else:
        assert outcomes["refused"] > 0  # the loop did damage files


def test_cli_on_damaged_and_foreign_files_exits_2_in_one_line(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(smooth_image(24, 32, 1)).save(good)
    eps = tmp_path / "figure.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 24\nshowpage\n")
    dds = tmp_path / "tex.dds"
    dds.write_bytes(_encoded("DDS")[:60] + bytes(range(256)) * 4)
    tiff = _encoded("TIFF")
    cut_tiff = tmp_path / "cut.tif"  # Pillow warns about such files ("Truncated File Read", ...)
    cut_tiff.write_bytes(tiff[:8] + tiff[-200:])
    for bad in (eps, dds, cut_tiff):
        out = tmp_path / "out.png"
        r = subprocess.run([sys.executable, "-m", "deepsteg", "hide", str(bad), str(good), "-o", str(out),
                            "--model", "lsb4"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("deepsteg: error:") and "Traceback" not in r.stderr, lines
        assert not out.exists()


def test_exif_orientation_turns_the_image_upright(tmp_path):
    a = smooth_image(20, 30, 3)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the stored pixels are on their side
    path = tmp_path / "phone.png"
    Image.fromarray(a).save(path, exif=exif)
    notes: list[str] = []
    arr = read_image(path, notes=notes)
    assert arr.shape == (30, 20, 3)
    assert np.array_equal(arr, np.rot90(a, k=-1))
    assert any("EXIF orientation 6" in n for n in notes)


def test_animated_gif_says_which_frame(tmp_path):
    frames = [Image.fromarray(smooth_image(16, 16, i)) for i in range(3)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    notes: list[str] = []
    read_image(path, notes=notes)
    assert "first of 3 frames used" in notes


def test_pillow_bomb_guard_is_never_switched_off_by_concurrent_reads(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(smooth_image(32, 32, 1)).save(path)
    before = Image.MAX_IMAGE_PIXELS
    threads = [threading.Thread(target=lambda: [read_image(path) for _ in range(20)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Image.MAX_IMAGE_PIXELS is not None and before <= Image.MAX_IMAGE_PIXELS


def _hide_args(images, out, *extra):
    return ["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(out), "--model", "lsb4", *extra]


@pytest.mark.parametrize("extra, message", [
    ((), "name the output stego.png"),
    (("--refine", "-1"), "refinement steps"),
    (("--tile", "1"), "at least 32"),
    (("--tile", "-3"), "tile size"),
])
def test_bad_output_names_and_settings_exit_2_for_every_model(images, tmp_path, capsys, extra, message):
    out = tmp_path / ("stego.gif" if not extra else "stego.png")
    assert main(_hide_args(images, out, *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_unwritable_output_is_refused_before_the_work(images, tmp_path, monkeypatch, capsys):
    from deepsteg.cli import hide_reveal

    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    called = []
    monkeypatch.setattr(hide_reveal, "load_model", lambda *a, **k: called.append(1))
    assert main(_hide_args(images, folder / "s.png")) == 2
    assert "cannot write" in capsys.readouterr().err and not called


def test_folder_mode_removes_temporaries_a_killed_run_left(images, tmp_path, capsys):
    covers, secrets, out = tmp_path / "c", tmp_path / "s", tmp_path / "out"
    for d in (covers, secrets, out):
        d.mkdir()
    Image.fromarray(images["cover"]).save(covers / "a.png")
    Image.fromarray(images["secret"]).save(secrets / "a.png")
    (out / ".a.png.x7k2m.tmp").write_bytes(b"half a png")
    (out / "notes.tmp").write_text("not ours")
    assert main(["hide", "--covers", str(covers), "--secrets", str(secrets), "-o", str(out), "--model", "lsb4"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "notes.tmp"]
    assert "removed 1 temporary files" in capsys.readouterr().err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real two-step training run's folder (checkpoint and its sha256)."""
    from deepsteg.training import TrainConfig, train

    root = tmp_path_factory.mktemp("ckpt")
    data = root / "data"
    data.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(24, 24, 30 + i)).save(data / f"{i}.png")
    train(TrainConfig(data=str(data), out=str(root / "run"), steps=2, batch=2, crop=16, compile=False,
                      log_every=1, ckpt_every=1, warmup=1), progress=False)
    return root / "run"


def _damaged_run(run_dir, tmp_path, how):
    import shutil

    import torch

    from deepsteg.training.checkpoint import CHECKPOINT, DIGEST

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    ckpt = run / CHECKPOINT
    if how == "empty":
        ckpt.write_bytes(b"")
    elif how == "flipped bytes":
        data = bytearray(ckpt.read_bytes())
        for i in np.random.default_rng(0).integers(len(data) // 2, len(data), 64):
            data[i] ^= 0xFF
        ckpt.write_bytes(bytes(data))
    else:
        state = torch.load(ckpt, weights_only=True)
        if how == "no config":
            del state["config"]
        elif how == "unknown config key":
            state["config"]["colour"] = "blue"
        elif how == "wrong tensor shape":
            key = next(iter(state["model"]))
            state["model"][key] = torch.zeros(3, 3)
        elif how == "not a dict":
            state = [1, 2, 3]
        torch.save(state, ckpt)
        (run / DIGEST).unlink()  # a file written by hand has no digest: the structure checks remain
    return run


@pytest.mark.parametrize("how", ["empty", "flipped bytes", "no config", "unknown config key",
                                 "wrong tensor shape", "not a dict"])
def test_broken_checkpoints_give_one_line_errors(run_dir, tmp_path, capsys, how):
    run = _damaged_run(run_dir, tmp_path, how)
    data = run_dir.parent / "data"
    out = tmp_path / "m.safetensors"
    assert main(["export", str(run), "-o", str(out)]) == 2
    assert main(["train", "--data", str(data), "--out", str(run), "--resume", "--steps", "4", "--batch", "2",
                 "--crop", "16", "--no-compile", "--no-progress"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("deepsteg: error:")]
    assert len(err) == 2 and "Traceback" not in "".join(err)
    assert not out.exists()


def test_an_intact_checkpoint_still_resumes_and_exports(run_dir, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    out = tmp_path / "m.safetensors"
    assert main(["export", str(run), "-o", str(out)]) == 0 and out.exists()


def test_single_file_mode_removes_its_own_stale_temporary(images, tmp_path):
    out = tmp_path / "stego.png"
    stale, other = tmp_path / ".stego.png.a1b2c3.tmp", tmp_path / ".other.png.a1b2c3.tmp"
    stale.write_bytes(b"half")
    other.write_bytes(b"someone else's")
    assert main(_hide_args(images, out)) == 0
    assert out.exists() and not stale.exists() and other.exists()


# --------------------------------------------------------------------------- round three
def _codec_round_trip(images, tmp_path, hide_args: list[str], reveal_args: list[str]) -> int:
    stego, out = tmp_path / "stego.png", tmp_path / "out.png"
    assert main(["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(stego),
                 "--model", "codec-lsbm", *hide_args]) == 0
    return main(["reveal", str(stego), "-o", str(out), "--model", "codec-lsbm", *reveal_args])


def test_a_passphrase_that_is_not_utf8_in_the_environment_works(images, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", os.fsdecode(b"\xff\xfe"))
    stego, out = tmp_path / "stego.png", tmp_path / "out.png"
    assert main(["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(stego),
                 "--model", "codec-lsbm"]) == 0
    assert main(["reveal", str(stego), "-o", str(out), "--model", "codec-lsbm"]) == 0
    monkeypatch.setenv("DEEPSTEG_PASSPHRASE", os.fsdecode(b"\xff\xfd"))
    assert main(["reveal", str(stego), "-o", str(tmp_path / "no.png"), "--model", "codec-lsbm"]) == 2
    assert not (tmp_path / "no.png").exists()


def test_a_long_passphrase_file_counts_whole(images, tmp_path, capsys):
    shared = bytes(np.random.default_rng(0).integers(32, 127, 70_000, dtype=np.uint8))
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    a.write_bytes(shared + b"x" * 32_400)  # 100 KiB in all
    b.write_bytes(shared + b"y" * 32_400)
    assert _codec_round_trip(images, tmp_path, ["--passphrase-file", str(a)], ["--passphrase-file", str(a)]) == 0
    assert _codec_round_trip(images, tmp_path, ["--passphrase-file", str(a)], ["--passphrase-file", str(b)]) == 2
    huge = tmp_path / "huge.key"
    huge.write_bytes(b"z" * (2 << 20))
    capsys.readouterr()
    assert main(["reveal", str(images["cover_path"]), "-o", str(tmp_path / "o.png"), "--model", "codec-lsbm",
                 "--passphrase-file", str(huge)]) == 2
    err = capsys.readouterr().err.strip()
    assert "over 1,048,576 bytes" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("option", [["--beta-range", "0.03,inf"], ["--lr", "nan"], ["--beta", "inf"],
                                    ["--noise=-inf"]])
def test_training_options_that_are_not_finite_are_refused_before_any_folder(image_folder, tmp_path, capsys, option):
    out = tmp_path / "run"
    args = ["train", "--data", str(image_folder), "--out", str(out), "--steps", "1", "--arch", "inn-cond",
            "--beta-range", "0.03,8", *option]
    assert main(args) == 2
    assert "finite" in capsys.readouterr().err and not out.exists()


def test_a_failed_resume_leaves_no_run_folder(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--steps", "1", "--resume"]) == 2
    assert "no checkpoint.pt" in capsys.readouterr().err and not out.exists()


def test_robustness_help_prints_plain_percent_signs(capsys):
    with pytest.raises(SystemExit):
        main(["robustness", "--help"])
    text = capsys.readouterr().out
    assert "50%" in text and "10% crop" in text and "%%" not in text


def test_measurement_commands_skip_a_corrupt_image_with_a_note(tmp_path, capsys):
    folder = tmp_path / "val"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(smooth_image(32, 48, 40 + i)).save(folder / f"{i}.png")
    (folder / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert main(["eval", "--covers", str(folder), "--model", "lsb4", "--no-baselines", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "2.png" in err
    for name in ("0", "1", "3", "4", "5"):
        (folder / f"{name}.png").write_bytes(b"not an image")
    assert main(["eval", "--covers", str(folder), "--model", "lsb4", "--no-baselines", "--no-progress"]) == 2
    assert "no usable cover/secret pairs" in capsys.readouterr().err


def test_every_hide_under_the_public_passphrase_says_so(images, tmp_path, monkeypatch, capsys):
    import warnings

    from deepsteg.methods.keys import PUBLIC_NOTE
    from deepsteg.registry import load_model

    for value in (None, ""):  # no variable at all, or an empty one
        if value is None:
            monkeypatch.delenv("DEEPSTEG_PASSPHRASE", raising=False)
        else:
            monkeypatch.setenv("DEEPSTEG_PASSPHRASE", value)
        assert main(["hide", str(images["cover_path"]), str(images["secret_path"]), "-o",
                     str(tmp_path / "public.png"), "--model", "codec-lsbm"]) == 0
        assert PUBLIC_NOTE in capsys.readouterr().err
    method = load_model("codec-lsbm")
    with pytest.warns(UserWarning, match="public passphrase"):
        method.hide(images["cover"], images["secret"])
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        method.hide(images["cover"], images["secret"], notes=notes)
        load_model("codec-lsbm", passphrase=b"mine").hide(images["cover"], images["secret"])
    assert any(PUBLIC_NOTE in n for n in notes)


def test_text_passphrases_are_utf8_and_other_types_are_refused(images):
    from deepsteg.registry import load_model

    stego = load_model("codec-lsbm", passphrase="pässphrase").hide(images["cover"], images["secret"])
    assert load_model("codec-lsbm", passphrase="pässphrase".encode()).reveal(stego).shape == stego.shape
    for name in ("codec-lsbm", "deepsteg-keyed-v1", "stealth"):
        for bad in (12, 1.5, ["x"]):
            with pytest.raises(DeepStegError, match="a passphrase is bytes or text"):
                load_model(name, passphrase=bad)
        with pytest.raises(DeepStegError, match="the passphrase is empty"):
            load_model(name, passphrase="")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_key_files_from_windows_editors_read_as_the_text_typed(images, tmp_path, capsys, encoding):
    typed, plain = tmp_path / "typed.key", tmp_path / "plain.key"
    typed.write_bytes("clé secrète\r\n".encode(encoding))
    plain.write_bytes("clé secrète\n".encode())
    assert _codec_round_trip(images, tmp_path, ["--passphrase-file", str(typed)],
                             ["--passphrase-file", str(plain)]) == 0
    assert "passphrase" in capsys.readouterr().err



def test_small_misuses_get_one_line_and_no_file(images, tmp_path, capsys):
    from deepsteg.registry import load_model

    stego = tmp_path / "stego.png"
    assert main(_hide_args(images, stego)) == 0
    capsys.readouterr()
    assert main(["reveal", str(stego), "-o", str(tmp_path / "r.png"), "--model", "lsb4", "--force"]) == 0
    assert "force changes nothing" in capsys.readouterr().err
    assert main(_hide_args(images, tmp_path / "q.png", "--quality", "60")) == 2
    assert "--quality 60" in capsys.readouterr().err and not (tmp_path / "q.png").exists()
    folder = tmp_path / "stegos"
    folder.mkdir()
    assert main(["reveal", str(folder), "-o", str(tmp_path / "single.png"), "--model", "lsb4"]) == 2
    assert "writes a folder" in capsys.readouterr().err and not (tmp_path / "single.png").exists()
    assert main(_hide_args(images, tmp_path / "e.png")[:-2] + ["--model", ""]) == 2
    assert "the model name is empty" in capsys.readouterr().err
    with pytest.raises(DeepStegError, match="the model name is empty"):
        load_model(" ")


def test_a_cover_that_suits_the_network_badly_gets_a_note():
    data = pytest.importorskip("skimage.data")
    from deepsteg.registry import load_model

    model = load_model(passphrase=b"covers")
    photo = np.ascontiguousarray(data.astronaut()[:192, :256])
    dithered = np.asarray(Image.fromarray(photo).convert("P", palette=Image.Palette.WEB,
                                                          dither=Image.Dither.FLOYDSTEINBERG).convert("RGB"))
    secret = np.ascontiguousarray(data.coffee()[:192, :256])
    notes: list[str] = []
    model.hide(photo, secret, notes=notes)
    assert notes == []
    model.hide(dithered, secret, notes=notes)
    assert len(notes) == 1 and "suits the network badly" in notes[0]
