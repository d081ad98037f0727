"""Model files: ``.safetensors`` weights with the architecture and a model card beside them.

A model file holds the state dict of a network (any design of :mod:`deepsteg.nets`; float16 or float32)
and, in the safetensors metadata, ``format`` (a version number), ``arch`` (the
:class:`~deepsteg.nets.ArchConfig` as JSON) and ``card`` (a JSON model card). Nothing is
pickled. The sha256 of the whole file is checked against the registry on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write
from deepsteg.nets import Network, arch_from_json, build_net

FORMAT_VERSION = "1"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(net: torch.nn.Module, path: str | os.PathLike, card: dict[str, Any] | None = None,
               dtype: torch.dtype = torch.float16) -> str:
    """Write ``net`` as a model file (atomically); returns the file's sha256."""
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in net.state_dict().items()}
    meta = {"format": FORMAT_VERSION, "arch": net.cfg.to_json(),
            "card": json.dumps(card or {}, sort_keys=True)}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    return sha256_file(path)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as e:
        raise DeepStegError(f"{path}: not a readable .safetensors model file ({e})") from None


def _tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in a .safetensors file, read from its header only."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (a method)
    except (SafetensorError, OSError, ValueError) as e:
        raise DeepStegError(f"{path}: cannot read tensors ({e})") from None


def load_net(path: str | os.PathLike, sha256: str | None = None) -> tuple[Network, dict[str, Any]]:
    """Load a model file into a float32 network (eval mode) and its model card.

    Raises :class:`DeepStegError` if the file is missing, its hash differs from ``sha256``,
    its metadata has no architecture or one out of bounds, its tensors do not fit that
    architecture (checked from the file's header before anything is built), or a weight is
    not finite.
    """
    p = Path(path)
    if not p.is_file():
        raise DeepStegError(f"{p}: no such model file")
    if sha256 is not None:
        actual = sha256_file(p)
        if actual != sha256:
            raise DeepStegError(f"{p}: sha256 {actual[:12]}... does not match the registry's {sha256[:12]}...")
    meta = read_metadata(p)
    if "arch" not in meta:
        raise DeepStegError(f"{p}: no architecture in the file's metadata (not a DeepSteg model file)")
    try:
        cfg = arch_from_json(meta["arch"])
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise DeepStegError(f"{p}: bad architecture in metadata ({e})") from None
    with torch.device("meta"):  # the architecture's tensor shapes, without allocating them
        expected = {k: tuple(v.shape) for k, v in build_net(cfg).state_dict().items()}
    shapes = _tensor_shapes(p)
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    bad = [k for k in expected if k in shapes and shapes[k] != expected[k]]
    if missing or extra or bad:
        what = (f"missing {missing[:2]}" if missing else f"unexpected {extra[:2]}" if extra
                else f"shape of {bad[0]} is {shapes[bad[0]]}, expected {expected[bad[0]]}")
        raise DeepStegError(f"{p}: weights do not fit the architecture: {what}")
    try:
        state = load_file(str(p))
    except (SafetensorError, OSError) as e:
        raise DeepStegError(f"{p}: cannot read tensors ({e})") from None
    broken = [k for k, v in state.items() if not torch.isfinite(v).all()]
    if broken:
        raise DeepStegError(f"{p}: weights are not finite (NaN or infinity in {broken[0]})")
    net = build_net(cfg)
    net.load_state_dict({k: v.float() for k, v in state.items()})
    net.eval()
    return net, _card(meta, p)


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The model card of a model file, from its header alone (no weights are read)."""
    return _card(read_metadata(path), Path(path))


def _card(meta: dict[str, str], path: Path) -> dict[str, Any]:
    try:
        return json.loads(meta.get("card", "{}") or "{}")
    except ValueError:
        raise DeepStegError(f"{path}: the model card in the metadata is not valid JSON") from None
