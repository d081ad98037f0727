"""``deepsteg`` command line: a thin layer over the library.

Each sub-command lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors a user can fix print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from deepsteg import __version__
from deepsteg.cli import analyze, detect, evaluate, export, hide_reveal, keras, models, serve, train
from deepsteg.errors import DeepStegError

COMMANDS = (hide_reveal, models, train, export, keras, evaluate, serve, detect, analyze)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepsteg", description="Hide a colour image inside another with deep networks (Baluja, NIPS 2017).")
    parser.add_argument("--version", action="version", version=f"deepsteg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A damaged file either decodes or fails with one line; Pillow's warnings about it would
    # only add lines to that.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DeepStegError as e:
        print(f"deepsteg: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsteg: interrupted", file=sys.stderr)
        return 130
