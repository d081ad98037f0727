"""``stealth``: a small sealed payload, placed where the cover is busy, by syndrome-trellis codes.

What classical steganography does to stay undetected, for an image secret:

1. **A small payload.** The secret is compressed with AVIF to fit a budget of ``payload`` bits
   per channel value (or to the smallest file that reaches ``secret_psnr``); at low budgets it is
   encoded at half or a quarter of its size and scaled back up on reveal, whichever looks best.
2. **Sealed** under the passphrase exactly as ``codec-lsbm`` seals it (scrypt, ChaCha20-Poly1305,
   the length masked): the embedded message is indistinguishable from random bits.
3. **Content-adaptive embedding.** Each channel value gets a cost of change (HILL: Li, Wang,
   Huang and Li, ICIP 2014, from ``conseal``): low where the cover is busy, high where it is
   smooth. Syndrome-trellis codes (:mod:`deepsteg.methods.stc`) embed the message in the values'
   lowest bits at nearly the least total cost, moving a value by +1 or -1. The colour strategy
   (:data:`COLOUR_SYNC`): channels are embedded one after another, and where an earlier channel
   moved a pixel, the same move of the later channels costs ``COLOUR_SYNC`` times less, so changes
   fall on the same pixels in the same direction across R, G and B, as real sensor noise does.

Layout, for a cover of ``n`` pixels: each channel's pixels in a keyed order (a permutation from
scrypt of the passphrase). The message's first :data:`~deepsteg.methods.codec.PREFIX` bytes (salt,
nonce, masked length) go into the first :data:`HEADER_VALUES` values of the first channel at a
fixed rate; the rest (ciphertext and tag) is shared by every other value in proportion. The reveal
reads the prefix, unmasks the length, reads the body; a wrong passphrase, a clean photo or a damaged
stego image fails the tag check: "no hidden image found".

A cover that was a JPEG keeps its quantisation, and any change to it can be found at any payload:
such a cover gets a note (:mod:`deepsteg.jpeg_traces`), or with ``prepare_cover`` is downscaled by 2.
"""

from __future__ import annotations

import base64
import functools
import io
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

from deepsteg.errors import DeepStegError
from deepsteg.jpeg_traces import has_jpeg_traces, prepare_cover
from deepsteg.methods import stc
from deepsteg.methods.base import HidingMethod
from deepsteg.methods.codec import (
    NOT_FOUND,
    OVERHEAD,
    PREFIX,
    CodecLSBM,
    KeyedPermutation,
    encode,
    largest_within,
    scrypt,
)
from deepsteg.metrics import psnr

#: Bits per channel value the default hide embeds at most.
DEFAULT_PAYLOAD = 0.05
#: The most a hide embeds (an STC needs at least two values per message bit, and detection grows fast).
MAX_PAYLOAD = 0.4
#: Values of the first channel that carry the message's prefix (its 8 * PREFIX bits, 1 bit in 32 values).
HEADER_VALUES = 8 * PREFIX * 32
#: How much cheaper a later channel's move is where an earlier channel moved the same pixel the same way.
COLOUR_SYNC = 10.0
#: Scales at which the secret is tried before AVIF (it is scaled back up on reveal).
SECRET_SCALES = (1, 2, 4)
_AVIF = "avif"
_POSITIONS_SALT = b"deepsteg stealth positions v1"
#: A small AVIF file (16x16 grey): the preset dictionary that deflates away most of an AVIF file's
#: container (about 250 of its bytes, a large share of a small payload). Fixed: revealing needs the same.
_AVIF_DICTIONARY = base64.b64decode(
    "AAAAIGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1BMUEAAADrbWV0YQAAAAAAAAAhaGRscgAAAAAAAAAAcGljdAAAAAAAAAAAAAAA"
    "AAAAAAAOcGl0bQAAAAAAAQAAAB5pbG9jAAAAAEQAAAEAAQAAAAEAAAETAAAAHQAAAChpaW5mAAAAAAABAAAAGmluZmUCAAAAAAEA"
    "AGF2MDFDb2xvcgAAAABqaXBycAAAAEtpcGNvAAAAFGlzcGUAAAAAAAAAEAAAABAAAAAQcGl4aQAAAAADCAgIAAAADGF2MUOBIAAA"
    "AAAAE2NvbHJuY2x4AAEADQAGgAAAABdpcG1hAAAAAAAAAAEAAQQBAoMEAAAAJW1kYXQSAAoIOAz/2kBDQaQyDx/yYoTv///xYAAA"
    "dX1mWA=="
)
_KEY_BYTES = 48  # one KeyedPermutation key


def hill_costs(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HILL's costs of moving each value of a uint8 ``(H, W)`` channel by +1 and by -1 (float64,
    :data:`~deepsteg.methods.stc.WET` where the move would leave 0..255)."""
    from conseal.hill import compute_cost_adjusted

    plus, minus = compute_cost_adjusted(np.ascontiguousarray(channel), wet_cost=stc.WET)
    return plus.astype(np.float64), minus.astype(np.float64)


def suniward_costs(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S-UNIWARD's costs (Holub, Fridrich and Denemark, EURASIP JIS 2014, from ``conseal``), as :func:`hill_costs`."""
    from conseal.suniward import compute_cost_adjusted

    plus, minus = compute_cost_adjusted(np.ascontiguousarray(channel), wet_cost=stc.WET)
    return plus.astype(np.float64), minus.astype(np.float64)


#: The cost functions a hide can use (the default chosen by ``benchmarks/stealth_costs.py``).
COSTS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {"hill": hill_costs,
                                                                            "s-uniward": suniward_costs}
DEFAULT_COSTS = "hill"


def _shares(sizes: list[int], total: int) -> list[int]:
    """``total`` message bits shared among segments of ``sizes`` values, in proportion."""
    cuts = [total * sum(sizes[:k]) // sum(sizes) for k in range(len(sizes) + 1)]
    return [b - a for a, b in zip(cuts, cuts[1:])]


class Stealth(HidingMethod):
    """AVIF + authenticated encryption + HILL costs + syndrome-trellis codes (see the module docstring).

    ``passphrase``: bytes or str (None: the public one); ``payload``: bits per channel value at most;
    ``secret_psnr``: the smallest file that gives the secret back at this PSNR instead (dB; refused
    above :data:`MAX_PAYLOAD`); ``prepare``: downscale a cover with JPEG traces by 2 before hiding.
    """

    keyed = True

    def __init__(self, passphrase: bytes | str | None = None, payload: float = DEFAULT_PAYLOAD,
                 secret_psnr: float | None = None, prepare: bool = False, colour_sync: float = COLOUR_SYNC,
                 height: int = stc.DEFAULT_HEIGHT, name: str = "stealth", costs: str = DEFAULT_COSTS):
        if not 0 < payload <= MAX_PAYLOAD:
            raise DeepStegError(f"payload {payload} bits per channel value: must be in (0, {MAX_PAYLOAD}]")
        if secret_psnr is not None and not 0 < secret_psnr < 100:
            raise DeepStegError(f"secret PSNR {secret_psnr} dB: must be between 0 and 100 dB")
        self.sealer = CodecLSBM(passphrase=passphrase)
        self.payload, self.secret_psnr, self.prepare = payload, secret_psnr, prepare
        if costs not in COSTS:
            raise DeepStegError(f"unknown costs {costs!r}; one of {sorted(COSTS)}")
        self.colour_sync, self.height, self.name, self.costs = colour_sync, height, name, costs
        keys = scrypt(self.sealer.passphrase, _POSITIONS_SALT, 3 * _KEY_BYTES)
        self._keys = [keys[k * _KEY_BYTES:(k + 1) * _KEY_BYTES] for k in range(3)]

    @property
    def passphrase(self) -> bytes:
        """The passphrase the message is sealed and placed with."""
        return self.sealer.passphrase

    def with_passphrase(self, passphrase: bytes) -> Stealth:
        """The same method keyed by ``passphrase``."""
        return type(self)(passphrase, self.payload, self.secret_psnr, self.prepare, self.colour_sync, self.height,
                          self.name, self.costs)

    def tuned(self, payload: float | None = None, secret_psnr: float | None = None,
              prepare: bool | None = None) -> Stealth:
        """The same method with another payload, secret PSNR target or cover preparation (each checked;
        None keeps this one's)."""
        return type(self)(self.sealer.passphrase, self.payload if payload is None else payload,
                          self.secret_psnr if secret_psnr is None else secret_psnr,
                          self.prepare if prepare is None else prepare, self.colour_sync, self.height, self.name,
                          self.costs)

    # ------------------------------------------------------------------ the secret as a file
    def encode_secret(self, secret: np.ndarray, capacity: int, notes: list[str]) -> bytes:
        """The secret's file: the best-looking one within the payload's budget, or with ``secret_psnr``
        the smallest that reaches it within ``capacity`` bytes."""
        if self.secret_psnr is None:
            budget = min(capacity, self._budget(secret.shape))
            found = [(psnr(secret, _decode(d, secret.shape)), d) for d in self._files_within(secret, budget)]
            if not found:
                raise DeepStegError(f"the secret does not fit: the smallest AVIF file needs more than {max(budget, 0)} "
                                    f"bytes at {self.payload} bits per channel value in this "
                                    f"{secret.shape[1]}x{secret.shape[0]} cover (raise --payload, or use a larger "
                                    "cover)")
            quality, data = max(found, key=lambda f: f[0])
        else:
            reaching = self._smallest_reaching(secret, capacity)
            if not reaching:
                raise DeepStegError(f"the secret cannot reach {self.secret_psnr:g} dB within {MAX_PAYLOAD} bits per "
                                    "channel value in this cover")
            quality, data = min(reaching, key=lambda f: len(f[1]))
        notes.append(f"{self.name}: the secret as a {len(data)}-byte AVIF file ({quality:.2f} dB), "
                     f"{8 * (len(data) + OVERHEAD) / secret.size:.3f} bits per channel value")
        return data

    def _files_within(self, secret: np.ndarray, budget: int):
        """For each scale, the highest-quality AVIF file within ``budget`` bytes (where one fits)."""
        for scale in SECRET_SCALES:
            small = _scaled(secret, scale)
            if small is None or budget <= 0:
                continue
            data = largest_within(functools.partial(pack, small), budget)
            if data is not None:
                yield data

    def _smallest_reaching(self, secret: np.ndarray, capacity: int) -> list[tuple[float, bytes]]:
        """For each scale, the smallest AVIF file (a binary search on its quality) within ``capacity``
        bytes whose secret reaches ``secret_psnr``, with that PSNR."""
        out = []
        for scale in SECRET_SCALES:
            small = _scaled(secret, scale)
            lo, hi, best = 0, 100, None
            while small is not None and lo <= hi:
                q = (lo + hi) // 2
                data = pack(small, q)
                quality = psnr(secret, _decode(data, secret.shape))
                if quality >= (self.secret_psnr or 0) and len(data) <= capacity:
                    best, hi = (quality, data), q - 1
                else:
                    lo = q + 1
            if best is not None:
                out.append(best)
        return out

    def _budget(self, shape: tuple[int, ...]) -> int:
        return int(self.payload * int(np.prod(shape)) // 8) - OVERHEAD

    # ------------------------------------------------------------------ layout
    def _orders(self, pixels: int) -> list[np.ndarray]:
        """Each channel's pixels in its keyed order (int64 ``(pixels,)``)."""
        return [KeyedPermutation(pixels, key)(np.arange(pixels, dtype=np.uint64)) for key in self._keys]

    @staticmethod
    def _layout(orders: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """The header's pixels (of the first channel) and ``(channel, flat pixel indices)`` of the body's
        segments, in embedding order, from each channel's keyed order."""
        return orders[0][:HEADER_VALUES], [(0, orders[0][HEADER_VALUES:]), (1, orders[1]), (2, orders[2])]

    def capacity(self, shape: tuple[int, ...]) -> int:
        """Bytes of secret file a cover of ``shape`` can carry at most."""
        return int(MAX_PAYLOAD * int(np.prod(shape)) // 8) - OVERHEAD

    # ------------------------------------------------------------------ hide
    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        return self._hide_noting(cover, secret, [])

    def _hide_noting(self, cover: np.ndarray, secret: np.ndarray, notes: list[str]) -> np.ndarray:
        if has_jpeg_traces(cover):
            if not self.prepare:
                notes.append(f"{self.name}: the cover shows traces of an earlier JPEG, and a warden can detect any "
                             "change to such an image: hide with --prepare-cover (downscales it by 2) or choose a "
                             "cover that was never a JPEG")
            else:
                cover = prepare_cover(cover)
                secret = np.asarray(Image.fromarray(secret).resize(cover.shape[1::-1], Image.Resampling.BOX))
                notes.append(f"{self.name}: the cover had traces of an earlier JPEG; downscaled by 2 to "
                             f"{cover.shape[1]}x{cover.shape[0]}")
        pixels = cover.shape[0] * cover.shape[1]
        if pixels <= HEADER_VALUES:
            raise DeepStegError(f"the cover is too small for {self.name}: it needs more than {HEADER_VALUES} pixels")
        data = self.encode_secret(secret, self.capacity(cover.shape), notes)
        return self.embed(cover, self.sealer.seal(data))

    def embed(self, cover: np.ndarray, message: bytes) -> np.ndarray:
        """``cover`` uint8 ``(H, W, 3)`` carrying the sealed ``message``."""
        h, w, _ = cover.shape
        planes = [cover[..., c].copy() for c in range(3)]
        costs = [COSTS[self.costs](p) for p in planes]
        bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
        header, body = bits[:8 * PREFIX], bits[8 * PREFIX:]
        moved = np.zeros(h * w, dtype=np.int16)
        header_pixels, segments = self._layout(self._orders(h * w))
        self._embed_segment(planes[0], costs[0], header_pixels, header, moved)
        shares = _shares([len(idx) for _, idx in segments], body.size)
        start = 0
        for (c, idx), share in zip(segments, shares):
            self._embed_segment(planes[c], costs[c], idx, body[start:start + share], moved)
            start += share
        return np.stack(planes, axis=-1)

    def _embed_segment(self, plane: np.ndarray, costs: tuple[np.ndarray, np.ndarray], idx: np.ndarray,
                       bits: np.ndarray, moved: np.ndarray) -> None:
        """Embed ``bits`` in ``plane``'s pixels ``idx`` (in place), the moves of earlier channels
        (``moved``, -1/0/+1 per pixel) making the same move cheaper; ``moved`` gains this segment's."""
        flat = plane.reshape(-1)
        plus, minus = costs[0].reshape(-1)[idx].copy(), costs[1].reshape(-1)[idx].copy()
        earlier = moved[idx]
        plus[earlier > 0] /= self.colour_sync
        minus[earlier < 0] /= self.colour_sync
        before = flat[idx].astype(np.int16)
        flat[idx] = stc.embed_lsb(flat[idx], plus, minus, bits, self.height)
        step = flat[idx].astype(np.int16) - before
        moved[idx] = np.where(step != 0, step, moved[idx])

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, HidingMethod]:
        raise DeepStegError(f"{self.name} sets its payload, not a cover PSNR: use --payload BPC or --secret-psnr DB "
                            "(its stego images are about 68 dB from the cover)")

    # ------------------------------------------------------------------ reveal
    def _reveal(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray:
        return _decode(self.extract(stego), stego.shape)

    def extract(self, stego: np.ndarray) -> bytes:
        """The secret's file hidden in ``stego``; DeepStegError ("no hidden image found") if the tag check fails."""
        h, w = stego.shape[:2]
        pixels = h * w
        if pixels <= HEADER_VALUES:
            raise DeepStegError(NOT_FOUND)
        planes = [stego[..., c].reshape(-1) for c in range(3)]
        header_pixels, segments = self._layout(self._orders(pixels))
        prefix = np.packbits(stc.extract(planes[0][header_pixels] & 1, 8 * PREFIX, self.height)).tobytes()

        def body(n: int) -> bytes:
            total = 8 * n
            if total > 2 * MAX_PAYLOAD * 3 * pixels:
                raise DeepStegError(NOT_FOUND)
            shares = _shares([len(idx) for _, idx in segments], total)
            if any(2 * share > len(idx) for (_, idx), share in zip(segments, shares)):
                raise DeepStegError(NOT_FOUND)
            parts = [stc.extract(planes[c][idx] & 1, share, self.height) for (c, idx), share in zip(segments, shares)]
            return np.packbits(np.concatenate(parts)).tobytes()

        return self.sealer.unseal(prefix, body)


def _scaled(secret: np.ndarray, scale: int) -> np.ndarray | None:
    """``secret`` downscaled by ``scale`` with area averaging (None when under 16 pixels a side)."""
    if scale == 1:
        return secret
    h, w = secret.shape[0] // scale, secret.shape[1] // scale
    if min(h, w) < 16:
        return None
    return np.asarray(Image.fromarray(secret).resize((w, h), Image.Resampling.BOX))


def pack(image: np.ndarray, quality: int) -> bytes:
    """``image`` as an AVIF file at ``quality``, deflated with the AVIF dictionary."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _AVIF_DICTIONARY)
    return squeeze.compress(encode(image, _AVIF, quality)) + squeeze.flush()


def unpack(data: bytes) -> bytes:
    """The AVIF file that :func:`pack` made."""
    try:
        return zlib.decompressobj(-15, _AVIF_DICTIONARY).decompress(data)
    except zlib.error as e:
        raise DeepStegError(f"the hidden file is not an image ({e})") from None


def _decode(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The secret's packed file -> uint8 ``(H, W, 3)`` of ``shape``'s size (scaled up with Lanczos if it was
    sent smaller)."""
    try:
        with Image.open(io.BytesIO(unpack(data)), formats=["AVIF"]) as file:
            image = file.convert("RGB")
        if image.size != (shape[1], shape[0]):
            image = image.resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
        return np.asarray(image)
    except (OSError, ValueError) as e:
        raise DeepStegError(f"the hidden file is not an image ({e})") from None
