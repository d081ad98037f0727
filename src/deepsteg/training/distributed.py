"""Data-parallel training with PyTorch DDP, started by ``torchrun``.

``torchrun --nproc-per-node N -m deepsteg train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`setup` then joins the process group (gloo on CPU, NCCL on GPUs)
and picks this rank's device. Each rank trains on its own slice of every global batch
(:meth:`~deepsteg.training.data.PairSampler.batch`), DDP averages the gradients, and
rank 0 alone logs, validates and writes checkpoints. Without ``torchrun`` everything is a
single process on ``cuda`` if one is present, else the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup() -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, device)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def from_main(flag: bool, d: Dist) -> bool:
    """Rank 0's ``flag`` on every rank (a decision only rank 0 can make, such as one from validation)."""
    if d.world == 1:
        return flag
    value = torch.tensor([float(flag)], device=d.device)
    dist.broadcast(value, 0)
    return bool(value.item())


def wrap(net: torch.nn.Module, d: Dist) -> torch.nn.Module:
    """``net`` wrapped in DistributedDataParallel when there is more than one rank."""
    if d.world == 1:
        return net
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(net, device_ids=[d.device.index] if d.device.type == "cuda" else None)
