"""The shipped default model: it loads, its file matches the registry's hash, and on a photo
pair that scikit-image ships it stays in the PSNR band measured when it was exported."""

import numpy as np
import pytest

import deepsteg
from deepsteg.demo import demo_pair
from deepsteg.images import png_roundtrip
from deepsteg.metrics import psnr
from deepsteg.registry import DEFAULT_MODEL, REGISTRY, weights_path
from deepsteg.weights import sha256_file

# cover and secret PSNR (dB) of the default model's networks alone (refine=0) on demo_pair(),
# measured from PNG files when the model was shipped (fp32, and auto on a CPU without bf16:
# 31.59 / 33.91; bf16: 31.57 / 33.74); the band allows for other CPUs' float rounding.
BAND = {"cover_psnr": 31.58, "secret_psnr": 33.82}
# the same with the default hide-time refinement (16 steps, float32), measured with precision
# auto and fp32 on a CPU without bf16: 31.51 / 38.99
REFINED_BAND = {"cover_psnr": 31.51, "secret_psnr": 38.99}
TOLERANCE_DB = 0.5


def test_default_model_is_registered_and_its_hash_matches():
    assert DEFAULT_MODEL is not None and REGISTRY[DEFAULT_MODEL].kind == "deep"
    info = REGISTRY[DEFAULT_MODEL]
    assert sha256_file(weights_path(info)) == info.sha256
    model = deepsteg.load_model()
    assert model.name == DEFAULT_MODEL and model.card["steps"] > 0


@pytest.mark.parametrize("precision", ["auto", "fp32"])
def test_default_model_on_a_real_photo_pair(precision):
    cover, secret = demo_pair()
    model = deepsteg.load_model(precision=precision, refine=0)
    stego = png_roundtrip(model.hide(cover, secret))
    revealed = png_roundtrip(model.reveal(stego))
    assert stego.shape == cover.shape and stego.dtype == np.uint8
    assert abs(psnr(cover, stego) - BAND["cover_psnr"]) < TOLERANCE_DB
    assert abs(psnr(secret, revealed) - BAND["secret_psnr"]) < TOLERANCE_DB


def test_default_hide_refines_the_stego_image():
    """The default hide (with refinement) on the real pair: in its band, the secret several dB
    above the networks alone at nearly the same cover PSNR, and the reveal unchanged."""
    cover, secret = demo_pair()
    model = deepsteg.load_model()
    assert model.refine > 0
    stego = png_roundtrip(model.hide(cover, secret))
    revealed = png_roundtrip(model.reveal(stego))
    assert abs(psnr(cover, stego) - REFINED_BAND["cover_psnr"]) < TOLERANCE_DB
    assert abs(psnr(secret, revealed) - REFINED_BAND["secret_psnr"]) < TOLERANCE_DB
    plain = png_roundtrip(deepsteg.load_model(refine=0).hide(cover, secret))
    plain_revealed = png_roundtrip(model.reveal(plain))
    assert psnr(secret, revealed) > psnr(secret, plain_revealed) + 4
    assert psnr(cover, stego) > psnr(cover, plain) - 0.3


# deepsteg-inn-v1 on demo_pair(), networks alone, measured when it was shipped (bf16 on a CPU
# with native bf16: 39.32 / 33.44; fp32: 39.31 / 33.60)
INN_BAND = {"auto": (39.32, 33.44), "fp32": (39.31, 33.60)}


@pytest.mark.parametrize("precision", ["auto", "fp32"])
def test_shipped_invertible_model_on_a_real_photo_pair(precision):
    info = REGISTRY["deepsteg-inn-v1"]
    assert sha256_file(weights_path(info)) == info.sha256
    cover, secret = demo_pair()
    model = deepsteg.load_model("deepsteg-inn-v1", precision=precision, refine=0)
    stego = png_roundtrip(model.hide(cover, secret))
    revealed = png_roundtrip(model.reveal(stego))
    band = INN_BAND["auto" if precision == "auto" else "fp32"]
    tolerance = TOLERANCE_DB if precision == "fp32" else 0.5 + 0.2  # bf16 or fp32, whichever the CPU runs
    assert abs(psnr(cover, stego) - band[0]) < tolerance
    assert abs(psnr(secret, revealed) - band[1]) < tolerance
