"""Metrics against known values, the eval report layout, a golden eval, and agreement with
an independent PSNR computed on the files eval writes."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deepsteg.cli.main import main
from deepsteg.evaluation import evaluate_methods, lsb_margin
from deepsteg.methods import LSB, DeepModel
from deepsteg.metrics import mae, psnr, rmse, ssim
from deepsteg.nets import ArchConfig, StegoNet
from deepsteg.pairs import fit_secret, load_pairs
from deepsteg.registry import BASELINES
from tests.conftest import conditioned_inn, default_label, smooth_image

EXPECTED_METHODS = [default_label()] + [*BASELINES]  # default model first
GOLDEN = Path(__file__).parent / "golden" / "eval_small.json"
REGENERATE = os.environ.get("DEEPSTEG_REGEN_GOLDEN") == "1"


def test_metrics_known_values():
    a = smooth_image(32, 48, 0)
    assert psnr(a, a) == 99.0 and mae(a, a) == 0 and rmse(a, a) == 0 and ssim(a, a) == pytest.approx(1.0)
    b = np.clip(a.astype(int) + 5, 0, 255).astype(np.uint8)
    flat = np.full((16, 16, 3), 100, np.uint8)
    plus = flat + np.uint8(5)
    assert mae(flat, plus) == 5 and rmse(flat, plus) == 5
    assert psnr(flat, plus) == pytest.approx(20 * math.log10(255 / 5))
    assert 0 < ssim(a, b) < 1
    with pytest.raises(ValueError):
        psnr(a, a[:10])


def test_lsb_margin_on_the_frontier_is_zero():
    frontier = [(51.15, 17.04), (44.57, 22.59), (38.45, 28.76), (32.35, 34.78), (26.36, 40.68)]
    assert lsb_margin(38.45, 28.76, frontier) == pytest.approx(0)
    # the original Keras model's figures give about -4.7 dB
    assert lsb_margin(30.29, 32.08, frontier) == pytest.approx(-4.73, abs=0.02)
    assert lsb_margin(36.0, 36.0, frontier) == pytest.approx(36.0 - (28.76 + (34.78 - 28.76) * (38.45 - 36) / 6.10), abs=1e-6)


def test_fit_secret_turns_then_resizes():
    cover = np.zeros((30, 50, 3), np.uint8)
    secret = smooth_image(50, 30, 4)
    out = fit_secret(cover, secret, rotate=True)  # evaluation pairs
    assert out.shape == (30, 50, 3)
    assert np.array_equal(out, np.rot90(secret))
    notes = []
    squashed = fit_secret(cover, secret, notes=notes)  # what hide does: resize only, and say so
    assert squashed.shape == (30, 50, 3) and not np.array_equal(squashed, out)
    assert notes == ["secret 30x50 resized to the cover's 50x30"]


def _folder(tmp_path, n=6):
    d = tmp_path / "set"
    d.mkdir()
    for i in range(n):
        shape = (40, 56) if i != 4 else (56, 40)  # one portrait secret
        Image.fromarray(smooth_image(*shape, 50 + i)).save(d / f"im{i:02d}.png")
    return d


def _methods():
    torch.manual_seed(0)
    net = StegoNet(ArchConfig(widths=(4, 2, 2), prep_layers=1, hide_layers=1, reveal_layers=1))
    deep = DeepModel(net, name="tiny-random", precision="fp32")
    return [deep, LSB(2), LSB(4)]


def test_golden_eval(tmp_path):
    pairs = load_pairs(_folder(tmp_path))
    report = evaluate_methods(_methods(), pairs, tmp_path / "out", progress=False)
    figures = {r["method"]: {"cover": r["cover"], "secret": r["secret"], "lsb_margin": r["lsb_margin"]}
               for r in report["results"]}
    if REGENERATE:
        GOLDEN.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        pytest.fail(f"{GOLDEN.name} regenerated: review its diff, then run the tests without DEEPSTEG_REGEN_GOLDEN")
    golden = json.loads(GOLDEN.read_text())
    assert set(golden) == set(figures)
    for method, g in golden.items():
        for part in ("cover", "secret"):
            for k, v in g[part].items():
                tol = 0.05 if k == "psnr" else 0.005 if k == "ssim" else 0.05
                if method.startswith("lsb"):
                    tol = 1e-9  # exact
                assert figures[method][part][k] == pytest.approx(v, abs=tol), (method, part, k)
        assert figures[method]["lsb_margin"] == pytest.approx(g["lsb_margin"], abs=0.05 if method == "tiny-random" else 1e-9)


def test_eval_cli_json_layout_and_files_agree(tmp_path, capsys):
    d = _folder(tmp_path)
    out, js, cs = tmp_path / "files", tmp_path / "r.json", tmp_path / "r.csv"
    assert main(["eval", "--covers", str(d), "--out", str(out), "--json", str(js), "--csv", str(cs), "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "lsb4" in table and "LSB margin" in table
    report = json.loads(js.read_text())
    assert report["pairs"] == 3
    assert [r["method"] for r in report["results"]] == EXPECTED_METHODS
    for r in report["results"]:
        assert set(r) >= {"method", "cover", "secret", "worst_secret_psnr", "seconds"}
        for part in ("cover", "secret"):
            assert set(r[part]) == {"psnr", "ssim", "mae", "rmse"}
    assert len(cs.read_text().splitlines()) == 1 + len(EXPECTED_METHODS)
    # independent PSNR on the written files, with plain numpy
    pairs = load_pairs(d)
    for r in report["results"]:
        cps, sps = [], []
        for p in pairs:
            st = np.asarray(Image.open(out / r["method"] / f"{p.name}-stego.png")).astype(np.float64)
            rv = np.asarray(Image.open(out / r["method"] / f"{p.name}-revealed.png")).astype(np.float64)
            cps.append(10 * np.log10(255**2 / np.mean((st - p.cover) ** 2)))
            sps.append(10 * np.log10(255**2 / np.mean((rv - p.secret) ** 2)))
        assert abs(np.mean(cps) - r["cover"]["psnr"]) < 0.05 and abs(np.mean(sps) - r["secret"]["psnr"]) < 0.05


def test_eval_bad_folder_exits_2(tmp_path):
    assert main(["eval", "--covers", str(tmp_path / "none"), "--no-progress"]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--covers", str(tmp_path / "empty"), "--no-progress"]) == 2


def test_eval_at_a_cover_psnr_target(tmp_path, capsys):
    d = _folder(tmp_path)
    js = tmp_path / "t.json"
    assert main(["eval", "--covers", str(d), "--cover-psnr", "40", "--model", "deepsteg-inn-v2", "--json", str(js),
                 "--no-progress"]) == 2
    assert "one fixed strength" in capsys.readouterr().err  # an unconditioned model hides at one strength
    assert main(["eval", "--covers", str(d), "--no-baselines", "--model", "lsb1", "--model", "lsb3",
                 "--model", "codec-lsbm", "--cover-psnr", "40", "--json", str(js), "--no-progress"]) == 0
    assert "target miss" in capsys.readouterr().out
    rows = {r["method"]: r for r in json.loads(js.read_text())["results"]}
    assert set(rows) == {"lsb@40dB", "codec-lsbm@40dB"}  # the LSB baselines as one, bits chosen per image
    assert rows["lsb@40dB"]["cover"]["psnr"] >= 40 and rows["lsb@40dB"]["target"] == 40
    assert rows["codec-lsbm@40dB"]["worst_target_error"] > 5  # its rate cannot go below 51 dB: said, not hidden
    assert rows["codec-lsbm@40dB"]["missed_pairs"] == json.loads(js.read_text())["pairs"]
    for bad in (["--cover-psnr", "0"], ["--cover-psnr", "40", "--sweep"], ["--sweep", "--targets", "40,x"]):
        assert main(["eval", "--covers", str(d), "--model", "lsb2", "--no-progress", *bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_sweep_draws_conditioned_lines_fixed_points_and_the_lsb_line(tmp_path):
    from deepsteg.evaluation.sweep import plot_sweep, sweep
    from deepsteg.methods.header import read_strength

    pairs = load_pairs(_folder(tmp_path, n=4))
    cond = DeepModel(conditioned_inn(), name="cond", precision="fp32")
    fixed = _methods()[0]
    lo = min(psnr(p.cover, cond.with_settings(strength=1.0).hide(p.cover, p.secret)) for p in pairs)
    hi = max(psnr(p.cover, cond.with_settings(strength=0.0).hide(p.cover, p.secret)) for p in pairs)
    targets = (round(lo) + 2.0, round(hi) - 2.0)
    report = sweep([cond, fixed, LSB(2)], pairs, tmp_path / "sweep", targets, progress=False)
    assert [r["method"] for r in report["results"]] == [f"cond@{targets[0]:g}dB", f"cond@{targets[1]:g}dB",
                                                      "tiny-random"]
    for r, t in zip(report["results"], targets):
        assert r["worst_target_error"] <= 0.3 and r["target"] == t
        stego = np.asarray(Image.open(tmp_path / "sweep" / f"{t:g}dB" / r["method"] / f"{pairs[0].name}-stego.png"))
        assert 0 <= read_strength(stego) <= 1
    assert len(report["frontier"]) == 6 and report["targets"] == list(targets)
    plot_sweep(report, tmp_path / "sweep.png")
    assert Image.open(tmp_path / "sweep.png").size[0] > 400


def test_eval_sweep_cli_writes_the_plot_and_the_report(tmp_path, capsys):
    d = _folder(tmp_path)
    plot, js = tmp_path / "sweep.png", tmp_path / "sweep.json"
    assert main(["eval", "--covers", str(d), "--sweep", "--no-baselines", "--model", "lsb2", "--model", "codec-lsbm",
                 "--targets", "36,40", "--plot", str(plot), "--json", str(js), "--no-progress"]) == 0
    assert f"plot: {plot}" in capsys.readouterr().out
    report = json.loads(js.read_text())
    assert report["targets"] == [36.0, 40.0] and len(report["frontier"]) == 6
    assert [r["method"] for r in report["results"]] == ["codec-lsbm"]  # fixed; LSB is the frontier line
    assert Image.open(plot).format == "PNG"
    assert main(["eval", "--covers", str(d), "--sweep", "--plot", str(tmp_path / "x.jpg"), "--no-progress"]) == 2
