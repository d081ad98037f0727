"""The loss/PSNR figure drawn at the end of a training run."""

from __future__ import annotations

import json
from pathlib import Path

from deepsteg.report import figure


def plot_log(log_path: str | Path, out_png: str | Path) -> Path | None:
    """Draw training loss and cover/secret PSNR (train and validation) from a JSONL log."""
    recs = [json.loads(ln) for ln in Path(log_path).read_text().splitlines() if ln.strip()]
    train = [r for r in recs if r["kind"] == "train"]
    val = [r for r in recs if r["kind"] == "val"]
    if not train:
        return None
    with figure(out_png, dpi=110, ncols=2, figsize=(11, 4)) as (fig, (ax1, ax2)):
        _draw(ax1, ax2, train, val)
    return Path(out_png)


def _draw(ax1, ax2, train: list[dict], val: list[dict]) -> None:
    ax1.semilogy([r["step"] for r in train], [r["loss"] for r in train], lw=0.8)
    ax1.set(xlabel="step", ylabel="training loss", title="loss")
    for key, colour in (("cover_psnr", "tab:blue"), ("secret_psnr", "tab:orange")):
        label = key.split("_")[0]
        ax2.plot([r["step"] for r in train], [r[key] for r in train], lw=0.6, alpha=0.5, color=colour,
                 label=f"{label} (train batches)")
        if val:
            ax2.plot([r["step"] for r in val], [r[key] for r in val], "o-", color=colour,
                     label=f"{label} (validation, 8-bit PNG)")
    ax2.set(xlabel="step", ylabel="PSNR (dB)", title="cover and secret PSNR")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
