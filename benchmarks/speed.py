"""Speed of DeepSteg on this machine: a photo hidden and revealed, inference, training, and memory.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/speed.py               # the photo tables, about 10 minutes on 2 cores
    .venv/bin/python benchmarks/speed.py --quick       # the same without the slow baselines at 4000x3000
    .venv/bin/python benchmarks/speed.py --training    # training steps and the designs' inference (older tables)
    .venv/bin/python benchmarks/speed.py --models deepsteg-keyed-v1,deepsteg-inn-cond-v1
                                                       # shipped models end to end, as ratios to the first

The photo tables (default): the default model's ``deepsteg hide`` and ``deepsteg reveal`` as a user
runs them (fresh processes, PNG files) at 768x512 and 4000x3000, beside ``codec-lsbm`` and the
previous default (``deepsteg-inn-cond-v1``) through the path it took before inference was folded
(its training code under bf16 autocast in 384-pixel tiles, PNGs at zlib level 6); one network pass
of each inference step (GFLOP/s, and its share of this machine's measured matrix-product peak);
and PNG reading and writing. Every figure is the median of several runs, all in one run of this
script, so ratios between rows hold on a noisy machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

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


def matmul_peak(dtype: torch.dtype) -> float:
    """The machine's matrix-product peak in ``dtype``: the best of several products of 2048 and 4096."""
    return max(matmul_gflops(dtype, n, runs=3) for n in (2048, 4096, 2048, 4096))


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

# ---- the photo tables -------------------------------------------------------------------------

PHOTO_SIZES = [(512, 768), (3000, 4000)]
PREVIOUS = "deepsteg-inn-cond-v1"
PASSPHRASE = "benchmark passphrase"
#: DeepSteg's CLI (``python -m deepsteg``), writing its peak memory where the benchmark reads it:
#: VmHWM, this process image's own high-water mark (``ru_maxrss`` would also count the memory of
#: the benchmark that forked it).
CLI = """
import sys
from deepsteg.cli.main import main
def peak():
    with open("/proc/self/status") as f:
        return next(line.split()[1] for line in f if line.startswith("VmHWM"))
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(peak())
sys.exit(code)
"""
#: The previous default's path: that CLI with the training code's inference (bf16 autocast,
#: 384-pixel tiles) and Pillow's default PNG level; "as it was" also with glibc's default malloc
#: settings (before :func:`deepsteg.malloc.keep_working_memory`).
PREVIOUS_NETWORK = """
import deepsteg.images, deepsteg.methods.deep as deep
deepsteg.images.PNG_COMPRESS_LEVEL = 6
folded_init = deep.DeepModel.__init__
def init(self, *args, **kwargs):
    folded_init(self, *args, **kwargs, fold=False)
deep.DeepModel.__init__ = init
"""
PREVIOUS_PATH = PREVIOUS_NETWORK + """
import deepsteg.cli.hide_reveal
deepsteg.cli.hide_reveal.keep_working_memory = lambda: None
"""


def photo(h: int, w: int, seed: int) -> np.ndarray:
    """A photo-like ``h x w`` image: one of scikit-image's photos resized (bicubic) with a little
    sensor-like noise (sigma 2 levels), so PNG files weigh what camera photos do."""
    from PIL import Image
    from skimage import data

    source = (data.coffee, data.astronaut, data.chelsea, data.rocket)[seed % 4]()
    image = np.asarray(Image.fromarray(source).resize((w, h), Image.BICUBIC), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, image.shape)
    return np.clip(image + noise, 0, 255).round().astype(np.uint8)


def run_cli(command: list[str], path: str) -> dict:
    """One command in a fresh process: wall seconds, peak memory (MiB), user and system CPU seconds."""
    env = {**os.environ, "DEEPSTEG_PASSPHRASE": PASSPHRASE}
    script = {"previous": PREVIOUS_PATH, "previous network": PREVIOUS_NETWORK}.get(path, "") + CLI
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        hwm = Path(tmp) / "hwm"
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", script, str(hwm), *command], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed: {err.read().decode()[-2000:]}")
        peak_kib = int(hwm.read_text())
    return {"seconds": seconds, "peak_mib": peak_kib / 1024, "user": usage.ru_utime, "sys": usage.ru_stime}


def bench_cli(folder: Path, methods: list[tuple[str, str, str]], sizes: list[tuple[int, int]], runs: int,
              skip_slow: bool) -> list[dict]:
    """``deepsteg hide`` then ``deepsteg reveal`` of one pair per size, for each ``(label, model, path)``,
    interleaved over ``runs`` rounds (the slow baselines at 4000x3000 once)."""
    rows = []
    for h, w in sizes:
        cover, secret = folder / f"cover-{w}x{h}.png", folder / f"secret-{w}x{h}.png"
        Image.fromarray(photo(h, w, 0)).save(cover)
        Image.fromarray(photo(h, w, 1)).save(secret)
        runs_of = {label: runs if label == "default" or h * w < 1 << 20 else 1 for label, _, _ in methods}
        if skip_slow and h * w >= 1 << 20:
            runs_of = {label: n for label, n in runs_of.items() if label == "default"}
        results: dict[str, list[tuple[dict, dict]]] = {label: [] for label in runs_of}
        for r in range(max(runs_of.values())):
            for label, model, path in methods:
                if r >= runs_of.get(label, 0):
                    continue
                stego, revealed = folder / f"{label}-stego.png", folder / f"{label}-revealed.png"
                hide = run_cli(["hide", str(cover), str(secret), "-o", str(stego), "--model", model], path)
                reveal = run_cli(["reveal", str(stego), "-o", str(revealed), "--model", model], path)
                results[label].append((hide, reveal))
                print(f"  cli {label} {w}x{h}: {hide['seconds']:.1f} + {reveal['seconds']:.1f} s", file=sys.stderr, flush=True)
        for label, model, _ in methods:
            if label not in results:
                continue
            hides, reveals = [x[0] for x in results[label]], [x[1] for x in results[label]]
            cpu = sum(x["user"] + x["sys"] for x in hides + reveals)
            rows.append({"method": label, "model": model, "size": f"{w}x{h}", "runs": len(hides),
                         "hide_s": statistics.median(x["seconds"] for x in hides),
                         "reveal_s": statistics.median(x["seconds"] for x in reveals),
                         "peak_mib": max(x["peak_mib"] for x in hides + reveals),
                         "sys_share": sum(x["sys"] for x in hides + reveals) / cpu})
    return rows


def pass_variants(model, bf16: bool) -> dict[str, DeepModel]:
    """One hide pass of each inference step: ``label -> DeepModel`` (the default model's weights);
    the bf16 steps only where the CPU runs bf16 natively (elsewhere it is emulated, and slow)."""
    net, card = model.net, model.card
    variants = {"training code, fp32, 384 tiles": DeepModel(net, card=card, precision="fp32", fold=False)}
    if bf16:
        variants["training code, bf16 autocast, 384 tiles"] = DeepModel(net, card=card, precision="bf16", fold=False)
    variants["folded, fp32, strips"] = DeepModel(net, card=card, precision="fp32")
    if bf16:
        variants["folded, bf16, strips, unfused"] = DeepModel(net, card=card, precision="bf16")
        variants["folded, bf16, strips, fused (default)"] = DeepModel(net, card=card, precision="bf16")
    return variants


def one_pass_seconds(model, h: int, w: int, runs: int, fused: bool = True) -> float:
    """Median seconds of the network's hide pass on an ``h x w`` pair (float tensors in, float out)."""
    import deepsteg.nets.folded as folded

    rng = np.random.default_rng(0)
    cover, secret = photo(h, w, 0), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    available = folded.fused_convolutions
    folded.fused_convolutions = (lambda device, dtype: available(device, dtype) and fused)
    try:
        model._folded.clear()
        fn = model._hide_fn()
        return median_time(lambda: model._apply(fn, [cover, secret], model.hide_margin, raw=True), runs)
    finally:
        folded.fused_convolutions = available
        model._folded.clear()


def bench_passes(model, peak: float, sizes: list[tuple[int, int]], step_size: tuple[int, int], runs: int) -> list[dict]:
    """The default model's hide pass: each inference step at ``step_size``, the default at every size."""
    flop_per_pixel = model.net.macs_per_pixel()  # 2 FLOP a multiply-add, half of hide + reveal
    rows = []
    h, w = step_size
    for label, variant in pass_variants(model, bf16_supported(torch.device("cpu"))).items():
        t = one_pass_seconds(variant, h, w, runs, fused="unfused" not in label)
        rows.append({"step": label, "size": f"{w}x{h}", "seconds": t})
    for h, w in sizes:
        t = one_pass_seconds(DeepModel(model.net, card=model.card), h, w, runs)  # the default precision
        rows.append({"step": "default", "size": f"{w}x{h}", "seconds": t})
    for r in rows:
        w_, h_ = (int(v) for v in r["size"].split("x"))
        r["s_per_mp"] = r["seconds"] / (w_ * h_ / 1e6)
        r["gflops"] = flop_per_pixel * w_ * h_ / r["seconds"] / 1e9
        r["peak_share"] = r["gflops"] / peak
        print(f"  pass {r['step']} {r['size']}: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
    return rows


def bench_png(image: np.ndarray, runs: int) -> list[dict]:
    """Reading and writing a PNG of ``image`` at zlib levels 6 (Pillow's default) and DeepSteg's."""
    from deepsteg.images import PNG_COMPRESS_LEVEL

    rows = []
    for level in (6, PNG_COMPRESS_LEVEL):
        buf = io.BytesIO()

        def write(buf=buf, level=level):
            buf.seek(0)
            buf.truncate()
            Image.fromarray(image).save(buf, format="PNG", compress_level=level)

        t_write = median_time(write, runs)
        data = buf.getvalue()
        t_read = median_time(lambda data=data: np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), runs)
        rows.append({"level": level, "write_s": t_write, "read_s": t_read, "mb": len(data) / 1e6})
    return rows


def photo_tables(a: argparse.Namespace) -> None:
    import deepsteg
    from deepsteg.malloc import keep_working_memory

    keep_working_memory()  # as deepsteg hide and reveal do: the one-pass rows measure their network

    bf16 = bf16_supported(torch.device("cpu"))
    peak = matmul_peak(torch.bfloat16 if bf16 else torch.float32)
    print(f"machine: {cpu_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
          f"matrix-product peak ({'bf16' if bf16 else 'fp32'}): {peak:.0f} GFLOP/s")
    model = deepsteg.load_model(passphrase=PASSPHRASE.encode(), progress=False)
    methods = [("default", model.name, "current"), ("codec-lsbm", "codec-lsbm", "current"),
               (f"{PREVIOUS}, its path as it was", PREVIOUS, "previous"),
               (f"{PREVIOUS}, its network, today's malloc", PREVIOUS, "previous network")]
    with tempfile.TemporaryDirectory() as tmp:
        cli = bench_cli(Path(tmp), methods, PHOTO_SIZES, a.runs, a.quick)
        stego = np.asarray(Image.open(Path(tmp) / "default-stego.png").convert("RGB"))
    print(f"\nCLI, fresh processes, PNG files (median of the runs; {model.name} with a passphrase)")
    print(f"{'method':40} {'size':>10} {'hide s':>7} {'reveal s':>8} {'total s':>7} {'x default':>9} "
          f"{'peak MiB':>8} {'sys CPU':>7} {'runs':>4}")
    for r in cli:
        base = next(x for x in cli if x["method"] == "default" and x["size"] == r["size"])
        total = r["hide_s"] + r["reveal_s"]
        print(f"{r['method']:40} {r['size']:>10} {r['hide_s']:7.1f} {r['reveal_s']:8.1f} {total:7.1f} "
              f"{total / (base['hide_s'] + base['reveal_s']):9.1f} {r['peak_mib']:8.0f} {100 * r['sys_share']:6.0f}% "
              f"{r['runs']:4d}")
    passes = bench_passes(model, peak, PHOTO_SIZES, (1024, 1536), a.runs)
    print(f"\none hide pass of {model.name}'s network (float tensors in and out; median of {a.runs})")
    print(f"{'inference':40} {'size':>10} {'seconds':>8} {'s / MP':>7} {'GFLOP/s':>8} {'% of peak':>9}")
    for r in passes:
        print(f"{r['step']:40} {r['size']:>10} {r['seconds']:8.2f} {r['s_per_mp']:7.2f} {r['gflops']:8.0f} "
              f"{100 * r['peak_share']:9.0f}")
    png = bench_png(stego, a.runs)
    print(f"\nPNG of the {stego.shape[1]}x{stego.shape[0]} stego image (Pillow; median of {a.runs})")
    print(f"{'zlib level':>10} {'write s':>8} {'read s':>7} {'MB':>6}")
    for r in png:
        print(f"{r['level']:10d} {r['write_s']:8.2f} {r['read_s']:7.2f} {r['mb']:6.1f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"machine": cpu_name(), "matmul_peak_gflops": peak, "cli": cli,
                                            "passes": passes, "png": png}, indent=2) + "\n")



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
    ap.add_argument("--quick", action="store_true", help="photo tables: the baselines at 768x512 only; "
                    "--training: skip 6000x4000 and torch.compile")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--json", help="also write the rows as JSON")
    ap.add_argument("--training", action="store_true", help="the training and design tables instead of the photo tables")
    ap.add_argument("--skip-training", action="store_true", help="with --training: only the matrix products and inference")
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
    if not (a.training or a.designs):
        photo_tables(a)
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
