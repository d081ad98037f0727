"""codec-qim: the sealed codec file through a real JPEG, on JPEG's own luma grid."""

import numpy as np
import pytest
import reedsolo
from PIL import Image
from skimage import data

from deepsteg import DeepStegError, jpeg, load_model
from deepsteg.cli.main import main
from deepsteg.methods.codec import decode_secret
from deepsteg.methods.codec_qim import (
    MARGIN,
    PARITY_LEVELS,
    CodecQIM,
    Reading,
    _corrections,
    _decode,
    _decode_with,
    bits_to_symbols,
    carrier_plan,
    embed_symbols,
    read_symbols,
    risky_blocks,
    symbols_to_bits,
)
from deepsteg.metrics import psnr


@pytest.fixture(scope="module")
def pair():
    cover = data.astronaut()[:256, 128:384]
    secret = data.chelsea()[:256, 100:356]
    return cover, secret


@pytest.fixture(autouse=True)
def _seeded(seeded_salts):
    """Every test here hides with seeded random bytes (the conftest's ``seeded_salts``)."""


def test_the_plan_spends_the_cover_psnr_and_fits_the_quality():
    plan = carrier_plan(33.0, 75)
    # the shared step spends the cover PSNR over the carriers in use
    mse = len(plan.carriers) * plan.step**2 / 12 / 64
    assert 10 * np.log10(255**2 / mse) == pytest.approx(33.0)
    # every level is wider than the largest JPEG error at quality 75, with the margin
    table = jpeg.luma_table(75)[plan.carriers]
    assert np.all(plan.step / 2**plan.bits > MARGIN * table) and plan.bits.min() >= 1
    # a quieter cover or a lower quality carries less
    assert carrier_plan(38.0, 75).bits_per_block < plan.bits_per_block < carrier_plan(33.0, 90).bits_per_block
    with pytest.raises(DeepStegError, match="no DCT coefficient"):
        carrier_plan(60.0, 10)


def test_gray_coded_symbols_round_trip_and_a_slip_costs_one_bit():
    plan = carrier_plan(33.0, 75)
    rng = np.random.default_rng(0)
    symbols = (rng.random((50, len(plan.bits))) * 2**plan.bits).astype(np.int64)
    bits = symbols_to_bits(symbols, plan)
    assert bits.size == 50 * plan.bits_per_block
    assert np.array_equal(bits_to_symbols(bits, plan), symbols)
    two = int(np.argmax(plan.bits == 2))
    slipped = symbols.copy()
    slipped[:, two] = (slipped[:, two] + 1) % 4
    flipped = (symbols_to_bits(slipped, plan) != bits).reshape(50, -1).sum(1)
    assert np.all(flipped == 1)


def test_symbols_survive_the_jpeg_they_are_built_for(pair):
    cover = pair[0]
    plan = carrier_plan(33.0, 75)
    rng = np.random.default_rng(1)
    symbols = (rng.random(((256 // 8) ** 2, len(plan.bits))) * 2**plan.bits).astype(np.int64)
    stego = embed_symbols(cover, symbols, plan)
    assert abs(psnr(cover, stego) - 33.0) < 0.7
    wrong = {q: read_symbols(jpeg.roundtrip(stego, q), plan) != symbols for q in (90, 75, 50)}
    errors = {q: float(w.mean()) for q, w in wrong.items()}
    # measured: 2.0% / 2.8% / 15% of the symbols wrong, which the Reed-Solomon parity corrects at 75
    assert errors[90] <= errors[75] < 0.04 < 0.1 < errors[50]
    # nearly all of them where the photo is near 0 or 255, the blocks whose bytes the reveal may erase
    # (measured: 19% of those blocks' symbols, 0.08% of the others')
    risky = risky_blocks(jpeg.roundtrip(stego, 75))
    assert 0.05 < risky.mean() < 0.5 and wrong[75][~risky].mean() < 0.005 < 0.1 < wrong[75][risky].mean()
    # against a control: the cover's own coefficients hit a symbol by chance only
    assert (read_symbols(cover, plan) != symbols).mean() > 0.3


def test_the_secret_survives_jpeg_75_and_not_below(pair):
    cover, secret = pair
    method = load_model("codec-qim", passphrase=b"correct horse")
    stego = method.hide(cover, secret)
    assert stego.dtype == np.uint8 and stego.shape == cover.shape
    assert psnr(cover, stego) > 32.5
    from_png = method.reveal(stego)
    assert psnr(secret, from_png) > 25  # measured: 26.77 dB at a 33.27 dB cover (its AVIF file, as embedded)
    for quality in (95, 75):  # the same codec file, bit for bit
        assert np.array_equal(method.reveal(jpeg.roundtrip(stego, quality)), from_png)
    for attacked in (jpeg.roundtrip(stego, 40), cover):  # below its quality; a clean photo
        with pytest.raises(DeepStegError, match="no hidden image found"):
            method.reveal(attacked)
    with pytest.raises(DeepStegError, match="no hidden image found"):
        CodecQIM(passphrase=b"wrong").reveal(stego)
    assert np.array_equal(decode_secret(method.extract(stego)), from_png)


@pytest.mark.parametrize("wrong, as_read", [(5, 10), (35, None)])
def test_a_codeword_decodes_as_read_or_with_its_risky_bytes_erased_whichever_costs_less(wrong, as_read):
    """40 of a codeword's bytes lie in risky blocks; erased, they cost 40 corrections of 64. With 5
    of them wrong, as read costs 10; with 35 wrong, as read is beyond correction."""
    rng = np.random.default_rng(wrong)
    message = rng.bytes(255 - 64)
    coded = np.frombuffer(bytes(reedsolo.RSCodec(64, nsize=255).encode(message)), np.uint8).copy()
    risky_bytes = rng.choice(255, 40, replace=False)
    coded[risky_bytes[:wrong]] ^= 0xA5
    risky = np.zeros(255 * 8, bool)
    risky[(8 * risky_bytes[:, None] + np.arange(8)).reshape(-1)] = True
    reading, positions = Reading(np.unpackbits(coded), risky), np.arange(255 * 8)
    assert _decode_with(reading, positions, 64, np.sort(risky_bytes)) == (message, 40)
    if as_read is None:
        with pytest.raises(reedsolo.ReedSolomonError):
            _decode_with(reading, positions, 64, risky_bytes[:0])
    else:
        assert _decode_with(reading, positions, 64, risky_bytes[:0]) == (message, as_read)
    cost = min(40, as_read or 40)
    assert _decode(reading, positions, 64) == (message, cost) and _corrections(reading, positions, 64) == cost


@pytest.mark.parametrize("parity", PARITY_LEVELS)
def test_every_parity_level_reveals(pair, parity):
    """The reveal finds the parity a message was coded with, the message filling the cover; at 224
    bytes a codeword holds less than the message's prefix."""
    cover = pair[0]
    method = CodecQIM()
    data = np.random.default_rng(parity).bytes(method.capacity(cover.shape, parity))
    stego = method.embed(cover, method.seal(data), parity)
    assert method.extract(jpeg.roundtrip(stego, 90)) == data


def test_a_target_cover_psnr_sets_the_steps(pair):
    cover, secret = pair
    notes: list[str] = []
    method = CodecQIM()
    stego, used = method.hide_at(cover, secret, 31.0, notes=notes)
    assert abs(psnr(cover, stego) - 31.0) < 0.7 and "bits per 8x8 block" in notes[-1]
    assert np.array_equal(used.reveal(jpeg.roundtrip(stego, 80)), used.reveal(stego))
    # fainter still, this pair's stego image would not survive every JPEG from 75 up: refused, not made
    with pytest.raises(DeepStegError, match="would not survive every JPEG of quality 75 or more"):
        method.hide_at(cover, secret, 37.0)


@pytest.mark.parametrize("quality", [0, 101, 75.0])
def test_quality_must_be_an_integer_in_range(quality):
    with pytest.raises(DeepStegError, match="quality"):
        CodecQIM(quality=quality)


def test_the_cli_writes_a_jpeg_it_survives_and_refuses_one_below(pair, tmp_path, capsys):
    cover, secret = pair
    Image.fromarray(cover).save(tmp_path / "cover.png")
    Image.fromarray(secret).save(tmp_path / "secret.png")
    hide = ["hide", str(tmp_path / "cover.png"), str(tmp_path / "secret.png"), "--model", "codec-qim"]
    assert main([*hide, "-o", str(tmp_path / "low.jpg"), "--quality", "60"]) == 2
    assert "survives a JPEG down to quality 75" in capsys.readouterr().err
    assert not (tmp_path / "low.jpg").exists()
    assert main([*hide, "-o", str(tmp_path / "stego.jpg"), "--quality", "80"]) == 0
    # a chat app's recompression on the way, then the reveal
    Image.open(tmp_path / "stego.jpg").save(tmp_path / "shared.jpg", quality=75)
    assert main(["reveal", str(tmp_path / "shared.jpg"), "-o", str(tmp_path / "out.png"), "--model", "codec-qim"]) == 0
    assert psnr(secret, np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))) > 25


#: Photos for the seeded loop: scikit-image's, cropped at 256x256 where each seed says.
_PHOTOS = (data.astronaut, data.chelsea, data.coffee, data.rocket, data.immunohistochemistry)


@pytest.mark.slow
def test_every_jpeg_from_75_to_95_reveals_over_50_seeded_hides(monkeypatch):
    """codec-qim promises any JPEG of quality 75 or more: 50 hides (photos, crops and random bytes
    from seeds) each reveal the same secret after a JPEG at every quality from 75 to 95. A hide
    that cannot keep the promise refuses (it checks 75, 80, .., 95 with room to spare); almost none do."""
    photos = [f() for f in _PHOTOS]
    hides, refused, failures = 0, [], []
    for seed in range(70):
        rng = np.random.default_rng(seed)
        monkeypatch.setattr("deepsteg.methods.codec.random_bytes", rng.bytes)
        cover, secret = (_crop(photos[i], rng) for i in rng.choice(len(photos), 2, replace=False))
        method = CodecQIM(passphrase=b"seed %d" % seed)
        try:
            stego = method.hide(cover, secret)
        except DeepStegError as e:
            assert "would not survive" in str(e)
            refused.append(seed)
            continue
        expected, hides = method.reveal(stego), hides + 1
        for quality in range(75, 96):
            try:
                if not np.array_equal(method.reveal(jpeg.roundtrip(stego, quality)), expected):
                    failures.append((seed, quality, "differs"))
            except DeepStegError:
                failures.append((seed, quality, "not revealed"))
        if hides == 50:
            break
    assert hides == 50 and not failures and len(refused) <= 2  # measured: none of the first 50 seeds


def _crop(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = int(rng.integers(0, photo.shape[0] - 256 + 1))
    x = int(rng.integers(0, photo.shape[1] - 256 + 1))
    return np.ascontiguousarray(photo[y:y + 256, x:x + 256])
