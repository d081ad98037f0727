"""A small learned steganalyser: a fixed high-pass residual filter, then a few convolutions.

The threat model is an attacker who obtained ``N`` leaked (cover, stego) pairs of a hiding
method and trains a binary classifier on them, then scores images of other scenes. The
network follows the usual design of CNN steganalysers (Qian et al. 2015, Xu et al. 2016):
the fixed 5x5 "KV" high-pass kernel of the spatial rich model (Fridrich & Kodovsky 2012)
removes the image content and keeps the noise residual where embedding leaves its trace,
a truncation (``|r| <= 3``) bounds it, and four small convolution blocks with global
average pooling give one logit per image, so any image size can be scored.

Training is paired: each batch holds random crops of covers and the crops at the same
place of their stego images (same flips and rotations), labels 0 and 1. Everything is
seeded; with the same inputs and seed the scores are identical, and the global torch
random state is left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from deepsteg.errors import DeepStegError

#: The 5x5 KV high-pass kernel (divided by 12).
KV_KERNEL = np.array([[-1, 2, -2, 2, -1],
                      [2, -6, 8, -6, 2],
                      [-2, 8, -12, 8, -2],
                      [2, -6, 8, -6, 2],
                      [-1, 2, -2, 2, -1]], dtype=np.float32) / 12.0
#: Residuals are truncated to [-TRUNCATION, TRUNCATION] (pixel values on the 0-255 scale).
TRUNCATION = 3.0


class ResidualCNN(nn.Module):
    """Fixed per-channel KV high-pass filter, truncation, four conv blocks, one logit per image."""

    def __init__(self, width: int = 16):
        super().__init__()
        kv = torch.from_numpy(KV_KERNEL)[None, None].repeat(3, 1, 1, 1)
        self.register_buffer("highpass", kv)

        def block(cin: int, cout: int, pool: bool) -> nn.Sequential:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
            if pool:
                layers.append(nn.AvgPool2d(2))
            return nn.Sequential(*layers)

        self.features = nn.Sequential(block(3, width, False), block(width, width, True),
                                      block(width, 2 * width, True), block(2 * width, 2 * width, False))
        self.head = nn.Linear(2 * width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: float ``(N, 3, H, W)`` on the 0-255 scale -> logits ``(N,)`` (high = stego)."""
        r = nn.functional.conv2d(x, self.highpass, padding=2, groups=3).clamp(-TRUNCATION, TRUNCATION)
        return self.head(self.features(r).mean(dim=(2, 3))).squeeze(1)


def _to_batch(images: Sequence[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.stack(images))).permute(0, 3, 1, 2).float()


def _paired_crops(covers: Sequence[np.ndarray], stegos: Sequence[np.ndarray], idx: np.ndarray,
                  crop: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Crops at the same random place of each chosen cover and its stego, same flip and rotation."""
    cs, ss = [], []
    for i in idx:
        c, s = covers[i], stegos[i]
        h, w = c.shape[:2]
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        c, s = c[y:y + crop, x:x + crop], s[y:y + crop, x:x + crop]
        k, flip = int(rng.integers(0, 4)), bool(rng.random() < 0.5)
        c, s = np.rot90(c, k), np.rot90(s, k)
        if flip:
            c, s = c[:, ::-1], s[:, ::-1]
        cs.append(c)
        ss.append(s)
    batch = _to_batch(cs + ss)
    labels = torch.cat([torch.zeros(len(cs)), torch.ones(len(ss))])
    return batch, labels


def train_detector(covers: Sequence[np.ndarray], stegos: Sequence[np.ndarray], steps: int = 200,
                   batch: int = 8, crop: int = 64, lr: float = 2e-3, seed: int = 0) -> ResidualCNN:
    """Train a :class:`ResidualCNN` on leaked pairs ``(covers[i], stegos[i])``, uint8 ``(H, W, 3)``.

    Each of ``steps`` Adam steps sees ``batch`` pairs (sampled with replacement) as paired
    random ``crop`` x ``crop`` crops (smaller when an image is smaller). Deterministic for
    a given ``seed``. Returns the network in eval mode.
    """
    if len(covers) != len(stegos) or not covers:
        raise DeepStegError(f"need matching cover/stego pairs, got {len(covers)} covers and {len(stegos)} stegos")
    for c, s in zip(covers, stegos):
        if c.shape != s.shape:
            raise DeepStegError(f"cover {c.shape} and stego {s.shape} differ in shape")
    if steps < 1 or batch < 1:
        raise DeepStegError("steps and batch must be at least 1")
    crop = min(crop, *(min(c.shape[:2]) for c in covers))
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ResidualCNN()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        net.train()
        for _ in range(steps):
            x, y = _paired_crops(covers, stegos, rng.integers(0, len(covers), batch), crop, rng)
            loss = nn.functional.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


@torch.no_grad()
def score_images(net: ResidualCNN, images: Sequence[np.ndarray]) -> np.ndarray:
    """The network's logit for each whole uint8 image ``(H, W, 3)`` (higher = more likely stego)."""
    net.eval()
    return np.array([float(net(_to_batch([im]))[0]) for im in images], dtype=np.float64)


def learned_scores(train_covers: Sequence[np.ndarray], train_stegos: Sequence[np.ndarray],
                   test_images: Sequence[np.ndarray], steps: int = 200, batch: int = 8, crop: int = 64,
                   seed: int = 0) -> np.ndarray:
    """Train on the leaked pairs and return the logits of ``test_images`` (higher = more likely stego)."""
    net = train_detector(train_covers, train_stegos, steps=steps, batch=batch, crop=crop, seed=seed)
    return score_images(net, test_images)
