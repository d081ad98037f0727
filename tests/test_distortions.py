"""The training channel: 8-bit rounding, and JPEG, noise and rescaling mixed per sample."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from deepsteg import jpeg
from deepsteg.methods.refine import JPEG_REFINE_COVER_WEIGHT, JPEG_REFINE_QUALITY
from deepsteg.registry import load_model
from deepsteg.tensors import to_tensor, to_uint8
from deepsteg.training.distortions import Channel, parse_spec


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


def test_channel_draws_jpeg_qualities_from_its_range():
    photo = data.astronaut()[:32, :32]
    x = to_tensor(np.stack([np.roll(photo, 3 * i, axis=1) for i in range(8)]))
    received = Channel(("jpeg",), jpeg_quality=(60, 60), generator=torch.Generator().manual_seed(0))(x)
    pixels = to_uint8(x)
    for i in range(8):
        got = to_uint8(received[i:i + 1])[0]
        # each sample is either the clean 8-bit image or Pillow's JPEG at the one quality allowed
        assert np.array_equal(got, pixels[i]) or np.array_equal(got, jpeg.roundtrip(pixels[i], 60))
    assert not torch.equal(received, torch.round(x * 255) / 255)  # and some went through the JPEG


@pytest.mark.parametrize("bad", ["90,70", "0,50", "75", "a,b"])
def test_a_jpeg_quality_range_is_checked(bad):
    from deepsteg.training import TrainConfig

    assert TrainConfig(data="d", out="o", jpeg_quality="70,95").jpeg_qualities() == (70, 95)
    with pytest.raises(ValueError, match="jpeg_quality"):
        TrainConfig(data="d", out="o", jpeg_quality=bad)


def test_channel_passes_no_gradient_past_black_or_white():
    x = torch.tensor([-0.2, 0.3, 0.6, 1.3]).view(1, 1, 2, 2).expand(1, 3, 2, 2).clone().requires_grad_(True)
    received = Channel()(x)
    assert received.min() >= 0 and received.max() <= 1
    received.sum().backward()
    assert torch.equal(x.grad[0, 0].flatten(), torch.tensor([0.0, 1.0, 1.0, 0.0]))  # rounding: straight through


def test_training_with_distortions_runs_and_records_them(tmp_path):
    from PIL import JpegImagePlugin

    from deepsteg.cli.main import main
    from deepsteg.training.checkpoint import load_checkpoint
    from tests.conftest import smooth_image

    d = tmp_path / "data"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(32, 32, i)).save(d / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", "--data", str(d), "--out", str(out), "--steps", "3", "--batch", "4", "--crop", "16",
                 "--distort", "jpeg,noise,resize", "--no-compile", "--no-progress", "--warmup", "1",
                 "--val", str(d), "--val-every", "3", "--jpeg-quality", "70,95"]) == 0
    ckpt = load_checkpoint(out)
    assert ckpt["config"]["distort"] == "jpeg,noise,resize" and ckpt["config"]["jpeg_quality"] == "70,95"
    val = ckpt["history"]["val"][-1]  # validated from a real JPEG too, not only from the PNG
    assert val["jpeg_quality"] == 75 and 0 < val["jpeg_secret_psnr"] < 100
    assert main(["train", "--data", str(d), "--out", str(tmp_path / "bad"), "--distort", "blur"]) == 2
    assert main(["train", "--data", str(d), "--out", str(tmp_path / "bad"), "--jpeg-quality", "95,70"]) == 2
    # its model file says it was trained against JPEG, so hide may write a real JPEG for it
    model = tmp_path / "robust.safetensors"
    assert main(["export", str(out), "-o", str(model)]) == 0
    assert f"| {val['jpeg_secret_psnr']:.2f} dB |" in model.with_suffix(".md").read_text()  # the card shows it
    cover, secret = tmp_path / "c.png", tmp_path / "s.png"
    Image.fromarray(smooth_image(40, 48, 7)).save(cover)
    Image.fromarray(smooth_image(40, 48, 8)).save(secret)
    stego = tmp_path / "stego.jpg"
    assert main(["hide", str(cover), str(secret), "-o", str(stego), "--model", str(model), "--quality", "75"]) == 0
    with Image.open(stego) as im:
        assert im.format == "JPEG" and im.size == (48, 40) and JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
    assert main(["reveal", str(stego), "-o", str(tmp_path / "r.png"), "--model", str(model)]) == 0
    # a card may name the refinement it hides with; such a model refines through a real JPEG, at the
    # file's quality where that is below the one it aims at
    refining = tmp_path / "refining.safetensors"
    assert main(["export", str(out), "-o", str(refining), "--default-refine", "2", "--refine-cover-weight",
                 "0.1"]) == 0
    tuned = load_model(refining)
    assert tuned.refine == 2 and tuned.survives_jpeg and tuned.refine_quality == JPEG_REFINE_QUALITY
    assert tuned.refine_cover_weight == 0.1 and load_model(model).refine_cover_weight == JPEG_REFINE_COVER_WEIGHT
    assert "- hide: 2 refinement steps unless told; the cover weighs 0.1 in them" in \
        refining.with_suffix(".md").read_text()
    assert tuned.for_jpeg_file(50).refine_quality == 50
    assert tuned.for_jpeg_file(90).refine_quality == JPEG_REFINE_QUALITY
    assert main(["hide", str(cover), str(secret), "-o", str(tmp_path / "r.jpg"), "--model", str(refining),
                 "--quality", "60"]) == 0
    assert main(["export", str(out), "-o", str(tmp_path / "bad.safetensors"), "--default-refine", "-1"]) == 2
    assert main(["export", str(out), "-o", str(tmp_path / "bad.safetensors"), "--refine-cover-weight", "0"]) == 2
    assert not (tmp_path / "bad.safetensors").exists()


def test_lossless_models_refuse_a_jpeg_stego(tmp_path, capsys):
    from deepsteg.cli.main import main
    from tests.conftest import smooth_image

    cover, secret = tmp_path / "c.png", tmp_path / "s.png"
    Image.fromarray(smooth_image(40, 48, 7)).save(cover)
    Image.fromarray(smooth_image(40, 48, 8)).save(secret)
    for model, extra in (("lsb4", []), ("deepsteg-inn-v1", []), ("lsb4", ["--quality", "0"])):
        out = tmp_path / "stego.jpg"
        assert main(["hide", str(cover), str(secret), "-o", str(out), "--model", model, *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("lossless" in err or "quality" in err) and not out.exists()
