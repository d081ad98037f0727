"""Classic least-significant-bit substitution, the baseline every deep model must beat.

``lsbK`` keeps the cover's ``8 - K`` high bits and stores the secret's ``K`` most
significant bits in the cover's ``K`` low bits. Reveal shifts them back up and fills the
missing ``8 - K`` low bits with their midpoint (``2**(7-K)``), which minimises the
expected error. Exact integer arithmetic: it also serves as a test oracle.
"""

from __future__ import annotations

import numpy as np

from deepsteg.methods.base import HidingMethod


class LSB(HidingMethod):
    def __init__(self, bits: int):
        if not 1 <= bits <= 7:
            raise ValueError(f"LSB bits must be in 1..7, got {bits}")
        self.bits = bits
        self.name = f"lsb{bits}"

    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        k = self.bits
        return ((cover >> k) << k) | (secret >> (8 - k))

    def _reveal(self, stego: np.ndarray) -> np.ndarray:
        k = self.bits
        low = stego & ((1 << k) - 1)
        return (low << (8 - k)) | (1 << (7 - k))
