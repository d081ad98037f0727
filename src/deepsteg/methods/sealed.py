"""The sealed header of a keyed deep model's stego image: salt, strength and a tag, at keyed places.

A keyed hide (:class:`~deepsteg.methods.DeepModel` with a model trained with ``--scramble``)
draws a random 16-byte salt per image and derives from the passphrase and that salt, with
scrypt, the key of the secret's scramble (:mod:`deepsteg.methods.scramble`), a one-byte mask
and a MAC key. The header is::

    salt (16) | strength byte XOR mask (1) | HMAC-SHA256(MAC key, label | salt | masked strength)[:16]

33 bytes, each bit written :data:`COPIES` times, by LSB matching into channel values chosen by a
keyed permutation that depends on the passphrase alone (``codec-lsbm``'s, whose places must be
found before the salt is read): the first of its places whose value is neither 0 nor 255, and
the matching keeps them in 1..254, so the reader finds the same places, and no saturated
region gets a lone 254 or 1 (where a warden would look first).
Every byte of it looks random without the passphrase: the salt is random, the strength is
masked by a key only the passphrase and salt give, and the tag is a MAC. Reading takes the
majority of the copies (a few changed pixels do not lose the header), then checks the tag:
a wrong passphrase, a clean photo or an image without a header fails it, and the reveal says
"no hidden image found" unless forced.
"""

from __future__ import annotations

import functools
import hmac
import os
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from deepsteg.errors import DeepStegError
from deepsteg.methods.codec import KeyedPermutation, match_bits, positions_key, scrypt

SALT = 16
TAG = 16
HEADER_BYTES = SALT + 1 + TAG
#: Copies of every header bit (read by majority).
COPIES = 5
#: Channel values an image needs to carry the header.
HEADER_VALUES = 8 * HEADER_BYTES * COPIES
_POSITIONS_SALT = b"deepsteg keyed deep header positions v1"
_TAG_LABEL = b"deepsteg keyed deep header v1"
_MATCHING_LABEL = b"deepsteg keyed deep header matching v1"


@dataclass(frozen=True)
class ImageKeys:
    """What the passphrase and one image's salt give: the scramble's key, the strength's mask, the MAC key."""

    scramble: bytes
    mask: int
    mac: bytes


def image_keys(passphrase: bytes, salt: bytes) -> ImageKeys:
    """scrypt of the passphrase with the image's ``salt`` -> its :class:`ImageKeys`."""
    derived = scrypt(passphrase, salt, 32 + 1 + 32)
    return ImageKeys(scramble=derived[:32], mask=derived[32], mac=derived[33:])


def _hmac(key: bytes, message: bytes) -> bytes:
    mac = HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def _tag(keys: ImageKeys, salt: bytes, masked: int) -> bytes:
    return _hmac(keys.mac, _TAG_LABEL + salt + bytes([masked]))[:TAG]


def _matching_steps(keys: ImageKeys) -> np.random.Generator:
    """The +1 / -1 choices of the header's LSB matching: drawn from a seed only the image's keys
    give (an HMAC, so the generator's state tells nothing of the key), so a hide is a function of
    the passphrase, the salt and the images."""
    return np.random.default_rng(np.frombuffer(_hmac(keys.mac, _MATCHING_LABEL), dtype=np.uint32))


@dataclass(frozen=True)
class Header:
    """A header as read: the salt, the strength byte (0-255), whether the tag checked out, and the
    keys the passphrase and that salt give (derived once, for the reveal's unscramble too)."""

    salt: bytes
    strength: int
    authentic: bool
    keys: ImageKeys


@functools.lru_cache(maxsize=8)
def header_positions_key(passphrase: bytes) -> bytes:
    return positions_key(passphrase, _POSITIONS_SALT)


def header_places(stego: np.ndarray, passphrase: bytes) -> np.ndarray | None:
    """Flat indices of the :data:`HEADER_VALUES` channel values of uint8 ``(H, W, 3)`` that carry
    the header under ``passphrase``: in the keyed order, those whose value is in 1..254; None if
    the image has too few."""
    flat = stego.reshape(-1)
    order = KeyedPermutation(flat.size, header_positions_key(passphrase))
    found: list[np.ndarray] = []
    count, start, chunk = 0, 0, 4 * HEADER_VALUES
    while count < HEADER_VALUES and start < flat.size:
        idx = order(np.arange(start, min(flat.size, start + chunk), dtype=np.uint64))
        usable = idx[(flat[idx] > 0) & (flat[idx] < 255)]
        found.append(usable)
        count += usable.size
        start += chunk
    return np.concatenate(found)[:HEADER_VALUES] if count >= HEADER_VALUES else None


def new_salt() -> bytes:
    return os.urandom(SALT)


def write_header(stego: np.ndarray, passphrase: bytes, salt: bytes, strength: int,
                 keys: ImageKeys | None = None) -> np.ndarray:
    """uint8 ``(H, W, 3)`` -> a copy carrying the sealed header of ``salt`` and the ``strength`` byte.
    ``keys``: :func:`image_keys` of the passphrase and salt, if already derived."""
    places = header_places(stego, passphrase)
    if places is None:
        raise DeepStegError(f"image too small or too saturated for a keyed hide (it needs {HEADER_VALUES} channel "
                            "values between 0 and 255)")
    keys = keys or image_keys(passphrase, salt)
    masked = strength ^ keys.mask
    header = salt + bytes([masked]) + _tag(keys, salt, masked)
    out = stego.copy()
    flat = out.reshape(-1)
    bits = np.unpackbits(np.frombuffer(header * COPIES, dtype=np.uint8))
    flat[places] = match_bits(flat[places], bits, _matching_steps(keys), low=1, high=254)
    return out


def read_header(stego: np.ndarray, passphrase: bytes) -> Header | None:
    """The header at ``passphrase``'s places in uint8 ``(H, W, 3)`` (each bit the majority of its
    copies), or None for an image too small (or too saturated) to hold one."""
    places = header_places(stego, passphrase)
    if places is None:
        return None
    bits = stego.reshape(-1)[places] & 1
    votes = bits.reshape(COPIES, 8 * HEADER_BYTES).sum(axis=0)
    header = np.packbits(votes > COPIES // 2).tobytes()
    salt, masked, tag = header[:SALT], header[SALT], header[SALT + 1:]
    keys = image_keys(passphrase, salt)
    return Header(salt=salt, strength=masked ^ keys.mask, authentic=hmac.compare_digest(tag, _tag(keys, salt, masked)),
                  keys=keys)
