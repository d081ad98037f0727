"""The dither-modulation design: its DCT and steps, and phases that survive the real encoder."""

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data

from deepsteg import jpeg
from deepsteg.errors import DeepStegError
from deepsteg.metrics import psnr
from deepsteg.nets import build_net
from deepsteg.nets.dither import DitherConfig, window_edges, window_tile_edges, wrap
from deepsteg.tensors import to_tensor, to_uint8
from deepsteg.training.distortions import Channel, parse_spec
from deepsteg.training.loop import init_weights, load_initial_weights
from deepsteg.weights import save_model

SMALL = DitherConfig(carriers=15, widths=(8, 4, 0), prep_layers=1, reveal_layers=1, window=0)


def _embed(net, cover: torch.Tensor, phases: torch.Tensor) -> np.ndarray:
    """The 8-bit stego image of ``cover`` ``(1,3,H,W)`` carrying ``phases`` ``(1,K,H/8,W/8)``."""
    net.phases = lambda secret: phases  # the encoder's output, set by the test
    return to_uint8(net.hide(cover, torch.zeros_like(cover)))[0]


def _read(net, image: np.ndarray) -> torch.Tensor:
    return net.coefficients(to_tensor(image)) / net.step


@pytest.mark.parametrize("target", [33.0, 38.0])
def test_steps_give_the_configured_cover_psnr_and_phases_survive_jpeg(target):
    photo = data.astronaut()[:256, :256]
    net = build_net(dataclasses.replace(SMALL, cover_psnr=target))
    cover = to_tensor(photo)
    phases = torch.rand(1, 15, 32, 32, generator=torch.Generator().manual_seed(0))
    stego = _embed(net, cover, phases)
    assert abs(psnr(photo, stego) - target) < 0.5  # measured: 33.1 / 38.1 dB
    error = {q: wrap(_read(net, jpeg.roundtrip(stego, q)) - phases).abs() for q in (100, 75, 50)}
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


def test_each_window_is_hidden_and_revealed_on_its_own():
    windowed = build_net(dataclasses.replace(SMALL, carriers=6, window=32)).eval()
    whole = build_net(dataclasses.replace(SMALL, carriers=6)).eval()
    whole.load_state_dict(windowed.state_dict())
    gen = torch.Generator().manual_seed(0)
    cover, secret = torch.rand(1, 3, 70, 90, generator=gen), torch.rand(1, 3, 70, 90, generator=gen)
    with torch.no_grad():
        stego = windowed.hide(cover, secret)
        revealed = windowed.reveal(stego)
        # 70 rows: windows of 24, 24 and 22 (9 blocks, the last partial, in three windows of 32
        # at most); 90 columns: 32, 32 and 26. The last window: rows 48..70, columns 64..90,
        # its partial block edge-replicated
        c, s, st = (F.pad(x, (0, 6, 0, 2), mode="replicate")[..., 48:72, 64:96] for x in (cover, secret, stego))
        torch.testing.assert_close(stego[..., 48:, 64:], whole.hide(c, s)[..., :22, :26])
        torch.testing.assert_close(revealed[..., 48:, 64:], whole.reveal(st)[..., :22, :26])
        # the control: the whole-image pass sees across the windows' borders
        assert (whole.hide(cover, secret) - stego).abs().max() > 1e-3
        # a change to the secret in one window changes the stego image there alone
        changed = secret.clone()
        changed[..., :24, :32] = 0
        diff = (windowed.hide(cover, changed) - stego).abs().amax(1)[0]
    assert diff[:24, :32].max() > 0 and diff[24:].max() == 0 and diff[:, 32:].max() == 0


@pytest.mark.parametrize("length", [1, 7, 8, 9, 127, 128, 129, 136, 321, 481, 512, 1000])
def test_windows_are_balanced_whole_blocks_within_the_size(length):
    edges = window_edges(length, 128)
    sides = [b - a for a, b in zip(edges, edges[1:])]
    assert edges[0] == 0 and edges[-1] == length
    assert all(e % 8 == 0 for e in edges[:-1]) and all(0 < s <= 128 for s in sides)
    assert len(sides) == -(-length // 128)  # as few as fit
    blocks = [-(-s // 8) for s in sides]
    assert max(blocks) - min(blocks) <= 1 and blocks == sorted(blocks, reverse=True)


def test_a_protocol_photo_has_no_window_of_padding():
    """481x321: three rows of windows, not two full ones and one of 65 pixels."""
    assert window_edges(321, 128) == [0, 112, 224, 321]
    assert window_edges(481, 128) == [0, 128, 248, 368, 481]


@pytest.mark.parametrize("length,tile", [(321, 128), (321, 384), (481, 384), (1000, 384), (1000, 1024),
                                         (136, 32), (2000, 300)])
def test_tiles_are_whole_windows_laid_out_as_the_whole_side(length, tile):
    size = 128 if tile > 100 else 32
    cuts = window_tile_edges(length, size, tile)
    edges = window_edges(length, size)
    assert cuts[0] == 0 and cuts[-1] == length and set(cuts) <= set(edges)
    for a, b in zip(cuts, cuts[1:]):
        inside = [e - a for e in edges if a <= e <= b]
        assert window_edges(b - a, size) == inside  # the tile alone has the same windows
        assert b - a <= tile or len(inside) == 2  # within the tile size, or one window


@pytest.mark.parametrize("window", [12, -8, 8.0, True])
def test_window_must_be_a_multiple_of_the_block(window):
    with pytest.raises(ValueError, match="window"):
        DitherConfig(window=window)


def test_table_power_shapes_the_steps_at_the_same_cover_cost():
    table, flat = DitherConfig(carriers=28, cover_psnr=33.0), DitherConfig(carriers=28, cover_psnr=33.0,
                                                                          table_power=0.0)
    # equal steps when 0; in the table's proportion when 1 (DC 16 and the first AC 11 in the Q50 table)
    assert max(flat.steps()) == pytest.approx(min(flat.steps()))
    assert table.steps()[1] / table.steps()[0] == pytest.approx(11 / 16)
    # both spend the same cover MSE: sum(step^2) / 12 / 64 per pixel
    mse = 255.0**2 / 10 ** (33.0 / 10)
    for cfg in (table, flat):
        assert sum(s * s for s in cfg.steps()) / 12 / 64 == pytest.approx(mse)
    # an architecture saved before the field existed loads with the table's steps
    old = json.loads(table.to_json())
    del old["table_power"]
    assert DitherConfig.from_json(json.dumps(old)) == table


@pytest.mark.parametrize("power", [-0.5, 2.5, "1", True])
def test_table_power_must_be_a_number_in_range(power):
    with pytest.raises(ValueError, match="table_power"):
        DitherConfig(table_power=power)


def test_a_run_may_start_from_a_design_that_differs_only_in_its_steps(tmp_path):
    """--init from a table-step model into an equal-step design (same weights); a different
    design stays refused."""
    source = build_net(SMALL)
    init_weights(source, seed=4)
    path = tmp_path / "table.safetensors"
    save_model(source, path, card={}, dtype=torch.float32)
    flat = build_net(dataclasses.replace(SMALL, table_power=0.0))
    load_initial_weights(flat, str(path), "flat")
    assert all(torch.equal(flat.state_dict()[k], v) for k, v in source.state_dict().items())
    assert not torch.equal(flat.step, source.step)  # the steps are the new design's
    with pytest.raises(DeepStegError, match="architecture differs"):
        load_initial_weights(build_net(dataclasses.replace(SMALL, carriers=6)), str(path), "k6")


def test_a_file_that_names_no_pixel_head_loads_and_one_that_has_one_is_refused():
    """Model files of the robust models list ``pixel_head: 0``, a reveal stage the design no longer has."""
    old = json.loads(SMALL.to_json())
    assert DitherConfig.from_json(json.dumps({**old, "pixel_head": 0})) == SMALL
    with pytest.raises(ValueError, match="pixel head"):
        DitherConfig.from_json(json.dumps({**old, "pixel_head": 32}))
