"""Turn a training run's checkpoint into a shippable model file with a model card."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import torch

from deepsteg.files import atomic_write
from deepsteg.nets import arch_from_json, build_net
from deepsteg.training.checkpoint import load_checkpoint
from deepsteg.weights import save_model

DTYPES = {"float16": torch.float16, "float32": torch.float32}


def export_run(run_dir: str | Path, out: str | Path, dtype: str = "float16",
               extra_card: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Write ``out`` (.safetensors) and ``out`` with suffix ``.md`` (the model card).

    Returns ``(sha256, card)``.
    """
    ckpt = load_checkpoint(run_dir)
    net = build_net(arch_from_json(ckpt["arch"]))  # load_checkpoint checked both
    net.load_state_dict(ckpt["model"])
    cfg = ckpt["config"]
    val = ckpt["history"].get("val", [])
    card: dict[str, Any] = {
        "architecture": json.loads(ckpt["arch"]),
        "parameters": sum(p.numel() for p in net.parameters()),
        "training_data": cfg["data"],
        "steps": int(ckpt["step"]),
        "recipe": {k: cfg.get(k) for k in ("arch", "batch", "crop", "beta", "lr", "schedule", "warmup",
                                            "decay_steps", "min_lr_ratio", "seed", "precision", "compile", "noise",
                                            "clip_grad", "init", "distort", "jpeg_quality", "lowfreq", "saturate",
                                            "beta_range", "secret_power", "scramble") if k in cfg},
        "training_seconds": round(float(ckpt["history"].get("seconds", 0.0)), 1),
        "validation": val[-1] if val else None,
        "validation_data": cfg.get("val"),
        "weights_dtype": dtype,
        "exported": datetime.date.today().isoformat(),
        "torch": torch.__version__,
    }
    card.update(extra_card or {})
    sha = save_model(net, out, card=card, dtype=DTYPES[dtype])
    md = Path(out).with_suffix(".md")
    atomic_write(md, lambda tmp: tmp.write_text(card_markdown(Path(out).name, sha, card)))
    return sha, card


def card_markdown(filename: str, sha: str, card: dict[str, Any]) -> str:
    v = card.get("validation") or {}
    lines = [f"# Model card: {filename}", "",
             f"- sha256: `{sha}`",
             f"- architecture: `{json.dumps(card['architecture'], sort_keys=True)}` ({card['parameters']:,} parameters)",
             f"- training data: `{card['training_data']}`; {card['steps']:,} steps "
             f"({card['training_seconds'] / 3600:.2f} h wall-clock, pauses included)",
             f"- recipe: `{json.dumps(card['recipe'], sort_keys=True)}`",
             f"- weights: {card['weights_dtype']}; exported {card['exported']} with torch {card['torch']}"]
    if "default_refine" in card or "refine_cover_weight" in card:
        lines.append(f"- hide: {card.get('default_refine', 0)} refinement steps unless told"
                     + (f"; the cover weighs {card['refine_cover_weight']:g} in them" if "refine_cover_weight" in card
                        else ""))
    if v:
        columns = [("cover PSNR", f"{v['cover_psnr']:.2f} dB"), ("cover SSIM", f"{v['cover_ssim']:.4f}"),
                   ("secret PSNR", f"{v['secret_psnr']:.2f} dB"), ("secret SSIM", f"{v['secret_ssim']:.4f}"),
                   ("worst secret PSNR", f"{v['min_secret_psnr']:.2f} dB"),
                   ("LSB margin", f"{v['lsb_margin']:+.2f} dB" if "lsb_margin" in v else "")]
        through = "stego passed through an 8-bit PNG"
        if "jpeg_secret_psnr" in v:  # a run trained against JPEG also reveals from a real JPEG
            columns.append((f"secret PSNR after JPEG {v['jpeg_quality']}", f"{v['jpeg_secret_psnr']:.2f} dB"))
            through += f", and through a JPEG at quality {v['jpeg_quality']}"
        lines += ["", f"Validation during training ({v['pairs']} pairs of `{card.get('validation_data')}`, {through}):",
                  "", "| " + " | ".join(h for h, _ in columns) + " |", "|" + "---|" * len(columns),
                  "|" + "".join(f" {c} |" if c else " |" for _, c in columns)]
    return "\n".join(lines) + "\n"
