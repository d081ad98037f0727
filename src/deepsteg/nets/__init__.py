"""Networks: the Baluja prep/hide/reveal triple and its multi-kernel layer."""

from deepsteg.nets.baluja import ARCHITECTURES, ArchConfig, HideNet, PrepNet, RevealNet, StegoNet
from deepsteg.nets.layers import MultiKernelConv

__all__ = ["ARCHITECTURES", "ArchConfig", "HideNet", "MultiKernelConv", "PrepNet", "RevealNet", "StegoNet"]
