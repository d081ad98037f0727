"""The command line through main([...]) and as a subprocess: round trips and every bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepsteg import LSB
from deepsteg.cli.main import main
from tests.conftest import smooth_image


def read(p):
    return np.asarray(Image.open(p))


def test_hide_reveal_lsb4_is_exact(images, tmp_path):
    stego, rev = tmp_path / "s.png", tmp_path / "r.png"
    assert main(["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(stego), "--model", "lsb4"]) == 0
    assert main(["reveal", str(stego), "-o", str(rev), "--model", "lsb4"]) == 0
    with Image.open(stego) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (56, 40)
    lsb = LSB(4)
    assert np.array_equal(read(stego), lsb.hide(images["cover"], images["secret"]))
    assert np.array_equal(read(rev), lsb.reveal(lsb.hide(images["cover"], images["secret"])))


def test_secret_of_another_size_is_resized_with_a_note(images, tmp_path, capsys):
    big = tmp_path / "big.png"
    Image.fromarray(smooth_image(80, 60, 9)).save(big)
    out = tmp_path / "s.png"
    assert main(["hide", str(images["cover_path"]), str(big), "-o", str(out), "--model", "lsb2"]) == 0
    assert "resized" in capsys.readouterr().err
    assert read(out).shape == (40, 56, 3)


def test_alpha_grey_palette_16bit_inputs_are_converted(images, tmp_path, capsys):
    c = images["cover"]
    variants = {
        "rgba.png": Image.fromarray(np.dstack([c, np.full(c.shape[:2], 128, np.uint8)]), "RGBA"),
        "grey.png": Image.fromarray(c[:, :, 0]),
        "palette.png": Image.fromarray(c).convert("P"),
        "sixteen.png": Image.fromarray(c[:, :, 0].astype(np.uint16) * 257),
    }
    for name, im in variants.items():
        im.save(tmp_path / name)
        out = tmp_path / f"out-{name}"
        assert main(["hide", str(tmp_path / name), str(images["secret_path"]), "-o", str(out), "--model", "lsb4"]) == 0
        arr = read(out)
        assert arr.shape == (40, 56, 3)
    assert "alpha channel dropped" in capsys.readouterr().err
    # 16-bit grey 257*v reads back as v exactly
    from deepsteg.images import read_image

    assert np.array_equal(read_image(tmp_path / "sixteen.png"), np.repeat(c[:, :, :1], 3, 2))
    dark = tmp_path / "dark16.png"  # a dark 16-bit image stays dark (not read as 8-bit)
    Image.fromarray(np.full((8, 8), 200, np.uint16)).save(dark)
    assert (read_image(dark) == 1).all()


def test_models_lists_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(f"lsb{k}" in out for k in range(1, 5))


def _bad_inputs(tmp_path, images):
    good = str(images["cover_path"])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    png_bytes = images["cover_path"].read_bytes()
    trunc_png = tmp_path / "trunc.png"
    trunc_png.write_bytes(png_bytes[: len(png_bytes) // 2])
    buf = tmp_path / "full.jpg"
    Image.fromarray(smooth_image(64, 64, 3)).save(buf, quality=90)
    trunc_jpg = tmp_path / "trunc.jpg"
    trunc_jpg.write_bytes(buf.read_bytes()[:300])
    one = tmp_path / "one.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(one)
    huge = tmp_path / "huge.png"
    Image.new("RGB", (400, 300)).save(huge)
    hdr = tmp_path / "zero.bmp"  # a BMP header that claims 0x0 pixels
    Image.new("RGB", (1, 1)).save(hdr)
    raw = bytearray(hdr.read_bytes())
    raw[18:26] = b"\x00" * 8
    hdr.write_bytes(bytes(raw))
    bad_model = tmp_path / "bad.safetensors"
    bad_model.write_bytes(b"\x00" * 64)
    out = str(tmp_path / "out" / "s.png")
    (tmp_path / "out").mkdir()
    ro = tmp_path / "readonly"
    ro.mkdir()
    ro.chmod(0o500)
    if os.access(ro, os.W_OK):  # root writes anywhere on disk; /proc takes no new files from anyone
        ro = Path("/proc")
    hide = ["hide"]
    return {
        "missing file": hide + [str(tmp_path / "nope.png"), good, "-o", out, "--model", "lsb4"],
        "a directory": hide + [str(tmp_path), good, "-o", out, "--model", "lsb4"],
        "non-image": hide + [str(text), good, "-o", out, "--model", "lsb4"],
        "empty file": hide + [str(empty), good, "-o", out, "--model", "lsb4"],
        "truncated png": hide + [str(trunc_png), good, "-o", out, "--model", "lsb4"],
        "truncated jpeg": hide + [good, str(trunc_jpg), "-o", out, "--model", "lsb4"],
        "1x1 image": hide + [str(one), good, "-o", out, "--model", "lsb4"],
        "0-size image": hide + [str(hdr), good, "-o", out, "--model", "lsb4"],
        "above pixel limit": hide + [str(huge), good, "-o", out, "--model", "lsb4", "--max-pixels", "100000"],
        "output is an input": hide + [good, str(images["secret_path"]), "-o", good, "--model", "lsb4"],
        "unwritable folder": hide + [good, str(images["secret_path"]), "-o", str(ro / "s.png"), "--model", "lsb4"],
        "missing output folder": hide + [good, str(images["secret_path"]), "-o", str(tmp_path / "no" / "s.png"), "--model", "lsb4"],
        "unknown model": hide + [good, str(images["secret_path"]), "-o", out, "--model", "nonesuch"],
        "bad weights file": hide + [good, str(images["secret_path"]), "-o", out, "--model", str(bad_model)],
        "reveal of a non-image": ["reveal", str(text), "-o", out, "--model", "lsb4"],
    }


def test_every_bad_input_exits_2_with_one_line_and_no_file(images, tmp_path, capsys):
    for what, argv in _bad_inputs(tmp_path, images).items():
        snapshot = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
        code = main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, what
        assert err.startswith("deepsteg: error:") and "\n" not in err and "Traceback" not in err, (what, err)
        after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
        assert after == snapshot, f"{what}: files changed {set(after) ^ set(snapshot)}"
    assert not (tmp_path / "out" / "s.png").exists()


def test_subprocess_console_script_and_module(images, tmp_path):
    stego = tmp_path / "s.png"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    r = subprocess.run([sys.executable, "-m", "deepsteg", "hide", str(images["cover_path"]), str(images["secret_path"]),
                        "-o", str(stego), "--model", "lsb3"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    script = Path(sys.executable).with_name("deepsteg")
    r = subprocess.run([str(script), "reveal", str(stego), "-o", str(tmp_path / "r.png"), "--model", "lsb3"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(read(tmp_path / "r.png"), LSB(3).reveal(LSB(3).hide(images["cover"], images["secret"])))
    bad = subprocess.run([sys.executable, "-m", "deepsteg", "reveal", str(tmp_path / "missing.png"), "-o",
                          str(tmp_path / "x.png"), "--model", "lsb3"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no such file" in bad.stderr
    assert not (tmp_path / "x.png").exists()


def test_more_bad_arguments_exit_2_without_files(images, tmp_path, capsys):
    covers = images["cover_path"].parent
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cases = [
        ["hide", str(images["cover_path"]), str(images["secret_path"]), "-o", str(tmp_path / "n.png"), "--tile", "-8",
         "--model", str(tmp_path / "missing.safetensors")],
        ["hide", "--covers", str(covers), "--secrets", str(covers), "-o", str(covers / "out"), "--model", "lsb4"],
        ["analyze", str(images["cover_path"]), str(images["secret_path"]), "-o", str(covers), "--model", "lsb4"],
        ["analyze", str(images["cover_path"]), str(images["secret_path"]), "-o", str(blocker), "--model", "lsb4"],
        ["eval", "--covers", str(covers), "--out", str(blocker), "--no-progress"],
        ["eval", "--covers", str(covers), "--limit", "-1", "--no-progress"],
        ["eval", "--covers", str(covers), "--no-baselines", "--model", "lsb4", "--json", str(tmp_path / "no" / "r.json")],
    ]
    before = sorted(p for p in tmp_path.rglob("*"))
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("deepsteg: error:") and "\n" not in err, (argv, err)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    from deepsteg import DeepStegError
    from deepsteg.methods import DeepModel
    from deepsteg.nets import StegoNet

    with pytest.raises(DeepStegError, match="tile"):
        DeepModel(StegoNet(), tile=-1)


def test_version_and_help_start_without_torch():
    code = ("import sys; from deepsteg.cli.main import main\n"
            "for argv in (['--version'], ['--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "import deepsteg\n"
            "print(sorted(m for m in ('torch', 'scipy', 'skimage', 'matplotlib') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "deepsteg 0.1.0" in r.stdout and "robustness" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_api_takes_paths_arrays_and_pil_images(images):
    lsb = LSB(4)
    want = lsb.hide(images["cover"], images["secret"])
    assert np.array_equal(lsb.hide(str(images["cover_path"]), images["secret_path"]), want)
    assert np.array_equal(lsb.hide(Image.open(images["cover_path"]), images["secret"]), want)


def test_a_missing_extra_is_named_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "skimage", None)  # as if scikit-image were not installed
    monkeypatch.setitem(sys.modules, "skimage.metrics", None)
    d = tmp_path / "set"
    d.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(24, 24, i)).save(d / f"{i}.png")
    assert main(["eval", "--covers", str(d), "--no-baselines", "--model", "lsb2", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "deepsteg: error: `deepsteg eval` needs skimage.metrics: pip install 'deepsteg[eval]'"
