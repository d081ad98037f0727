"""DeepSteg: hide a full-size colour image inside another with deep networks.

Baluja, "Hiding Images in Plain Sight: Deep Steganography" (NIPS 2017), with LSB and
codec baselines behind the same interface::

    import deepsteg
    model = deepsteg.load_model()            # the shipped default model
    stego = model.hide(cover, secret)        # uint8 (H, W, 3) arrays, PIL images or paths
    revealed = model.reveal(stego)

The names below are imported on first use (PEP 562), so ``import deepsteg`` alone does not
load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from deepsteg.errors import DeepStegError
from deepsteg.version import __version__

_LAZY = {"LSB": "deepsteg.methods", "DeepModel": "deepsteg.methods", "HidingMethod": "deepsteg.methods",
         "CodecLSBM": "deepsteg.methods.codec", "CodecQIM": "deepsteg.methods.codec_qim",
         "list_models": "deepsteg.registry", "load_model": "deepsteg.registry"}
__all__ = ["CodecLSBM", "CodecQIM", "DeepModel", "DeepStegError", "HidingMethod", "LSB", "__version__", "list_models",
           "load_model"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deepsteg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
