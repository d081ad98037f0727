"""Training checkpoints: model, optimizer, step, RNG state and the run's config.

Written atomically (temporary file + rename) with the sha256 of the file beside it
(``checkpoint.sha256``), and read back by one checked loader: the hash is verified, the file is
read with ``torch.load(weights_only=True)`` (only tensors and plain Python values, no pickled
objects), and its structure, its config and its tensors' shapes are checked against the
architecture it names, so a damaged or foreign file gives one clear error instead of a
traceback or a run that diverges. A checkpoint is not a model file: ``deepsteg export`` turns
one into a shippable ``.safetensors`` model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write

CHECKPOINT = "checkpoint.pt"
DIGEST = "checkpoint.sha256"
_KEYS = {"step": int, "model": dict, "optimizer": dict, "config": dict, "arch": str, "torch_rng": torch.Tensor,
         "history": dict}


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
    buf = io.BytesIO()
    torch.save(state, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = atomic_write(checkpoint_path(run_dir), lambda tmp: tmp.write_bytes(data))
    atomic_write(Path(run_dir) / DIGEST, lambda tmp: tmp.write_text(digest + "\n"))
    return path


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """The checkpoint of ``run_dir``, verified (see the module docstring). Raises DeepStegError."""
    from deepsteg.nets import arch_from_json, build_net
    from deepsteg.training.config import TrainConfig

    p = checkpoint_path(run_dir)
    if not p.is_file():
        raise DeepStegError(f"{run_dir}: no {CHECKPOINT} to resume from or export")
    data = p.read_bytes()
    if not data:
        raise DeepStegError(f"{p}: empty checkpoint file")
    digest_file = Path(run_dir) / DIGEST
    if digest_file.is_file():
        expected = digest_file.read_text().strip()
        if hashlib.sha256(data).hexdigest() != expected:
            raise DeepStegError(f"{p}: damaged checkpoint (its sha256 differs from {DIGEST})")
    try:
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say so in one line
        reason = (str(e).splitlines() or [""])[0][:200] or type(e).__name__
        raise DeepStegError(f"{p}: cannot read checkpoint ({reason})") from None
    if not isinstance(ckpt, dict):
        raise DeepStegError(f"{p}: not a DeepSteg checkpoint")
    for key, kind in _KEYS.items():
        if not isinstance(ckpt.get(key), kind):
            raise DeepStegError(f"{p}: not a DeepSteg checkpoint ({key!r} missing or not a {kind.__name__})")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(ckpt["config"]) - known)
    if unknown:
        raise DeepStegError(f"{p}: the checkpoint's config has unknown keys {unknown[:3]}")
    try:
        TrainConfig(**ckpt["config"])
        cfg = arch_from_json(ckpt["arch"])
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise DeepStegError(f"{p}: bad config or architecture in the checkpoint ({e})") from None
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in build_net(cfg).state_dict().items()}
    model = ckpt["model"]
    if set(model) != set(shapes) or any(tuple(getattr(model[k], "shape", ())) != s for k, s in shapes.items()):
        raise DeepStegError(f"{p}: the checkpoint's weights do not fit its architecture")
    if not all(torch.isfinite(v).all() for v in model.values()):
        raise DeepStegError(f"{p}: the checkpoint's weights are not finite")
    return ckpt
