"""``deepsteg models``: list the registry."""

from __future__ import annotations

import argparse

from deepsteg.cli.commands import help_of
from deepsteg.registry import DEFAULT_MODEL, list_models


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help=help_of("models"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = [(("* " if m.name == DEFAULT_MODEL else "  ") + m.name, m.kind, "passphrase" if m.keyed else "anyone",
             m.arch or "-", m.description) for m in list_models()]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"  {'name':<{widths[0] - 2}}  {'kind':<{widths[1]}}  {'reveals':<{widths[2]}}  {'arch':<{widths[3]}}  "
          "description")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}")
    print("\n* default model. reveals: who can reveal a stego image: only the passphrase, or anyone with DeepSteg "
          "(no key is involved)")
    return 0
