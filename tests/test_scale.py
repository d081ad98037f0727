"""Tiled processing equals whole-image processing; folder-wide hide and reveal."""

import numpy as np
import pytest
import torch
from PIL import Image

from deepsteg import LSB
from deepsteg.cli.main import main
from deepsteg.methods import DeepModel
from deepsteg.nets import ARCHITECTURES, StegoNet
from deepsteg.tiles import tile_boxes
from deepsteg.training.loop import init_weights
from tests.conftest import smooth_image


def strong_net():
    """A random network whose outputs depend strongly on every input pixel it sees."""
    net = StegoNet(ARCHITECTURES["compact"])
    init_weights(net, seed=0)
    with torch.no_grad():
        for conv in (net.hide_net.output, net.reveal_net.output):
            conv.weight.normal_(0, 0.05)
    return net


def test_tile_boxes_cover_the_image_once():
    seen = np.zeros((70, 100), int)
    for (oy0, oy1, ox0, ox1), (iy0, iy1, ix0, ix1) in tile_boxes(70, 100, 32, 5):
        seen[iy0:iy1, ix0:ix1] += 1
        assert oy0 == max(0, iy0 - 5) and ox1 == min(100, ix1 + 5)
        assert oy1 == min(70, iy1 + 5) and ox0 == max(0, ix0 - 5)
    assert (seen == 1).all()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_tiled_output_equals_whole_image(precision):
    net = strong_net()
    c, s = smooth_image(150, 230, 1), smooth_image(150, 230, 2)
    whole = DeepModel(net, precision=precision, tile=0)
    tiled = DeepModel(net, precision=precision, tile=64)
    st_whole, st_tiled = whole.hide(c, s), tiled.hide(c, s)
    assert np.abs(st_whole.astype(int) - c.astype(int)).mean() > 2  # the network does change the cover
    assert np.abs(st_whole.astype(int) - st_tiled.astype(int)).max() <= 1
    rv_whole, rv_tiled = whole.reveal(st_whole), tiled.reveal(st_whole)
    assert np.abs(rv_whole.astype(int) - rv_tiled.astype(int)).max() <= 1


def test_a_margin_below_the_receptive_field_would_differ():
    """The check above has teeth: with too small a margin, tiles visibly disagree."""
    net = strong_net()
    c, s = smooth_image(96, 96, 3), smooth_image(96, 96, 4)
    whole = DeepModel(net, precision="fp32", tile=0).hide(c, s)
    bad = DeepModel(net, precision="fp32", tile=32)
    bad.hide_margin = 2
    assert np.abs(whole.astype(int) - bad.hide(c, s).astype(int)).max() > 1


def test_batch_hide_and_reveal_folders(tmp_path, capsys):
    covers, secrets, out, rev = (tmp_path / n for n in ("covers", "secrets", "out", "rev"))
    covers.mkdir()
    secrets.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(32, 40, i)).save(covers / f"c{i}.png")
        Image.fromarray(smooth_image(32, 40, 10 + i)).save(secrets / f"s{i}.png")
    (covers / "c3.png").write_bytes(b"broken")
    Image.fromarray(smooth_image(32, 40, 13)).save(secrets / "s3.png")
    argv = ["hide", "--covers", str(covers), "--secrets", str(secrets), "-o", str(out), "--model", "lsb4"]
    assert main(argv) == 2  # one bad cover: reported, the rest written
    err = capsys.readouterr().err
    assert "c3.png" in err and "3 written" in err and "1 skipped" in err
    assert sorted(p.name for p in out.iterdir()) == ["c0.png", "c1.png", "c2.png"]
    c0 = np.asarray(Image.open(covers / "c0.png"))
    s0 = np.asarray(Image.open(secrets / "s0.png"))
    assert np.array_equal(np.asarray(Image.open(out / "c0.png")), LSB(4).hide(c0, s0))
    mtime = (out / "c1.png").stat().st_mtime_ns
    (covers / "c3.png").unlink()
    assert main(argv) == 0  # resumable: existing outputs kept
    assert (out / "c1.png").stat().st_mtime_ns == mtime and "3 outputs exist already" in capsys.readouterr().err
    assert main(["reveal", str(out), "-o", str(rev), "--model", "lsb4"]) == 0
    assert np.array_equal(np.asarray(Image.open(rev / "c0.png")), LSB(4).reveal(LSB(4).hide(c0, s0)))
    assert main(["reveal", str(out), "-o", str(out), "--model", "lsb4"]) == 2
    assert main(["hide", "--covers", str(covers), "-o", str(out), "--model", "lsb4"]) == 2
