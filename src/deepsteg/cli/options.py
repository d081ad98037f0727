"""Options shared by several sub-commands."""

from __future__ import annotations

import argparse

from deepsteg.methods import DEFAULT_REFINE_STEPS


def add_refine(p: argparse.ArgumentParser) -> None:
    """``--refine N``: hide-time refinement steps of deep models."""
    p.add_argument("--refine", type=int, default=DEFAULT_REFINE_STEPS, metavar="N",
                   help=f"tune each stego image with N steps against the reveal network (default {DEFAULT_REFINE_STEPS}; "
                        "0: the hiding network's output as it is, fastest)")
