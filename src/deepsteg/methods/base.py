"""The interface every hiding method offers, and input preparation shared by all of them."""

from __future__ import annotations

import copy
import os
import warnings
from abc import ABC, abstractmethod
from typing import Any, Self

import numpy as np
from PIL import Image

from deepsteg.errors import DeepStegError
from deepsteg.images import as_uint8_rgb, read_image
from deepsteg.methods.keys import PUBLIC_NOTE, PUBLIC_PASSPHRASE
from deepsteg.metrics import PSNR_IDENTICAL
from deepsteg.pairs import fit_secret

Image_ = np.ndarray | Image.Image | str | os.PathLike


def as_image(image: Image_) -> np.ndarray:
    """A uint8 array ``(H, W, 3)`` from an array, a PIL image or an image file's path."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    return as_uint8_rgb(image)


#: How close a method with a continuous setting (a conditioned network) lands to a cover PSNR target.
COVER_PSNR_TOLERANCE = 0.3


class HidingMethod(ABC):
    """Hides a colour image in a same-size colour cover and reveals it again.

    ``hide(cover, secret)`` and ``reveal(stego)`` take uint8 arrays ``(H, W, 3)``, PIL images
    or paths of image files, and return uint8 RGB arrays ``(H, W, 3)`` of the cover's size.
    """

    name: str = "method"
    #: Whether :meth:`hide_at` can aim at a cover PSNR (LSB, codec-lsbm, conditioned networks).
    targetable: bool = False
    #: Whether the secret is meant to survive a JPEG of the stego image (a network trained
    #: with JPEG in its channel, or codec-qim); every other method needs a lossless file.
    survives_jpeg: bool = False
    #: The lowest JPEG quality such a stego image may be written at (a digital method's cliff).
    lowest_jpeg_quality: int = 1
    #: Whether only the passphrase reveals (a keyed deep model, the codec methods); else anyone can.
    keyed: bool = False

    def for_jpeg_file(self, quality: int) -> HidingMethod:
        """This method for a stego image that will be written as a JPEG at ``quality`` (a digital
        method checks its hide through that file; the rest need nothing)."""
        return self

    def with_settings(self, **settings: Any) -> Self:
        """A shallow copy with some attributes set (``refine``, ``strength``, ``cover_psnr``, ...),
        sharing everything heavy (a network's weights) with this one."""
        tuned = copy.copy(self)
        for name, value in settings.items():
            if not hasattr(self, name):
                raise AttributeError(f"{type(self).__name__} has no setting {name!r}")
            setattr(tuned, name, value)
        return tuned

    def with_passphrase(self, passphrase: bytes) -> HidingMethod:
        """This method under another passphrase (a keyed deep model, the codec methods); a method
        without a key (LSB, an unkeyed network) is returned as it is."""
        return self

    @property
    def label(self) -> str:
        """How comparisons (eval, detect, robustness, analyze) name this method with its settings."""
        return self.name

    def hide(self, cover: Image_, secret: Image_, cover_psnr: float | None = None,
             notes: list[str] | None = None) -> np.ndarray:
        """Stego image of ``cover``'s size; ``secret`` is resized to it if needed. With
        ``cover_psnr`` (dB), the stego image's PSNR against the cover lands at that target (within
        :data:`COVER_PSNR_TOLERANCE` for methods with a continuous setting; see each method), the
        rest of the capacity going to the secret; what the method chose is appended to ``notes``."""
        if cover_psnr is None:
            c = as_image(cover)
            self._note_public_passphrase(notes)
            return self._hide_noting(c, fit_secret(c, as_image(secret)), notes if notes is not None else [])
        return self.hide_at(cover, secret, cover_psnr, notes)[0]

    @property
    def public_passphrase(self) -> bool:
        """Whether this keyed method hides under the public passphrase (anyone can reveal its images)."""
        return self.keyed and getattr(self, "passphrase", None) == PUBLIC_PASSPHRASE

    def _note_public_passphrase(self, notes: list[str] | None) -> None:
        """A hide under the public passphrase says so: in ``notes`` where given, else as a warning."""
        if self.public_passphrase:
            if notes is not None:
                notes.append(f"{self.name}: {PUBLIC_NOTE}")
            else:
                warnings.warn(f"{self.name}: {PUBLIC_NOTE}", UserWarning, stacklevel=3)

    def hide_at(self, cover: Image_, secret: Image_, cover_psnr: float,
                notes: list[str] | None = None, nearest: bool = False) -> tuple[np.ndarray, HidingMethod]:
        """``hide(cover, secret, cover_psnr=...)``, and the method that reveals that stego image
        (this one, or for an LSB baseline the bit count it chose). A target outside what the
        method reaches on this image is refused (DeepStegError), or with ``nearest`` met by the
        setting that comes closest (a comparison measures every pair; the miss shows)."""
        c = as_image(cover)
        s = fit_secret(c, as_image(secret))
        if not 0 < cover_psnr < PSNR_IDENTICAL:
            raise DeepStegError(f"cover PSNR target {cover_psnr} dB: must be between 0 and {PSNR_IDENTICAL:g} dB")
        self._note_public_passphrase(notes)
        return self._hide_at(c, s, float(cover_psnr), notes if notes is not None else [], nearest)

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, HidingMethod]:
        """Hide at a cover PSNR target (see :meth:`hide_at`); methods with a setting to tune override this."""
        raise DeepStegError(f"{self.name} hides at one fixed strength: a cover PSNR target needs a model "
                            "conditioned on a strength, an LSB baseline or codec-lsbm")

    def reveal(self, stego: Image_, notes: list[str] | None = None, force: bool = False) -> np.ndarray:
        """The secret image recovered from a stego image. A keyed method whose header does not check
        out (wrong passphrase, no hidden image, or a damaged one) raises DeepStegError, or with
        ``force`` reveals anyway and says so in ``notes`` (a method without such a header notes that
        ``force`` changes nothing)."""
        said = notes if notes is not None else []
        if force and not self.forcible:
            said.append(f"{self.name} has no header that --force could pass over: force changes nothing")
        return self._reveal(as_image(stego), said, force and self.forcible)

    @property
    def forcible(self) -> bool:
        """Whether ``reveal(force=True)`` can reveal past a header that does not check out."""
        return False

    @abstractmethod
    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray: ...

    def _hide_noting(self, cover: np.ndarray, secret: np.ndarray, notes: list[str]) -> np.ndarray:
        """:meth:`_hide`, with what the method chose or saw appended to ``notes`` (a method with something
        to say overrides this)."""
        return self._hide(cover, secret)

    @abstractmethod
    def _reveal(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
