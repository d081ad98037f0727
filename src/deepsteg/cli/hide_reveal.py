"""``deepsteg hide`` and ``deepsteg reveal``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deepsteg.errors import DeepStegError
from deepsteg.imageio import DEFAULT_MAX_PIXELS, read_image, write_png
from deepsteg.methods import match_secret
from deepsteg.registry import load_model


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="registered model name or .safetensors file (default: the shipped model)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger input images (default {DEFAULT_MAX_PIXELS:,})")


def add_parser(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("hide", help="hide SECRET inside COVER, writing an 8-bit PNG",
                       description="Hide a secret image inside a cover image; the stego PNG has the cover's size.")
    h.add_argument("cover")
    h.add_argument("secret")
    h.add_argument("-o", "--output", required=True, help="stego image to write (PNG)")
    _common(h)
    h.set_defaults(func=run_hide)
    r = sub.add_parser("reveal", help="reveal the secret hidden in STEGO",
                       description="Reveal the secret image from a stego image.")
    r.add_argument("stego")
    r.add_argument("-o", "--output", required=True, help="revealed secret to write (PNG)")
    _common(r)
    r.set_defaults(func=run_reveal)


def _check_output(output: str, inputs: list[str]) -> Path:
    out = Path(output)
    for i in inputs:
        if Path(i).exists() and out.exists() and out.resolve() == Path(i).resolve():
            raise DeepStegError(f"{output}: output would overwrite the input {i}")
    if out.is_dir():
        raise DeepStegError(f"{output}: is a directory")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise DeepStegError(f"{output}: folder {out.parent} does not exist")
    return out


def _note(msgs: list[str], what: str) -> None:
    for m in msgs:
        print(f"note: {what}: {m}", file=sys.stderr)


def run_hide(args: argparse.Namespace) -> int:
    out = _check_output(args.output, [args.cover, args.secret])
    cn, sn = [], []
    cover = read_image(args.cover, args.max_pixels, cn)
    secret = read_image(args.secret, args.max_pixels, sn)
    _note(cn, "cover")
    _note(sn, "secret")
    model = load_model(args.model)
    rn: list[str] = []
    secret = match_secret(cover, secret, rn)
    _note(rn, "secret")
    write_png(model.hide(cover, secret), out)
    return 0


def run_reveal(args: argparse.Namespace) -> int:
    out = _check_output(args.output, [args.stego])
    notes: list[str] = []
    stego = read_image(args.stego, args.max_pixels, notes)
    _note(notes, "stego")
    model = load_model(args.model)
    write_png(model.reveal(stego), out)
    return 0
