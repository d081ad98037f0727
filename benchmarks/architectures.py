"""Architecture bake-off at equal compute: which design learns to hide best per second of training?

Run by hand (never in CI), one design at a time on the whole machine::

    .venv/bin/python benchmarks/architectures.py --data ../shared/data/train --val ../shared/data/val \\
        --designs compact,s2d --minutes 40

Every design gets the same photos, 64x64 crops, seed (hence the same batches), optimiser
recipe and the same training budget in wall-clock time. The budget is turned into a step
count per design before its run: a short pilot (``--pilot-steps``, compilation excluded)
measures the design's pairs/s, and the run gets ``minutes * 60 * pairs/s`` pairs, so a
design's result does not depend on what else the machine did during its run. The run is
validated on the validation protocol (``--val-pairs`` pairs, 50 by default: the stego image
through an 8-bit PNG and back) at ``--points`` equally spaced points of its budget.

Runs live under ``--out`` and resume after an interruption; each finished design is added to
``--results`` (JSON), so the bake-off can be spread over several sittings. At the end the
script prints a table of every finished design (parameters, multiply-adds per pixel, pairs/s,
cover / secret PSNR and LSB margin at each point) and draws the learning curves
(``--plot``). ``--report`` only prints and draws what ``--results`` holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

import torch

from deepsteg.nets import ARCHITECTURES, build_net
from deepsteg.report import cpu_name
from deepsteg.training import TrainConfig, train
from deepsteg.training.checkpoint import checkpoint_path

#: The recipe every design trains with (beyond data, steps and validation).
RECIPE = dict(batch=16, crop=64, beta=0.5, lr=5e-4, warmup=200, schedule="cosine", min_lr_ratio=0.02,
              clip_grad=0.5, seed=0)


def pilot_rate(design: str, args: argparse.Namespace) -> float:
    """Median training pairs/s of ``design`` over a short run, after its first (compiling) log interval."""
    out = Path(args.out) / f"{design}-pilot"
    shutil.rmtree(out, ignore_errors=True)
    cfg = TrainConfig(data=args.data, out=str(out), arch=design, steps=args.pilot_steps, log_every=10,
                      val_every=10**9, ckpt_every=10**9, **RECIPE)
    train(cfg, progress=False)
    rates = [r["pairs_per_s"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())
             if r.get("kind") == "train"][1:]
    shutil.rmtree(out, ignore_errors=True)
    return statistics.median(rates)


def run_design(design: str, args: argparse.Namespace) -> dict:
    """Pilot (once), then train ``design`` for its budget, resuming if interrupted; its result row."""
    out = Path(args.out) / design
    out.mkdir(parents=True, exist_ok=True)
    pilot_file = out / "pilot.json"
    if not pilot_file.exists():
        pilot_file.write_text(json.dumps({"pairs_per_s": pilot_rate(design, args)}))
    rate = json.loads(pilot_file.read_text())["pairs_per_s"]
    steps = max(args.points, round(args.minutes * 60 * rate / RECIPE["batch"]))
    steps -= steps % args.points
    cfg = TrainConfig(data=args.data, val=args.val, out=str(out), arch=design, steps=steps,
                      val_every=steps // args.points, val_pairs=args.val_pairs, ckpt_every=250, log_every=20,
                      **RECIPE)
    print(f"{design}: {rate:.1f} pairs/s in the pilot -> {steps} steps for {args.minutes} min", file=sys.stderr)
    history = train(cfg, resume=checkpoint_path(out).exists(), progress=not args.no_progress)
    if history.get("interrupted"):
        raise SystemExit(130)
    net = build_net(ARCHITECTURES[design])
    return {"design": design, "arch": json.loads(net.cfg.to_json()),
            "parameters": sum(p.numel() for p in net.parameters()), "macs_per_pixel": net.macs_per_pixel(),
            "pilot_pairs_per_s": rate, "steps": steps, "minutes": args.minutes, "recipe": RECIPE,
            "training_seconds": history["seconds"], "val": history["val"],
            "cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__}


def print_table(rows: list[dict]) -> None:
    points = max(len(r["val"]) for r in rows)
    head = f"{'design':10} {'params':>9} {'MACs/px':>8} {'pairs/s':>7} " + " ".join(
        f"{f'point {i + 1}: cover / secret, margin':>30}" for i in range(points))
    print(head)
    for r in rows:
        cells = " ".join(f"{v['cover_psnr']:6.2f} / {v['secret_psnr']:5.2f} dB, {v['lsb_margin']:+6.2f} dB"
                         .rjust(30) for v in r["val"])
        print(f"{r['design']:10} {r['parameters']:9,} {r['macs_per_pixel']:8,.0f} {r['pilot_pairs_per_s']:7.1f} {cells}")
    r0 = rows[0]
    print(f"\n{r0['minutes']} min per design at its pilot speed; recipe {json.dumps(r0['recipe'])}; "
          f"validation: {r0['val'][-1]['pairs']} protocol pairs, 8-bit PNG stego; {r0['cpu']}, {r0['threads']} threads, "
          f"torch {r0['torch']}")


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for r in rows:
        minutes = [v["step"] / r["steps"] * r["minutes"] for v in r["val"]]
        for ax, key in zip(axes, ("cover_psnr", "secret_psnr", "lsb_margin")):
            ax.plot(minutes, [v[key] for v in r["val"]], marker="o", label=r["design"])
    for ax, title in zip(axes, ("cover PSNR (dB)", "secret PSNR (dB)", "LSB margin (dB)")):
        ax.set_title(title)
        ax.set_xlabel("training minutes (at pilot speed)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"curves: {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="training photos")
    ap.add_argument("--val", help="validation photos (the protocol's folder)")
    ap.add_argument("--designs", default="compact,s2d", help=f"comma-separated, from {sorted(ARCHITECTURES)}")
    ap.add_argument("--minutes", type=float, default=40.0, help="training budget per design")
    ap.add_argument("--points", type=int, default=4, help="validations per run, equally spaced")
    ap.add_argument("--val-pairs", type=int, default=50)
    ap.add_argument("--pilot-steps", type=int, default=80)
    ap.add_argument("--out", default="runs/architectures", help="run folders (resumable)")
    ap.add_argument("--results", default="docs/architectures.json")
    ap.add_argument("--plot", default="docs/architectures.png")
    ap.add_argument("--report", action="store_true", help="only print and plot the results file")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("DEEPSTEG_NO_TENSORBOARD", "1")
    results = Path(args.results)
    rows = json.loads(results.read_text()) if results.exists() else []
    if not args.report:
        if not (args.data and args.val):
            ap.error("--data and --val are needed to train (or pass --report)")
        for design in args.designs.split(","):
            if design not in ARCHITECTURES:
                ap.error(f"unknown design {design!r}; one of {sorted(ARCHITECTURES)}")
            row = run_design(design, args)
            rows = [r for r in rows if r["design"] != design] + [row]
            results.write_text(json.dumps(rows, indent=1) + "\n")
    if rows:
        print_table(rows)
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
