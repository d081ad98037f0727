"""The loss/PSNR figure drawn at the end of a training run."""

from __future__ import annotations

import json
from pathlib import Path

from deepsteg.files import atomic_write


def plot_log(log_path: str | Path, out_png: str | Path) -> Path | None:
    """Draw training loss and cover/secret PSNR (train and validation) from a JSONL log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(ln) for ln in Path(log_path).read_text().splitlines() if ln.strip()]
    train = [r for r in recs if r["kind"] == "train"]
    val = [r for r in recs if r["kind"] == "val"]
    if not train:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
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
    fig.tight_layout()
    path = atomic_write(out_png, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path
