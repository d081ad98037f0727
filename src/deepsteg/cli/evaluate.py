"""``deepsteg eval``: every method hides every pair; one table of figures from PNG files."""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

from deepsteg.cli.commands import help_of
from deepsteg.cli.options import add_refine
from deepsteg.evaluation import evaluate_methods
from deepsteg.evaluation.run import METRICS, format_table
from deepsteg.files import atomic_write, check_output
from deepsteg.pairs import load_pairs
from deepsteg.registry import resolve_methods


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help=help_of("eval"),
                       description="Hide every cover/secret pair with every method; stego and revealed images are "
                                   "written as 8-bit PNG files and measured after reading them back.")
    p.add_argument("--covers", required=True, help="folder of covers (alone: first half covers, second half secrets)")
    p.add_argument("--secrets", help="folder of secrets, paired with the covers in sorted order")
    p.add_argument("--model", action="append", default=[], help="model name or file (repeatable; default: the shipped model)")
    p.add_argument("--no-baselines", action="store_true", help="leave out lsb1..lsb4")
    p.add_argument("--protocol", action="store_true",
                   help="validation protocol: portrait images transposed to landscape, pairs cropped to a common size")
    p.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    p.add_argument("--out", help="keep the stego and revealed PNG files in this folder")
    p.add_argument("--json", help="write the report as JSON")
    p.add_argument("--csv", help="write the table as CSV")
    add_refine(p)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output(args.json)
    check_output(args.csv)
    methods = resolve_methods(args.model, baselines=not args.no_baselines, refine=args.refine)
    pairs = load_pairs(args.covers, args.secrets, limit=args.limit or None, protocol=args.protocol)
    if args.out:
        report = evaluate_methods(methods, pairs, args.out, progress=not args.no_progress)
    else:
        with tempfile.TemporaryDirectory(prefix="deepsteg-eval-") as tmp:
            report = evaluate_methods(methods, pairs, tmp, progress=not args.no_progress)
    print(format_table(report))
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
