"""A keyed, invertible scramble of the secret that keeps its coarse energy spectrum.

A keyed deep model hides the *scrambled* secret and unscrambles what it reveals, so the
network's weights (public) give up nothing without the key. The scramble works on the
orthonormal 2-D DCT of the whole secret, centred on mid-grey (``image - 0.5``), in bins of
``bin x bin`` neighbouring frequencies (:data:`BIN`; the last row and column of bins may be
smaller):

1. inside each bin the coefficients are permuted by a keyed permutation and given keyed
   signs; the DC is one of them, so the mean colour moves too;
2. each bin is then mixed by an orthonormal Walsh-Hadamard transform (a bin cut short by the
   edges: its largest power-of-2 part), and steps 1-2 run :data:`ROUNDS` times: every
   coefficient of the result is a keyed mixture of its bin, so no single magnitude survives
   (no phase retrieval from a magnitude spectrum).

What is left is each bin's energy: the secret's power spectrum blurred over ``bin``
frequencies. Its phases, which carry every edge and shape, are gone, so the scrambled secret
is a stationary texture (like clouds) with the secret's coarse spectrum and colours mixed
alike in the three channels (they share every permutation, sign and mixture, which keeps
the weak chroma of a photo). That is close to what the hiding network was trained on, unlike a
block scramble (a mosaic of 8x8 tiles) or a pixel shuffle (white noise). The residual of such
a stego image draws the texture, not the secret's outline, and there are no tiles for a
jigsaw solver. The map is orthogonal about mid-grey, so a reveal error keeps its size: the
secret's PSNR after unscrambling is the network's PSNR on the scrambled secret.

The permutations and signs come from a ChaCha20 key stream (``cryptography``) under a 32-byte
key, which :mod:`deepsteg.methods.sealed` derives from the passphrase and a per-image salt with
scrypt. Images are float32 ``(N, 3, H, W)``; a scrambled one is centred on 0.5, not bounded
to [0, 1].
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.linalg
import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

#: Frequencies per side of a bin at hide time: 64 coefficients mixed per bin.
BIN = 8
#: The image side at which a hide's bins of :data:`BIN` frequencies are matched in training.
TRAINING_MATCH = 256
#: Rows of bins scrambled at once: the copies a step makes stay small whatever the image size.
SLAB_ROWS = 32
#: Rounds of permutation, signs and Walsh-Hadamard mixing.
ROUNDS = 2
KEY_BYTES = 32


def key_stream(key: bytes, n_bytes: int, stream: int) -> np.ndarray:
    """``n_bytes`` of ChaCha20's key stream under ``key`` (32 bytes), stream number ``stream``
    (its nonce), as uint8."""
    nonce = (0).to_bytes(8, "little") + stream.to_bytes(8, "little")
    encryptor = Cipher(algorithms.ChaCha20(key, nonce), mode=None).encryptor()
    return np.frombuffer(encryptor.update(bytes(n_bytes)), dtype=np.uint8)


def training_bin(crop: int) -> int:
    """Bin side for a training crop of ``crop`` pixels (a power of 2, at least 1): the share of the
    spectrum that :data:`BIN` frequencies are of a :data:`TRAINING_MATCH`-pixel image, so that a 64-pixel
    crop's scramble has the smooth texture of a photo's (with bins of 8 it would be far rougher)."""
    return 1 << (max(1, BIN * crop // TRAINING_MATCH).bit_length() - 1)


def keyed_permutations(key: bytes, rows: int, n: int, stream: int) -> np.ndarray:
    """``rows`` keyed permutations of ``range(n)``, ``(rows, n)`` int64: each the order of ``n``
    random 32-bit sort keys from the key stream."""
    sort_keys = key_stream(key, 4 * rows * n, stream).view(np.uint32).reshape(rows, n)
    return np.argsort(sort_keys, axis=1, kind="stable")


def keyed_signs(key: bytes, rows: int, n: int, stream: int) -> torch.Tensor:
    """``(rows, n)`` float32 of +1 and -1, one key-stream bit each."""
    bits = np.unpackbits(key_stream(key, -(-rows * n // 8), stream))[:rows * n]
    return torch.from_numpy(bits).reshape(rows, n).float().mul_(-2.0).add_(1.0)


def walsh_hadamard(x: torch.Tensor) -> torch.Tensor:
    """The orthonormal Walsh-Hadamard transform along the last axis (a power of 2 long, natural
    order: Sylvester's matrix); its own inverse. One matrix product: the bins are short."""
    n = x.shape[-1]
    return x @ torch.from_numpy(scipy.linalg.hadamard(n) / math.sqrt(n)).to(x.dtype)


def _mix_prefix(x: torch.Tensor) -> torch.Tensor:
    """:func:`walsh_hadamard` of the largest power-of-2 first part of the last axis; the rest as it is."""
    part = 1 << (x.shape[-1].bit_length() - 1)
    if part == x.shape[-1]:
        return walsh_hadamard(x)
    return torch.cat((walsh_hadamard(x[..., :part]), x[..., part:]), dim=-1)


@dataclass(frozen=True)
class Region:
    """A rectangle of the DCT coefficients cut into bins of ``rows x cols`` (whole bins, or the
    smaller ones along the last rows and columns)."""

    top: int
    bottom: int
    left: int
    right: int
    rows: int
    cols: int

    @property
    def bins(self) -> int:
        return (self.bottom - self.top) // self.rows * ((self.right - self.left) // self.cols)

    def slabs(self, bin_rows: int) -> list[tuple[Region, int, int]]:
        """This region in slabs of ``bin_rows`` rows of bins: ``(slab, first bin, end bin)`` each (the
        bins numbered as :meth:`take` orders them)."""
        per_row = (self.right - self.left) // self.cols
        rows = (self.bottom - self.top) // self.rows
        return [(dataclasses.replace(self, top=self.top + r * self.rows, bottom=self.top + min(rows, r + bin_rows) * self.rows),
                 r * per_row, min(rows, r + bin_rows) * per_row) for r in range(0, rows, bin_rows)]

    def take(self, c: torch.Tensor) -> torch.Tensor:
        """Coefficients ``(M, H, W)`` -> this region's bins ``(M, bins, rows * cols)`` (a copy)."""
        m = c.shape[0]
        part = c[:, self.top:self.bottom, self.left:self.right]
        r, k = part.shape[1] // self.rows, part.shape[2] // self.cols
        return part.reshape(m, r, self.rows, k, self.cols).permute(0, 1, 3, 2, 4).reshape(m, r * k, -1)

    def put(self, c: torch.Tensor, bins: torch.Tensor) -> None:
        """The inverse of :meth:`take`: ``bins`` written back into ``c`` in place."""
        m = c.shape[0]
        r, k = (self.bottom - self.top) // self.rows, (self.right - self.left) // self.cols
        c[:, self.top:self.bottom, self.left:self.right] = bins.reshape(m, r, k, self.rows, self.cols) \
            .permute(0, 1, 3, 2, 4).reshape(m, r * self.rows, k * self.cols)


def regions(height: int, width: int, size: int) -> list[Region]:
    """The coefficient grid in bins of ``size x size``: the whole bins, then the bins cut short by
    the last rows, by the last columns, and the corner."""
    hb, wb = height // size * size, width // size * size
    cut = [Region(0, hb, 0, wb, size, size), Region(hb, height, 0, wb, height - hb, size),
           Region(0, hb, wb, width, size, width - wb), Region(hb, height, wb, width, height - hb, width - wb)]
    return [r for r in cut if r.bottom > r.top and r.right > r.left]


@dataclass
class Scramble:
    """The keyed scramble of ``height x width`` images (any batch; see the module docstring).
    :meth:`apply` and :meth:`invert` are each other's inverse; ``bin``: frequencies per side of a bin;
    ``rounds`` of permutation and signs, each followed by the bins' mixing unless ``mix`` is False."""

    key: bytes
    height: int
    width: int
    bin: int = BIN
    rounds: int = ROUNDS
    mix: bool = True
    _steps: list[tuple[Region, torch.Tensor, torch.Tensor]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"a scramble key has {KEY_BYTES} bytes, got {len(self.key)}")
        if self.bin < 1 or self.bin & (self.bin - 1):
            raise ValueError(f"bin must be a power of 2, got {self.bin}")

    def _plan(self) -> list[tuple[Region, torch.Tensor, torch.Tensor]]:
        """Per round and region, in order: the permutation ``(bins, size)`` inside each bin and the signs."""
        if self._steps is None:
            parts = regions(self.height, self.width, self.bin)
            self._steps = []
            for r in range(self.rounds):
                for i, part in enumerate(parts):
                    stream = 2 * (r * len(parts) + i)
                    size = part.rows * part.cols
                    self._steps.append((part, torch.from_numpy(keyed_permutations(self.key, part.bins, size, stream)),
                                        keyed_signs(self.key, part.bins, size, stream + 1)))
        return self._steps

    def _check(self, image: torch.Tensor) -> None:
        if image.dim() != 4 or image.shape[1] != 3 or tuple(image.shape[-2:]) != (self.height, self.width):
            raise ValueError(f"expected (N, 3, {self.height}, {self.width}), got {tuple(image.shape)}")

    def _coefficients(self, image: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` -> DCT coefficients of ``image - 0.5``, ``(3N, H, W)`` float32, on the CPU."""
        x = image.detach().float().cpu().numpy() - 0.5
        c = scipy.fft.dctn(x, axes=(-2, -1), norm="ortho", workers=-1).reshape(-1, self.height, self.width)
        return torch.from_numpy(np.ascontiguousarray(c, dtype=np.float32))

    def _image(self, c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`_coefficients`, on ``like``'s device."""
        x = scipy.fft.idctn(c.numpy().reshape(like.shape), axes=(-2, -1), norm="ortho", workers=-1)
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).add_(0.5).to(like.device)

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        """Image ``(N, 3, H, W)`` (about [0, 1]) -> its scramble ``(N, 3, H, W)`` float32, centred on 0.5."""
        self._check(image)
        c = self._coefficients(image)
        for part, perm, signs in self._plan():
            for slab, b0, b1 in part.slabs(SLAB_ROWS):
                bins = slab.take(c)
                bins = torch.gather(bins, 2, perm[b0:b1].expand_as(bins)).mul_(signs[b0:b1])
                slab.put(c, _mix_prefix(bins) if self.mix else bins)
        return self._image(c, image)

    def invert(self, scrambled: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`apply`: ``(N, 3, H, W)`` -> ``(N, 3, H, W)`` float32, unclamped."""
        self._check(scrambled)
        c = self._coefficients(scrambled)
        for part, perm, signs in reversed(self._plan()):
            for slab, b0, b1 in part.slabs(SLAB_ROWS):
                bins = slab.take(c)
                bins = (_mix_prefix(bins) if self.mix else bins).mul_(signs[b0:b1])
                slab.put(c, torch.empty_like(bins).scatter_(2, perm[b0:b1].expand_as(bins), bins))
        return self._image(c, scrambled)
