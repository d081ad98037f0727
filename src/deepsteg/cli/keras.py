"""``deepsteg import-keras``: the original Keras DeepSteg weights -> a DeepSteg model file."""

from __future__ import annotations

import argparse

from deepsteg.cli.commands import help_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-keras", help=help_of("import-keras"))
    p.add_argument("folder", help="folder with encoder_model.hdf5 and reveal_model.hdf5 (or autoencoder_model.hdf5)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from deepsteg.keras_import import import_keras

    sha = import_keras(args.folder, args.output)
    print(f"wrote {args.output} (sha256 {sha})")
    return 0
