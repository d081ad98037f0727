"""Training: the loss, a tiny real run, exact resume, Ctrl-C, export."""

import json

import numpy as np
import pytest
import torch

from deepsteg import DeepStegError, load_model
from deepsteg.cli.main import main
from deepsteg.evaluation import lsb_margin
from deepsteg.evaluation.run import lsb_frontier
from deepsteg.methods import DeepModel
from deepsteg.nets import ARCHITECTURES, StegoNet
from deepsteg.pairs import find_images, load_pairs
from deepsteg.tensors import quantize_8bit
from deepsteg.training import TrainConfig, train
from deepsteg.training.checkpoint import load_checkpoint
from deepsteg.training.data import PairSampler, load_images, paint_saturated, random_crop
from deepsteg.training.export import export_run
from deepsteg.training.loop import BEST, init_weights, val_loss
from deepsteg.training.loss import OVERSHOOT_WEIGHT, secret_weights, stego_loss


def tiny_cfg(folder, out, **kw):
    base = dict(data=str(folder), val=str(folder), out=str(out), arch="compact", steps=12, batch=4, crop=32,
                lr=1e-3, warmup=2, val_every=6, val_pairs=2, ckpt_every=4, log_every=2, seed=3, compile=False)
    base.update(kw)
    return TrainConfig(**base)


def test_cover_loss_never_trains_the_reveal_network():
    torch.manual_seed(0)
    net = StegoNet(ARCHITECTURES["compact"])
    c, s = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    stego = net.hide(c, s)
    revealed = net.reveal(quantize_8bit(stego))
    _, cover_mse, secret_mse = stego_loss(c, stego, s, revealed, beta=0.75)
    cover_mse.backward(retain_graph=True)
    assert all(p.grad is None or not p.grad.any() for p in net.reveal_net.parameters())
    assert all(p.grad is not None and p.grad.any() for p in net.hide_net.parameters())
    assert all(p.grad is not None and p.grad.any() for p in net.prep.parameters())
    net.zero_grad()
    secret_mse.backward()
    for module in (net.prep, net.hide_net, net.reveal_net):  # the secret term trains all three
        assert all(p.grad is not None and p.grad.any() for p in module.parameters())


def test_quantize_rounds_to_8_bits_with_identity_gradient():
    x = torch.tensor([-0.1, 0.0, 0.5, 0.50196, 1.2], requires_grad=True)
    q = quantize_8bit(x)
    assert torch.allclose(q * 255, torch.round(q * 255))
    assert q.min() >= 0 and q.max() <= 1
    q.sum().backward()
    assert torch.equal(x.grad, torch.ones(5))


def test_loss_is_the_paper_formula():
    c, s = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    loss, cm, sm = stego_loss(c, c + 0.1, s, s - 0.2, beta=0.5)
    assert torch.isclose(loss, torch.tensor(0.01 + 0.5 * 0.04))


def test_balanced_loss_gives_every_strength_the_same_share():
    c, s = torch.zeros(2, 3, 2, 2), torch.ones(2, 3, 2, 2)
    beta = torch.tensor([0.01, 100.0])
    plain, _, _ = stego_loss(c, c + 0.1, s, s - 0.1, beta)  # the pair at beta 100 is 99% of it
    balanced, _, _ = stego_loss(c, c + 0.1, s, s - 0.1, beta, balanced=True)
    assert torch.isclose(plain, torch.tensor((0.01 * 1.01 + 0.01 * 101) / 2))
    assert torch.isclose(balanced, torch.tensor(0.01))  # both pairs weigh cover + secret errors at 1


def test_secret_power_one_gives_the_mean_log_errors_gradient():
    c, s = torch.zeros(2, 3, 2, 2), torch.ones(2, 3, 2, 2)
    errors = torch.tensor([0.01, 0.1])  # an easy secret (20 dB) and a hard one (10 dB)
    for power, share in ((0.0, 0.1 / 0.11), (1.0, 0.5)):  # the hard pair's share of the gradient
        revealed = (s - errors.sqrt().view(2, 1, 1, 1)).requires_grad_(True)
        loss, _, secret_mse = stego_loss(c, c, s, revealed, beta=1.0, secret_power=power)
        loss.backward()
        mse_grad = revealed.grad.abs().sum(dim=(1, 2, 3)) * errors.sqrt()  # d loss / d log(mse_i), each pair
        assert torch.allclose(mse_grad[1] / mse_grad.sum(), torch.tensor(share))
        assert torch.isclose(secret_mse, errors.mean())  # the reported error stays the plain mean
    weights = secret_weights(errors, 0.5)
    assert torch.isclose(weights.mean(), torch.tensor(1.0)) and weights[0] > weights[1]
    with pytest.raises(ValueError, match="secret_power"):
        TrainConfig(data=".", out=".", secret_power=2.0)


def test_cover_term_measures_the_clamped_stego():
    cover = torch.zeros(1, 3, 8, 8)
    under = torch.full((1, 3, 8, 8), -0.1, requires_grad=True)  # below black: saved as black
    over = torch.full((1, 3, 8, 8), 0.1, requires_grad=True)  # the same change, visible
    loss_under, cover_mse, _ = stego_loss(cover, under, cover, cover, beta=0.5)
    assert cover_mse.item() == 0.0  # nothing visible
    assert torch.isclose(loss_under, torch.tensor(OVERSHOOT_WEIGHT * 0.01))  # but the overshoot is bounded
    loss_over, cover_mse, _ = stego_loss(cover, over, cover, cover, beta=0.5)
    assert torch.isclose(cover_mse, torch.tensor(0.01)) and torch.isclose(loss_over, cover_mse)
    (loss_under + loss_over).backward()
    assert (under.grad < 0).all() and (over.grad > 0).all()
    assert torch.allclose(-under.grad, OVERSHOOT_WEIGHT * over.grad)  # a change into the clamp is cheaper


def test_lowfreq_term_weighs_colour_shifts_not_fine_texture():
    cover = torch.full((1, 3, 16, 16), 0.5)
    shift = cover + 0.02  # the whole patch a little brighter
    checker = cover + 0.02 * (1 - 2 * ((torch.arange(16)[:, None] + torch.arange(16)) % 2)).float()
    for stego in (shift, checker):  # the same per-pixel error
        assert torch.isclose(stego_loss(cover, stego, cover, cover, 0.5)[1], torch.tensor(0.0004))
    plain = stego_loss(cover, shift, cover, cover, 0.5)[0]
    assert torch.isclose(stego_loss(cover, checker, cover, cover, 0.5, lowfreq=2.0)[0], plain)
    assert torch.isclose(stego_loss(cover, shift, cover, cover, 0.5, lowfreq=2.0)[0], plain * 3)


def test_saturated_patches_paint_covers_only(image_folder):
    images, _, _ = load_images(find_images(image_folder), progress=False)
    plain = PairSampler(images, 32, seed=1).batch(5, 8)
    painted = PairSampler(images, 32, seed=1, saturate=1.0).batch(5, 8)
    assert np.array_equal(plain[1], painted[1])  # secrets untouched
    changed = [not np.array_equal(a, b) for a, b in zip(plain[0], painted[0])]
    assert all(changed)
    extreme = lambda c: np.isin(c, (0, 255)).mean()  # noqa: E731
    assert extreme(painted[0]) > extreme(plain[0]) + 0.2
    flat = paint_saturated(np.full((32, 32, 3), 90, np.uint8), np.random.default_rng(0))
    assert flat.dtype == np.uint8 and flat.shape == (32, 32, 3) and (flat != 90).any()


@pytest.mark.parametrize("bad", [dict(saturate=1.5), dict(saturate=-0.1), dict(lowfreq=-1.0),
                                 dict(lowfreq=1.0, crop=36)])
def test_colour_options_are_checked(tmp_path, bad):
    with pytest.raises(ValueError):
        tiny_cfg(tmp_path, tmp_path / "run", **bad)


def test_data_folder_any_format_corrupt_files_counted(image_folder, capsys):
    (image_folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    paths = find_images(image_folder)
    assert len(paths) == 13
    images, kept, skipped = load_images(paths, progress=False)
    assert len(images) == 12 and [p.name for p in skipped] == ["broken.jpg"]
    assert "broken.jpg" in capsys.readouterr().err
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in images)


def test_pairs_are_a_function_of_seed_and_step(image_folder):
    images, _, _ = load_images(find_images(image_folder), progress=False)
    a = PairSampler(images, 32, seed=1)
    b = PairSampler(images, 32, seed=1)
    c1, s1 = a.batch(7, 4)
    c2, s2 = b.batch(7, 4)
    assert np.array_equal(c1, c2) and np.array_equal(s1, s2)
    assert c1.shape == (4, 32, 32, 3)
    assert not np.array_equal(a.batch(8, 4)[0], c1)
    half0 = a.batch(7, 4, rank=0, world=2)
    half1 = a.batch(7, 4, rank=1, world=2)
    assert np.array_equal(np.concatenate([half0[0], half1[0]]), c1[[0, 2, 1, 3]])


def test_small_images_are_scaled_up_for_crops():
    img = np.zeros((10, 20, 3), np.uint8)
    crop = random_crop(img, 32, np.random.default_rng(0))
    assert crop.shape == (32, 32, 3)


def test_tiny_training_run_lowers_the_loss(image_folder, tmp_path):
    # the default path: torch.compile of the bf16 training step
    cfg = tiny_cfg(image_folder, tmp_path / "run", steps=40, val_every=40, ckpt_every=40, log_every=5, compile=True)
    hist = train(cfg, progress=False)
    recs = [json.loads(ln) for ln in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in recs if r["kind"] == "train"]
    assert len(losses) == 8
    assert np.mean(losses[-2:]) < 0.6 * np.mean(losses[:2])
    assert hist["val"] and hist["val"][-1]["pairs"] == 2
    # the LSB margin against the frontier of the same validation pairs
    v = hist["val"][-1]
    frontier = lsb_frontier(load_pairs(image_folder, limit=2, protocol=True))
    assert v["lsb_margin"] == pytest.approx(lsb_margin(v["cover_psnr"], v["secret_psnr"], frontier))
    assert (tmp_path / "run" / "curves.png").stat().st_size > 1000


def test_resume_equals_an_uninterrupted_run(image_folder, tmp_path):
    full = tiny_cfg(image_folder, tmp_path / "full")
    train(full, progress=False)

    def stop_at_5(step):
        if step == 5:
            raise KeyboardInterrupt

    part = tiny_cfg(image_folder, tmp_path / "part")
    hist = train(part, progress=False, on_step=stop_at_5)
    assert hist["interrupted"] and load_checkpoint(tmp_path / "part")["step"] == 5
    with pytest.raises(DeepStegError, match="--resume"):
        train(part, progress=False)
    train(part, resume=True, progress=False)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "part")
    assert a["step"] == b["step"] == 12
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    la = (tmp_path / "full" / "log.jsonl").read_text().splitlines()
    lb = (tmp_path / "part" / "log.jsonl").read_text().splitlines()
    def strip(lines):
        return [{k: v for k, v in json.loads(x).items() if k != "pairs_per_s"} for x in lines]

    assert strip(la) == strip(lb)
    with pytest.raises(DeepStegError, match="cannot resume"):
        train(tiny_cfg(image_folder, tmp_path / "part", crop=48, steps=20), resume=True, progress=False)
    # beta may change on resume, like the schedule: the run goes on with the new balance
    train(tiny_cfg(image_folder, tmp_path / "part", beta=2.0, steps=14), resume=True, progress=False)
    c = load_checkpoint(tmp_path / "part")
    assert c["step"] == 14 and c["config"]["beta"] == 2.0


def test_the_best_validation_keeps_its_own_checkpoint(image_folder, tmp_path):
    """RUN/best holds the checkpoint of the step with the lowest validation loss, whichever
    step that was, beside the run's last; it exports like any run folder."""
    cfg = tiny_cfg(image_folder, tmp_path / "run", steps=12, val_every=2, ckpt_every=4)
    train(cfg, progress=False)
    records = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    vals = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in vals] == [2, 4, 6, 8, 10, 12]
    best = min(vals, key=lambda r: val_loss(r, cfg.beta))
    kept = load_checkpoint(tmp_path / "run" / BEST)
    assert kept["step"] == best["step"] and kept["history"]["val"][-1] == best
    assert load_checkpoint(tmp_path / "run")["step"] == 12
    export_run(tmp_path / "run" / BEST, tmp_path / "best.safetensors")
    assert load_model(str(tmp_path / "best.safetensors")).card["steps"] == best["step"]
    # the loss is Baluja's, from the PSNRs: 30 dB cover and 20 dB secret at beta 0.75
    assert val_loss({"cover_psnr": 30.0, "secret_psnr": 20.0}, 0.75) == pytest.approx(1e-3 + 0.75e-2)
    assert val_loss({"cover_psnr": 30.0, "secret_psnr": 40.0, "jpeg_secret_psnr": 20.0}, 1.0) == \
        pytest.approx(1e-3 + 1e-2)


def test_gradient_clipping_reaches_the_optimizer(image_folder, tmp_path):
    """The log records the gradient norm before clipping; a clip far below it shrinks the
    gradients so much that Adam's epsilon dominates and the weights barely move."""
    def moved(run: str, clip: float) -> tuple[float, float]:
        cfg = tiny_cfg(image_folder, tmp_path / run, steps=4, val_every=100, clip_grad=clip)
        train(cfg, progress=False)
        start = StegoNet(ARCHITECTURES["compact"])
        init_weights(start, cfg.seed)
        end = load_checkpoint(tmp_path / run)["model"]
        shift = sum(float((end[k] - v).abs().sum()) for k, v in start.state_dict().items())
        logs = [json.loads(x) for x in (tmp_path / run / "log.jsonl").read_text().splitlines()]
        return shift, min(r["grad_norm_max"] for r in logs if r["kind"] == "train")

    free, norm_free = moved("free", 0.0)
    clipped, norm_clipped = moved("clipped", 1e-12)
    assert norm_free > 1e-6 and norm_clipped > 1e-6  # the unclipped norm is what gets logged
    assert clipped < free / 100
    with pytest.raises(ValueError, match="clip_grad"):
        tiny_cfg(image_folder, tmp_path / "bad", clip_grad=-1.0)


def test_export_then_load_gives_identical_outputs(image_folder, tmp_path):
    train(tiny_cfg(image_folder, tmp_path / "run", steps=4, val_every=4), progress=False)
    ckpt = load_checkpoint(tmp_path / "run")
    net = StegoNet(ARCHITECTURES["compact"])
    net.load_state_dict(ckpt["model"])
    ref = DeepModel(net, precision="fp32")
    out = tmp_path / "m.safetensors"
    sha, card = export_run(tmp_path / "run", out, dtype="float32")
    assert card["steps"] == 4 and card["validation"]["pairs"] == 2
    md = (tmp_path / "m.md").read_text()
    assert sha in md and f"| {card['validation']['lsb_margin']:+.2f} dB |" in md
    model = load_model(out, precision="fp32", refine=0)
    (pair,) = load_pairs(image_folder, limit=1, protocol=True)
    c, s = pair.cover, pair.secret
    stego = ref.hide(c, s)
    assert np.array_equal(model.hide(c, s), stego)
    assert np.array_equal(model.reveal(stego), ref.reveal(stego))
    half = tmp_path / "h.safetensors"
    export_run(tmp_path / "run", half, dtype="float16")
    assert np.abs(load_model(half, precision="fp32", refine=0).hide(c, s).astype(int) - stego.astype(int)).max() <= 2


def test_a_run_can_start_from_an_exported_model(image_folder, tmp_path, capsys):
    """--init: the way on when a run's checkpoint is gone but its exported model is not."""
    train(tiny_cfg(image_folder, tmp_path / "run", steps=4, val_every=4), progress=False)
    exported = tmp_path / "m.safetensors"
    export_run(tmp_path / "run", exported, dtype="float32")
    source = load_model(exported, precision="fp32").net.state_dict()
    # one step at a tiny learning rate: the weights must start from the model, not from scratch
    train(tiny_cfg(image_folder, tmp_path / "next", steps=1, lr=1e-9, warmup=0, val_every=1, seed=9,
                   init=str(exported)), progress=False)
    after = load_checkpoint(tmp_path / "next")["model"]
    assert all(torch.allclose(after[k], v, atol=1e-6) for k, v in source.items())
    assert load_checkpoint(tmp_path / "next")["config"]["init"] == str(exported)
    # resuming keeps the record of where the weights came from, whatever --init says now
    train(tiny_cfg(image_folder, tmp_path / "next", steps=2, lr=1e-9, warmup=0, val_every=1, seed=9), resume=True,
          progress=False)
    assert load_checkpoint(tmp_path / "next")["config"]["init"] == str(exported)
    base = ["train", "--data", str(image_folder), "--steps", "1", "--no-progress", "--no-compile"]
    assert main([*base, "--out", str(tmp_path / "a"), "--init", "lsb4"]) == 2
    assert "LSB baselines have no weights" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "b"), "--init", str(exported), "--arch", "paper"]) == 2
    assert "architecture differs" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_train_and_export_cli(image_folder, tmp_path, capsys):
    run = tmp_path / "cli run"
    argv = ["train", "--data", str(image_folder), "--out", str(run), "--steps", "3", "--batch", "2",
            "--crop", "24", "--no-progress", "--val-every", "3", "--no-compile"]
    assert main(argv) == 0
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err
    assert main(["export", str(run), "-o", str(tmp_path / "m.safetensors")]) == 0
    assert main(["train", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "r2")]) == 2
    assert main(["export", str(tmp_path / "nothing"), "-o", str(tmp_path / "x.safetensors")]) == 2
    assert not (tmp_path / "x.safetensors").exists()


def test_schedules():
    cfg = TrainConfig(data=".", out=".", steps=100, warmup=10, lr=1.0, schedule="wsd", decay_steps=20, min_lr_ratio=0.0)
    assert cfg.lr_at(0) == pytest.approx(0.1) and cfg.lr_at(50) == 1.0 and cfg.lr_at(79) == 1.0
    assert cfg.lr_at(89) == pytest.approx(0.5) and cfg.lr_at(99) == pytest.approx(0.0)
    cos = TrainConfig(data=".", out=".", steps=110, warmup=10, lr=1.0, min_lr_ratio=0.0)
    assert cos.lr_at(10) == pytest.approx(1.0) and cos.lr_at(60) == pytest.approx(0.5) and cos.lr_at(110) == pytest.approx(0)
    with pytest.raises(ValueError):
        TrainConfig(data=".", out=".", schedule="step")


def test_a_diverged_run_stops_and_names_its_best_weights(image_folder, tmp_path, monkeypatch):
    """The second validation comes out 20 dB worse in the secret (a collapse, as when a run's
    learning rate is too high): the run stops there, its best weights and last checkpoint kept."""
    import deepsteg.training.loop as loop

    measured, calls = loop.validate, []

    def collapsing(*args, **kw):
        calls.append(measured(*args, **kw))
        return {**calls[-1], "secret_psnr": calls[-1]["secret_psnr"] - 20} if len(calls) > 1 else calls[-1]

    monkeypatch.setattr(loop, "validate", collapsing)
    with pytest.raises(DeepStegError, match=r"diverged: its validation loss at step 12 .* best \(step 6\)"):
        train(tiny_cfg(image_folder, tmp_path / "run", steps=18), progress=False)
    assert load_checkpoint(tmp_path / "run" / BEST)["step"] == 6
    assert load_checkpoint(tmp_path / "run")["step"] == 8  # the step-12 checkpoint was never written
    # the control: the same collapse with the guard off trains to the end
    calls.clear()
    history = train(tiny_cfg(image_folder, tmp_path / "off", steps=18, diverge=0), progress=False)
    assert history["step"] == 18 and len(history["val"]) == 3
    with pytest.raises(ValueError, match="diverge"):
        tiny_cfg(image_folder, tmp_path / "x", diverge=0.5)
