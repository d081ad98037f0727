"""Networks: every hiding design behind one interface, and the one table of named architectures.

A network ``net`` of any design has ``hide(cover, secret) -> stego`` and ``reveal(stego) ->
secret`` on float ``(N, 3, H, W)`` images in [0, 1], ``forward(cover, secret, channel)``
for training, the receptive-field radii ``hide_margin`` / ``reveal_margin`` and the tile
grid ``align`` (pixels) that tiled inference needs, ``macs_per_pixel()``, and ``cfg``, a
frozen config whose ``to_json()`` goes into checkpoints and model files.
"""

from deepsteg.nets.baluja import ArchConfig, HideNet, PrepNet, RevealNet, StegoNet
from deepsteg.nets.designs import ARCHITECTURES, Network, arch_from_json, build_net
from deepsteg.nets.layers import MultiKernelConv

__all__ = ["ARCHITECTURES", "ArchConfig", "HideNet", "MultiKernelConv", "Network", "PrepNet", "RevealNet",
           "StegoNet", "arch_from_json", "build_net"]
