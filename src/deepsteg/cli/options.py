"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse
import os
import sys

from deepsteg.errors import DeepStegError
from deepsteg.methods import DEFAULT_REFINE_STEPS
from deepsteg.pairs import Pair, load_pairs


def add_refine(p: argparse.ArgumentParser) -> None:
    """``--refine N``: hide-time refinement steps of deep models."""
    p.add_argument("--refine", type=int, default=None, metavar="N",
                   help="tune each stego image with N steps against the reveal network (default: the model's own, "
                        f"{DEFAULT_REFINE_STEPS} but for a model whose card names its steps; 0: the hiding network's "
                        "output as it is, fastest)")


def add_protocol(p: argparse.ArgumentParser) -> None:
    """``--protocol``: pair a folder as the validation protocol does."""
    p.add_argument("--protocol", action="store_true",
                   help="validation protocol: portrait images transposed to landscape, pairs cropped to a common size")


#: Environment variable holding the passphrase of the keyed models and the codec methods.
PASSPHRASE_ENV = "DEEPSTEG_PASSPHRASE"
#: Largest passphrase file read (a longer one is refused, never cut short).
MAX_PASSPHRASE_FILE = 1 << 20


def add_passphrase(p: argparse.ArgumentParser) -> None:
    """``--passphrase-file FILE``: never a plain command-line value (it would show in ``ps``)."""
    p.add_argument("--passphrase-file", metavar="FILE",
                   help=f"the keyed models (the default) and the codec methods: read the passphrase from FILE "
                        f"(its first line, any bytes, the line break not counted; at most {MAX_PASSPHRASE_FILE:,} "
                        f"bytes), else from ${PASSPHRASE_ENV}, else a public default that anyone can use")


def read_passphrase(args: argparse.Namespace) -> bytes | None:
    """The passphrase, as bytes, from ``--passphrase-file`` (its first line, whole) or the
    environment (its bytes as the system gave them, whatever their encoding); None: the public default."""
    if getattr(args, "passphrase_file", None):
        try:
            with open(args.passphrase_file, "rb") as f:
                data = f.read(MAX_PASSPHRASE_FILE + 1)
        except OSError as e:
            raise DeepStegError(f"{args.passphrase_file}: cannot read the passphrase file ({e.strerror})") from None
        if len(data) > MAX_PASSPHRASE_FILE:
            raise DeepStegError(f"{args.passphrase_file}: the passphrase file is over {MAX_PASSPHRASE_FILE:,} bytes")
        lines = _as_text_bytes(data, args.passphrase_file).splitlines()
        if not lines or not lines[0]:
            raise DeepStegError(f"{args.passphrase_file}: the passphrase file is empty")
        return lines[0]
    return os.environb.get(PASSPHRASE_ENV.encode()) or None


_UTF8_BOM = b"\xef\xbb\xbf"


def _as_text_bytes(data: bytes, path: str) -> bytes:
    """A passphrase file's bytes, with what Windows editors add taken as text: a UTF-8 byte-order mark
    (Notepad) is dropped, and UTF-16 with its mark (PowerShell 5.1's ``echo > key.txt``) becomes UTF-8,
    each with a note, so that the passphrase typed is the key used."""
    if data.startswith(_UTF8_BOM):
        print(f"note: {path}: a UTF-8 byte-order mark at its start is not part of the passphrase", file=sys.stderr)
        return data[len(_UTF8_BOM):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DeepStegError(f"{path}: starts like UTF-16 text but is not") from None
        print(f"note: {path}: read as UTF-16 text; its passphrase is used as UTF-8 (the page and the API "
              "take it the same way)", file=sys.stderr)
        return text.encode("utf-8")
    return data


def check_refine_tile(args: argparse.Namespace) -> None:
    """``--refine`` and ``--tile`` checked for every model (an LSB model uses neither, but a
    bad value is still a mistake worth saying)."""
    from deepsteg.methods.deep import check_tile

    if (getattr(args, "refine", None) or 0) < 0:
        raise DeepStegError(f"--refine {args.refine}: refinement steps must be >= 0")
    check_tile(getattr(args, "tile", None))


def pairs_skipping_bad(covers: str, secrets: str | None = None, limit: int | None = None,
                       protocol: bool = False) -> list[Pair]:
    """The pairs of a measurement command: a pair with an unreadable image is skipped with a
    one-line note on stderr (as folder mode does); DeepStegError only when none is left."""
    skipped: list[str] = []
    pairs = load_pairs(covers, secrets, limit=limit, protocol=protocol, skipped=skipped)
    for line in skipped:
        print(f"note: {line}", file=sys.stderr)
    return pairs
