"""The model catalogue, and the package as pip installs it: the default and current models inside,
the superseded ones not."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deepsteg.methods import DeepModel
from deepsteg.methods.usage import Usage
from deepsteg.nets import ARCHITECTURES
from deepsteg.registry import REGISTRY, SUPERSEDED_FOLDER, available, load_model, weights_path
from deepsteg.weights import read_card

ROOT = Path(__file__).resolve().parents[1]
#: The wheel stays under the usual limit of a package index, with room to spare.
WHEEL_LIMIT = 35_000_000


def test_each_model_has_a_status_and_its_weights_where_the_status_says():
    assert [i.name for i in REGISTRY.values() if i.status == "default"] == ["deepsteg-keyed-v1"]
    for info in REGISTRY.values():
        assert info.status in ("default", "current", "superseded")
        if info.kind == "deep":
            inside = "pretrained" in weights_path(info).parts
            assert inside == (info.status != "superseded")
            assert available(info)  # a source checkout has every model
    assert SUPERSEDED_FOLDER == ROOT / "models"


@pytest.mark.parametrize("name", [n for n, i in REGISTRY.items() if i.kind == "deep"])
def test_each_deep_entry_names_its_files_design_and_the_usage_its_card_said(name):
    """The catalogue holds each model's usage defaults; the model files' cards (from before the
    catalogue held them) agree, and the loaded model hides as the entry says."""
    info = REGISTRY[name]
    card = read_card(weights_path(info))
    assert info.usage == Usage.from_card(card)
    assert info.design in ARCHITECTURES
    model = load_model(name, refine=None)
    assert isinstance(model, DeepModel) and model.net.cfg == ARCHITECTURES[info.design]
    assert model.refine == info.usage.refine and model.keyed == info.keyed
    assert model.survives_jpeg == (info.usage.survives == "jpeg")
    if info.usage.strength is not None:
        assert model.strength == info.usage.strength


@pytest.mark.slow
def test_the_wheel_holds_the_default_and_current_models_under_35_mb(tmp_path):
    pytest.importorskip("setuptools", minversion="77")  # the build backend pyproject.toml names
    source = tmp_path / "source"  # a copy, so that building leaves the checkout as it is
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", "runs", "models", "build", "dist", ".git",
                                                                 "*.egg-info", "__pycache__", "test-artifacts"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path / "dist")], check=True)
    wheel = next((tmp_path / "dist").glob("deepsteg-*.whl"))
    assert wheel.stat().st_size < WHEEL_LIMIT
    names = zipfile.ZipFile(wheel).namelist()
    weights = {Path(n).name for n in names if n.endswith(".safetensors")}
    assert weights == {i.weights for i in REGISTRY.values() if i.kind == "deep" and i.status != "superseded"}
    assert "deepsteg/web/static/index.html" in names and "deepsteg/nets/folded.py" in names
