import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import deepsteg
from deepsteg import DeepStegError
from deepsteg.methods import DeepModel
from deepsteg.nets import ArchConfig, StegoNet
from deepsteg.registry import REGISTRY, ModelInfo, load_model
from deepsteg.weights import load_net, save_model, sha256_file

TINY = ArchConfig(widths=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2)


def test_save_load_round_trip_and_hash(tmp_path):
    torch.manual_seed(0)
    net = StegoNet(TINY)
    path = tmp_path / "m.safetensors"
    sha = save_model(net, path, card={"note": "test"}, dtype=torch.float32)
    assert sha == sha256_file(path)
    loaded, card = load_net(path, sha256=sha)
    assert card == {"note": "test"} and loaded.cfg == TINY
    for (k, v), (k2, v2) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    with pytest.raises(DeepStegError, match="sha256"):
        load_net(path, sha256="0" * 64)


def test_loaded_model_hides_and_reveals_uint8(tmp_path, images):
    path = tmp_path / "m.safetensors"
    save_model(StegoNet(TINY), path)
    model = load_model(path)
    assert isinstance(model, DeepModel)
    stego = model.hide(images["cover"], images["secret"])
    assert stego.dtype == np.uint8 and stego.shape == images["cover"].shape
    revealed = model.reveal(stego)
    assert revealed.dtype == np.uint8 and revealed.shape == images["cover"].shape


def test_shape_mismatch_and_foreign_files_are_refused(tmp_path):
    net = StegoNet(TINY)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["prep.layers.0.branches.0.weight"] = torch.zeros(5, 3, 3, 3)
    bad = tmp_path / "bad.safetensors"
    save_file(state, str(bad), metadata={"format": "1", "arch": TINY.to_json(), "card": "{}"})
    with pytest.raises(DeepStegError, match="do not fit"):
        load_model(bad)
    noarch = tmp_path / "noarch.safetensors"
    save_file({"x": torch.zeros(1)}, str(noarch))
    with pytest.raises(DeepStegError, match="architecture"):
        load_model(noarch)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(DeepStegError):
        load_model(junk)


def test_registry_entry_with_wrong_hash_is_refused(tmp_path, monkeypatch):
    from deepsteg import registry

    save_model(StegoNet(TINY), tmp_path / "x.safetensors")
    monkeypatch.setattr(registry, "weights_path", lambda info: tmp_path / info.weights)
    monkeypatch.setitem(REGISTRY, "tampered", ModelInfo(
        name="tampered", kind="deep", description="", weights="x.safetensors", sha256="f" * 64))
    with pytest.raises(DeepStegError, match="does not match"):
        load_model("tampered")


def test_unknown_model_and_list_models():
    with pytest.raises(DeepStegError, match="unknown model"):
        load_model("no-such-model")
    names = [m.name for m in deepsteg.list_models()]
    assert {"lsb1", "lsb2", "lsb3", "lsb4"} <= set(names)
    for m in deepsteg.list_models():
        assert m.paper and m.licence and m.value_range
        if m.kind == "deep":
            assert len(m.sha256) == 64 and m.weights.endswith(".safetensors")
            assert json.loads(json.dumps(m.extra)) == m.extra  # plain JSON, for `deepsteg models` and cards
