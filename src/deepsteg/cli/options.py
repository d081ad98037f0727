"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse
import os

from deepsteg.errors import DeepStegError
from deepsteg.methods import DEFAULT_REFINE_STEPS


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


#: Environment variable holding the passphrase of ``codec-lsbm``.
PASSPHRASE_ENV = "DEEPSTEG_PASSPHRASE"


def add_passphrase(p: argparse.ArgumentParser) -> None:
    """``--passphrase-file FILE``: never a plain command-line value (it would show in ``ps``)."""
    p.add_argument("--passphrase-file", metavar="FILE",
                   help=f"codec-lsbm: read the passphrase from FILE (its first line), else from ${PASSPHRASE_ENV}, "
                        "else a public default")


def read_passphrase(args: argparse.Namespace) -> bytes | None:
    """The passphrase from ``--passphrase-file`` or the environment; None: the public default."""
    if getattr(args, "passphrase_file", None):
        try:
            with open(args.passphrase_file, "rb") as f:
                text = f.read(1 << 16).splitlines()
        except OSError as e:
            raise DeepStegError(f"{args.passphrase_file}: cannot read the passphrase file ({e.strerror})") from None
        if not text or not text[0]:
            raise DeepStegError(f"{args.passphrase_file}: the passphrase file is empty")
        return text[0]
    env = os.environ.get(PASSPHRASE_ENV)
    return env.encode() if env else None


def check_refine_tile(args: argparse.Namespace) -> None:
    """``--refine`` and ``--tile`` checked for every model (an LSB model uses neither, but a
    bad value is still a mistake worth saying)."""
    from deepsteg.methods.deep import check_tile

    if (getattr(args, "refine", None) or 0) < 0:
        raise DeepStegError(f"--refine {args.refine}: refinement steps must be >= 0")
    check_tile(getattr(args, "tile", None))
