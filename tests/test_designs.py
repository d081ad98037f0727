"""Every registered design behind the one network interface: shapes, gradients, tiles, files, bounds."""

import functools
import json

import numpy as np
import pytest
import torch

from deepsteg import DeepStegError
from deepsteg.methods import DeepModel
from deepsteg.nets import ARCHITECTURES, ArchConfig, arch_from_json, build_net
from deepsteg.nets.dither import DitherConfig
from deepsteg.nets.invertible import InvertibleConfig, haar, inverse_haar
from deepsteg.registry import load_model
from deepsteg.training.loop import init_weights
from deepsteg.weights import save_model
from tests.conftest import INN_COND, conditioned_inn, randomised, smooth_image

#: Small configs of each design (the registered ones are too slow for every test).
SMALL = {
    "baluja": ArchConfig(widths=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2),
    "s2d": ArchConfig(widths=(8, 4, 2), prep_layers=1, hide_layers=2, reveal_layers=2, scale=2),
    "blocks8": ArchConfig(widths=(8, 4, 0), prep_layers=1, hide_layers=2, reveal_layers=2, scale=8),
    "invertible": InvertibleConfig(blocks=2, hidden=8, depth=2),
    "dither": DitherConfig(carriers=6, widths=(8, 4, 0), prep_layers=1, reveal_layers=2, window=0),
    "dither-windows": DitherConfig(carriers=6, widths=(8, 4, 0), prep_layers=1, reveal_layers=2, window=32),
}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_registered_designs_build_and_round_trip_their_config(arch):
    cfg = ARCHITECTURES[arch]
    net = build_net(cfg)
    assert arch_from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["family"] in ("baluja", "invertible", "dither")
    assert net.macs_per_pixel() > 0
    if getattr(cfg, "window", 0):  # each window is an image of its own: tiles need no margin
        assert net.hide_margin == net.reveal_margin == 0 and net.tile_edges(300, 100) == [0, 104, 208, 300]
    else:
        assert net.hide_margin >= 1 and net.reveal_margin >= 1


@pytest.mark.parametrize("design", sorted(SMALL))
def test_odd_sizes_dtypes_and_gradients(design):
    net = randomised(SMALL[design]).train()
    c, s = torch.rand(2, 3, 13, 17), torch.rand(2, 3, 13, 17)
    stego, revealed = net(c, s)
    assert stego.shape == revealed.shape == (2, 3, 13, 17)
    assert stego.dtype == revealed.dtype == torch.float32
    ((stego - c) ** 2).mean().add(((revealed - s) ** 2).mean()).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("design", sorted(SMALL))
def test_tiled_equals_whole_image(design):
    net = randomised(SMALL[design])
    c, s = smooth_image(75, 93, 1), smooth_image(75, 93, 2)
    whole, tiled = DeepModel(net, precision="fp32", tile=0), DeepModel(net, precision="fp32", tile=32)
    stego = whole.hide(c, s)
    assert np.abs(stego.astype(int) - tiled.hide(c, s)).max() <= 1
    assert np.abs(whole.reveal(stego).astype(int) - tiled.reveal(stego)).max() <= 1


def test_tiled_equals_whole_breaks_off_the_block_grid():
    """The control for the test above: s2d tiles that start off the 2x2 grid change the output."""
    net = randomised(SMALL["s2d"])
    c, s = smooth_image(75, 93, 1), smooth_image(75, 93, 2)
    model = DeepModel(net, precision="fp32", tile=32)
    stego = DeepModel(net, precision="fp32", tile=0).hide(c, s)
    model.align = 1
    model.hide_margin = model.hide_margin + 1  # odd: inner tiles start off the grid
    assert np.abs(stego.astype(int) - model.hide(c, s)).max() > 1


def test_haar_is_orthonormal_and_inverted():
    x = torch.rand(2, 3, 6, 10)
    bands = haar(x)
    assert bands.shape == (2, 12, 3, 5)
    torch.testing.assert_close(inverse_haar(bands), x)
    torch.testing.assert_close(bands.norm(), x.norm())


def test_invertible_blocks_invert_exactly():
    net = randomised(SMALL["invertible"])
    x1, x2 = torch.rand(1, 12, 8, 8), torch.rand(1, 12, 8, 8)
    with torch.no_grad():
        y1, y2 = x1, x2
        for b in net.blocks:
            y1, y2 = b(y1, y2)
        for b in reversed(net.blocks):
            y1, y2 = b.inverse(y1, y2)
    torch.testing.assert_close(y1, x1, atol=1e-5, rtol=0)
    torch.testing.assert_close(y2, x2, atol=1e-5, rtol=0)


def test_invertible_starts_as_the_cover(tmp_path):
    """Initialised as training initialises it, the hiding pass leaves the cover almost unchanged."""
    net = build_net(SMALL["invertible"])
    init_weights(net, 0)
    c = torch.rand(1, 3, 16, 16)
    assert (net.hide(c, torch.rand(1, 3, 16, 16)) - c).abs().max() < 0.05


@pytest.mark.parametrize("design", sorted(SMALL))
def test_model_files_of_every_design_load(design, tmp_path):
    net = randomised(SMALL[design])
    path = tmp_path / f"{design}.safetensors"
    save_model(net, path, dtype=torch.float32)
    model = load_model(path, precision="fp32", refine=0)
    assert model.net.cfg == SMALL[design]
    c, s = smooth_image(20, 22, 3), smooth_image(20, 22, 4)
    assert np.array_equal(model.hide(c, s), DeepModel(net, precision="fp32").hide(c, s))


@pytest.mark.parametrize("arch", [
    {"family": "baluja", "widths": [4, 2, 2], "prep_layers": 1, "hide_layers": 10**9, "reveal_layers": 2},
    {"family": "baluja", "widths": [100000, 2, 2], "prep_layers": 1, "hide_layers": 2, "reveal_layers": 2},
    {"family": "baluja", "widths": "abc", "prep_layers": 1, "hide_layers": 2, "reveal_layers": 2},
    {"family": "baluja", "widths": [4, 2, 2], "prep_layers": 1.5, "hide_layers": 2, "reveal_layers": 2},
    {"family": "baluja", "widths": [4, 2, 2], "scale": 100},
    {"family": "baluja", "widths": [4, 2, 2], "colour": "blue"},
    {"family": "invertible", "blocks": 10**6},
    {"family": "invertible", "clamp": "x"},
    {"family": "dither", "carriers": 65},
    {"family": "dither", "cover_psnr": "x"},
    {"family": "dither", "widths": [4, 2, 2], "reveal_layers": 0},
    {"family": "no-such-design"},
    [1, 2, 3],
])
def test_out_of_bounds_architecture_metadata_is_refused_quickly(arch, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "hostile.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"format": "1", "arch": json.dumps(arch), "card": "{}"})
    with pytest.raises(DeepStegError, match="architecture"):
        load_model(path)


def test_shapes_are_checked_before_building(tmp_path):
    """A file whose metadata asks for a huge (but bounded) network and holds tiny tensors is
    refused from the header alone: no 1024-wide, 32-layer network is allocated."""
    from safetensors.torch import save_file

    cfg = ArchConfig(widths=(1024, 1024, 1024), prep_layers=32, hide_layers=32, reveal_layers=32)
    path = tmp_path / "huge.safetensors"
    save_file({"x": torch.zeros(1)}, str(path), metadata={"format": "1", "arch": cfg.to_json(), "card": "{}"})
    with pytest.raises(DeepStegError, match="do not fit"):
        load_model(path)


def test_non_finite_weights_are_refused(tmp_path):
    from safetensors.torch import save_file

    net = build_net(SMALL["baluja"])
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["reveal_net.output.bias"][0] = float("nan")
    path = tmp_path / "nan.safetensors"
    save_file(state, str(path), metadata={"format": "1", "arch": SMALL["baluja"].to_json(), "card": "{}"})
    with pytest.raises(DeepStegError, match="not finite"):
        load_model(path)


COND = ArchConfig(widths=(8, 4, 2), prep_layers=1, hide_layers=2, reveal_layers=2, scale=2, conditioned=True)


def test_conditioned_network_starts_unconditioned_and_follows_its_strength():
    torch.manual_seed(0)
    net = build_net(COND).eval()
    c, s = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        # zero-initialised conditioning: every strength gives the same stego image at first
        torch.testing.assert_close(net.hide(c, s, 0.0), net.hide(c, s, 1.0))
        torch.nn.init.normal_(net.hide_net.strength.gain.weight, std=1.0)  # as training would move it
        weak, strong = net.hide(c, s, 0.0), net.hide(c, s, 1.0)
    assert not torch.allclose(weak, strong)
    with pytest.raises(ValueError, match="not conditioned"):
        build_net(SMALL["baluja"]).hide(c, s, 0.5)


def test_conditioned_training_draws_strengths_and_needs_a_beta_range(tmp_path, monkeypatch):
    from PIL import Image

    from deepsteg.nets import designs
    from deepsteg.training import TrainConfig, train

    monkeypatch.setitem(designs.ARCHITECTURES, "tiny-cond", COND)
    d = tmp_path / "data"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(32, 32, i)).save(d / f"{i}.png")
    common = dict(data=str(d), arch="tiny-cond", steps=3, batch=4, crop=16, compile=False, warmup=1, log_every=1)
    with pytest.raises(DeepStegError, match="--beta-range"):
        train(TrainConfig(out=str(tmp_path / "a"), **common), progress=False)
    hist = train(TrainConfig(out=str(tmp_path / "b"), beta_range="0.1,2", **common), progress=False)
    assert hist["step"] == 3
    with pytest.raises(ValueError, match="beta_range"):
        TrainConfig(out=str(tmp_path / "c"), beta_range="2,0.1", **common)


def test_deep_model_strength_reaches_the_network():
    net = randomised(COND)
    torch.nn.init.normal_(net.hide_net.strength.gain.weight, std=1.0)
    c, s = smooth_image(20, 22, 3), smooth_image(20, 22, 4)
    a = DeepModel(net, precision="fp32", strength=0.0).hide(c, s)
    b = DeepModel(net, precision="fp32", strength=1.0).hide(c, s)
    assert not np.array_equal(a, b)
    with pytest.raises(DeepStegError, match="strength"):
        DeepModel(randomised(SMALL["baluja"]), strength=0.5)


def _monotone_conditioned_net():
    """A conditioned network whose residual gain is exp(3 s - 1.5): cover PSNR falls as s grows."""
    net = randomised(COND)
    film = net.hide_net.strength

    def forward(strength):
        n = strength.shape[0]
        ones = torch.ones(n, film.channels, 1, 1)
        return [(ones, ones * 0)] * film.layers, torch.exp(3 * strength.float() - 1.5).view(n, 1, 1, 1)

    film.forward = forward
    return net


def test_cover_psnr_target_is_hit_within_tolerance_and_out_of_range_refused():
    from deepsteg.metrics import psnr

    model = DeepModel(_monotone_conditioned_net(), precision="fp32")
    c, s = smooth_image(40, 48, 7), smooth_image(40, 48, 8)
    lo = psnr(c, DeepModel(model.net, precision="fp32", strength=1.0).hide(c, s))
    hi = psnr(c, DeepModel(model.net, precision="fp32", strength=0.0).hide(c, s))
    assert hi - lo > 5
    for target in np.linspace(lo + 0.5, hi - 0.5, 4):
        notes = []
        stego = model.hide(c, s, cover_psnr=float(target), notes=notes)
        assert abs(psnr(c, stego) - target) <= 0.3 and "strength" in notes[0]
    with pytest.raises(DeepStegError, match="outside this model's range"):
        model.hide(c, s, cover_psnr=hi + 3)
    # a comparison measures every pair: out of reach, the nearest end of the range
    for target, end in ((hi + 3, 0.0), (lo - 3, 1.0)):
        stego, _ = model.hide_at(c, s, target, nearest=True)
        assert np.array_equal(stego, DeepModel(model.net, precision="fp32", strength=end).hide(c, s))
    with pytest.raises(DeepStegError, match="one fixed strength"):
        DeepModel(randomised(SMALL["baluja"]), precision="fp32").hide(c, s, cover_psnr=40)


def _inn_cond(gain_slope: float = 0.0):
    return conditioned_inn(gain_slope) if gain_slope else randomised(INN_COND)


def test_conditioned_invertible_blocks_invert_exactly_at_every_strength():
    net = _inn_cond(gain_slope=3.0)
    x1, x2 = torch.rand(2, 12, 8, 8), torch.rand(2, 12, 8, 8)
    with torch.no_grad():
        for strength in (0.0, 0.4, 1.0):
            for block, c in zip(net.blocks, net._conditions(strength, 2, x1.device)):
                y1, y2 = block(x1, x2, c)
                back1, back2 = block.inverse(y1, y2, c)
                torch.testing.assert_close(back1, x1, atol=1e-5, rtol=0)
                torch.testing.assert_close(back2, x2, atol=1e-5, rtol=0)


def test_conditioned_invertible_starts_as_the_unconditioned_network():
    plain = randomised(SMALL["invertible"])
    cond = build_net(INN_COND).eval()
    missing, unexpected = cond.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("strength.") for k in missing)
    c, s = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        for strength in (0.0, 1.0):
            torch.testing.assert_close(cond.hide(c, s, strength), plain.hide(c, s))
            torch.testing.assert_close(cond.reveal(c, strength), plain.reveal(c))
    with pytest.raises(ValueError, match="not conditioned"):
        plain.reveal(c, 0.5)


def test_conditioned_invertible_stego_carries_its_strength():
    from deepsteg.methods.header import read_strength

    net = _inn_cond(gain_slope=3.0)
    c, s = smooth_image(30, 34, 5), smooth_image(30, 34, 6)
    for strength in (0.1, 0.77):
        model = DeepModel(net, precision="fp32", strength=strength)
        stego = model.hide(c, s)
        level = round(strength * 255) / 255
        assert read_strength(stego) == level
        with torch.no_grad():
            expected = DeepModel(net, precision="fp32")._apply_uint8(
                functools.partial(net.reveal, strength=level), [stego], model.reveal_margin)
        assert np.array_equal(model.reveal(stego), expected)  # the header told the reveal its strength
    other = DeepModel(net, precision="fp32", strength=0.1).hide(c, s)
    assert not np.array_equal(other, DeepModel(net, precision="fp32", strength=0.77).hide(c, s))
    damaged = other.copy()
    damaged.reshape(-1)[3] ^= 1  # one bit of the first copy
    with pytest.raises(DeepStegError, match="no strength header"):
        DeepModel(net, precision="fp32").reveal(damaged)


def test_conditioned_invertible_hits_cover_psnr_targets_and_reveals_them():
    from deepsteg.methods.header import read_strength
    from deepsteg.metrics import psnr

    net = _inn_cond(gain_slope=4.0)
    model = DeepModel(net, precision="fp32")
    c, s = smooth_image(40, 48, 7), smooth_image(40, 48, 8)
    lo = psnr(c, model.with_settings(strength=1.0).hide(c, s))
    hi = psnr(c, model.with_settings(strength=0.0).hide(c, s))
    assert hi - lo > 5
    for target in np.linspace(lo + 0.5, hi - 0.5, 3):
        notes = []
        stego = model.hide(c, s, cover_psnr=float(target), notes=notes)
        assert abs(psnr(c, stego) - target) <= 0.3 and "strength" in notes[0]
        same = model.with_settings(strength=read_strength(stego))
        assert np.array_equal(model.reveal(stego), same.reveal(same.hide(c, s)))


def test_strength_header_round_trips_every_level_and_refuses_a_bare_image():
    from deepsteg.methods.header import HEADER_VALUES, read_strength, write_strength

    image = smooth_image(4, 5, 1)
    for q in range(256):
        out = write_strength(image, q / 255)
        assert read_strength(out) == q / 255
        changed = np.abs(out.astype(int) - image.astype(int))
        assert changed.max() <= 1 and np.count_nonzero(changed.reshape(-1)[HEADER_VALUES:]) == 0
    bare = np.zeros((4, 5, 3), np.uint8)
    bare.reshape(-1)[:8] = 1  # the copies disagree
    with pytest.raises(DeepStegError, match="no strength header"):
        read_strength(bare)
    with pytest.raises(DeepStegError, match="too small"):
        write_strength(np.zeros((1, 2, 3), np.uint8), 0.5)


def test_conditioned_design_starts_from_the_unconditioned_model_file(tmp_path):
    from deepsteg.training.loop import load_initial_weights

    plain = randomised(SMALL["invertible"])
    path = tmp_path / "plain.safetensors"
    save_model(plain, path, card={}, dtype=torch.float32)
    cond = build_net(INN_COND).eval()
    load_initial_weights(cond, str(path), "inn-cond")
    c, s = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(cond.hide(c, s, 0.3), plain.hide(c, s))
    with pytest.raises(DeepStegError, match="architecture differs"):
        load_initial_weights(build_net(InvertibleConfig(blocks=3, hidden=8, depth=2, conditioned=True)),
                             str(path), "inn-cond")


def test_a_conditioned_model_hides_at_its_cards_default_strength():
    net = conditioned_inn()
    from deepsteg.methods.header import read_strength

    c, s = smooth_image(20, 24, 1), smooth_image(20, 24, 2)
    assert read_strength(DeepModel(net, precision="fp32").hide(c, s)) == round(0.5 * 255) / 255
    assert read_strength(DeepModel(net, precision="fp32", card={"default_strength": 0.2}).hide(c, s)) == 51 / 255
    for bad in (1.5, "strong", True):
        with pytest.raises(DeepStegError, match="strength"):
            DeepModel(net, precision="fp32", card={"default_strength": bad})
