"""``deepsteg models``: list the registry."""

from __future__ import annotations

import argparse

from deepsteg.cli.commands import help_of
from deepsteg.registry import DEFAULT_MODEL, available, list_models


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help=help_of("models"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = [(("* " if m.name == DEFAULT_MODEL else "  ") + m.name, m.kind, m.status if available(m) else
             "superseded, not installed", "passphrase" if m.keyed else "anyone", m.arch or "-", m.description)
            for m in list_models()]
    heads = ("name", "kind", "status", "reveals", "arch")
    widths = [max(len(r[i]) for r in rows) for i in range(len(heads))]
    print("  " + "  ".join(f"{h:<{w - (2 if i == 0 else 0)}}" for i, (h, w) in enumerate(zip(heads, widths)))
          + "  description")
    for r in rows:
        print("  ".join(f"{v:<{w}}" for v, w in zip(r, widths)) + f"  {r[-1]}")
    print("\n* default model. reveals: who can reveal a stego image: only the passphrase, or anyone with DeepSteg "
          "(no key is involved). A superseded model's weights are in DeepSteg's source repository (models/), "
          "not in the installed package.")
    return 0
