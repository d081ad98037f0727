"""``codec-lsbm``: the secret compressed by a real image codec, encrypted, and embedded by LSB matching.

What a careful person would do without deep networks, as steghide or OpenStego do:

1. **Compress**: the secret is encoded with one of :data:`CODECS` (Pillow's encoders) at the
   highest quality whose file fits the payload budget (a binary search on the quality).
2. **Encrypt and authenticate**: a key is derived from the passphrase with scrypt and a random
   salt; the codec file is sealed with ChaCha20-Poly1305 (``cryptography``). The embedded
   message is ``salt (16) | nonce (12) | masked length (4) | ciphertext + tag``; the prefix is
   the authenticated data of the seal, so any changed bit anywhere fails the tag check.
3. **Embed**: the message's bits go, in order, into channel values chosen by a keyed
   pseudo-random permutation of all ``H * W * 3`` values (a Feistel network keyed from the
   passphrase, walked in cycles, so no table of positions is held), by **LSB matching**:
   where a value's lowest bit differs from the bit, the value moves by +1 or -1 at random
   (never out of 0..255). Unlike LSB replacement this leaves no pairs-of-values asymmetry for
   chi-square, RS or SPA to find.

The embedding rate follows a cover PSNR: a changed value moves by 1 grey level and half the
used values change, so ``rate`` bits per channel value cost ``MSE = rate / 2``; the default
50 dB allows the full rate of 1 bit per value. Revealing
with a wrong passphrase, from a clean photo, or from a damaged stego image fails the tag
check and raises :class:`DeepStegError` ("no hidden image found") before anything is written.
The passphrase defaults to a public one (:data:`~deepsteg.methods.keys.PUBLIC_PASSPHRASE`): then the payload is
spread and whitened, but anyone with DeepSteg can reveal it.
"""

from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Callable

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from PIL import Image

from deepsteg.errors import DeepStegError
from deepsteg.methods.base import HidingMethod
from deepsteg.methods.keys import passphrase_bytes

#: Codec settings, name -> (Pillow format, encoder options). Chosen by rate-distortion on the
#: validation photos (``benchmarks/codecs.py``; see the README).
CODECS: dict[str, tuple[str, dict]] = {
    "avif": ("AVIF", {"subsampling": "4:4:4", "speed": 6}),
    "webp": ("WEBP", {"method": 6}),
    "jpeg": ("JPEG", {"subsampling": 0, "optimize": True}),
}
DEFAULT_CODEC = "avif"
#: Cover PSNR the default embedding rate keeps (at least).
DEFAULT_COVER_PSNR = 50.0

_SALT, _NONCE, _LEN, _TAG = 16, 12, 4, 16
#: Bytes of a message before its ciphertext: salt, nonce, masked length.
PREFIX = _SALT + _NONCE + _LEN
OVERHEAD = PREFIX + _TAG  # bytes of the message beyond the codec file
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_POSITIONS_SALT = b"deepsteg codec-lsbm positions v1"
_FEISTEL_ROUNDS = 6
_CHUNK = 1 << 22  # positions computed per batch: bounded memory on any image


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's random source: the salts, nonces and padding of the
    codec methods (the one place tests seed them)."""
    return os.urandom(n)


def scrypt(passphrase: bytes, salt: bytes, length: int) -> bytes:
    """``length`` bytes of scrypt (the settings of :data:`_SCRYPT`) of ``passphrase`` with ``salt``."""
    return Scrypt(salt=salt, length=length, **_SCRYPT).derive(passphrase)


# --------------------------------------------------------------------------- codec
def encode(image: np.ndarray, codec: str, quality: int) -> bytes:
    """uint8 ``(H, W, 3)`` -> the bytes of a ``codec`` file at ``quality`` (0-100)."""
    fmt, options = CODECS[codec]
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, fmt, quality=quality, **options)
    return buf.getvalue()


def encode_to_fit(image: np.ndarray, codec: str, budget: int) -> bytes | None:
    """The highest-quality ``codec`` file of ``image`` with at most ``budget`` bytes, or None."""
    return largest_within(lambda q: encode(image, codec, q), budget)


def largest_within(make: Callable[[int], bytes], budget: int) -> bytes | None:
    """``make(quality)`` at the highest quality 0..100 whose bytes fit ``budget`` (a binary search), or None."""
    best, lo, hi = None, 0, 100
    while lo <= hi:
        q = (lo + hi) // 2
        data = make(q)
        if len(data) <= budget:
            best, lo = data, q + 1
        else:
            hi = q - 1
    return best


def decode_secret(data: bytes) -> np.ndarray:
    """A codec file's bytes -> uint8 ``(H, W, 3)``. Only the formats of :data:`CODECS` are opened."""
    formats = sorted({fmt for fmt, _ in CODECS.values()})
    with Image.open(io.BytesIO(data), formats=formats) as im:
        return np.asarray(im.convert("RGB"))


# --------------------------------------------------------------------------- positions
def _mix(x: np.ndarray, key: np.uint64) -> np.ndarray:
    """A keyed 64-bit mixing function (SplitMix64's finaliser on ``x ^ key``)."""
    z = x ^ key
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class KeyedPermutation:
    """A keyed pseudo-random permutation of ``range(n)``, evaluated at any indices.

    A balanced Feistel network on ``2 * half`` bits (the smallest even width covering ``n``)
    with cycle walking: an index that lands at ``n`` or above is mapped again until it falls
    inside, which keeps the map a bijection of ``range(n)``.
    """

    def __init__(self, n: int, key: bytes):
        if n < 1:
            raise ValueError("empty permutation")
        self.n = n
        self.half = max(1, math.ceil(math.log2(n) / 2)) if n > 1 else 1
        self.mask = np.uint64((1 << self.half) - 1)
        words = np.frombuffer(key[: 8 * _FEISTEL_ROUNDS], dtype="<u8")
        self.keys = [np.uint64(k) for k in words]

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        h = np.uint64(self.half)
        left, right = x >> h, x & self.mask
        for k in self.keys:
            left, right = right, left ^ (_mix(right, k) & self.mask)
        return (left << h) | right

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = self._feistel(indices.astype(np.uint64))
            out = y >= self.n
            while out.any():
                y[out] = self._feistel(y[out])
                out = y >= self.n
        return y.astype(np.int64)


def positions_key(passphrase: bytes, salt: bytes = _POSITIONS_SALT) -> bytes:
    """The key of the embedding positions: it depends on the passphrase (and the method's ``salt``)
    alone, since the salt of the message key is itself read from those positions."""
    return scrypt(passphrase, salt, 8 * _FEISTEL_ROUNDS)


def _positions(n_values: int, n_bits: int, key: bytes, start: int = 0):
    """Flat channel-value indices of message bits ``start .. start + n_bits``, in chunks."""
    perm = KeyedPermutation(n_values, key)
    for a in range(start, start + n_bits, _CHUNK):
        yield a - start, perm(np.arange(a, min(start + n_bits, a + _CHUNK), dtype=np.uint64))


# --------------------------------------------------------------------------- method
def rate_for_psnr(cover_psnr: float) -> float:
    """Bits per channel value whose LSB-matching MSE (``rate / 2``) keeps ``cover_psnr``; at most 1."""
    return min(1.0, 2 * 255.0**2 / 10 ** (cover_psnr / 10))


class CodecLSBM(HidingMethod):
    """Codec + authenticated encryption + LSB matching (see the module docstring).

    ``passphrase``: bytes or str (None: :data:`~deepsteg.methods.keys.PUBLIC_PASSPHRASE`); ``codec``: a key of
    :data:`CODECS`; ``cover_psnr``: the embedding uses at most the rate that keeps it.
    """

    targetable = True
    keyed = True

    def __init__(self, passphrase: bytes | str | None = None, codec: str = DEFAULT_CODEC,
                 cover_psnr: float = DEFAULT_COVER_PSNR, name: str = "codec-lsbm"):
        if codec not in CODECS:
            raise DeepStegError(f"unknown codec {codec!r}; one of {sorted(CODECS)}")
        if not cover_psnr > 0:
            raise DeepStegError(f"cover PSNR must be > 0 dB, got {cover_psnr}")
        self.passphrase = passphrase_bytes(passphrase)
        self.codec = codec
        self.cover_psnr = cover_psnr
        self.name = name
        self._positions_key = positions_key(self.passphrase)

    def with_passphrase(self, passphrase: bytes) -> CodecLSBM:
        """The same method keyed by ``passphrase`` (its embedding places derived anew)."""
        return type(self)(passphrase=passphrase, codec=self.codec, cover_psnr=self.cover_psnr, name=self.name)

    def capacity(self, shape: tuple[int, ...]) -> int:
        """Bytes of codec file a cover of ``shape`` takes at this method's rate."""
        values = int(np.prod(shape))
        return int(values * rate_for_psnr(self.cover_psnr)) // 8 - OVERHEAD

    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        budget = self.capacity(cover.shape)
        data = encode_to_fit(secret, self.codec, budget) if budget > 0 else None
        if data is None:
            raise DeepStegError(f"the secret does not fit: even the lowest {self.codec} quality needs more than "
                                f"{max(budget, 0)} bytes in this {cover.shape[1]}x{cover.shape[0]} cover")
        return embed(cover, self.seal(data), self._positions_key)

    def seal(self, data: bytes) -> bytes:
        """A codec file -> the message to embed (salt, nonce, masked length, ciphertext + tag)."""
        salt, nonce = random_bytes(_SALT), random_bytes(_NONCE)
        key, mask = self._message_keys(salt)
        prefix = salt + nonce + _xor(struct.pack(">I", len(data)), mask)
        return prefix + ChaCha20Poly1305(key).encrypt(nonce, data, prefix)

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, HidingMethod]:
        """At most the embedding rate that keeps ``cover_psnr`` (a rate of 1 bit per value gives
        about 51 dB: a lower target changes nothing, since the payload cannot grow further;
        ``nearest`` changes nothing either: a target the secret does not fit is refused)."""
        stego = self.with_settings(cover_psnr=cover_psnr)._hide(cover, secret)
        notes.append(f"{self.name}: {rate_for_psnr(cover_psnr):.3f} bits per channel value at most")
        return stego, self  # the message says how long it is: any rate reveals alike

    def _message_keys(self, salt: bytes) -> tuple[bytes, bytes]:
        """The cipher key and the mask of the length field, derived from the passphrase and ``salt``."""
        derived = scrypt(self.passphrase, salt, 32 + _LEN)
        return derived[:32], derived[32:]

    def _reveal(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray:
        return decode_secret(self.extract(stego))

    def extract(self, stego: np.ndarray) -> bytes:
        """The codec file hidden in ``stego``; DeepStegError if the tag check fails."""
        flat = stego.reshape(-1)
        if flat.size < 8 * (OVERHEAD + 1):
            raise DeepStegError(NOT_FOUND)

        def body(n: int) -> bytes:
            if 8 * (PREFIX + n) > flat.size:
                raise DeepStegError(NOT_FOUND)
            return _read_bits(flat, 8 * PREFIX, 8 * n, self._positions_key)

        return self.unseal(_read_bits(flat, 0, 8 * PREFIX, self._positions_key), body)

    def unseal(self, prefix: bytes, body: Callable[[int], bytes]) -> bytes:
        """The codec file of a message whose first :data:`PREFIX` bytes are ``prefix``;
        ``body(n)`` reads the ``n`` bytes that follow (ciphertext and tag). DeepStegError if the
        tag check fails."""
        salt, nonce, length = prefix[:_SALT], prefix[_SALT:_SALT + _NONCE], prefix[_SALT + _NONCE:]
        key, mask = self._message_keys(salt)
        n = struct.unpack(">I", _xor(length, mask))[0]
        try:
            return ChaCha20Poly1305(key).decrypt(nonce, body(n + _TAG), prefix)
        except InvalidTag:
            raise DeepStegError(NOT_FOUND) from None


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


NOT_FOUND = "no hidden image found (wrong passphrase, a clean image, or a damaged stego image)"


def embed(cover: np.ndarray, message: bytes, key: bytes, rng: np.random.Generator | None = None) -> np.ndarray:
    """``cover`` uint8 ``(H, W, 3)`` with ``message``'s bits at the positions of ``key``
    (:func:`positions_key`), by LSB matching."""
    flat = cover.reshape(-1).copy()
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    rng = rng or np.random.default_rng()
    for offset, pos in _positions(flat.size, bits.size, key):
        flat[pos] = match_bits(flat[pos], bits[offset:offset + pos.size], rng)
    return flat.reshape(cover.shape)


def match_bits(values: np.ndarray, bits: np.ndarray, rng: np.random.Generator, low: int = 0,
               high: int = 255) -> np.ndarray:
    """LSB matching: uint8 ``values`` whose lowest bit differs from ``bits`` move by +1 or -1 at
    random, never below ``low`` nor above ``high`` (``values`` lie in ``low..high``)."""
    v = values.astype(np.int16)
    step = np.where(rng.random(v.size) < 0.5, -1, 1).astype(np.int16)
    step = np.where(v == low, 1, np.where(v == high, -1, step))
    return np.where((v & 1) != bits, v + step, v).astype(np.uint8)


def _read_bits(flat: np.ndarray, start: int, n_bits: int, key: bytes) -> bytes:
    """The lowest bits of message bits ``start .. start + n_bits`` at the places of ``key`` in ``flat``, packed."""
    bits = np.empty(n_bits, dtype=np.uint8)
    for offset, pos in _positions(flat.size, n_bits, key, start):
        bits[offset:offset + pos.size] = flat[pos] & 1
    return np.packbits(bits).tobytes()
