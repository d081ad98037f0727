"""How well the JPEG-trace check tells decoded JPEGs from covers without traces.

    python benchmarks/jpeg_traces.py --photos ../shared/data/train --limit 200 --json results/jpeg-traces.json

Each photo is downscaled by 2 with area averaging (a cover without traces: the negatives), then
saved as a JPEG at each quality and decoded (the positives). Prints, for each kind, the range of
:func:`deepsteg.jpeg_traces.jpeg_trace` and the share flagged at the threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from deepsteg import jpeg
from deepsteg.images import read_image
from deepsteg.jpeg_traces import TRACE_THRESHOLD, jpeg_trace, prepare_cover
from deepsteg.report import text_table

QUALITIES = (50, 75, 85, 90, 95)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", required=True)
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--json")
    args = p.parse_args(argv)
    files = sorted(f for f in Path(args.photos).rglob("*") if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files = files[::max(1, len(files) // args.limit)][:args.limit]
    scores: dict[str, list[float]] = {"downscaled by 2 (clean)": []}
    scores.update({f"JPEG {q}": [] for q in QUALITIES})
    for f in files:
        clean = prepare_cover(read_image(f))
        scores["downscaled by 2 (clean)"].append(jpeg_trace(clean))
        for q in QUALITIES:
            scores[f"JPEG {q}"].append(jpeg_trace(jpeg.roundtrip(clean, q)))
    rows = [[k, f"{min(v):.3f}", f"{np.median(v):.3f}", f"{max(v):.3f}", f"{np.mean(np.array(v) > TRACE_THRESHOLD):.1%}"]
            for k, v in scores.items()]
    print(text_table(["images", "min", "median", "max", f"flagged (> {TRACE_THRESHOLD})"], rows,
                     [f"{len(files)} photos of {args.photos}"]))
    if args.json:
        Path(args.json).write_text(json.dumps({"photos": len(files), "threshold": TRACE_THRESHOLD,
                                               "scores": scores}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
