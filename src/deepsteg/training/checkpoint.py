"""Training checkpoints: model, optimizer, step, RNG state and the run's config.

Written atomically (temporary file + rename) and read with ``torch.load(weights_only=True)``:
only tensors and plain Python values, no pickled objects. A checkpoint is not a model
file: ``deepsteg export`` turns one into a shippable ``.safetensors`` model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from deepsteg.errors import DeepStegError
from deepsteg.imageio import atomic_write

CHECKPOINT = "checkpoint.pt"


def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / CHECKPOINT


def save_checkpoint(run_dir: str | Path, *, step: int, net: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    config: dict, history: dict[str, Any]) -> Path:
    state = {
        "step": step,
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "config": config,
        "arch": net.cfg.to_json(),
        "torch_rng": torch.get_rng_state(),
        "history": history,
    }
    return atomic_write(checkpoint_path(run_dir), lambda tmp: torch.save(state, tmp))


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    p = checkpoint_path(run_dir)
    if not p.is_file():
        raise DeepStegError(f"{run_dir}: no {CHECKPOINT} to resume from or export")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise DeepStegError(f"{p}: cannot read checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
