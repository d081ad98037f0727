"""The frontier as a picture: the cover / secret PSNR a model conditioned on a strength reaches
at a row of cover PSNR targets, beside the LSB line and methods that hide at one strength.

``deepsteg eval --sweep`` runs :func:`sweep` and :func:`plot_sweep`; every point is measured
from PNG files (:mod:`deepsteg.evaluation.measure`), each pair hidden at the target by its own
strength search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepsteg.evaluation.run import evaluate_methods, frontier_points, lsb_frontier, missed_label
from deepsteg.methods import LSB, DeepModel, HidingMethod
from deepsteg.pairs import Pair
from deepsteg.report import figure

DEFAULT_TARGETS = (34.0, 36.0, 38.0, 40.0, 42.0, 44.0)


def sweep(methods: list[HidingMethod], pairs: list[Pair], out_dir: str | Path,
          targets: tuple[float, ...] = DEFAULT_TARGETS, progress: bool = True) -> dict[str, Any]:
    """Conditioned networks at every target, other methods once as they are (the LSB
    baselines are the frontier line, measured on the same pairs). The report of
    :func:`~deepsteg.evaluation.run.evaluate_methods`, all rows in one list, plus ``targets``."""
    swept = [m for m in methods if isinstance(m, DeepModel) and m.targetable]
    fixed = [m for m in methods if m not in swept and not isinstance(m, LSB)]
    frontier = lsb_frontier(pairs)
    results = []
    for target in targets:
        if swept:
            results += evaluate_methods(swept, pairs, Path(out_dir) / f"{target:g}dB", progress, target,
                                        frontier)["results"]
    if fixed:
        results += evaluate_methods(fixed, pairs, Path(out_dir) / "fixed", progress, frontier=frontier)["results"]
    return {"pairs": len(pairs), "results": results, "frontier": frontier_points(frontier), "targets": list(targets)}


def plot_sweep(report: dict[str, Any], path: str | Path) -> None:
    """Secret PSNR against cover PSNR: a line per swept method (its targets marked), a point
    per fixed one, and the LSB line (1..6 bits)."""
    with figure(path, dpi=110, figsize=(7.5, 5)) as (fig, ax):
        lsb = report["frontier"]
        ax.plot([p["cover_psnr"] for p in lsb], [p["secret_psnr"] for p in lsb], "k--", marker=".", label="LSB")
        for p in lsb:
            ax.annotate(f"{p['bits']} bit{'s' if p['bits'] > 1 else ''}", (p["cover_psnr"], p["secret_psnr"]),
                        textcoords="offset points", xytext=(4, -10), fontsize=7, color="0.35")
        lines: dict[str, list[dict]] = {}
        for r in report["results"]:
            if "target" in r:
                lines.setdefault(r["method"].rsplit("@", 1)[0], []).append(r)
            else:
                ax.plot(r["cover"]["psnr"], r["secret"]["psnr"], marker="s", linestyle="none", label=r["method"])
        for name, rows in lines.items():
            xs, ys = [r["cover"]["psnr"] for r in rows], [r["secret"]["psnr"] for r in rows]
            ax.plot(xs, ys, marker="o", label=f"{name} at each target")
            for r, x, y in zip(rows, xs, ys):
                ax.annotate(f"{r['target']:g}{missed_label(r)}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel("cover PSNR (dB), stego image as PNG")
        ax.set_ylabel("secret PSNR (dB), revealed from the PNG")
        ax.set_title(f"cover / secret trade-off, {report['pairs']} pairs")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
