"""The dither-modulation design: its DCT and steps, and phases that survive the real encoder."""

import numpy as np
import pytest
import torch
from skimage import data

from deepsteg.images import jpeg_roundtrip
from deepsteg.metrics import psnr
from deepsteg.nets import build_net
from deepsteg.nets.dither import DitherConfig, dct_basis, wrap, zigzag
from deepsteg.tensors import to_tensor, to_uint8
from deepsteg.training.distortions import Channel, parse_spec

SMALL = DitherConfig(carriers=15, widths=(8, 4, 0), prep_layers=1, reveal_layers=1)


def test_zigzag_and_dct_are_jpegs():
    order = zigzag()
    assert sorted(order) == list(range(64))
    assert order[:10] == [0, 1, 8, 16, 9, 2, 3, 10, 17, 24] and order[-1] == 63
    basis = dct_basis()
    assert torch.allclose(basis @ basis.T, torch.eye(64), atol=1e-5)
    assert torch.allclose(basis[0], torch.full((64,), 1 / 8))  # DC: the block's sum / 8


def _embed(net, cover: torch.Tensor, phases: torch.Tensor) -> np.ndarray:
    """The 8-bit stego image of ``cover`` ``(1,3,H,W)`` carrying ``phases`` ``(1,K,H/8,W/8)``."""
    net.phases = lambda secret: phases  # the encoder's output, set by the test
    return to_uint8(net.hide(cover, torch.zeros_like(cover)))[0]


def _read(net, image: np.ndarray) -> torch.Tensor:
    return net.coefficients(to_tensor(image)) / net.step


@pytest.mark.parametrize("target", [33.0, 38.0])
def test_steps_give_the_configured_cover_psnr_and_phases_survive_jpeg(target):
    photo = data.astronaut()[:256, :256]
    net = build_net(DitherConfig(carriers=15, cover_psnr=target, widths=(8, 4, 0), prep_layers=1, reveal_layers=1))
    cover = to_tensor(photo)
    phases = torch.rand(1, 15, 32, 32, generator=torch.Generator().manual_seed(0))
    stego = _embed(net, cover, phases)
    assert abs(psnr(photo, stego) - target) < 0.5  # measured: 33.1 / 38.1 dB
    error = {q: wrap(_read(net, jpeg_roundtrip(stego, q)) - phases).abs() for q in (100, 75, 50)}
    # after the PNG (8-bit rounding) every phase is where it was put (some clip at 0 or 255) ...
    assert wrap(_read(net, stego) - phases).abs().median() < 0.02  # measured: 0.007 / 0.010
    # ... and JPEG moves it by a share of a period that grows as the quality falls
    # (medians measured at quality 100 / 75 / 50: 0.012 / 0.051 / 0.093 at 33 dB, 0.020 / 0.087 / 0.177 at 38 dB)
    median = {q: float(e.median()) for q, e in error.items()}
    assert median[100] < median[75] < median[50] < {33.0: 0.12, 38.0: 0.2}[target]
    # against a control: the cover's own phases are uniform, a quarter period from any target on average
    assert wrap(_read(net, photo) - phases).abs().mean() > 0.2


def test_the_phase_reaches_the_reveal_one_to_one_through_the_jpeg_channel():
    """d(phase read back) / d(encoder phase) is 1 through 8-bit rounding and the real JPEG."""
    net = build_net(SMALL)
    cover = 0.25 + 0.5 * to_tensor(data.astronaut()[100:164, 100:164])  # mid-tones: nothing clips
    phases = torch.full((2, 15, 8, 8), 0.3, requires_grad=True)
    net.phases = lambda secret: phases
    channel = Channel(parse_spec("jpeg"), generator=torch.Generator().manual_seed(1))
    stego = net.hide(cover.expand(2, -1, -1, -1), torch.zeros(2, 3, 64, 64))
    read = net.coefficients(channel(stego)) / net.step
    read.sum().backward()
    inside = (stego > 0.02).all(1) & (stego < 0.98).all(1)  # no clipping anywhere in the image
    assert inside.all()
    assert torch.allclose(phases.grad, torch.ones_like(phases.grad), atol=1e-4)


def test_the_cover_term_never_reaches_the_reveal_and_the_secret_trains_every_weight():
    net = build_net(SMALL).train()
    cover, secret = torch.rand(2, 3, 24, 24), torch.rand(2, 3, 24, 24)
    stego, revealed = net(cover, secret, Channel())
    ((stego - cover) ** 2).mean().backward()
    reveal = [*net.reveal_layers.parameters(), *net.reveal_output.parameters()]
    assert all(p.grad is None for p in reveal)
    net.zero_grad()
    stego, revealed = net(cover, secret, Channel())
    ((revealed - secret) ** 2).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
