"""Import the original Keras DeepSteg weights (three ``.hdf5`` files) into DeepSteg.

The Keras model is the ``keras`` architecture (50/10/5 filters, ReLU after the output
convolutions, stego output directly). Its files hold ``<layer>/.../kernel:0`` tensors of
shape ``(kh, kw, in, out)`` and ``bias:0``: ``conv_prep{0,1}_{3x3,4x4,5x5}``,
``conv_hid{0..4}_*`` and ``output`` (prep + hiding, in ``encoder_model.hdf5`` or under
``Encoder/`` in ``autoencoder_model.hdf5``), ``conv_rev{0..4}_*`` (the last 5x5 branch is
named ``conv_rev5_5x5``) and ``output_S`` (reveal, in ``reveal_model.hdf5`` or under
``Decoder/``). Keras' 'same' padding of the 4x4 kernel (extra row/column at the
bottom/right) is the padding :class:`~deepsteg.nets.MultiKernelConv` uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from deepsteg.errors import DeepStegError
from deepsteg.nets import ARCHITECTURES, StegoNet
from deepsteg.weights import save_model

_BRANCHES = ("3x3", "4x4", "5x5")
KERAS_CARD = {
    "source": "original Keras DeepSteg weights (Keras 2.11, TensorFlow backend), imported by deepsteg import-keras",
    "paper": 'Baluja, "Hiding Images in Plain Sight: Deep Steganography", NIPS 2017',
}


def read_hdf5_tensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``{"<layer>/kernel" or "<layer>/bias": array}`` for every weight in a Keras file."""
    try:
        import h5py
    except ImportError:
        raise DeepStegError("import-keras needs h5py: pip install 'deepsteg[keras]'") from None
    out: dict[str, np.ndarray] = {}

    def visit(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset):
            parts = name.split("/")
            if len(parts) >= 2:
                out[f"{parts[-2]}/{parts[-1].split(':')[0]}"] = np.asarray(obj[()])

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as e:
        raise DeepStegError(f"{path}: not a readable HDF5 file ({e})") from None
    return out


def _keras_names() -> dict[str, str]:
    """DeepSteg state-dict key -> Keras ``layer/param`` name."""
    names = {}
    for prefix, module, n in (("conv_prep", "prep", 2), ("conv_hid", "hide_net", 5), ("conv_rev", "reveal_net", 5)):
        for i in range(n):
            for b, size in enumerate(_BRANCHES):
                layer = f"{prefix}{i}_{size}"
                if prefix == "conv_rev" and i == 4 and size == "5x5":
                    layer = "conv_rev5_5x5"
                for param in ("weight", "bias"):
                    names[f"{module}.layers.{i}.branches.{b}.{param}"] = f"{layer}/{'kernel' if param == 'weight' else 'bias'}"
    for module, layer in (("hide_net", "output"), ("reveal_net", "output_S")):
        names[f"{module}.output.weight"] = f"{layer}/kernel"
        names[f"{module}.output.bias"] = f"{layer}/bias"
    return names


def keras_state_dict(tensors: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Keras tensors -> a state dict of the ``keras`` architecture (kernels to (out, in, kh, kw))."""
    state = {}
    for key, kname in _keras_names().items():
        if kname not in tensors:
            raise DeepStegError(f"Keras weights lack {kname}")
        a = tensors[kname].astype(np.float32)
        state[key] = torch.from_numpy(a.transpose(3, 2, 0, 1).copy() if a.ndim == 4 else a.copy())
    return state


def load_keras_folder(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Tensors from ``encoder_model.hdf5`` + ``reveal_model.hdf5``, else ``autoencoder_model.hdf5``."""
    d = Path(folder)
    if not d.is_dir():
        raise DeepStegError(f"{d}: not a folder")
    enc, rev, auto = d / "encoder_model.hdf5", d / "reveal_model.hdf5", d / "autoencoder_model.hdf5"
    if enc.is_file() and rev.is_file():
        return {**read_hdf5_tensors(enc), **read_hdf5_tensors(rev)}
    if auto.is_file():
        return read_hdf5_tensors(auto)
    raise DeepStegError(f"{d}: no encoder_model.hdf5 + reveal_model.hdf5 nor autoencoder_model.hdf5")


def import_keras(folder: str | os.PathLike, out: str | os.PathLike) -> str:
    """Write the Keras weights in ``folder`` as a float32 DeepSteg model file; returns its sha256."""
    net = StegoNet(ARCHITECTURES["keras"])
    state = keras_state_dict(load_keras_folder(folder))
    expected = net.state_dict()
    for k, v in state.items():
        if v.shape != expected[k].shape:
            raise DeepStegError(f"Keras tensor for {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)}")
    net.load_state_dict(state)
    return save_model(net, out, card=KERAS_CARD, dtype=torch.float32)
