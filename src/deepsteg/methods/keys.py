"""Passphrases: what a keyed method accepts as one, and the public one used when none is given."""

from __future__ import annotations

from deepsteg.errors import DeepStegError

#: The passphrase used when none is given: public, so it hides the payload from no one.
PUBLIC_PASSPHRASE = b"deepsteg public passphrase"
#: What a hide under the public passphrase notes (CLI, page) or warns (the Python API without ``notes``).
PUBLIC_NOTE = ("hidden under the public passphrase: anyone with DeepSteg can reveal this stego image (give a "
               "passphrase: --passphrase-file, $DEEPSTEG_PASSPHRASE, the page's field, or passphrase= in Python)")


def passphrase_bytes(passphrase: bytes | bytearray | memoryview | str | None) -> bytes:
    """The passphrase as bytes: text as UTF-8, bytes as they are, None as :data:`PUBLIC_PASSPHRASE`.
    DeepStegError for an empty passphrase or anything else (a number is not a passphrase)."""
    if passphrase is None:
        return PUBLIC_PASSPHRASE
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not isinstance(passphrase, (bytes, bytearray, memoryview)):
        raise DeepStegError(f"a passphrase is bytes or text, not {type(passphrase).__name__}")
    if not passphrase:
        raise DeepStegError("the passphrase is empty")
    return bytes(passphrase)
