"""``deepsteg`` command line: a thin layer over the library.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``; :mod:`deepsteg.cli.commands` names them. Only the module of the
command being run is imported, so ``deepsteg --help`` and ``--version`` start at once.
Errors a user can fix print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from deepsteg.cli.commands import COMMANDS, help_of
from deepsteg.errors import DeepStegError
from deepsteg.version import __version__

#: Optional packages -> the extra that installs them.
EXTRAS = {"skimage": "eval", "scipy": "eval", "matplotlib": "eval", "kornia": "train", "tensorboard": "train",
          "h5py": "keras", "fastapi": "web", "uvicorn": "web", "multipart": "web"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser: with ``command``, that command's full sub-parser (its module imported);
    without, every command by name and help only (for ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="deepsteg", description="Hide a colour image inside another with deep networks (Baluja, NIPS 2017).")
    parser.add_argument("--version", action="version", version=f"deepsteg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command in COMMANDS:
        importlib.import_module(f"deepsteg.cli.{COMMANDS[command][0]}").add_parser(sub)
    else:
        for name in COMMANDS:
            sub.add_parser(name, help=help_of(name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A damaged file either decodes or fails with one line; Pillow's warnings about it would
    # only add lines to that.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        args = build_parser(command).parse_args(argv)
        return int(args.func(args) or 0)
    except DeepStegError as e:
        print(f"deepsteg: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsteg: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as e:
        extra = EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"deepsteg: error: `deepsteg {command}` needs {e.name}: pip install 'deepsteg[{extra}]'",
              file=sys.stderr)
        return 2
