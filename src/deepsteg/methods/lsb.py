"""Classic least-significant-bit substitution, the baseline every deep model must beat.

``lsbK`` keeps the cover's ``8 - K`` high bits and stores the secret's ``K`` most
significant bits in the cover's ``K`` low bits. Reveal shifts them back up and fills the
missing ``8 - K`` low bits with their midpoint (``2**(7-K)``), which minimises the
expected error. Exact integer arithmetic: it also serves as a test oracle.

``lsbK-xor`` stores the same bits XORed with a pseudo-random stream (reveal XORs them
back, so the revealed secret is the same). The stored bits then look like an encrypted
payload, independent of the cover and of each other: the setting the classical LSB
detectors are built for. The stream is public (``XOR_SEED``): it whitens the payload, it
does not protect it.
"""

from __future__ import annotations

import numpy as np

from deepsteg.errors import DeepStegError
from deepsteg.methods.base import HidingMethod
from deepsteg.metrics import psnr

#: Seed of the public pseudo-random stream of ``lsbK-xor``.
XOR_SEED = 20171204


def xor_stream(shape: tuple[int, ...], bits: int) -> np.ndarray:
    """uint8 array of ``shape`` with values in ``[0, 2**bits)``, the same for the same shape.

    Drawn from numpy's legacy ``RandomState``, whose streams are frozen across numpy versions,
    so a stego image written with one version reveals with any other.
    """
    return np.random.RandomState(XOR_SEED).randint(0, 1 << bits, size=shape, dtype=np.uint8)


class LSB(HidingMethod):
    """The secret's ``bits`` high bits in the cover's ``bits`` low bits (XORed with a public
    stream when ``xor``)."""

    targetable = True

    def __init__(self, bits: int, xor: bool = False):
        if not 1 <= bits <= 7:
            raise ValueError(f"LSB bits must be in 1..7, got {bits}")
        self.bits = bits
        self.xor = xor
        self.name = f"lsb{bits}-xor" if xor else f"lsb{bits}"

    def _payload_mask(self, shape: tuple[int, ...]) -> np.ndarray | int:
        return xor_stream(shape, self.bits) if self.xor else 0

    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        k = self.bits
        return ((cover >> k) << k) | ((secret >> (8 - k)) ^ self._payload_mask(secret.shape))

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, HidingMethod]:
        """The most bits whose cover PSNR on this image stays at or above the target (``nearest``:
        1 bit for a target above even that)."""
        best = None
        for k in range(1, 8):
            stego = LSB(k, self.xor)._hide(cover, secret)
            if psnr(cover, stego) < cover_psnr:
                break
            best = (k, stego, psnr(cover, stego))
        where = "the nearest above"
        if best is None:  # even 1 bit (the stego image of the loop's first pass) falls below
            top = psnr(cover, stego)
            if not nearest:
                raise DeepStegError(f"cover PSNR target {cover_psnr:g} dB is above what LSB reaches on this image "
                                    f"({top:.2f} dB with 1 bit)")
            best, where = (1, stego, top), "the nearest below"
        k, stego, got = best
        name = f"lsb{k}" + ("-xor" if self.xor else "")
        notes.append(f"{name}: cover PSNR {got:.2f} dB, {where} {cover_psnr:g} dB; reveal with --model {name}")
        return stego, LSB(k, self.xor)

    def _reveal(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray:
        k = self.bits
        low = (stego & ((1 << k) - 1)) ^ self._payload_mask(stego.shape)
        return (low << (8 - k)) | (1 << (7 - k))
