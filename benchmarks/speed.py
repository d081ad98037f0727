"""Speed of DeepSteg on this machine: training pairs/s, achieved GFLOP/s, inference latency and memory.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/speed.py               # everything, about 10 minutes on 2 cores
    .venv/bin/python benchmarks/speed.py --quick       # skips 6000x4000 and the compile mode
    .venv/bin/python benchmarks/speed.py --skip-training --models deepsteg-keyed-v1,deepsteg-inn-cond-v1
                                                       # shipped models end to end, as ratios to the first

Prints one table per part. Every speed is the median of several runs, and each is also
given as a ratio to the plain fp32 eager reference measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from deepsteg.methods import DeepModel
from deepsteg.methods.deep import bf16_supported
from deepsteg.nets import ARCHITECTURES, build_net
from deepsteg.report import cpu_name
from deepsteg.tensors import quantize_8bit
from deepsteg.training.loss import stego_loss


def median_time(fn, runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(dtype: torch.dtype, n: int = 2048, runs: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    t = median_time(lambda: a @ b, runs, warmup=2)
    return 2 * n**3 / t / 1e9


def model_macs_per_pixel(net) -> float:
    """Multiply-adds per pixel of hide + reveal."""
    return net.macs_per_pixel()


def train_step_fn(arch: str, mode: str, batch: int, crop: int):
    torch.manual_seed(0)
    net = build_net(ARCHITECTURES[arch])
    cl = "cl" in mode
    bf16 = "bf16" in mode
    fmt = torch.channels_last if cl else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    c = torch.rand(batch, 3, crop, crop).contiguous(memory_format=fmt)
    s = torch.rand(batch, 3, crop, crop).contiguous(memory_format=fmt)

    def loss_fn(c, s):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            stego = net.hide(c, s)
            revealed = net.reveal(quantize_8bit(stego))
            return stego_loss(c, stego, s, revealed, 0.75)[0]

    if "compile" in mode:
        loss_fn = torch.compile(loss_fn)

    def step():
        loss = loss_fn(c, s)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return net, step


def bench_training(archs: list[str], modes: list[str], batch: int, crop: int, runs: int) -> list[dict]:
    rows = []
    for arch in archs:
        ref = None
        for mode in modes:
            net, step = train_step_fn(arch, mode, batch, crop)
            t0 = time.perf_counter()
            step()
            first = time.perf_counter() - t0
            t = median_time(step, runs, warmup=1)
            pairs = batch / t
            gflop = 3 * 2 * model_macs_per_pixel(net) * crop * crop * batch / 1e9  # forward + 2x backward
            ref = ref or pairs
            rows.append({"arch": arch, "mode": mode, "pairs_per_s": pairs, "ratio": pairs / ref,
                         "gflops": gflop / t, "first_step_s": first})
            print(f"  train {arch:8s} {mode:22s} {pairs:7.1f} pairs/s", file=sys.stderr, flush=True)
    return rows


def inference_child(arch: str, h: int, w: int, precision: str, runs: int) -> None:
    """Run in a fresh process so peak memory (ru_maxrss) is this size's alone."""
    torch.manual_seed(0)
    model = DeepModel(build_net(ARCHITECTURES[arch]), precision=precision)
    rng = np.random.default_rng(0)
    c = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    s = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = median_time(lambda: model.reveal(model.hide(c, s)), runs, warmup=1 if runs > 1 else 0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": t, "peak_mib": peak / 1024, "base_mib": base / 1024}))


def model_child(name: str, h: int, w: int, runs: int) -> None:
    """A registered model's hide + reveal through the API (a keyed one with a passphrase), in a fresh process."""
    import deepsteg

    model = deepsteg.load_model(name, passphrase=b"benchmark passphrase", progress=False)
    rng = np.random.default_rng(0)
    c = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    s = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    t = median_time(lambda: model.reveal(model.hide(c, s)), runs, warmup=1)
    print(json.dumps({"seconds": t, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def bench_models(names: list[str], h: int, w: int, runs: int) -> list[dict]:
    """Each model's end-to-end hide + reveal of one ``w`` x ``h`` pair, interleaved: A B A B ..., the
    median of ``runs`` rounds each (each round a fresh process), as ratios to the first."""
    times: dict[str, list[float]] = {n: [] for n in names}
    peaks: dict[str, float] = {}
    for _ in range(runs):
        for n in names:
            out = subprocess.run([sys.executable, __file__, "--model-child", n, str(h), str(w), "3"],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            times[n].append(r["seconds"])
            peaks[n] = max(peaks.get(n, 0.0), r["peak_mib"])
    first = statistics.median(times[names[0]])
    return [{"model": n, "size": f"{w}x{h}", "seconds": statistics.median(times[n]),
             "ratio": statistics.median(times[n]) / first, "peak_mib": peaks[n]} for n in names]


def bench_inference(arch: str, sizes: list[tuple[int, int]], precisions: list[str], runs: int) -> list[dict]:
    """The fp32 reference runs only up to 1 megapixel (it takes minutes beyond)."""
    rows = []
    for h, w in sizes:
        ref = None
        for prec in precisions if h * w <= 1 << 20 else precisions[1:]:
            n = runs if h * w <= 1 << 20 else 1
            out = subprocess.run([sys.executable, __file__, "--child", arch, str(h), str(w), prec, str(n)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            ref = ref or (r["seconds"] if prec == "fp32" else None)
            gflop = 2 * model_macs_per_pixel(build_net(ARCHITECTURES[arch])) * h * w / 1e9
            rows.append({"arch": arch, "size": f"{w}x{h}", "precision": prec, "seconds": r["seconds"],
                         "ratio": ref / r["seconds"] if ref else float("nan"), "peak_mib": r["peak_mib"], "gflops": gflop / r["seconds"],
                         "runs": n})
            print(f"  infer {arch} {w}x{h} {prec}: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        arch, h, w, prec, runs = sys.argv[2:7]
        inference_child(arch, int(h), int(w), prec, int(runs))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--model-child":
        name, h, w, runs = sys.argv[2:6]
        model_child(name, int(h), int(w), int(runs))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip 6000x4000 and torch.compile")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--json", help="also write the rows as JSON")
    ap.add_argument("--skip-training", action="store_true", help="only the matrix products and inference")
    ap.add_argument("--designs", default="", help="inference only for these designs (comma-separated, e.g. "
                    "compact,inn) at 768x512, as ratios to the first one; default: the full tables")
    ap.add_argument("--models", default="", help="only these registered models (comma-separated) end to end at "
                    "768x512 through the API, as ratios to the first")
    a = ap.parse_args()
    if a.models:
        print(f"machine: {cpu_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
        rows = bench_models(a.models.split(","), 512, 768, a.runs)
        print(f"\nhide + reveal of one 768x512 pair through the API (median of {a.runs} rounds, interleaved)")
        print(f"{'model':24} {'seconds':>8} {'x first':>8} {'peak MiB':>9}")
        for r in rows:
            print(f"{r['model']:24} {r['seconds']:8.2f} {r['ratio']:8.2f} {r['peak_mib']:9.0f}")
        if a.json:
            Path(a.json).write_text(json.dumps({"machine": cpu_name(), "models": rows}, indent=2) + "\n")
        return
    default_prec = "bf16" if bf16_supported(torch.device("cpu")) else "fp32"
    print(f"machine: {cpu_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"python {platform.python_version()}")
    mm32, mm16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"matrix product 2048^3: fp32 {mm32:.0f} GFLOP/s, bf16 {mm16:.0f} GFLOP/s")
    modes = ["fp32 eager", "bf16 autocast", "bf16 + channels_last"] + ([] if a.quick else ["compile + bf16 + cl"])
    train = [] if a.skip_training else bench_training(["compact", "paper"], modes, a.batch, 64, a.runs)
    print(f"\ntraining step, 64x64 crops, batch {a.batch} (median of {a.runs}; default path: bf16 + channels_last)")
    print(f"{'arch':8} {'mode':22} {'pairs/s':>8} {'x fp32':>7} {'GFLOP/s':>8} {'% bf16 mm':>9} {'first step s':>12}")
    for r in train:
        print(f"{r['arch']:8} {r['mode']:22} {r['pairs_per_s']:8.1f} {r['ratio']:7.2f} {r['gflops']:8.0f} "
              f"{100 * r['gflops'] / mm16:9.0f} {r['first_step_s']:12.1f}")
    if a.designs:
        infer = [r for d in a.designs.split(",") for r in bench_inference(d, [(512, 768)], [default_prec], a.runs)]
        for r in infer:
            r["ratio"] = r["seconds"] / infer[0]["seconds"]  # here: x the first design
    else:
        sizes = [(512, 512), (512, 768), (2048, 2048)] + ([] if a.quick else [(4000, 6000)])
        infer = bench_inference("compact", sizes, ["fp32", default_prec], a.runs)
        infer += bench_inference("paper", [(512, 768)], ["fp32", default_prec], max(1, a.runs // 2))
    print("\nhide + reveal of one image pair (median; large images tile automatically)")
    ratio = "x first" if a.designs else "x fp32"
    print(f"{'arch':8} {'size':>10} {'precision':>9} {'seconds':>8} {ratio:>7} {'GFLOP/s':>8} {'peak MiB':>9} {'runs':>5}")
    for r in infer:
        print(f"{r['arch']:8} {r['size']:>10} {r['precision']:>9} {r['seconds']:8.2f} {r['ratio']:7.2f} "
              f"{r['gflops']:8.0f} {r['peak_mib']:9.0f} {r['runs']:5d}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"matmul_gflops": {"fp32": mm32, "bf16": mm16}, "training": train, "inference": infer}, f, indent=2)


if __name__ == "__main__":
    main()
