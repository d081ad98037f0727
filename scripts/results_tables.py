"""The docs' result tables, made from the JSON files the commands write into results/.

A table in README.md or docs/*.md that comes from results sits between two markers::

    <!-- results {"table": "eval", "files": {"default, one pass": "results/eval-keyed-default.json"}} -->
    | ... the table ... |
    <!-- /results -->

The opening marker names the kind of table and its files (a list, or labels to files, which
add a first column). ``python scripts/results_tables.py`` rewrites every such table from its
files; ``--check`` only says which differ and exits 1 if any does (tests/test_docs.py runs it).

Kinds: ``eval`` (``deepsteg eval --json``), ``robustness`` (``deepsteg robustness --json``),
``attacks`` and ``residual`` (``benchmarks/key_attack.py --out``), ``speed-cli`` and
``speed-passes`` (``benchmarks/speed.py --json``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"(<!-- results (?P<spec>\{.*?\}) -->\n)(?P<table>.*?)(<!-- /results -->)", re.S)


def _db(x: float | None) -> str:
    return "fail" if x is None else f"{x:.2f} dB"


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def _eval(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["method", "cover PSNR", "secret PSNR", "secret SSIM", "worst secret", "LSB margin"]
    rows = [[f"`{r['method']}`", _db(r["cover"]["psnr"]), _db(r["secret"]["psnr"]), f"{r['secret']['ssim']:.4f}",
             _db(r["worst_secret_psnr"]), "-" if r.get("lsb_margin") is None else f"{r['lsb_margin']:+.2f} dB"]
            for r in report["results"]]
    return header, rows


def _robustness(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    names = {"none": "PNG", "jpeg95": "JPEG 95", "jpeg90": "JPEG 90", "jpeg75": "JPEG 75", "jpeg50": "JPEG 50",
             "noise1": "noise 1", "noise2": "noise 2", "noise5": "noise 5", "rescale50": "rescale 50%",
             "crop10": "crop 10%"}
    ds = report["distortions"]
    rows = []
    for r in report["results"]:
        cells = [f"`{r['method']}`", _db(r["cover_psnr"])]
        for d in ds:
            failed = r["failures"].get(d, 0)
            cells.append(_db(r["secret_psnr"][d]) + (f" ({failed} of {report['pairs']} fail)"
                                                      if failed and r["secret_psnr"][d] is not None else ""))
        rows.append(cells)
    return ["method", "cover", *(names.get(d, d) for d in ds)], rows


def _attacks(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    attacks = report["attacks"]
    chance = next(v["ssim"] for k, v in attacks.items() if k.startswith("chance: --force"))
    rows = [[name, _db(v["psnr"]), f"{v['ssim']:.4f}", f"{v['ssim'] - chance:+.4f}"] for name, v in attacks.items()]
    return ["attack", "secret PSNR", "secret SSIM", "SSIM above chance (a forced reveal of a clean photo)"], rows


def _residual(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [[f"`{r['model']}`", r["residual"], f"{r['secret_edges']:.3f}", f"{r['unrelated_edges']:.3f}",
             f"{r['excess']:+.3f}"] for r in report["residual"]]
    return ["model", "residual against", "with the secret's edges", "with an unrelated photo's", "excess"], rows


def _speed_cli(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    base = {r["size"]: r["hide_s"] + r["reveal_s"] for r in report["cli"] if r["method"] == "default"}
    rows = []
    for r in report["cli"]:
        total = r["hide_s"] + r["reveal_s"]
        label = f"default (`{r['model']}`)" if r["method"] == "default" else r["method"].replace(
            r["model"], f"`{r['model']}`", 1)
        rows.append([label, r["size"], f"{r['hide_s']:.1f}", f"{r['reveal_s']:.1f}", f"{total:.1f}",
                     f"{total / base[r['size']]:.2f}", f"{r['peak_mib']:,.0f}", f"{100 * r['sys_share']:.0f}%"])
    return ["method", "size", "hide s", "reveal s", "total s", "x default", "peak MiB", "kernel share of CPU"], rows


def _speed_passes(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [[r["step"], r["size"], f"{r['seconds']:.2f}", f"{r['s_per_mp']:.2f}", f"{r['gflops']:.0f}",
             f"{100 * r['peak_share']:.0f}"] for r in report["passes"]]
    return ["inference", "size", "seconds", "s / MP", "GFLOP/s", "% of peak"], rows


KINDS: dict[str, Callable[[dict[str, Any]], tuple[list[str], list[list[str]]]]] = {
    "eval": _eval, "robustness": _robustness, "attacks": _attacks, "residual": _residual,
    "speed-cli": _speed_cli, "speed-passes": _speed_passes,
}


def render(spec: dict[str, Any]) -> str:
    """The markdown table a marker's ``spec`` names: its kind's rows from each file in turn,
    behind the file's label where the files are labelled."""
    files = spec["files"]
    labelled = isinstance(files, dict)
    header: list[str] = []
    rows: list[list[str]] = []
    for label, path in (files.items() if labelled else ((None, f) for f in files)):
        header, part = KINDS[spec["table"]](json.loads((ROOT / path).read_text()))
        rows += [[label, *r] if labelled else r for r in part]
    return _markdown((["hide"] if labelled else []) + header, rows)


def update(text: str) -> str:
    """``text`` with every marked table made afresh from its files."""
    return MARKED.sub(lambda m: m.group(1) + render(json.loads(m.group("spec"))) + m.group(4), text)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table differs from its files")
    args = ap.parse_args()
    stale = []
    for doc in documents():
        text = doc.read_text()
        fresh = update(text)
        if fresh != text:
            stale.append(doc.relative_to(ROOT))
            if not args.check:
                doc.write_text(fresh)
    for doc in stale:
        print(f"{doc}: {'differs from' if args.check else 'rewritten from'} its results files")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
