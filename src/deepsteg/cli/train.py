"""``deepsteg train``: train the Baluja networks on a folder of images."""

from __future__ import annotations

import argparse
import dataclasses

from deepsteg.cli.commands import help_of
from deepsteg.errors import DeepStegError
from deepsteg.nets import ARCHITECTURES
from deepsteg.training import TrainConfig, train
from deepsteg.training.config import SCHEDULES

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help=help_of("train"),
                       description="Train prep, hiding and reveal networks on random cover/secret crops.")
    p.add_argument("--data", required=True, help="folder of training images (searched recursively)")
    p.add_argument("--val", help="folder of validation images (protocol pairs: i and i + n/2)")
    p.add_argument("--out", required=True, help="run folder: checkpoint, log.jsonl, curves.png")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint.pt")
    p.add_argument("--init", metavar="MODEL",
                   help="start from the weights of an exported model (registry name or .safetensors file), "
                        "with a fresh optimizer (a resumed run keeps the weights of its checkpoint)")
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), default=_DEFAULTS["arch"],
                   help="the network design (docs/architectures.md): compact (deepsteg-compact-v11's), paper, "
                        "s2d (Baluja's networks on 2x2 pixel blocks), inn (invertible, Haar domain), inn-cond "
                        "(inn conditioned on a strength, the default model's; needs --beta-range), dither-flat-30 "
                        "(deepsteg-robust-v4's, with --distort jpeg)")
    for name, typ, hlp in (
        ("steps", int, "total optimizer steps"), ("batch", int, "pairs per step"),
        ("crop", int, "crop size in pixels"), ("beta", float, "weight of the secret loss"),
        ("lr", float, "peak learning rate (Adam)"), ("warmup", int, "linear warm-up steps"),
        ("decay-steps", int, "wsd schedule: linear decay over the last N steps"),
        ("seed", int, "random seed"), ("noise", float, "Gaussian noise std on the stego (0-255 scale)"),
        ("clip-grad", float, "clip the global gradient norm to this before each step (0: off)"),
        ("lowfreq", float, "weight of the cover's 8x8 block-mean colour error in the loss (0: off)"),
        ("secret-power", float, "weigh each pair's secret error by itself to minus this, 0-1: 0 the paper's loss, "
                                "1 the mean PSNR's gradient"),
        ("saturate", float, "share of covers given patches of saturated colour, 0-1"),
        ("val-every", int, "validate every N steps"),
        ("diverge", float, "stop the run when a validation loss is this many times its best so far: it has "
                           "diverged (0: never)"), ("val-pairs", int, "validation pairs"),
        ("ckpt-every", int, "checkpoint every N steps"), ("log-every", int, "log every N steps"),
        ("threads", int, "torch threads (0: default)"),
    ):
        key = name.replace("-", "_")
        p.add_argument(f"--{name}", type=typ, default=_DEFAULTS[key], help=f"{hlp} (default {_DEFAULTS[key]})")
    p.add_argument("--schedule", choices=SCHEDULES, default=_DEFAULTS["schedule"],
                   help="cosine decay, constant, or wsd (constant, then a linear decay at the end; a long run "
                        "can be resumed in a copy with more steps to decay, while the original goes on)")
    p.add_argument("--beta-range", default=_DEFAULTS["beta_range"], metavar="LO,HI",
                   help="a conditioned --arch (inn-cond): each sample's strength s in [0, 1] weighs its "
                        "secret error by LO * (HI / LO) ** s (instead of --beta)")
    p.add_argument("--distort", default=_DEFAULTS["distort"], metavar="jpeg,noise,resize",
                   help="mix these distortions into the channel, one per sample (Pillow's JPEG at quality 50-95 "
                        "with a differentiable stand-in's gradient, noise up to 2 grey levels, rescaling to "
                        "0.5-1x); needs kornia (the train extra)")
    p.add_argument("--jpeg-quality", default=_DEFAULTS["jpeg_quality"], metavar="LO,HI",
                   help="the qualities --distort jpeg draws from, uniformly per sample (default "
                        f"{_DEFAULTS['jpeg_quality']})")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=_DEFAULTS["precision"],
                   help="auto: bf16 autocast where the CPU has it (default)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=_DEFAULTS["compile"],
                   help="torch.compile the training step: about 20 s once, then faster than eager "
                        "(benchmarks/speed.py; default: on)")
    p.add_argument("--scramble", action="store_true",
                   help="train a keyed model: every secret is hidden scrambled by a random key, as a hide with a "
                        "passphrase scrambles it (deepsteg.methods.scramble)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    try:
        cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in fields})
    except ValueError as e:
        raise DeepStegError(str(e)) from None
    history = train(cfg, resume=args.resume, progress=not args.no_progress)
    return 130 if history.get("interrupted") else 0
