"""The interface every hiding method offers, and input preparation shared by all of them."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

import numpy as np
from PIL import Image

from deepsteg.images import as_uint8_rgb, read_image
from deepsteg.pairs import fit_secret

Image_ = np.ndarray | Image.Image | str | os.PathLike


def as_image(image: Image_) -> np.ndarray:
    """A uint8 array ``(H, W, 3)`` from an array, a PIL image or an image file's path."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    return as_uint8_rgb(image)


class HidingMethod(ABC):
    """Hides a colour image in a same-size colour cover and reveals it again.

    ``hide(cover, secret)`` and ``reveal(stego)`` take uint8 arrays ``(H, W, 3)``, PIL images
    or paths of image files, and return uint8 RGB arrays ``(H, W, 3)`` of the cover's size.
    """

    name: str = "method"

    def hide(self, cover: Image_, secret: Image_) -> np.ndarray:
        """Stego image of ``cover``'s size; ``secret`` is resized to it if needed."""
        c = as_image(cover)
        s = fit_secret(c, as_image(secret))
        return self._hide(c, s)

    def reveal(self, stego: Image_) -> np.ndarray:
        """The secret image recovered from a stego image."""
        return self._reveal(as_image(stego))

    @abstractmethod
    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _reveal(self, stego: np.ndarray) -> np.ndarray: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
