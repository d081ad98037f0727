"""Steganalysis: classical LSB detectors, the learned CNN detector, ROC AUC and ``deepsteg detect``.

The images are tiles of the photos scikit-image ships (natural images matter: the
classical detectors model natural pixel statistics). Secrets are other tiles. A random
payload is what ``lsbK-xor`` stores (the secret's bits XORed with a pseudo-random stream),
the setting the chi-square, RS and sample pairs papers analyse; plain ``lsbK`` stores an
image payload, the setting of the visual attack.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from deepsteg import LSB
from deepsteg.cli.main import main
from deepsteg.images import png_roundtrip
from deepsteg.steganalysis import (
    BASELINES,
    CLASSICAL_DETECTORS,
    IMAGE_PAYLOAD_DETECTORS,
    RANDOM_PAYLOAD_DETECTORS,
    classical_scores,
    learned_scores,
    roc_auc,
    roc_curve,
    rs_analysis,
    sample_pairs_analysis,
)
from tests.conftest import default_label

TILE = 96


@pytest.fixture(scope="module")
def photos():
    return [skimage.data.chelsea(), skimage.data.coffee(), skimage.data.astronaut(), skimage.data.rocket()]


EXPECTED_METHODS = [default_label()] + list(BASELINES)  # default model first


def tiles(photos, size, offset=0):
    """Non-overlapping size x size tiles of every photo, on a grid starting at ``offset``."""
    return [np.ascontiguousarray(p[y:y + size, x:x + size]) for p in photos
            for y in range(offset, p.shape[0] - size + 1, size) for x in range(offset, p.shape[1] - size + 1, size)]


@pytest.fixture(scope="module")
def cover_scores(photos):
    covers = tiles(photos, TILE)
    return covers, [classical_scores(c) for c in covers]


def column(scores, d):
    return [s[d] for s in scores]


def stego_scores(covers, bits, xor):
    secrets = covers[1:] + covers[:1]  # every cover hides another tile
    return [classical_scores(png_roundtrip(LSB(bits, xor=xor).hide(c, s))) for c, s in zip(covers, secrets)]


@pytest.mark.parametrize("bits", [1, 4])
def test_random_payload_detectors_fire_on_lsb_replacement_with_a_random_payload(cover_scores, bits):
    covers, neg = cover_scores
    pos = stego_scores(covers, bits, xor=True)
    for d in RANDOM_PAYLOAD_DETECTORS:
        assert roc_auc(column(neg, d), column(pos, d)) >= 0.9, d
    # chi-square: p-value of "pairs of values equalised", RS / SPA: estimated embedding rate
    assert np.median(column(neg, "chi2")) < 0.05 and np.median(column(pos, "chi2")) > 0.5
    for d in ("rs", "spa"):
        assert np.median(column(neg, d)) < 0.1 and np.median(column(pos, d)) > 0.8, d


@pytest.mark.parametrize("bits", [1, 4])
def test_visual_attack_fires_on_lsb_replacement_with_an_image_payload(cover_scores, bits):
    covers, neg = cover_scores
    pos = stego_scores(covers, bits, xor=False)
    for d in IMAGE_PAYLOAD_DETECTORS:
        assert roc_auc(column(neg, d), column(pos, d)) >= 0.9, d
    assert np.median(column(neg, "visual")) < 0.02 and np.median(column(pos, "visual")) > 0.1


def test_random_payload_detectors_miss_an_image_payload(cover_scores):
    """Why the visual attack is needed: the high bits of a secret photo are smoother than a
    cover's noisy low bits, so chi-square, RS and SPA see no random message there."""
    covers, neg = cover_scores
    image_payload = stego_scores(covers, 4, xor=False)
    for d in RANDOM_PAYLOAD_DETECTORS:
        assert roc_auc(column(neg, d), column(image_payload, d)) < 0.75, d


def test_classical_detectors_stay_near_chance_on_unaltered_images(photos, cover_scores):
    _, first = cover_scores
    other = [classical_scores(png_roundtrip(t)) for t in tiles(photos, TILE, offset=TILE // 2)]
    for d in CLASSICAL_DETECTORS:
        assert abs(roc_auc(column(first, d), column(other, d)) - 0.5) < 0.15, d


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_rs_and_sample_pairs_estimate_the_embedding_rate(photos, rate):
    rng = np.random.default_rng(7)
    for p in photos[:2]:
        carries = rng.random(p.shape) < rate
        stego = np.where(carries, (p & 0xFE) | rng.integers(0, 2, p.shape, dtype=np.uint8), p).astype(np.uint8)
        for fn in (rs_analysis, sample_pairs_analysis):
            assert abs(fn(stego) - rate) < 0.08, fn.__name__
            assert abs(fn(p)) < 0.08, fn.__name__


def test_detectors_score_every_valid_image_with_a_finite_float():
    flat = np.full((8, 8, 3), 77, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (5, 9, 3), dtype=np.uint8)
    for img in (flat, np.zeros((4, 4, 3), np.uint8), noise):
        for d, v in classical_scores(img).items():
            assert isinstance(v, float) and np.isfinite(v), d


def test_roc_auc_matches_pairwise_counting_with_ties():
    rng = np.random.default_rng(3)
    neg, pos = rng.integers(0, 6, 40).astype(float), rng.integers(2, 9, 31).astype(float)
    pairwise = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert roc_auc(neg, pos) == pytest.approx(pairwise)
    assert roc_auc(neg, neg) == 0.5 and roc_auc([0, 1], [2, 3]) == 1.0 and roc_auc([2, 3], [0, 1]) == 0.0
    fpr, tpr = roc_curve(neg, pos)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(pairwise)


def test_learned_detector_separates_lsb4_image_payloads_of_other_images(photos):
    ts = tiles(photos, TILE)
    covers, secrets = ts[0::2], ts[1::2]
    stegos = [png_roundtrip(LSB(4).hide(c, s)) for c, s in zip(covers, secrets)]
    n = 10  # leaked pairs; test pairs come from the remaining (other) tiles
    test = covers[n:] + stegos[n:]
    scores = learned_scores(covers[:n], stegos[:n], test, steps=60, seed=0)
    k = len(covers) - n
    assert roc_auc(scores[:k], scores[k:]) >= 0.9


def test_learned_detector_is_seeded_and_leaves_the_global_rng_alone(photos):
    ts = tiles(photos[:1], 64)
    covers, stegos = ts[:3], [LSB(2).hide(c, s) for c, s in zip(ts[:3], ts[3:6])]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = learned_scores(covers, stegos, ts[6:9], steps=3, batch=2, crop=32, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    b = learned_scores(covers, stegos, ts[6:9], steps=3, batch=2, crop=32, seed=5)
    c = learned_scores(covers, stegos, ts[6:9], steps=3, batch=2, crop=32, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and a.shape == (3,)


@pytest.fixture
def photo_folder(tmp_path, photos):
    """Twelve small PNG photos (pairs: 0-5 covers, 6-11 secrets); two secrets are portrait."""
    d = tmp_path / "photos"
    d.mkdir()
    ts = tiles(photos, 64)
    for i in range(12):
        a = ts[5 * i][:, :56] if i < 6 else ts[5 * i + 1][:48]
        if i in (7, 9):
            a = np.ascontiguousarray(np.rot90(a))
        Image.fromarray(a).save(d / f"img{i:02d}.png")
    return d


def test_cli_detect_prints_a_table_and_writes_json_and_plot(photo_folder, tmp_path, capsys):
    js, png = tmp_path / "detect.json", tmp_path / "roc.png"
    rc = main(["detect", "--covers", str(photo_folder), "--json", str(js), "--plot", str(png),
               "--train-sizes", "2,5", "--steps", "3", "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    for word in ("chi2", "rs", "spa", "visual", "cnn N=2", "lsb1", "lsb4", "lsb4-xor"):
        assert word in out
    r = json.loads(js.read_text())
    assert r["pairs"] == 6 and r["detectors"] == list(CLASSICAL_DETECTORS)
    assert r["pair_names"] == [f"img{i:02d}" for i in range(6)]
    assert list(r["methods"]) == EXPECTED_METHODS
    assert r["learned"]["train_sizes"] == [2] and r["learned"]["skipped_sizes"] == [5]
    assert len(r["learned"]["test_pairs"]) == 4
    for d in CLASSICAL_DETECTORS:
        assert len(r["cover_scores"][d]) == 6
    for m in r["methods"].values():
        for d in CLASSICAL_DETECTORS:
            assert len(m["stego_scores"][d]) == 6
            assert m["auc"][d] == pytest.approx(roc_auc(r["cover_scores"][d], m["stego_scores"][d]), abs=1e-6)
        cnn = m["learned"]["2"]
        assert len(cnn["cover_scores"]) == len(cnn["stego_scores"]) == 4
        assert cnn["auc"] == pytest.approx(roc_auc(cnn["cover_scores"], cnn["stego_scores"]), abs=1e-6)
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 300


def test_cli_detect_with_a_model_only_and_bad_arguments(photo_folder, tmp_path, capsys):
    js = tmp_path / "one.json"
    assert main(["detect", "--covers", str(photo_folder), "--no-baselines", "--model", "lsb3", "--limit", "4",
                 "--train-sizes", "0", "--json", str(js), "--no-progress"]) == 0
    r = json.loads(js.read_text())
    assert list(r["methods"]) == ["lsb3"] and r["pairs"] == 4 and r["learned"]["train_sizes"] == []
    capsys.readouterr()
    bad = (["--no-baselines", "--model", "lsb3", "--model", str(tmp_path / "none.safetensors")], ["--train-sizes", "a,b"], ["--model", "nope"], ["--plot", str(tmp_path / "x" / "r.png")])
    for extra in bad:
        assert main(["detect", "--covers", str(photo_folder), "--no-progress", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("deepsteg: error:") and err.count("\n") == 1
