"""deepsteg.jpeg: the tables and DCT against the standard and Pillow, the real encoder, and the
differentiable stand-in's gradients."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from deepsteg import jpeg
from deepsteg.metrics import psnr
from deepsteg.tensors import to_tensor, to_uint8


@pytest.mark.parametrize("quality", [30, 50, 75, 95])
def test_the_luma_table_is_the_one_pillow_writes(quality):
    buf = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    assert np.array_equal(np.array(Image.open(buf).quantization[0]), jpeg.luma_table(quality))


def test_zigzag_and_dct_are_jpegs():
    order = jpeg.zigzag()
    assert sorted(order) == list(range(64))
    assert order[:10] == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24] and order[-1] == 63
    basis = jpeg.dct_basis()
    assert torch.allclose(basis @ basis.T, torch.eye(64), atol=1e-5)
    assert torch.allclose(basis[0], torch.full((64,), 1 / 8))  # DC: the block's sum / 8


def test_identity_through_is_the_real_encoder_with_the_identity_as_its_gradient():
    photo = data.astronaut()[100:164, 200:264]
    x = to_tensor(photo).requires_grad_(True)
    received = jpeg.identity_through(x, 75)
    assert np.array_equal(to_uint8(received)[0], jpeg.roundtrip(photo, 75))
    received.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_the_file_is_the_round_trip(tmp_path):
    photo = data.astronaut()[:64, :80]
    path = jpeg.write_jpeg(photo, tmp_path / "a.jpg", 80)
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), jpeg.roundtrip(photo, 80))


@pytest.mark.parametrize("quality", [50, 75, 95])
def test_differentiable_jpeg_tracks_pillow_on_a_real_photo(quality):
    photo = data.astronaut()[:256, :256]
    real = jpeg.roundtrip(photo, quality)  # Pillow's encoder, 4:2:0, as robustness and hide -o .jpg use
    ours = to_uint8(jpeg.stand_in(to_tensor(photo), torch.tensor([float(quality)])))[0]
    # the stand-in lands close to the real encoder's output ...
    assert psnr(real, ours) > {50: 41, 75: 42, 95: 44}[quality]  # measured: 43.2 / 44.1 / 46.1 dB
    # ... and loses about as much of the photo as the real encoder does (measured: 0.5-0.75 dB apart)
    assert abs(psnr(photo, ours) - psnr(photo, real)) < 1.0


def test_differentiable_jpeg_passes_gradients():
    x = to_tensor(data.astronaut()[:64, :64]).requires_grad_(True)
    jpeg.stand_in(x, torch.tensor([75.0])).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_channel_jpeg_is_the_real_encoder_with_the_stand_ins_straight_through_gradient():
    photo = data.astronaut()[100:164, 200:264]
    x = to_tensor(photo).requires_grad_(True)
    received = jpeg.straight_through(x, torch.tensor([75.0]))
    assert np.array_equal(to_uint8(received)[0], jpeg.roundtrip(photo, 75))  # the very pixels of the file
    received.sum().backward()
    linear = torch.autograd.grad(jpeg.linear_part(x).sum(), x)[0]
    assert torch.isfinite(x.grad).all() and torch.equal(x.grad, linear)  # a slope for the hiding network


def test_linear_part_is_the_stand_in_without_its_rounding():
    """At quality 100 (every step 1) the stand-in only rounds: what is left is the linear part."""
    photo = data.astronaut()[:128, :128]
    stand_in = to_uint8(jpeg.stand_in(to_tensor(photo), torch.tensor([100.0])))[0]
    assert psnr(stand_in, to_uint8(jpeg.linear_part(to_tensor(photo)))[0]) > 45


def test_linear_part_passes_luma_whole_and_drops_chroma_detail():
    x = torch.full((1, 3, 16, 16), 0.5)
    luma = torch.rand(1, 1, 16, 16).expand(1, 3, 16, 16) * 0.1  # grey: a change of Y alone
    torch.testing.assert_close(jpeg.linear_part(x + luma), x + luma, atol=1e-5, rtol=0)
    checker = ((torch.arange(16)[:, None] + torch.arange(16)) % 2).float() * 0.1
    blue = torch.zeros(1, 3, 16, 16)
    blue[:, 2] = checker  # a one-pixel checkerboard of blue: chroma detail 4:2:0 cannot hold ...
    out = jpeg.linear_part(x + blue) - jpeg.linear_part(x)
    assert out[:, 2].std() < 0.2 * checker.std()  # ... mostly gone (only its luma share is left)
