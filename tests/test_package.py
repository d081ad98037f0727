"""The package as pip installs it: the default and current models inside, the superseded ones not."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deepsteg.registry import REGISTRY, SUPERSEDED_FOLDER, available, weights_path

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


@pytest.mark.slow
def test_the_wheel_holds_the_default_and_current_models_under_35_mb(tmp_path):
    pytest.importorskip("setuptools")
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
