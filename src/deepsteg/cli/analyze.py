"""``deepsteg analyze`` and ``deepsteg robustness``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_protocol, add_refine, pairs_skipping_bad
from deepsteg.errors import DeepStegError
from deepsteg.evaluation.analyze import analyze_pair
from deepsteg.evaluation.robustness import format_table, plot, robustness
from deepsteg.files import atomic_write, check_output
from deepsteg.images import DEFAULT_MAX_PIXELS, read_image
from deepsteg.pairs import fit_secret
from deepsteg.registry import ROBUSTNESS_BASELINES, load_model, resolve_methods


def add_parser(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("analyze", help=help_of("analyze"),
                       description="Hide SECRET in COVER; write the images, analysis.png (magnified residuals, "
                                   "error histograms) and report.md (figures, residual/secret correlation).")
    a.add_argument("cover")
    a.add_argument("secret")
    a.add_argument("--model", help="model name or file (default: the shipped model)")
    a.add_argument("-o", "--output", required=True, help="folder to write into")
    a.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    add_refine(a)
    a.set_defaults(func=run_analyze)
    r = sub.add_parser("robustness", help=help_of("robustness"),
                       description="Distort every stego image (JPEG 95/90/75/50, Gaussian noise 1/2/5, 50% "
                                   "rescale, 10% crop) and measure the revealed secret; a table and a plot.")
    r.add_argument("--covers", required=True, help="folder of covers (alone: first half covers, second half secrets)")
    r.add_argument("--secrets")
    r.add_argument("--model", action="append", default=[], help="model name or file (repeatable)")
    r.add_argument("--no-baselines", action="store_true", help=f"leave out {', '.join(ROBUSTNESS_BASELINES)}")
    add_protocol(r)
    r.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    r.add_argument("--json", help="write the report as JSON")
    r.add_argument("--plot", help="write the plot (PNG)")
    add_refine(r)
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=run_robustness)


def run_analyze(args: argparse.Namespace) -> int:
    out = Path(args.output).resolve()
    for i in (args.cover, args.secret):
        if Path(i).resolve().parent == out:
            raise DeepStegError(f"{args.output}: analyze writes cover.png, secret.png, ... there; "
                                f"choose a folder that does not hold the input {i}")
    cover = read_image(args.cover, args.max_pixels)
    secret = fit_secret(cover, read_image(args.secret, args.max_pixels))
    result = analyze_pair(load_model(args.model, refine=args.refine), cover, secret, args.output)
    lk = result["leakage"]
    print(f"{result['method']}: cover PSNR {result['cover']['psnr']:.2f} dB, secret PSNR {result['secret']['psnr']:.2f} dB; "
          f"residual/secret luminance correlation {lk['residual_vs_secret_luma']:+.3f}; wrote {args.output}/analysis.png "
          f"and report.md")
    return 0


def run_robustness(args: argparse.Namespace) -> int:
    check_output(args.json)
    check_output(args.plot)
    methods = resolve_methods(args.model, baselines=not args.no_baselines, refine=args.refine,
                              baseline_names=ROBUSTNESS_BASELINES)
    pairs = pairs_skipping_bad(args.covers, args.secrets, limit=args.limit or None, protocol=args.protocol)
    report = robustness(methods, pairs, progress=not args.no_progress)
    print(format_table(report))
    if args.json:
        atomic_write(args.json, lambda tmp: tmp.write_text(json.dumps(report, indent=2) + "\n"))
    if args.plot:
        plot(report, args.plot)
    return 0
