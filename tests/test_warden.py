"""The warden's detectors: sealwatch's colour rich model with the FLD ensemble, and the SRNet-class CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepsteg.methods import LSB
from deepsteg.steganalysis.rich import detector_error
from deepsteg.steganalysis.srnet import SRNet, srnet_scores, train_srnet
from tests.conftest import smooth_image


def test_detector_error_is_the_best_threshold_half_error():
    assert detector_error([0, 1, 2, 3], [4, 5, 6, 7]) == 0.0
    assert detector_error([0, 1, 2, 3], [0, 1, 2, 3]) == 0.5
    assert detector_error([0, 1, 5, 6], [2, 3, 7, 8]) == pytest.approx(0.25)


@pytest.fixture(scope="module")
def sealwatch():
    from deepsteg.errors import DeepStegError
    from deepsteg.steganalysis.rich import sealwatch_parts

    try:
        return sealwatch_parts()
    except DeepStegError:
        pytest.skip("sealwatch is not installed (pip install --no-deps sealwatch)")


def test_the_colour_rich_model_has_its_5404_features(sealwatch):
    from deepsteg.steganalysis.rich import crm_features

    image = smooth_image(64, 80, 3)
    features = crm_features(image)
    assert features.shape == (5404,) and np.isfinite(features).all()
    assert np.array_equal(features, crm_features(image.copy()))
    assert not np.array_equal(features, crm_features(np.ascontiguousarray(image[::-1])))


def test_the_warden_detects_lsb_replacement_on_held_out_photos(sealwatch, tmp_path):
    from deepsteg.steganalysis.warden import format_warden, run_warden

    rng = np.random.default_rng(0)
    covers = []
    for k in range(24):
        image = smooth_image(48, 64, 200 + k).astype(np.int16) + rng.normal(0, 3, (48, 64, 3)).round().astype(np.int16)
        covers.append((f"p{k}", np.clip(image, 0, 255).astype(np.uint8)))
    report = run_warden(covers, {"lsb2": LSB(2)}, train_pairs=16, cache=tmp_path, progress=False)
    row = report["methods"]["lsb2"]
    assert report["train_pairs"] == 16 and report["test_pairs"] == 8
    assert row["pe"] < 0.2 and row["auc"] > 0.8
    assert "lsb2" in format_warden(report)
    again = run_warden(covers, {"lsb2": LSB(2)}, train_pairs=16, cache=tmp_path, progress=False)
    assert again["methods"]["lsb2"]["pe"] == row["pe"]  # features from the cache, the same ensemble


def test_srnet_scores_any_size_and_training_resumes_from_its_checkpoint(tmp_path):
    covers = [smooth_image(40, 48, k) for k in range(6)]
    stegos = [LSB(1).hide(c, smooth_image(40, 48, 50 + k)) for k, c in enumerate(covers)]
    checkpoint = tmp_path / "net.pt"
    net, steps = train_srnet(covers, stegos, minutes=0.02, checkpoint=checkpoint, pairs_per_batch=2, crop=32,
                             log=lambda line: None)
    assert steps >= 1 and checkpoint.is_file()
    _, more = train_srnet(covers, stegos, minutes=0.02, checkpoint=checkpoint, pairs_per_batch=2, crop=32,
                          log=lambda line: None)
    assert more > steps
    scores = srnet_scores(net, [covers[0], np.zeros((33, 57, 3), np.uint8)])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert SRNet()(torch.zeros(2, 3, 32, 32)).shape == (2,)
