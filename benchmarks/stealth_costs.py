"""The stealth mode's bake-off: which costs and colour strategy the warden's rich model finds hardest.

    python benchmarks/stealth_costs.py --covers ../shared/data/train --limit 400 --train-pairs 250 \
        --payload 0.1 --cache warden/ --json results/stealth-costs.json

Each variant hides the same pairs of covers without JPEG traces (``deepsteg detect --rich``'s
protocol on the first ``--limit`` photos) at one payload; CRM + FLD is trained on ``--train-pairs``
pairs and tested on the rest. A payload above the default separates the variants more clearly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepsteg.methods.stealth import Stealth
from deepsteg.steganalysis.warden import format_warden, run_warden, trace_free_covers

PASSPHRASE = b"bake-off passphrase"


def variants(payload: float) -> dict[str, Stealth]:
    """HILL with the channels' moves kept together (the default), HILL channel by channel, S-UNIWARD kept together."""
    return {
        f"hill+colour-sync-{payload:g}": Stealth(PASSPHRASE, payload=payload),
        f"hill+independent-{payload:g}": Stealth(PASSPHRASE, payload=payload, colour_sync=1.0),
        f"s-uniward+colour-sync-{payload:g}": Stealth(PASSPHRASE, payload=payload, costs="s-uniward"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--covers", required=True, action="append")
    p.add_argument("--limit", type=int, default=400)
    p.add_argument("--train-pairs", type=int, default=250)
    p.add_argument("--payload", type=float, default=0.1)
    p.add_argument("--cache", required=True)
    p.add_argument("--json", required=True)
    args = p.parse_args(argv)
    covers = trace_free_covers(args.covers, limit=args.limit)
    report = run_warden(covers, variants(args.payload), args.train_pairs, cache=Path(args.cache))
    print(format_warden(report))
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
