"""deepsteg analyze (figure, report, leakage numbers) and deepsteg robustness."""

import json

import numpy as np
from PIL import Image

from deepsteg import LSB
from deepsteg.cli.main import main
from deepsteg.evaluation.analyze import leakage, magnify, pearson
from deepsteg.evaluation.robustness import robustness
from deepsteg.metrics import psnr
from deepsteg.pairs import Pair
from deepsteg.registry import ROBUSTNESS_BASELINES
from tests.conftest import default_label, smooth_image


def test_magnify_and_pearson_known_values():
    a = np.full((2, 2, 3), 100, np.uint8)
    b = a + np.uint8(3)
    assert (magnify(a, b, 10) == 30).all() and (magnify(a, b, 100) == 255).all()
    x = np.arange(10.0)
    assert pearson(x, 2 * x + 1) == 1.0 and pearson(x, -x) == -1.0 and pearson(x, np.ones(10)) == 0.0


def test_lsb_residual_leaks_the_secret_and_a_plain_cover_does_not():
    c, s = smooth_image(64, 64, 1), smooth_image(64, 64, 2)
    lk = leakage(c, LSB(4).hide(c, s), s)
    assert lk["residual_vs_secret_luma"] > 0.3  # LSB writes the secret's high bits as they are
    noise = np.random.default_rng(0).integers(-2, 3, c.shape)
    lk0 = leakage(c, np.clip(c + noise, 0, 255).astype(np.uint8), s)
    assert abs(lk0["residual_vs_secret_luma"]) < 0.1


def test_analyze_writes_figure_and_report(images, tmp_path, capsys):
    out = tmp_path / "analysis"
    assert main(["analyze", str(images["cover_path"]), str(images["secret_path"]), "--model", "lsb4",
                 "-o", str(out)]) == 0
    assert "cover PSNR" in capsys.readouterr().out
    with Image.open(out / "analysis.png") as im:
        assert im.size == (1280, 1040)
    report = (out / "report.md").read_text()
    assert "residual" in report and "analysis.png" in report
    stego = np.asarray(Image.open(out / "stego.png"))
    assert np.array_equal(stego, LSB(4).hide(images["cover"], images["secret"]))
    assert f"{psnr(images['cover'], stego):.2f}" in report
    assert main(["analyze", str(tmp_path / "missing.png"), str(images["secret_path"]), "--model", "lsb4",
                 "-o", str(tmp_path / "x")]) == 2


def test_robustness_behaves_as_lsb_must():
    pairs = [Pair(f"p{i}", smooth_image(48, 64, i), smooth_image(48, 64, 10 + i)) for i in range(2)]
    report = robustness([LSB(2)], pairs, progress=False)
    r = report["results"][0]["secret_psnr"]
    exact = np.mean([psnr(p.secret, LSB(2).reveal(LSB(2).hide(p.cover, p.secret))) for p in pairs])
    assert abs(r["none"] - exact) < 1e-9
    cover = np.mean([psnr(p.cover, LSB(2).hide(p.cover, p.secret)) for p in pairs])
    assert abs(report["results"][0]["cover_psnr"] - cover) < 1e-9  # the stego file before any attack
    assert abs(r["crop10"] - r["none"]) < 1.0  # pixel-wise: a crop keeps the rest intact
    assert r["jpeg50"] < r["none"] - 5 and r["noise5"] < r["noise1"]  # the low bits do not survive


def test_robustness_cli_table_json_plot(tmp_path, capsys):
    d = tmp_path / "set"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(40, 48, i)).save(d / f"{i}.png")
    js, pl = tmp_path / "r.json", tmp_path / "r.png"
    assert main(["robustness", "--covers", str(d), "--protocol", "--json", str(js), "--plot", str(pl),
                 "--no-progress"]) == 0
    assert "jpeg50" in capsys.readouterr().out
    report = json.loads(js.read_text())
    expected = [default_label()] + [*ROBUSTNESS_BASELINES]
    assert report["pairs"] == 2 and [r["method"] for r in report["results"]] == expected
    codec = next(r for r in report["results"] if r["method"] == "codec-lsbm")
    assert codec["secret_psnr"]["none"] > 25 and codec["failures"]["none"] == 0
    assert codec["secret_psnr"]["noise1"] is None and codec["failures"]["noise1"] == 2  # one changed bit: nothing
    qim = next(r for r in report["results"] if r["method"] == "codec-qim")  # 40x48: too small for a codeword
    assert qim["cover_psnr"] is None and set(qim["failures"].values()) == {2}
    assert pl.stat().st_size > 5000
