"""DeepSteg: hide a full-size colour image inside another with deep networks.

Baluja, "Hiding Images in Plain Sight: Deep Steganography" (NIPS 2017), with LSB
baselines behind the same interface::

    import deepsteg
    model = deepsteg.load_model()            # the shipped default model
    stego = model.hide(cover, secret)        # uint8 (H, W, 3) arrays or PIL images
    revealed = model.reveal(stego)
"""

from deepsteg.errors import DeepStegError
from deepsteg.methods import LSB, DeepModel, HidingMethod
from deepsteg.registry import list_models, load_model

__version__ = "0.1.0"
__all__ = ["LSB", "DeepModel", "DeepStegError", "HidingMethod", "__version__", "list_models", "load_model"]
