"""``deepsteg export``: a training run's checkpoint -> a .safetensors model file."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepsteg.cli.commands import help_of
from deepsteg.errors import DeepStegError
from deepsteg.methods.refine import JPEG_REFINE_COVER_WEIGHT
from deepsteg.training.export import DTYPES, export_run


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help=help_of("export"))
    p.add_argument("run_dir", help="training run folder (holds checkpoint.pt)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float16")
    p.add_argument("--default-strength", type=float, metavar="S",
                   help="a conditioned model: the strength in [0, 1] it hides with when given none (in its card)")
    p.add_argument("--default-refine", type=int, metavar="N",
                   help="the hide-time refinement steps the model hides with when given none (in its card)")
    p.add_argument("--refine-cover-weight", type=float, metavar="W",
                   help="a model trained against JPEG: the weight of the cover in its hide's refinement, beside "
                        f"the secret's 1 (in its card; default {JPEG_REFINE_COVER_WEIGHT:g}): lower spends more of the cover "
                        "on the secret")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    extra = {}
    if args.default_strength is not None:
        if not 0 <= args.default_strength <= 1:
            raise DeepStegError(f"--default-strength must be in [0, 1], got {args.default_strength:g}")
        extra["default_strength"] = args.default_strength
    if args.default_refine is not None:
        if args.default_refine < 0:
            raise DeepStegError(f"--default-refine must be >= 0, got {args.default_refine}")
        extra["default_refine"] = args.default_refine
    if args.refine_cover_weight is not None:
        if not 0 < args.refine_cover_weight <= 10:
            raise DeepStegError(f"--refine-cover-weight must be in (0, 10], got {args.refine_cover_weight:g}")
        extra["refine_cover_weight"] = args.refine_cover_weight
    sha, _ = export_run(args.run_dir, args.output, dtype=args.dtype, extra_card=extra)
    print(f"wrote {args.output} (sha256 {sha}) and its model card {Path(args.output).with_suffix('.md')}")
    return 0
