"""Keras import: synthetic .hdf5 files with the original layout, and the real ones if present."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

h5py = pytest.importorskip("h5py")

from deepsteg import DeepStegError, load_model
from deepsteg.keras_import import import_keras, read_hdf5_tensors
from deepsteg.metrics import psnr

KERAS_DIR = Path(__file__).resolve().parents[2] / "shared" / "peers" / "deepsteg-keras"
WIDTHS = {"3x3": 50, "4x4": 10, "5x5": 5}


def layer_shapes():
    """(model, layer name, kernel shape) of every Keras layer, as the original files hold them."""
    out = []
    for i in range(2):
        for k, w in WIDTHS.items():
            out.append(("enc", f"conv_prep{i}_{k}", (int(k[0]), int(k[0]), 3 if i == 0 else 65, w)))
    for i in range(5):
        for k, w in WIDTHS.items():
            out.append(("enc", f"conv_hid{i}_{k}", (int(k[0]), int(k[0]), 68 if i == 0 else 65, w)))
    out.append(("enc", "output", (3, 3, 65, 3)))
    for i in range(5):
        for k, w in WIDTHS.items():
            name = "conv_rev5_5x5" if (i == 4 and k == "5x5") else f"conv_rev{i}_{k}"
            out.append(("rev", name, (int(k[0]), int(k[0]), 3 if i == 0 else 65, w)))
    out.append(("rev", "output_S", (3, 3, 65, 3)))
    return out


def write_synthetic(folder: Path, seed: int = 0, layout: str = "split") -> dict[str, np.ndarray]:
    """Random weights in the Keras file layout: split files or one autoencoder file."""
    rng = np.random.default_rng(seed)
    weights = {}
    for model, name, shape in layer_shapes():
        fan_in = shape[0] * shape[1] * shape[2]
        weights[name] = (rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32),
                         rng.normal(0.01, 0.01, shape[3]).astype(np.float32), model)
    folder.mkdir(parents=True, exist_ok=True)
    if layout == "split":
        files = {"enc": h5py.File(folder / "encoder_model.hdf5", "w"), "rev": h5py.File(folder / "reveal_model.hdf5", "w")}
        for name, (k, b, model) in weights.items():
            g = files[model].create_group(name).create_group(name)
            g["kernel:0"], g["bias:0"] = k, b
    else:
        f = h5py.File(folder / "autoencoder_model.hdf5", "w")
        files = {"auto": f}
        for name, (k, b, model) in weights.items():
            g = f.require_group("Encoder" if model == "enc" else "Decoder").create_group(name)
            g["kernel:0"], g["bias:0"] = k, b
    for f in files.values():
        f.close()
    return {f"{n}/kernel": v[0] for n, v in weights.items()} | {f"{n}/bias": v[1] for n, v in weights.items()}


def reference_keras(w: dict[str, np.ndarray], cover: np.ndarray, secret: np.ndarray):
    """A plain re-statement of the Keras model: NHWC images in [0, 1], 'same' padding with
    the extra row/column after, ReLU after every convolution, outputs included."""

    def conv(x, name):
        k = torch.from_numpy(w[f"{name}/kernel"]).permute(3, 2, 0, 1)
        ks = k.shape[-1]
        before = (ks - 1) // 2
        y = F.conv2d(F.pad(x, (before, ks - 1 - before, before, ks - 1 - before)), k, torch.from_numpy(w[f"{name}/bias"]))
        return torch.relu(y)

    def block(x, prefix, i, last5=None):
        return torch.cat([conv(x, f"{prefix}{i}_3x3"), conv(x, f"{prefix}{i}_4x4"),
                          conv(x, last5 or f"{prefix}{i}_5x5")], 1)

    def t(a):
        return torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None].double().float()

    with torch.no_grad():
        x = block(block(t(secret), "conv_prep", 0), "conv_prep", 1)
        x = torch.cat([t(cover), x], 1)
        for i in range(5):
            x = block(x, "conv_hid", i)
        stego = conv(x, "output")
        y = stego
        for i in range(5):
            y = block(y, "conv_rev", i, "conv_rev5_5x5" if i == 4 else None)
        revealed = conv(y, "output_S")
    return stego[0].permute(1, 2, 0).numpy(), revealed[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("layout", ["split", "autoencoder"])
def test_import_matches_reference(tmp_path, images, layout):
    w = write_synthetic(tmp_path / "keras", layout=layout)
    out = tmp_path / "k.safetensors"
    import_keras(tmp_path / "keras", out)
    model = load_model(out, precision="fp32", refine=0)
    c, s = images["cover"], images["secret"]
    ref_stego, _ = reference_keras(w, c, s)
    with torch.no_grad():
        from deepsteg.tensors import to_tensor

        stego = model.net.hide(to_tensor(c), to_tensor(s))[0].permute(1, 2, 0).numpy()
        revealed = model.net.reveal(torch.from_numpy(ref_stego).permute(2, 0, 1)[None].contiguous())
    assert np.abs(stego - ref_stego).max() < 1e-4
    _, ref_revealed = reference_keras(w, c, s)
    assert np.abs(revealed[0].permute(1, 2, 0).numpy() - ref_revealed).max() < 1e-4


def test_missing_layer_and_bad_folder(tmp_path):
    write_synthetic(tmp_path / "k")
    with h5py.File(tmp_path / "k" / "reveal_model.hdf5", "a") as f:
        del f["output_S"]
    with pytest.raises(DeepStegError, match="output_S"):
        import_keras(tmp_path / "k", tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    with pytest.raises(DeepStegError):
        import_keras(tmp_path / "nothing", tmp_path / "x.safetensors")


@pytest.mark.skipif(not KERAS_DIR.is_dir(), reason="original Keras weights not present (../shared)")
def test_real_keras_weights(tmp_path):
    from tests.conftest import smooth_image

    out = tmp_path / "keras.safetensors"
    import_keras(KERAS_DIR, out)
    w = read_hdf5_tensors(KERAS_DIR / "autoencoder_model.hdf5")
    c, s = smooth_image(64, 64, 5), smooth_image(64, 64, 6)
    ref_stego, _ = reference_keras(w, c, s)
    model = load_model(out, precision="fp32", refine=0)
    from deepsteg.tensors import to_tensor

    with torch.no_grad():
        stego = model.net.hide(to_tensor(c), to_tensor(s))[0].permute(1, 2, 0).numpy()
    assert np.abs(stego - ref_stego).max() < 1e-4
    val = KERAS_DIR.parents[1] / "data" / "val"
    if val.is_dir():  # on real photos the original model gives roughly 28-31 dB cover PSNR
        from deepsteg.pairs import load_pairs

        (pair,) = load_pairs(val, limit=1, protocol=True)
        c, s = pair.cover, pair.secret
        stego8 = model.hide(c, s)
        assert 26 < psnr(c, stego8) < 34 and 24 < psnr(s, model.reveal(stego8)) < 34
