"""The training loop: seeded, resumable, logged, interruptible.

One step: a batch of cover/secret crops (:class:`~deepsteg.training.data.PairSampler`),
``stego = hide(cover, secret)``, the stego rounded to 8 bits (straight-through),
``revealed = reveal(stego)``, the loss of :mod:`deepsteg.training.loss`, the gradient's
global norm clipped to ``clip_grad`` (when set), one Adam step.
Every ``log_every`` steps a JSONL record goes to ``RUN_DIR/log.jsonl``, every
``val_every`` steps a validation on fixed pairs from ``--val``, every ``ckpt_every``
steps a checkpoint. Ctrl-C or SIGTERM saves a checkpoint and stops cleanly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.evaluation.run import lsb_frontier
from deepsteg.files import ensure_dir
from deepsteg.methods import DeepModel
from deepsteg.methods.deep import bf16_supported
from deepsteg.nets import ARCHITECTURES, build_net
from deepsteg.nets.conditioning import beta_of
from deepsteg.pairs import find_images, load_pairs
from deepsteg.tensors import to_tensor
from deepsteg.training import distributed
from deepsteg.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from deepsteg.training.config import TrainConfig
from deepsteg.training.data import PairSampler, load_images
from deepsteg.training.distortions import Channel, parse_spec
from deepsteg.training.loss import stego_loss
from deepsteg.training.validate import validate

LOG = "log.jsonl"


def init_weights(net: torch.nn.Module, seed: int) -> None:
    """He (Kaiming) normal init for the ReLU convolutions, small output convolutions."""
    g = torch.Generator().manual_seed(seed)
    for name, m in net.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            std = math.sqrt(2.0 / fan_in) if not name.endswith("output") else 1e-3
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * std)
                m.bias.zero_()


def load_initial_weights(net: torch.nn.Module, model: str, arch: str) -> None:
    """Copy the weights of an exported model (registry name or ``.safetensors`` file) into
    ``net``: how a run starts from a shipped model when its training checkpoint is gone.
    The optimizer starts fresh. Raises DeepStegError if the architectures differ. Under
    DDP every process reads the file, so it must be readable on every node."""
    from deepsteg.registry import load_model

    source = load_model(model, precision="fp32")
    if not isinstance(source, DeepModel):
        raise DeepStegError(f"--init {model}: not a trained network (LSB baselines have no weights)")
    if source.net.cfg != net.cfg:
        raise DeepStegError(f"--init {model}: its architecture differs from --arch {arch} "
                            f"({source.net.cfg} against {net.cfg})")
    net.load_state_dict({k: v.float() for k, v in source.net.state_dict().items()})


def psnr_from_mse(m: float) -> float:
    return 10 * math.log10(1.0 / max(m, 1e-12))


class _Stop(Exception):
    pass


def _read_log(run_dir: Path, upto_step: int) -> list[str]:
    p = run_dir / LOG
    if not p.exists():
        return []
    kept = []
    for ln in p.read_text().splitlines():
        try:
            if json.loads(ln)["step"] <= upto_step:
                kept.append(ln)
        except (ValueError, KeyError):  # a line cut short when the run was killed
            continue
    return kept


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True,
          on_step: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run (or resume) training; returns the final history dict. Raises DeepStegError.

    ``on_step(step)`` is called after every optimizer step (after logging, validation and
    checkpointing); a KeyboardInterrupt raised there stops the run like Ctrl-C does.
    """
    dist = distributed.setup()
    try:
        return _train(cfg, resume, progress and dist.is_main, on_step, dist)
    finally:
        distributed.teardown()


def _train(cfg: TrainConfig, resume: bool, progress: bool, on_step: Callable[[int], None] | None,
           dist: distributed.Dist) -> dict[str, Any]:
    run_dir = Path(cfg.out)
    main = dist.is_main
    if cfg.batch % dist.world:
        raise DeepStegError(f"--batch {cfg.batch} must be a multiple of the number of processes ({dist.world})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = dist.device

    net = build_net(ARCHITECTURES[cfg.arch])
    init_weights(net, cfg.seed)
    if cfg.init and not resume:
        load_initial_weights(net, cfg.init, cfg.arch)
    if main:
        ensure_dir(run_dir)
    net = net.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    step = 0
    history: dict[str, Any] = {"val": [], "seconds": 0.0}
    if resume:
        ckpt = load_checkpoint(run_dir)
        old = TrainConfig(**ckpt["config"])
        clash = [k for k, v in old.to_dict().items()
                 if k not in TrainConfig.RESUMABLE_CHANGES and getattr(cfg, k) != v]
        if clash:
            raise DeepStegError(f"cannot resume: {', '.join(f'{k}={getattr(cfg, k)!r} (checkpoint: {getattr(old, k)!r})' for k in clash)}")
        if cfg.init and cfg.init != old.init and main:
            print(f"note: --init {cfg.init} ignored: the run resumes from its checkpoint", file=sys.stderr)
        cfg = dataclasses.replace(cfg, init=old.init)  # where the weights came from stays on record
        try:
            net.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            torch.set_rng_state(ckpt["torch_rng"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            reason = (str(e).splitlines() or [""])[0][:200]
            raise DeepStegError(f"{checkpoint_path(run_dir)}: cannot resume from this checkpoint ({reason})") from None
        step = int(ckpt["step"])
        history = ckpt["history"]
        if main:
            kept = _read_log(run_dir, step)
            (run_dir / LOG).write_text("".join(ln + "\n" for ln in kept))
    elif checkpoint_path(run_dir).exists():
        raise DeepStegError(f"{run_dir} already holds a checkpoint: pass --resume to continue it, or another --out")
    elif main:
        (run_dir / LOG).write_text("")
    if main:
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")

    paths = find_images(cfg.data)
    images, _, skipped = load_images(paths, progress=progress)
    if skipped:
        print(f"note: {len(skipped)} of {len(paths)} files could not be read and were skipped", file=sys.stderr)
    sampler = PairSampler(images, cfg.crop, cfg.seed)
    val_pairs = load_pairs(cfg.val, limit=cfg.val_pairs, protocol=True) if cfg.val and main else []
    frontier = lsb_frontier(val_pairs) if val_pairs else None

    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and bf16_supported(device))
    evaluator = DeepModel(net, precision="bf16" if use_bf16 else "fp32", device=device)
    model = distributed.wrap(net, dist)
    writer = _tensorboard(run_dir) if main else None
    log = open(run_dir / LOG, "a") if main else open(os.devnull, "w")

    def checkpoint() -> None:
        if not main:
            return
        history["pending"] = [float(x) for x in acc] + [acc_n, grad_max]  # the unlogged steps' running figures
        save_checkpoint(run_dir, step=step, net=net, optimizer=optimizer, config=cfg.to_dict(), history=history)

    def run_validation() -> None:
        if not val_pairs:
            return
        net.eval()
        rec = {"step": step, "kind": "val", **validate(evaluator, val_pairs, frontier)}
        net.train()
        history["val"].append(rec)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if writer:
            for k in ("cover_psnr", "secret_psnr", "cover_ssim", "secret_ssim", "lsb_margin"):
                writer.add_scalar(f"val/{k}", rec[k], step)
        tqdm.write(f"step {step}: val cover {rec['cover_psnr']:.2f} dB, secret {rec['secret_psnr']:.2f} dB "
                   f"(SSIM {rec['cover_ssim']:.4f} / {rec['secret_ssim']:.4f}), "
                   f"LSB margin {rec['lsb_margin']:+.2f} dB", file=sys.stderr)

    def on_signal(signum, frame):  # SIGTERM behaves like Ctrl-C: checkpoint and stop
        raise _Stop()

    old_handler = signal.signal(signal.SIGTERM, on_signal) if _main_thread() else None
    bar = tqdm(total=cfg.steps, initial=step, desc="training", unit="step", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    pending = history.pop("pending", [0.0, 0.0, 0.0, 0])
    acc = np.asarray(pending[:3], dtype=np.float64)
    acc_n = int(pending[3])
    grad_max = float(pending[4]) if len(pending) > 4 else 0.0  # largest gradient norm since the last log
    t_last, pairs_last = time.perf_counter(), 0
    channel = Channel(parse_spec(cfg.distort), noise=cfg.noise)

    conditioned = bool(getattr(net.cfg, "conditioned", False))
    if conditioned != bool(cfg.beta_range):
        raise DeepStegError(f"--arch {cfg.arch} is conditioned on a strength: give --beta-range LO,HI" if conditioned
                            else f"--beta-range needs an --arch conditioned on a strength, not {cfg.arch}")

    def forward_loss(cover: torch.Tensor, secret: torch.Tensor, strength: torch.Tensor | None):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            if strength is None:
                stego, revealed = model(cover, secret, channel)
                return stego_loss(cover, stego, secret, revealed, cfg.beta)
            stego, revealed = model(cover, secret, channel, strength)
            return stego_loss(cover, stego, secret, revealed, beta_of(strength, cfg.betas()))

    if cfg.compile:
        forward_loss = torch.compile(forward_loss)

    net.train()
    interrupted = False
    try:
        while step < cfg.steps:
            lr = cfg.lr_at(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            c_np, s_np = sampler.batch(step, cfg.batch, dist.rank, dist.world)
            cover = to_tensor(c_np).to(device).contiguous(memory_format=torch.channels_last)
            secret = to_tensor(s_np).to(device).contiguous(memory_format=torch.channels_last)
            strength = (torch.from_numpy(np.random.default_rng([cfg.seed, step, 3, dist.rank]).random(
                cover.shape[0], dtype=np.float32)).to(device) if conditioned else None)
            loss, cmse, smse = forward_loss(cover, secret, strength)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_grad or math.inf)
            optimizer.step()
            step += 1
            if not math.isfinite(loss.item()):
                raise DeepStegError(f"loss is {loss.item()} at step {step}: lower --lr")
            acc += (loss.item(), cmse.item(), smse.item())
            acc_n += 1
            grad_max = max(grad_max, grad_norm.item())
            pairs_last += cfg.batch
            bar.update(1)
            if main and (step % cfg.log_every == 0 or step == cfg.steps):
                now = time.perf_counter()
                rate = pairs_last / max(now - t_last, 1e-9)
                history["seconds"] += now - t_last
                t_last, pairs_last = now, 0
                m = acc / acc_n
                rec = {"step": step, "kind": "train", "loss": m[0], "cover_psnr": psnr_from_mse(m[1]),
                       "secret_psnr": psnr_from_mse(m[2]), "lr": lr, "grad_norm_max": grad_max, "pairs_per_s": rate}
                acc[:] = 0
                acc_n = 0
                grad_max = 0.0
                log.write(json.dumps(rec) + "\n")
                log.flush()
                if writer:
                    for k in ("loss", "cover_psnr", "secret_psnr", "lr", "pairs_per_s"):
                        writer.add_scalar(f"train/{k}", rec[k], step)
                bar.set_postfix(loss=f"{m[0]:.2e}", cover=f"{rec['cover_psnr']:.1f}dB",
                                secret=f"{rec['secret_psnr']:.1f}dB", pairs_s=f"{rate:.1f}")
            if step % cfg.val_every == 0 or step == cfg.steps:
                run_validation()
            if step % cfg.ckpt_every == 0 or step == cfg.steps:
                checkpoint()
            if on_step is not None:
                on_step(step)
    except (KeyboardInterrupt, _Stop):
        interrupted = True
        checkpoint()
        tqdm.write(f"interrupted at step {step}: checkpoint saved in {run_dir}; continue with --resume",
                   file=sys.stderr)
    finally:
        bar.close()
        log.close()
        if writer:
            writer.close()
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    if not interrupted and main:
        from deepsteg.training.plot import plot_log

        plot_log(run_dir / LOG, run_dir / "curves.png")
    history["interrupted"] = interrupted
    history["step"] = step
    return history


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _tensorboard(run_dir: Path):
    if os.environ.get("DEEPSTEG_NO_TENSORBOARD"):
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))
