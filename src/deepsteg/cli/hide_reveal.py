"""``deepsteg hide`` and ``deepsteg reveal``: one image, or whole folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deepsteg import jpeg
from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_passphrase, add_refine, check_refine_tile, read_passphrase
from deepsteg.errors import DeepStegError
from deepsteg.files import check_output
from deepsteg.images import DEFAULT_MAX_PIXELS, read_image, write_png
from deepsteg.malloc import keep_working_memory
from deepsteg.methods import HidingMethod
from deepsteg.methods.stealth import DEFAULT_PAYLOAD, Stealth
from deepsteg.pairs import fit_secret
from deepsteg.registry import load_model


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="registered model name or .safetensors file (default: the shipped model)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger input images (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--tile", type=int, default=None,
                   help="process in tiles of N pixels a side (default: automatic for large images; 0: never)")
    add_passphrase(p)


def add_parser(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("hide", help=help_of("hide"),
                       description="Hide a secret image inside a cover image; the stego PNG has the cover's size. "
                                   "With --covers/--secrets, every pair of two folders (sorted by name).")
    h.add_argument("cover", nargs="?")
    h.add_argument("secret", nargs="?")
    h.add_argument("--covers", help="folder of covers (batch mode)")
    h.add_argument("--secrets", help="folder of secrets, paired with the covers in sorted order (batch mode)")
    h.add_argument("-o", "--output", required=True,
                   help="stego image to write (PNG; .jpg for a model trained against JPEG), or a folder in batch mode")
    h.add_argument("--quality", type=int, default=jpeg.DEFAULT_QUALITY,
                   help=f"JPEG quality of a .jpg stego image, 1..100 (default {jpeg.DEFAULT_QUALITY}; 4:2:0 chroma)")
    _common(h)
    add_refine(h)
    h.add_argument("--cover-psnr", type=float, metavar="DB",
                   help="hide at this cover PSNR: a model conditioned on a strength searches it per image, an LSB "
                        "baseline takes the most bits that stay above it, codec-lsbm the rate that keeps it")
    stealth = h.add_argument_group("stealth: a small payload that steganalysis struggles to find")
    stealth.add_argument("--stealth", action="store_true",
                         help="hide with the stealth method (the same as --model stealth): the secret as a small "
                              "sealed AVIF file, embedded where the cover is busy; reveal with --model stealth")
    stealth.add_argument("--payload", type=float, metavar="BPC",
                         help=f"stealth: embed at most BPC bits per channel value (default {DEFAULT_PAYLOAD}; the "
                              "secret gets the best AVIF quality that fits)")
    stealth.add_argument("--secret-psnr", type=float, metavar="DB",
                         help="stealth: instead, the smallest payload that gives the secret back at DB")
    stealth.add_argument("--prepare-cover", action="store_true",
                         help="stealth: a cover with traces of an earlier JPEG (which any change makes detectable) "
                              "is downscaled by 2 first, so the stego image has half its width and height")
    h.set_defaults(func=run_hide)
    r = sub.add_parser("reveal", help=help_of("reveal"),
                       description="Reveal the secret image from a stego image, or from every image of a folder.")
    r.add_argument("stego")
    r.add_argument("-o", "--output", required=True, help="revealed secret to write (PNG), or a folder")
    r.add_argument("--stealth", action="store_true", help="the image was hidden with --stealth (--model stealth)")
    r.add_argument("--force", action="store_true",
                   help="a keyed model: reveal even where the sealed header does not check out (after a re-save "
                        "damaged it), with a note; without the right passphrase that gives noise")
    _common(r)
    r.set_defaults(func=run_reveal)


def stealth_model(args: argparse.Namespace) -> str | None:
    """The model name after ``--stealth``; DeepStegError where the stealth options meet another model."""
    if getattr(args, "stealth", False):
        if args.model not in (None, "stealth"):
            raise DeepStegError(f"--stealth hides with the stealth method, not --model {args.model}")
        return "stealth"
    if args.model != "stealth":
        for flag in ("payload", "secret_psnr", "prepare_cover"):
            if getattr(args, flag, None):
                raise DeepStegError(f"--{flag.replace('_', '-')} is a setting of --stealth")
    return args.model


def _tuned(model: HidingMethod, args: argparse.Namespace) -> HidingMethod:
    """The stealth method with the command's payload, secret PSNR and cover preparation."""
    if isinstance(model, Stealth):
        if args.cover_psnr is not None:
            raise DeepStegError("--cover-psnr: stealth sets its payload (--payload BPC or --secret-psnr DB) instead")
        return model.tuned(payload=args.payload, secret_psnr=args.secret_psnr, prepare=args.prepare_cover)
    return model


def note(msgs: list[str], what: str) -> None:
    for m in msgs:
        print(f"note: {what}: {m}", file=sys.stderr)


def run_hide(args: argparse.Namespace) -> int:
    check_refine_tile(args)
    args.model = stealth_model(args)
    keep_working_memory()
    if args.covers or args.secrets:
        if not (args.covers and args.secrets) or args.cover or args.secret:
            raise DeepStegError("batch mode takes --covers DIR --secrets DIR -o OUT_DIR (and no COVER SECRET)")
        from deepsteg.batch import hide_folders

        model = _tuned(load_model(args.model, tile=args.tile, refine=args.refine, progress=False,
                                  passphrase=read_passphrase(args)), args)
        return hide_folders(model, args.covers, args.secrets, args.output, args.max_pixels, args.cover_psnr)
    if not (args.cover and args.secret):
        raise DeepStegError("hide takes COVER SECRET -o STEGO.png (or --covers DIR --secrets DIR -o OUT_DIR)")
    out = check_output(args.output, [args.cover, args.secret], suffixes=(".png", ".jpg", ".jpeg"))
    as_jpeg = out is not None and out.suffix.lower() in (".jpg", ".jpeg")
    if not as_jpeg and args.quality != jpeg.DEFAULT_QUALITY:
        raise DeepStegError(f"--quality {args.quality}: the quality of a .jpg stego image; {args.output} is a PNG")
    if as_jpeg and args.quality not in jpeg.QUALITIES:
        raise DeepStegError(f"--quality {args.quality}: JPEG quality must be in 1..100")
    cn, sn = [], []
    cover = read_image(args.cover, args.max_pixels, cn)
    secret = read_image(args.secret, args.max_pixels, sn)
    note(cn, "cover")
    note(sn, "secret")
    passphrase = read_passphrase(args)
    model = _tuned(load_model(args.model, tile=args.tile, refine=args.refine, passphrase=passphrase), args)
    if as_jpeg and not model.survives_jpeg:
        raise DeepStegError(f"{args.output}: {model.name} needs a lossless file (a JPEG of its stego image destroys "
                            "the secret); write .png, or use a method that survives JPEG (codec-qim, or a model "
                            "trained with --distort jpeg)")
    if as_jpeg and args.quality < model.lowest_jpeg_quality:
        raise DeepStegError(f"--quality {args.quality}: {model.name} survives a JPEG down to quality "
                            f"{model.lowest_jpeg_quality}, not below")
    if as_jpeg:
        model = model.for_jpeg_file(args.quality)
    rn: list[str] = []
    secret = fit_secret(cover, secret, notes=rn)
    note(rn, "secret")
    chosen: list[str] = []
    if not model.keyed and passphrase is not None:
        chosen.append(f"{model.name} takes no passphrase: anyone with DeepSteg can reveal this stego image")
    stego = model.hide(cover, secret, cover_psnr=args.cover_psnr, notes=chosen)
    note(chosen, "hide")
    if as_jpeg:
        jpeg.write_jpeg(stego, out, args.quality)
    else:
        write_png(stego, out)
    return 0


def run_reveal(args: argparse.Namespace) -> int:
    check_refine_tile(args)
    args.model = stealth_model(args)
    keep_working_memory()
    if Path(args.stego).is_dir():
        from deepsteg.batch import reveal_folder

        if Path(args.output).suffix.lower() in (".png", ".jpg", ".jpeg"):
            raise DeepStegError(f"-o {args.output}: revealing a folder writes a folder; name one without an image "
                                "suffix")
        model = load_model(args.model, tile=args.tile, passphrase=read_passphrase(args))
        return reveal_folder(model, args.stego, args.output, args.max_pixels, force=args.force)
    out = check_output(args.output, [args.stego], suffixes=(".png",))
    notes: list[str] = []
    stego = read_image(args.stego, args.max_pixels, notes)
    note(notes, "stego")
    model = load_model(args.model, tile=args.tile, passphrase=read_passphrase(args))
    forced: list[str] = []
    revealed = model.reveal(stego, notes=forced, force=args.force)
    note(forced, "reveal")
    write_png(revealed, out)
    return 0
