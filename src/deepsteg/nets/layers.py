"""The building block of every Baluja network: parallel 3x3, 4x4 and 5x5 convolutions.

Each branch keeps the spatial size ('same' padding, as Keras pads it: for the even 4x4
kernel one row/column of zeros goes on the top/left and two on the bottom/right), is
followed by a ReLU, and the branches are concatenated along the channel axis.

Speed: each branch convolves the unpadded input with its own zero padding, so no padded
copy of the input is made: the odd kernels pad symmetrically, and the 4x4 branch pads 2 on
every side and drops its first output row and column, which is exactly Keras' asymmetric
(1 before, 2 after) 'same' padding. :meth:`MultiKernelConv.fused_weight` gives the three
kernels as one 5x5 kernel (each placed at the offset that reproduces its padding), the
single-convolution form used by the benchmarks and tests.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

KERNEL_SIZES = (3, 4, 5)
_FUSED = 5


def _offset(k: int) -> int:
    """Top/left offset of a k x k kernel inside the fused 5x5 window ('same', Keras style)."""
    return (_FUSED - 1) // 2 - (k - 1) // 2


class MultiKernelConv(nn.Module):
    """Parallel 3x3/4x4/5x5 convolutions with ReLU, concatenated.

    Input ``(N, in_channels, H, W)``, output ``(N, sum(widths), H, W)``, any H, W >= 1.
    ``widths`` gives the filters of the 3x3, 4x4 and 5x5 branches in that order.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int, int], relu: bool = True):
        super().__init__()
        self.in_channels = in_channels
        self.widths = tuple(int(w) for w in widths)
        self.relu = relu
        self.branches = nn.ModuleList(
            nn.Conv2d(in_channels, w, k) for k, w in zip(KERNEL_SIZES, self.widths) if w > 0
        )
        self._kernels = tuple(k for k, w in zip(KERNEL_SIZES, self.widths) if w > 0)

    @property
    def out_channels(self) -> int:
        return sum(self.widths)

    def fused_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The 5x5 kernel ``(out, in, 5, 5)`` and bias ``(out,)`` equal to all branches."""
        weights = []
        for k, conv in zip(self._kernels, self.branches):
            o = _offset(k)
            weights.append(F.pad(conv.weight, (o, _FUSED - k - o, o, _FUSED - k - o)))
        bias = torch.cat([conv.bias for conv in self.branches])
        return torch.cat(weights), bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for k, conv in zip(self._kernels, self.branches):
            y = F.conv2d(x, conv.weight, conv.bias, padding=k // 2)
            if k % 2 == 0:  # padded k//2 on both sides: drop the extra leading row/column
                y = y[:, :, 1:, 1:]
            outs.append(y)
        y = torch.cat(outs, 1)
        return F.relu(y) if self.relu else y

    def forward_fused(self, x: torch.Tensor) -> torch.Tensor:
        """The same function as :meth:`forward`, computed as one 5x5 convolution."""
        weight, bias = self.fused_weight()
        y = F.conv2d(x, weight, bias, padding=(_FUSED - 1) // 2)
        return F.relu(y) if self.relu else y
