"""``deepsteg detect``: how detectable are the stego images of each method (ROC AUC)."""

from __future__ import annotations

import argparse
import json

from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_passphrase, add_refine, pairs_skipping_bad, read_passphrase
from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write, check_output
from deepsteg.registry import resolve_methods
from deepsteg.steganalysis.detect import BASELINES, DEFAULT_TRAIN_SIZES, evaluate, format_table, plot_roc

#: The methods ``--rich`` adds to the stealth payloads unless told not to.
RICH_BASELINES = ("lsb1", "codec-lsbm")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help=help_of("detect"),
        description="Sorted images of DIR: first half covers, second half secrets. Every method hides every "
                    "pair; stego images go through an 8-bit PNG round trip; chi-square, RS and sample pairs "
                    "analysis, the visual attack and a small CNN trained on N leaked pairs score covers "
                    "and stegos.")
    p.add_argument("--covers", required=True, action="append", metavar="DIR",
                   help="folder of images (searched recursively); with --rich, repeatable")
    p.add_argument("--model", action="append", default=[], metavar="M",
                   help="registered model name or .safetensors file (repeatable)")
    p.add_argument("--no-baselines", action="store_true", help=f"leave out {', '.join(BASELINES)}")
    p.add_argument("--json", metavar="FILE", help="write every score and AUC as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the ROC curves")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N pairs")
    p.add_argument("--train-sizes", default=",".join(map(str, DEFAULT_TRAIN_SIZES)), metavar="N,N,...",
                   help="leaked training pairs for the learned detector; 0 for none "
                        f"(default {','.join(map(str, DEFAULT_TRAIN_SIZES))})")
    p.add_argument("--steps", type=int, default=200, help="training steps of the learned detector (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/test split and the CNN (default 0)")
    add_refine(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    rich = p.add_argument_group("the warden's rich-model detector (--rich)")
    rich.add_argument("--rich", action="store_true",
                      help="instead: colour rich-model features (CRMQ1) with the FLD ensemble, trained on pairs of "
                           "covers without JPEG traces (each photo downscaled by 2), tested on the other photos; "
                           "reports P_E and AUC per method and payload (needs: pip install --no-deps sealwatch)")
    rich.add_argument("--payloads", default="", metavar="BPC,BPC,...",
                      help="stealth payloads to test, bits per channel value (each adds stealth at that payload)")
    rich.add_argument("--train-pairs", type=int, default=1000, help="pairs the detector trains on (default 1000)")
    rich.add_argument("--cache", metavar="DIR", help="keep each method's features here, and resume from them")
    rich.add_argument("--cnn-minutes", type=float, default=0.0, metavar="M",
                      help="also train the SRNet-class CNN for M more minutes per method (needs --cache: it learns "
                           "from the stego images kept there, and resumes its checkpoint)")
    add_passphrase(rich)
    p.set_defaults(func=run)


def _train_sizes(text: str) -> list[int]:
    try:
        sizes = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise DeepStegError(f"--train-sizes: expected comma-separated integers, got {text!r}") from None
    if any(n < 0 for n in sizes):
        raise DeepStegError(f"--train-sizes: sizes must not be negative, got {text!r}")
    return [n for n in sizes if n > 0]


def _payloads(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise DeepStegError(f"--payloads: expected comma-separated numbers, got {text!r}") from None


def run_rich(args: argparse.Namespace) -> int:
    from pathlib import Path

    from deepsteg.methods.stealth import Stealth
    from deepsteg.registry import load_model
    from deepsteg.steganalysis.warden import format_warden, run_warden, trace_free_covers

    check_output(args.json)
    if args.cnn_minutes > 0 and not args.cache:
        raise DeepStegError("--cnn-minutes needs --cache DIR (the CNN learns from the stego images kept there)")
    passphrase = read_passphrase(args) or b"the warden's own passphrase"
    methods = {f"stealth-{p:g}": Stealth(passphrase=passphrase, payload=p) for p in _payloads(args.payloads)}
    names = list(args.model) + ([] if args.no_baselines else list(RICH_BASELINES))
    methods.update({n: load_model(n, passphrase=passphrase, progress=False) for n in dict.fromkeys(names)})
    if not methods:
        raise DeepStegError("nothing to test: give --payloads or --model, or drop --no-baselines")
    covers = trace_free_covers(args.covers, limit=args.limit)
    report = run_warden(covers, methods, args.train_pairs, seed=args.seed,
                        cache=Path(args.cache) if args.cache else None, progress=not args.no_progress,
                        cnn_minutes=args.cnn_minutes)
    report = {"covers_dirs": [str(c) for c in args.covers], **report}
    print(format_warden(report))
    if args.json:
        text = json.dumps(report, indent=1)
        atomic_write(args.json, lambda tmp: tmp.write_text(text + "\n"))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.rich:
        return run_rich(args)
    if len(args.covers) > 1:
        raise DeepStegError("--covers once (several folders only with --rich)")
    args.covers = args.covers[0]
    sizes = _train_sizes(args.train_sizes)
    if args.steps < 1:
        raise DeepStegError("--steps must be at least 1")
    if args.limit is not None and args.limit < 2:
        raise DeepStegError("--limit must be at least 2 (pairs)")
    check_output(args.json)
    check_output(args.plot)
    methods = resolve_methods(args.model, baselines=not args.no_baselines, refine=args.refine, baseline_names=BASELINES)
    pairs = pairs_skipping_bad(args.covers, limit=args.limit)
    report = evaluate([(p.cover, p.secret) for p in pairs], methods, train_sizes=sizes, steps=args.steps,
                      seed=args.seed, progress=not args.no_progress)
    report = {"covers_dir": str(args.covers), "pair_names": [p.name for p in pairs], **report}
    print(format_table(report))
    if args.json:
        text = json.dumps(report, indent=1)
        atomic_write(args.json, lambda tmp: tmp.write_text(text + "\n"))
    if args.plot:
        plot_roc(report, args.plot)
    return 0
