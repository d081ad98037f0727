"""An SRNet-class CNN detector, sized for a CPU: the warden's modern, learned steganalyser.

After Boroumand, Chen and Fridrich, "Deep Residual Network for Steganalysis of Digital Images",
IEEE TIFS 2019: no fixed high-pass filter (the front layers learn their own residuals), an
unpooled front of plain and residual convolution blocks that keeps the faint stego noise at full
resolution, then residual blocks that pool by 2, global average pooling and one logit. The
layer types and their order are the paper's; the widths and the number of unpooled residual
blocks are smaller (see :class:`SRNet`) so that training fits a few hours of 2 CPU cores.

Training is paired (each batch holds random crops of covers and the same crops of their stego
images, with the same flips and rotations) with Adamax, as in the paper, in bf16 autocast where the
CPU runs bf16 natively (scoring is float32). It runs for a time
budget, saves a checkpoint every :data:`CHECKPOINT_EVERY` steps and resumes from it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from deepsteg.methods.deep import bf16_supported

CHECKPOINT_EVERY = 50
#: The first layer's residuals are truncated to +-TRUNCATION grey levels (Ye, Ni and Yi's TLU, IEEE TIFS
#: 2017): edges no longer swamp the +-1 noise that embedding adds.
TRUNCATION = 3.0


def _conv_bn(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(cout))


class _Plain(nn.Module):
    """Type 1: convolution, batch norm, ReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.body = _conv_bn(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x))


class _Residual(nn.Module):
    """Type 2: ``x + BN(conv(type 1(x)))``, no pooling."""

    def __init__(self, width: int):
        super().__init__()
        self.first, self.second = _Plain(width, width), _conv_bn(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.first(x))


class _Pooling(nn.Module):
    """Type 3: ``avgpool(BN(conv(type 1(x)))) + BN(1x1 conv, stride 2 (x))``."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.first, self.second = _Plain(cin, cout), _conv_bn(cout, cout)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.shortcut = _conv_bn(cin, cout, stride=2, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.second(self.first(x))) + self.shortcut(x)


#: High-pass kernels the first layer starts from (SRM's first- and second-order and KV residuals,
#: Fridrich and Kodovsky 2012); the layer stays trainable.
_HIGH_PASS = [
    [[0, 0, 0], [0, -1, 1], [0, 0, 0]],
    [[0, 0, 0], [0, -1, 0], [0, 1, 0]],
    [[0, 0, 0], [1, -2, 1], [0, 0, 0]],
    [[0, 1, 0], [0, -2, 0], [0, 1, 0]],
    [[-1, 2, -1], [2, -4, 2], [-1, 2, -1]],
]
_KV = [[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]]


class SRNet(nn.Module):
    """SRNet's layer types at CPU size: two plain layers (32, 16), ``residual`` unpooled residual blocks
    (16), four pooling blocks (16, 32, 64, 128), a last plain layer (256), global average pooling and a
    linear logit. The paper: 64 and 16, five residual blocks, pooling to 16, 64, 128, 256, then 512.

    The first convolution (3x3) starts with 18 of its 32 filters as high-pass residuals, each on one
    colour channel, truncates its output (:data:`TRUNCATION`) and runs in float32 even under bf16
    autocast: a +-1 change is far below what bf16 weights could cancel of the content. SRNet learns its
    first layer from scratch, without truncation; on 2 CPU cores and about a thousand pairs, runs
    started that way stayed at chance for thousands of steps, even against LSB matching at 0.4 bits
    per value."""

    def __init__(self, residual: int = 3):
        super().__init__()
        layers: list[nn.Module] = [_Plain(3, 32), _Plain(32, 16)]
        layers += [_Residual(16) for _ in range(residual)]
        layers += [_Pooling(16, 16), _Pooling(16, 32), _Pooling(32, 64), _Pooling(64, 128), _Plain(128, 256)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(256, 1)
        self._start_high_pass()

    def _start_high_pass(self) -> None:
        kernels = [torch.tensor(k, dtype=torch.float32) / max(abs(v) for row in k for v in row) for k in _HIGH_PASS]
        kernels.append(torch.tensor(_KV, dtype=torch.float32)[1:4, 1:4] / 12)  # the KV kernel's centre
        with torch.no_grad():
            weight = self.features[0].body[0].weight  # (32, 3, 3, 3)
            for i, kernel in enumerate(kernels):
                for c in range(3):
                    weight[3 * i + c].zero_()
                    weight[3 * i + c, c] = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: float ``(N, 3, H, W)`` on the 0-255 scale -> logits ``(N,)`` (high = stego)."""
        first = self.features[0].body
        with torch.autocast(x.device.type, enabled=False):
            residual = first[0](x.float() - 128.0).clamp(-TRUNCATION, TRUNCATION)
            front = torch.relu(first[1](residual))
        return self.head(self.features[1:](front).mean(dim=(2, 3)).float()).squeeze(1)


def _paired_batch(covers: Sequence[np.ndarray], stegos: Sequence[np.ndarray], idx: np.ndarray, crop: int,
                  rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``crop`` x ``crop`` crops of the chosen covers and the same crops of their stego images
    (same flip and rotation), labels 0 and 1."""
    cs, ss = [], []
    for i in idx:
        c, s = covers[i], stegos[i]
        h, w = c.shape[:2]
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        k, flip = int(rng.integers(0, 4)), bool(rng.random() < 0.5)
        for source, out in ((c, cs), (s, ss)):
            a = np.rot90(source[y:y + crop, x:x + crop], k)
            out.append(a[:, ::-1] if flip else a)
    batch = torch.from_numpy(np.ascontiguousarray(np.stack(cs + ss))).permute(0, 3, 1, 2).float()
    return batch, torch.cat([torch.zeros(len(cs)), torch.ones(len(ss))])


def train_srnet(covers: Sequence[np.ndarray], stegos: Sequence[np.ndarray], minutes: float, checkpoint: Path | None,
                pairs_per_batch: int = 16, crop: int = 128, lr: float = 1e-3, seed: int = 0,
                log=print) -> tuple[SRNet, int]:
    """Train :class:`SRNet` on pairs ``(covers[i], stegos[i])`` (uint8 ``(H, W, 3)``) for ``minutes`` of
    wall time, resuming from and saving to ``checkpoint``; returns the network (eval mode) and the
    steps it has taken in all. Batches take ``crop``-pixel crops of the pairs whose covers are at
    least that large (of all pairs, cropped to the smallest, where none is)."""
    usable = np.array([i for i, c in enumerate(covers) if min(c.shape[:2]) >= crop])
    if usable.size == 0:  # every cover is smaller than the crop: crop to the smallest
        usable, crop = np.arange(len(covers)), min(min(c.shape[:2]) for c in covers)
    torch.manual_seed(seed)
    net = SRNet()
    opt = torch.optim.Adamax(net.parameters(), lr=lr)
    step = 0
    if checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
    rng = np.random.default_rng([seed, step])
    precision = torch.bfloat16 if bf16_supported(torch.device("cpu")) else torch.float32
    net.train()
    end, losses = time.monotonic() + 60 * minutes, []
    while time.monotonic() < end:
        x, y = _paired_batch(covers, stegos, rng.choice(usable, pairs_per_batch), crop, rng)
        with torch.autocast("cpu", dtype=precision, enabled=precision != torch.float32):
            logits = net(x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % CHECKPOINT_EVERY == 0:
            log(f"step {step}: loss {np.mean(losses[-CHECKPOINT_EVERY:]):.4f}")
            _save(checkpoint, net, opt, step)
    _save(checkpoint, net, opt, step)
    return net.eval(), step


def _save(checkpoint: Path | None, net: SRNet, opt: torch.optim.Optimizer, step: int) -> None:
    if checkpoint is not None:
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
        tmp.replace(checkpoint)


@torch.no_grad()
def srnet_scores(net: SRNet, images: Sequence[np.ndarray]) -> np.ndarray:
    """The network's logit for each whole uint8 image ``(H, W, 3)`` (higher = more likely stego)."""
    net.eval()
    return np.array([float(net(torch.from_numpy(np.array(im, dtype=np.float32)).permute(2, 0, 1)[None])[0])
                     for im in images], dtype=np.float64)
