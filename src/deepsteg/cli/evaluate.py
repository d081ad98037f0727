"""``deepsteg eval``: every method hides every pair; one table of figures from PNG files."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import tempfile
from pathlib import Path

from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_protocol, add_refine, pairs_skipping_bad
from deepsteg.errors import DeepStegError
from deepsteg.evaluation import evaluate_methods
from deepsteg.evaluation.run import METRICS, format_table
from deepsteg.evaluation.sweep import DEFAULT_TARGETS, plot_sweep, sweep
from deepsteg.files import atomic_write, check_output
from deepsteg.methods import LSB, HidingMethod
from deepsteg.registry import resolve_methods


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help=help_of("eval"),
                       description="Hide every cover/secret pair with every method; stego and revealed images are "
                                   "written as 8-bit PNG files and measured after reading them back.")
    p.add_argument("--covers", required=True, help="folder of covers (alone: first half covers, second half secrets)")
    p.add_argument("--secrets", help="folder of secrets, paired with the covers in sorted order")
    p.add_argument("--model", action="append", default=[], help="model name or file (repeatable; default: the shipped model)")
    p.add_argument("--no-baselines", action="store_true", help="leave out lsb1..lsb4")
    add_protocol(p)
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    p.add_argument("--out", help="keep the stego and revealed PNG files in this folder")
    p.add_argument("--json", help="write the report as JSON")
    p.add_argument("--csv", help="write the table as CSV")
    p.add_argument("--cover-psnr", type=float, metavar="DB",
                   help="every method hides each pair at this cover PSNR (conditioned models search their strength, "
                        "the LSB baselines pick their bits per image, codec-lsbm its rate)")
    p.add_argument("--sweep", action="store_true",
                   help="conditioned models at each of --targets, other models once, the LSB baselines as the "
                        "frontier line; draws --plot")
    p.add_argument("--targets", default=",".join(f"{t:g}" for t in DEFAULT_TARGETS), metavar="DB,DB,...",
                   help="cover PSNR targets of --sweep (default %(default)s)")
    p.add_argument("--plot", help="--sweep: write the picture of the trade-off here (PNG)")
    add_refine(p)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _targets(text: str) -> tuple[float, ...]:
    try:
        targets = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise DeepStegError(f"--targets must be numbers in dB separated by commas, got {text!r}") from None
    if not targets or not all(0 < t < 100 for t in targets):
        raise DeepStegError(f"--targets must be cover PSNRs between 0 and 100 dB, got {text!r}")
    return targets


def _methods(args: argparse.Namespace) -> list[HidingMethod]:
    """The methods to run; with --cover-psnr, the LSB baselines as one (its bits chosen per image)
    and every method able to aim at a cover PSNR."""
    methods = resolve_methods(args.model, baselines=not args.no_baselines, refine=args.refine)
    if args.cover_psnr is None:
        return methods
    lsb = [m for m in methods if isinstance(m, LSB)]
    methods = [m for m in methods if not isinstance(m, LSB) or m is lsb[0]]
    fixed = [m.label for m in methods if not m.targetable]
    if fixed:
        raise DeepStegError(f"--cover-psnr: {', '.join(fixed)} hide(s) at one fixed strength; a model conditioned "
                            "on a strength, an LSB baseline or codec-lsbm can aim at a cover PSNR")
    return methods


def run(args: argparse.Namespace) -> int:
    check_output(args.json)
    check_output(args.csv)
    check_output(args.plot, suffixes=(".png",))
    if args.sweep and args.cover_psnr is not None:
        raise DeepStegError("--sweep runs its own --targets: leave out --cover-psnr")
    if args.cover_psnr is not None and not 0 < args.cover_psnr < 100:
        raise DeepStegError(f"--cover-psnr must be between 0 and 100 dB, got {args.cover_psnr:g}")
    targets = _targets(args.targets) if args.sweep else ()
    methods = _methods(args)
    pairs = pairs_skipping_bad(args.covers, args.secrets, limit=args.limit or None, protocol=args.protocol)
    with contextlib.ExitStack() as stack:
        out = args.out or stack.enter_context(tempfile.TemporaryDirectory(prefix="deepsteg-eval-"))
        if args.sweep:
            report = sweep(methods, pairs, out, targets, progress=not args.no_progress)
        else:
            report = evaluate_methods(methods, pairs, out, progress=not args.no_progress, cover_psnr=args.cover_psnr)
    print(format_table(report))
    if args.plot and args.sweep:
        plot_sweep(report, args.plot)
        print(f"plot: {args.plot}")
    if args.json:
        atomic_write(args.json, lambda tmp: tmp.write_text(json.dumps(report, indent=2) + "\n"))
    if args.csv:
        def write_csv(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["method"] + [f"{part}_{k}" for part in ("cover", "secret") for k in METRICS]
                           + ["worst_secret_psnr", "lsb_margin", "seconds"])
                for r in report["results"]:
                    w.writerow([r["method"]] + [f"{r[part][k]:.6g}" for part in ("cover", "secret") for k in METRICS]
                               + [f"{r['worst_secret_psnr']:.6g}", f"{r['lsb_margin']:.6g}", f"{r['seconds']:.3f}"])
        atomic_write(args.csv, write_csv)
    return 0
