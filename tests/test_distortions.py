"""The training channel: the differentiable JPEG against Pillow's real encoder, and the mix."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from deepsteg.metrics import psnr
from deepsteg.tensors import to_tensor, to_uint8
from deepsteg.training.distortions import Channel, jpeg, parse_spec

pytest.importorskip("kornia", reason="kornia (the train extra) is not installed")


def pillow_jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)  # 4:2:0, as the robustness sweep uses
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.mark.parametrize("quality", [50, 75, 95])
def test_differentiable_jpeg_tracks_pillow_on_a_real_photo(quality):
    photo = data.astronaut()[:256, :256]
    real = pillow_jpeg(photo, quality)
    ours = to_uint8(jpeg(to_tensor(photo), torch.tensor([float(quality)])))[0]
    # the stand-in lands close to the real encoder's output ...
    assert psnr(real, ours) > {50: 41, 75: 42, 95: 44}[quality]  # measured: 43.2 / 44.1 / 46.1 dB
    # ... and loses about as much of the photo as the real encoder does (measured: 0.5-0.75 dB apart)
    assert abs(psnr(photo, ours) - psnr(photo, real)) < 1.0


def test_differentiable_jpeg_passes_gradients():
    x = to_tensor(data.astronaut()[:64, :64]).requires_grad_(True)
    jpeg(x, torch.tensor([75.0])).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_channel_mix_rounds_and_distorts_per_sample():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 16, 16)
    clean = Channel(generator=g)(x)
    assert torch.equal(clean, torch.round(x * 255) / 255)
    mixed = Channel(parse_spec("jpeg,noise,resize"), generator=torch.Generator().manual_seed(1))(x)
    changed = (mixed - clean).abs().flatten(1).amax(1) > 1e-6
    assert 0 < int(changed.sum()) < 32  # some samples distorted, some (the clean share) not
    with pytest.raises(ValueError, match="unknown distortion"):
        parse_spec("jpeg,blur")


def test_training_with_distortions_runs_and_records_them(tmp_path):
    from deepsteg.cli.main import main
    from deepsteg.training.checkpoint import load_checkpoint
    from tests.conftest import smooth_image

    d = tmp_path / "data"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(32, 32, i)).save(d / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", "--data", str(d), "--out", str(out), "--steps", "3", "--batch", "4", "--crop", "16",
                 "--distort", "jpeg,noise,resize", "--no-compile", "--no-progress", "--warmup", "1"]) == 0
    assert load_checkpoint(out)["config"]["distort"] == "jpeg,noise,resize"
    assert main(["train", "--data", str(d), "--out", str(tmp_path / "bad"), "--distort", "blur"]) == 2
