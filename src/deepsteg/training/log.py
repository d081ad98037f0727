"""A training run's record: ``log.jsonl`` (every figure), TensorBoard scalars, and the running
figures of the steps since the last log line (kept in checkpoints, so a resumed run logs exactly
what an uninterrupted one would)."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

LOG = "log.jsonl"


def psnr_from_mse(m: float) -> float:
    return 10 * math.log10(1.0 / max(m, 1e-12))


def read_log(run_dir: Path, upto_step: int) -> list[str]:
    """The log lines of steps up to ``upto_step`` (a line cut short by a kill is dropped)."""
    p = run_dir / LOG
    if not p.exists():
        return []
    kept = []
    for ln in p.read_text().splitlines():
        try:
            if json.loads(ln)["step"] <= upto_step:
                kept.append(ln)
        except (ValueError, KeyError):
            continue
    return kept


def _tensorboard(run_dir: Path):
    if os.environ.get("DEEPSTEG_NO_TENSORBOARD"):
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


class TrainLog:
    """Writes the records of one process (only the main process writes files).

    ``pending``: the running figures a checkpoint saved (``[loss, cover_mse, secret_mse,
    steps, largest gradient norm]``), or None at the start of a run.
    """

    def __init__(self, run_dir: Path, main: bool, pending: list[float] | None = None):
        pending = pending or [0.0, 0.0, 0.0, 0]
        self.sums = np.asarray(pending[:3], dtype=np.float64)
        self.count = int(pending[3])
        self.grad_max = float(pending[4]) if len(pending) > 4 else 0.0
        self.main = main
        self.file = open(run_dir / LOG, "a") if main else open(os.devnull, "w")
        self.writer = _tensorboard(run_dir) if main else None
        self.t_last, self.pairs = time.perf_counter(), 0

    def add(self, loss: float, cover_mse: float, secret_mse: float, grad_norm: float, pairs: int) -> None:
        self.sums += (loss, cover_mse, secret_mse)
        self.count += 1
        self.grad_max = max(self.grad_max, grad_norm)
        self.pairs += pairs

    def pending(self) -> list[float]:
        return [float(x) for x in self.sums] + [self.count, self.grad_max]

    def train_record(self, step: int, lr: float, history: dict[str, Any]) -> dict[str, Any]:
        """Write the mean figures since the last record (and the pairs/s), then start afresh."""
        now = time.perf_counter()
        rate = self.pairs / max(now - self.t_last, 1e-9)
        history["seconds"] += now - self.t_last
        self.t_last, self.pairs = now, 0
        m = self.sums / self.count
        rec = {"step": step, "kind": "train", "loss": m[0], "cover_psnr": psnr_from_mse(m[1]),
               "secret_psnr": psnr_from_mse(m[2]), "lr": lr, "grad_norm_max": self.grad_max, "pairs_per_s": rate}
        self.sums[:] = 0
        self.count = 0
        self.grad_max = 0.0
        self._write(rec, ("loss", "cover_psnr", "secret_psnr", "lr", "pairs_per_s"), "train")
        return rec

    def val_record(self, rec: dict[str, Any]) -> None:
        self._write(rec, ("cover_psnr", "secret_psnr", "cover_ssim", "secret_ssim", "lsb_margin"), "val")
        tqdm.write(f"step {rec['step']}: val cover {rec['cover_psnr']:.2f} dB, secret {rec['secret_psnr']:.2f} dB "
                   f"(SSIM {rec['cover_ssim']:.4f} / {rec['secret_ssim']:.4f}), "
                   f"LSB margin {rec['lsb_margin']:+.2f} dB"
                   + (f", secret after JPEG {rec['jpeg_quality']} {rec['jpeg_secret_psnr']:.2f} dB"
                      if "jpeg_secret_psnr" in rec else ""), file=sys.stderr)

    def _write(self, rec: dict[str, Any], scalars: tuple[str, ...], group: str) -> None:
        self.file.write(json.dumps(rec) + "\n")
        self.file.flush()
        if self.writer:
            for k in scalars:
                self.writer.add_scalar(f"{group}/{k}", rec[k], rec["step"])

    def close(self) -> None:
        self.file.close()
        if self.writer:
            self.writer.close()
