"""The interface every hiding method offers, and input preparation shared by all of them."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from PIL import Image

from deepsteg.imageio import as_uint8_rgb, resize_to


def match_secret(cover: np.ndarray, secret: np.ndarray, notes: list[str] | None = None) -> np.ndarray:
    """Return ``secret`` resized to the cover's size (a note is added when it had to be)."""
    h, w = cover.shape[:2]
    if secret.shape[:2] != (h, w):
        if notes is not None:
            notes.append(f"secret {secret.shape[1]}x{secret.shape[0]} resized to the cover's {w}x{h}")
        secret = resize_to(secret, (w, h))
    return secret


class HidingMethod(ABC):
    """Hides a colour image in a same-size colour cover and reveals it again.

    ``hide(cover, secret)`` and ``reveal(stego)`` take PIL images or uint8 arrays
    ``(H, W, 3)`` and return uint8 RGB arrays ``(H, W, 3)`` of the cover's size.
    """

    name: str = "method"

    def hide(self, cover: np.ndarray | Image.Image, secret: np.ndarray | Image.Image) -> np.ndarray:
        """Stego image of ``cover``'s size; ``secret`` is resized to it if needed."""
        c = as_uint8_rgb(cover)
        s = match_secret(c, as_uint8_rgb(secret))
        return self._hide(c, s)

    def reveal(self, stego: np.ndarray | Image.Image) -> np.ndarray:
        """The secret image recovered from a stego image."""
        return self._reveal(as_uint8_rgb(stego))

    @abstractmethod
    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _reveal(self, stego: np.ndarray) -> np.ndarray: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
