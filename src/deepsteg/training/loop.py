"""The training loop: seeded, resumable, logged, interruptible.

One step: a batch of cover/secret crops (:class:`~deepsteg.training.data.PairSampler`),
``stego = hide(cover, secret)``, the stego clamped and rounded to 8 bits (the channel of
:mod:`deepsteg.training.distortions`),
``revealed = reveal(stego)``, the loss of :mod:`deepsteg.training.loss`, the gradient's
global norm clipped to ``clip_grad`` (when set), one Adam step.
Every ``log_every`` steps a JSONL record goes to ``RUN_DIR/log.jsonl``, every
``val_every`` steps a validation on fixed pairs from ``--val``, every ``ckpt_every``
steps a checkpoint. A validation better than every one before (:func:`val_loss`) also writes a
checkpoint to ``RUN_DIR/best`` (export or resume it like any run folder), which a run that
later diverges cannot overwrite. Ctrl-C or SIGTERM saves a checkpoint and stops cleanly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from deepsteg.methods.scramble import KEY_BYTES, Scramble, training_bin
from deepsteg.nets import ARCHITECTURES, build_net
from deepsteg.nets.conditioning import beta_of
from deepsteg.pairs import find_images, load_pairs
from deepsteg.tensors import to_tensor
from deepsteg.training import distributed
from deepsteg.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from deepsteg.training.config import TrainConfig
from deepsteg.training.data import PairSampler, load_images
from deepsteg.training.distortions import Channel, parse_spec
from deepsteg.training.log import LOG, TrainLog, read_log
from deepsteg.training.loss import stego_loss
from deepsteg.training.validate import validate

#: The real JPEG quality a network trained with ``--distort jpeg`` is validated at, beside the PNG.
VAL_JPEG_QUALITY = 75
#: The sub-folder of a run that holds the checkpoint of its best validation.
BEST = "best"


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
    The optimizer starts fresh. ``net`` may be of a design that adds to the model's only
    what starts as the identity (:data:`IDENTITY_AT_START`: a conditioned design's
    conditioning), and its settings may differ in what
    has no weights (a dither design's steps or windows): every weight of the model must have
    its name and shape in ``net``. Raises DeepStegError if the architectures differ
    otherwise. Under DDP every process reads the file, so it must be readable on every node."""
    from deepsteg.registry import load_model

    source = load_model(model, precision="fp32")
    if not isinstance(source, DeepModel):
        raise DeepStegError(f"--init {model}: not a trained network (LSB baselines have no weights)")
    weights = {k: v.float() for k, v in source.net.state_dict().items()}
    if type(source.net) is not type(net) or not covers_weights(net, weights):
        raise DeepStegError(f"--init {model}: its architecture differs from --arch {arch} "
                            f"({source.net.cfg} against {net.cfg})")
    net.load_state_dict(weights, strict=False)


#: Modules (top-level names) a design may add to another that start as the identity or
#: nearly, so that a run with them can start from a model without them.
IDENTITY_AT_START = ("strength",)


def covers_weights(net: torch.nn.Module, weights: dict[str, torch.Tensor]) -> bool:
    """Whether each of ``weights`` is a weight of ``net`` of its shape, and each weight of
    ``net`` that it lacks lies in a module of :data:`IDENTITY_AT_START`."""
    own = net.state_dict()
    if any(k not in own or own[k].shape != v.shape for k, v in weights.items()):
        return False
    return all(k.split(".")[0] in IDENTITY_AT_START for k in own.keys() - weights.keys())


class _Stop(Exception):
    pass


@dataclass
class Run:
    """What a checkpoint holds, and the loop advances."""

    cfg: TrainConfig
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    step: int
    history: dict[str, Any]


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
    """The paper's recipe: batches of pairs, hide, round, reveal, the loss, one Adam step; with
    logs, validations and checkpoints at their intervals."""
    # the data first: a run folder is made only once the run can start
    sampler = _sampler(cfg, progress)
    val_pairs = load_pairs(cfg.val, limit=cfg.val_pairs, protocol=True) if cfg.val and dist.is_main else []
    run = _start(cfg, resume, dist)
    cfg, run_dir, main = run.cfg, Path(cfg.out), dist.is_main
    frontier = lsb_frontier(val_pairs) if val_pairs else None
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and bf16_supported(dist.device))
    evaluator = DeepModel(run.net, precision="bf16" if use_bf16 else "fp32", device=dist.device, keyed=cfg.scramble)
    optimize = _optimizer_step(run, distributed.wrap(run.net, dist), use_bf16, dist.device)
    log = TrainLog(run_dir, main, run.history.pop("pending", None))
    bar = tqdm(total=cfg.steps, initial=run.step, desc="training", unit="step", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    interrupted = False
    run.net.train()
    try:
        with _sigterm_stops():
            while run.step < cfg.steps:
                lr = cfg.lr_at(run.step)
                cover, secret, strength = _batch(run, sampler, dist)
                loss, cover_mse, secret_mse, grad_norm = optimize(cover, secret, strength, lr)
                run.step += 1
                log.add(loss, cover_mse, secret_mse, grad_norm, cfg.batch)
                bar.update(1)
                last = run.step == cfg.steps
                if main and (run.step % cfg.log_every == 0 or last):
                    rec = log.train_record(run.step, lr, run.history)
                    bar.set_postfix(loss=f"{rec['loss']:.2e}", cover=f"{rec['cover_psnr']:.1f}dB",
                                    secret=f"{rec['secret_psnr']:.1f}dB", pairs_s=f"{rec['pairs_per_s']:.1f}")
                if cfg.val and (run.step % cfg.val_every == 0 or last):
                    if val_pairs:
                        _validate(run, evaluator, val_pairs, frontier, log)
                    _stop_if_diverged(run, distributed.from_main(main and _diverged(run), dist))
                if main and (run.step % cfg.ckpt_every == 0 or last):
                    _checkpoint(run, log)
                if on_step is not None:
                    on_step(run.step)
    except (KeyboardInterrupt, _Stop):
        interrupted = True
        if main:
            _checkpoint(run, log)
        tqdm.write(f"interrupted at step {run.step}: checkpoint saved in {run_dir}; continue with --resume",
                   file=sys.stderr)
    finally:
        bar.close()
        log.close()
    if not interrupted and main:
        from deepsteg.training.plot import plot_log

        plot_log(run_dir / LOG, run_dir / "curves.png")
    return {**run.history, "interrupted": interrupted, "step": run.step}


def _start(cfg: TrainConfig, resume: bool, dist: distributed.Dist) -> Run:
    """The network (initialised, from ``--init``, or from the checkpoint), its optimizer, and the
    run folder ready: the log cut back to the checkpoint's step on resume, ``config.json`` written."""
    run_dir, main = Path(cfg.out), dist.is_main
    if cfg.batch % dist.world:
        raise DeepStegError(f"--batch {cfg.batch} must be a multiple of the number of processes ({dist.world})")
    arch = ARCHITECTURES[cfg.arch]
    if bool(getattr(arch, "conditioned", False)) != bool(cfg.beta_range):
        raise DeepStegError(f"--arch {cfg.arch} is conditioned on a strength: give --beta-range LO,HI"
                            if cfg.beta_range == "" else
                            f"--beta-range needs an --arch conditioned on a strength, not {cfg.arch}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    net = build_net(arch)
    init_weights(net, cfg.seed)
    if cfg.init and not resume:
        load_initial_weights(net, cfg.init, cfg.arch)
    net = net.to(dist.device, memory_format=torch.channels_last)
    run = Run(cfg, net, torch.optim.Adam(net.parameters(), lr=cfg.lr), 0, {"val": [], "seconds": 0.0})
    if resume:
        run = _resume(run, main)
    elif checkpoint_path(run_dir).exists():
        raise DeepStegError(f"{run_dir} already holds a checkpoint: pass --resume to continue it, or another --out")
    elif main:
        ensure_dir(run_dir)
        (run_dir / LOG).write_text("")
    if main:
        (run_dir / "config.json").write_text(json.dumps(run.cfg.to_dict(), indent=2) + "\n")
    return run


def _resume(run: Run, main: bool) -> Run:
    """``run`` with the checkpoint's weights, optimizer, RNG, step and history; the options that
    may not change on resume must match it."""
    cfg, run_dir = run.cfg, Path(run.cfg.out)
    ckpt = load_checkpoint(run_dir)
    old = TrainConfig(**ckpt["config"])
    clash = [k for k, v in old.to_dict().items() if k not in TrainConfig.RESUMABLE_CHANGES and getattr(cfg, k) != v]
    if clash:
        raise DeepStegError("cannot resume: " + ", ".join(
            f"{k}={getattr(cfg, k)!r} (checkpoint: {getattr(old, k)!r})" for k in clash))
    if cfg.init and cfg.init != old.init and main:
        print(f"note: --init {cfg.init} ignored: the run resumes from its checkpoint", file=sys.stderr)
    try:
        run.net.load_state_dict(ckpt["model"])
        run.optimizer.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        reason = (str(e).splitlines() or [""])[0][:200]
        raise DeepStegError(f"{checkpoint_path(run_dir)}: cannot resume from this checkpoint ({reason})") from None
    if main:
        kept = read_log(run_dir, int(ckpt["step"]))
        (run_dir / LOG).write_text("".join(ln + "\n" for ln in kept))
    # where the weights came from stays on record
    return dataclasses.replace(run, cfg=dataclasses.replace(cfg, init=old.init), step=int(ckpt["step"]),
                               history=ckpt["history"])


def _sampler(cfg: TrainConfig, progress: bool) -> PairSampler:
    paths = find_images(cfg.data)
    images, _, skipped = load_images(paths, progress=progress)
    if skipped:
        print(f"note: {len(skipped)} of {len(paths)} files could not be read and were skipped", file=sys.stderr)
    return PairSampler(images, cfg.crop, cfg.seed, cfg.saturate)


def _batch(run: Run, sampler: PairSampler, dist: distributed.Dist
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """This process's covers and secrets ``(n, 3, crop, crop)`` for the run's step, and for a
    conditioned network a strength per pair ``(n,)`` in [0, 1], all a function of (seed, step)."""
    cfg, step = run.cfg, run.step
    c_np, s_np = sampler.batch(step, cfg.batch, dist.rank, dist.world)
    cover = to_tensor(c_np).to(dist.device).contiguous(memory_format=torch.channels_last)
    secret = to_tensor(s_np)
    if cfg.scramble:
        secret = scramble_batch(secret, np.random.default_rng([cfg.seed, step, 5, dist.rank]))
    secret = secret.to(dist.device).contiguous(memory_format=torch.channels_last)
    if not cfg.beta_range:
        return cover, secret, None
    rng = np.random.default_rng([cfg.seed, step, 3, dist.rank])
    return cover, secret, torch.from_numpy(rng.random(cover.shape[0], dtype=np.float32)).to(dist.device)


def scramble_batch(secret: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Secrets ``(N, 3, crop, crop)`` in [0, 1] -> each scrambled by its own random key, as a keyed
    hide scrambles its secret, in bins of :func:`~deepsteg.methods.scramble.training_bin` frequencies."""
    crop = secret.shape[-1]
    return torch.cat([Scramble(rng.bytes(KEY_BYTES), crop, crop, bin=training_bin(crop)).apply(s[None])
                      for s in secret])


def _optimizer_step(run: Run, model: torch.nn.Module, use_bf16: bool, device: torch.device):
    """``optimize(cover, secret, strength, lr) -> (loss, cover_mse, secret_mse, grad_norm)``: one
    Adam step at learning rate ``lr`` on the loss of the batch, the gradient's norm clipped."""
    cfg = run.cfg
    channel = Channel(parse_spec(cfg.distort), noise=cfg.noise, jpeg_quality=cfg.jpeg_qualities())

    def forward_loss(cover: torch.Tensor, secret: torch.Tensor, strength: torch.Tensor | None):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            if strength is None:
                stego, revealed = model(cover, secret, channel)
                return stego_loss(cover, stego, secret, revealed, cfg.beta, cfg.lowfreq, secret_power=cfg.secret_power)
            stego, revealed = model(cover, secret, channel, strength)
            return stego_loss(cover, stego, secret, revealed, beta_of(strength, cfg.betas()), cfg.lowfreq,
                              balanced=True, secret_power=cfg.secret_power)

    if cfg.compile and cfg.uses_jpeg:
        # the real encoder breaks the graph, and tracing the channel's per-sample choice of
        # distortion fails (a data-dependent batch of JPEG samples, torch 2.13): such a run stays eager
        print("note: --distort jpeg trains without torch.compile", file=sys.stderr)
    elif cfg.compile:
        forward_loss = torch.compile(forward_loss)

    def optimize(cover, secret, strength, lr: float) -> tuple[float, float, float, float]:
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        loss, cover_mse, secret_mse = forward_loss(cover, secret, strength)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(run.net.parameters(), cfg.clip_grad or math.inf)
        run.optimizer.step()
        if not math.isfinite(loss.item()):
            raise DeepStegError(f"loss is {loss.item()} at step {run.step + 1}: lower --lr")
        return loss.item(), cover_mse.item(), secret_mse.item(), grad_norm.item()

    return optimize


def val_loss(rec: dict[str, Any], beta: float) -> float:
    """A validation record's loss, Baluja's from its PSNRs: cover MSE + ``beta`` * secret MSE on
    the [0, 1] scale, the secret revealed after a JPEG where the run trains against one."""
    secret = rec.get("jpeg_secret_psnr", rec["secret_psnr"])
    return 10 ** (-rec["cover_psnr"] / 10) + beta * 10 ** (-secret / 10)


def _validate(run: Run, evaluator: DeepModel, pairs, frontier, log: TrainLog) -> None:
    run.net.eval()
    quality = VAL_JPEG_QUALITY if run.cfg.uses_jpeg else None
    rec = {"step": run.step, "kind": "val", **validate(evaluator, pairs, frontier, jpeg_quality=quality)}
    run.net.train()
    best = all(val_loss(rec, run.cfg.beta) < val_loss(old, run.cfg.beta) for old in run.history["val"])
    run.history["val"].append(rec)
    log.val_record(rec)
    if best:
        _checkpoint(run, log, Path(run.cfg.out) / BEST)


def _diverged(run: Run) -> bool:
    """Whether the latest validation loss is more than ``cfg.diverge`` times the run's best."""
    val, beta = run.history["val"], run.cfg.beta
    return bool(run.cfg.diverge and val and val_loss(val[-1], beta) > run.cfg.diverge * min(
        val_loss(rec, beta) for rec in val))


def _stop_if_diverged(run: Run, diverged: bool) -> None:
    """Raise DeepStegError when the run has diverged (every rank alike), naming the way back: the best
    weights, kept in the run's ``best`` folder. The run's last checkpoint is left as it was."""
    if not diverged:
        return
    best = min(run.history["val"], key=lambda rec: val_loss(rec, run.cfg.beta)) if run.history["val"] else {}
    folder = Path(run.cfg.out) / BEST
    raise DeepStegError(
        f"the run diverged: its validation loss at step {run.step} is over {run.cfg.diverge:g}x its best "
        f"(step {best.get('step', '?')}); the best weights are in {folder}: export them (deepsteg export "
        f"{folder} -o M.safetensors) and start again with --init M.safetensors and a lower --lr "
        "(or --diverge 0 to train on)")


def _checkpoint(run: Run, log: TrainLog, folder: Path | None = None) -> None:
    """The run's state to ``folder`` (default: the run folder)."""
    history = {**run.history, "pending": log.pending()}  # the unlogged steps' running figures
    save_checkpoint(ensure_dir(folder or Path(run.cfg.out)), step=run.step, net=run.net, optimizer=run.optimizer,
                    config=run.cfg.to_dict(), history=history)


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C while training: checkpoint and stop (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum, frame):
        raise _Stop()

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
