import pytest
import torch
import torch.nn.functional as F

from deepsteg.nets import ARCHITECTURES, ArchConfig, MultiKernelConv, StegoNet


def keras_same_conv(x, conv):
    """'same' padding as Keras pads it: (k-1)//2 before, the rest after."""
    k = conv.weight.shape[-1]
    lo = (k - 1) // 2
    return conv(F.pad(x, (lo, k - 1 - lo, lo, k - 1 - lo)))


@pytest.mark.parametrize("h,w", [(7, 9), (1, 1), (16, 16), (5, 12)])
def test_multikernel_matches_explicit_padding(h, w):
    torch.manual_seed(0)
    layer = MultiKernelConv(4, (3, 2, 5))
    x = torch.randn(2, 4, h, w)
    ref = torch.cat([F.relu(keras_same_conv(x, c)) for c in layer.branches], 1)
    assert layer(x).shape == (2, 10, h, w)
    torch.testing.assert_close(layer(x), ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(layer.forward_fused(x), ref, rtol=1e-5, atol=1e-5)


def test_4x4_padding_is_asymmetric():
    """A 4x4 kernel with a single 1 at (0, 0) reads the pixel one up and one left:
    Keras puts 1 row/column of padding before and 2 after."""
    layer = MultiKernelConv(1, (0, 1, 0), relu=False)
    with torch.no_grad():
        layer.branches[0].weight.zero_()
        layer.branches[0].weight[0, 0, 0, 0] = 1
        layer.branches[0].bias.zero_()
    x = torch.arange(1, 26, dtype=torch.float32).reshape(1, 1, 5, 5)
    y = layer(x)[0, 0]
    assert y[0, 0] == 0 and y[0, 1] == 0  # padding row above
    assert y[1, 1] == x[0, 0, 0, 0] and y[4, 4] == x[0, 0, 3, 3]
    k33 = torch.zeros(1, 1, 4, 4)
    k33[0, 0, 3, 3] = 1  # the last tap reads two down and two right: zero past the border
    with torch.no_grad():
        layer.branches[0].weight.copy_(k33)
    y = layer(x)[0, 0]
    assert y[2, 2] == x[0, 0, 4, 4] and y[3, 3] == 0 and y[4, 4] == 0


BALUJA = sorted(k for k, v in ARCHITECTURES.items() if isinstance(v, ArchConfig))


@pytest.mark.parametrize("arch", BALUJA)
def test_shapes_channels_and_params(arch):
    cfg = ARCHITECTURES[arch]
    net = StegoNet(cfg)
    c, s = torch.rand(2, 3, 13, 17), torch.rand(2, 3, 13, 17)
    stego, revealed = net(c, s)
    assert stego.shape == revealed.shape == (2, 3, 13, 17)
    assert stego.dtype == revealed.dtype == torch.float32
    blocks = net._to_blocks(s)  # the secret as the prep network sees it: 2x2 blocks for s2d
    assert blocks.shape == (2, 3 * cfg.scale**2, -(-13 // cfg.scale), -(-17 // cfg.scale))
    assert net.prep(blocks).shape == (2, cfg.channels, *blocks.shape[-2:])
    if arch == "keras":  # the README of the Keras weights counts 488,661 parameters
        assert sum(p.numel() for p in net.parameters()) == 488_661
    if cfg.output == "relu":
        assert stego.min() >= 0 and revealed.min() >= 0


def test_residual_output_starts_at_cover_when_zeroed():
    net = StegoNet(ArchConfig(output="residual"))
    with torch.no_grad():
        net.hide_net.output.weight.zero_()
        net.hide_net.output.bias.zero_()
    c = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(net.hide(c, torch.rand(1, 3, 8, 8)), c)


@pytest.mark.parametrize("arch", ["compact", "keras"])
def test_every_parameter_gets_a_gradient(arch):
    torch.manual_seed(1)
    net = StegoNet(ARCHITECTURES[arch])
    c, s = torch.rand(2, 3, 12, 12), torch.rand(2, 3, 12, 12)
    stego, revealed = net(c, s)
    ((stego - c) ** 2).mean().add(((revealed - s) ** 2).mean()).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_bf16_autocast_stays_close_to_fp32():
    torch.manual_seed(2)
    net = StegoNet(ARCHITECTURES["compact"]).eval()
    c, s = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        ref = net.hide(c, s)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = net.hide(c, s)
    assert fast.dtype == torch.float32  # output convolution and residual in float32
    assert (fast - ref).abs().max() < 0.05


def test_image_inputs_are_read_in_fp32_under_autocast():
    """The first layer of prep and reveal sees the exact 8-bit levels even under bf16."""
    torch.manual_seed(3)
    net = StegoNet(ARCHITECTURES["compact"]).eval()
    x = torch.randint(0, 256, (1, 3, 16, 16)).float() / 255
    seen = {}
    for name, layer in (("prep", net.prep.layers[0]), ("reveal", net.reveal_net.layers[0])):
        layer.register_forward_hook(lambda m, inp, out, name=name: seen.__setitem__(name, (inp[0], out)))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        net.prep(x)
        net.reveal(x)
    for name in ("prep", "reveal"):
        inp, out = seen[name]
        assert inp.dtype == out.dtype == torch.float32 and torch.equal(inp, x), name


def test_arch_config_json_roundtrip_and_validation():
    cfg = ArchConfig(widths=(8, 4, 2), prep_layers=1, hide_layers=2, reveal_layers=3, output="relu")
    assert ArchConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError):
        ArchConfig(widths=(1, 2))
    with pytest.raises(ValueError):
        ArchConfig(output="sigmoid")
