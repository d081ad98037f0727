"""Run hiding methods over pairs and measure them on the PNG files they produce."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from deepsteg.evaluation.frontier import lsb_margin
from deepsteg.evaluation.measure import hide_and_reveal
from deepsteg.files import ensure_dir
from deepsteg.methods import LSB, HidingMethod
from deepsteg.methods.base import COVER_PSNR_TOLERANCE
from deepsteg.metrics import all_metrics, psnr
from deepsteg.pairs import Pair
from deepsteg.report import text_table

METRICS = ("psnr", "ssim", "mae", "rmse")
FRONTIER_BITS = range(1, 7)


def lsb_frontier(pairs: list[Pair]) -> list[tuple[float, float]]:
    """Mean (cover PSNR, secret PSNR) of LSB with 1..6 bits on ``pairs`` (exact, in memory)."""
    points = []
    for k in FRONTIER_BITS:
        m = LSB(k)
        rows = [(psnr(p.cover, st), psnr(p.secret, m.reveal(st))) for p in pairs for st in [m.hide(p.cover, p.secret)]]
        points.append(tuple(float(x) for x in np.mean(rows, axis=0)))
    return points


def frontier_points(frontier: list[tuple[float, float]]) -> list[dict[str, float]]:
    """The LSB frontier as a report lists it: ``{"bits", "cover_psnr", "secret_psnr"}`` per bit count."""
    return [{"bits": k, "cover_psnr": c, "secret_psnr": s} for k, (c, s) in zip(FRONTIER_BITS, frontier)]


def target_label(method: HidingMethod, cover_psnr: float | None) -> str:
    """How a comparison names ``method`` hiding at the ``cover_psnr`` target (``lsb@40dB``:
    the LSB baselines then pick their bit count per image)."""
    if cover_psnr is None:
        return method.label
    return f"{'lsb' if isinstance(method, LSB) else method.label}@{cover_psnr:g}dB"


def evaluate_method(method: HidingMethod, pairs: list[Pair], out_dir: Path, bar: tqdm | None = None,
                    cover_psnr: float | None = None) -> dict[str, Any]:
    """Hide every pair (at the ``cover_psnr`` target, if given), write the stego PNG, read it
    back, reveal, write the revealed PNG, read it back; figures of the files against the
    originals (with a target, also ``target``, the largest miss, ``worst_target_error``, and
    ``missed_pairs``: those more than :data:`COVER_PSNR_TOLERANCE` off, as a discrete setting or a
    target out of the method's reach on them leaves them)."""
    label = target_label(method, cover_psnr)
    folder = ensure_dir(out_dir / label)
    cover_rows, secret_rows, seconds = [], [], 0.0
    for p in pairs:
        m = hide_and_reveal(method, p.cover, p.secret, files=folder, name=p.name, cover_psnr=cover_psnr)
        seconds += m.seconds
        cover_rows.append(all_metrics(p.cover, m.stego))
        secret_rows.append(all_metrics(p.secret, m.revealed))
        if bar is not None:
            bar.update(1)
    def mean(rows: list[dict[str, float]]) -> dict[str, float]:
        return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}

    result = {"method": label, "cover": mean(cover_rows), "secret": mean(secret_rows),
              "worst_secret_psnr": float(min(r["psnr"] for r in secret_rows)),
              "worst_cover_psnr": float(min(r["psnr"] for r in cover_rows)), "seconds": seconds}
    if cover_psnr is not None:
        result["target"] = cover_psnr
        errors = [abs(r["psnr"] - cover_psnr) for r in cover_rows]
        result["worst_target_error"] = float(max(errors))
        result["missed_pairs"] = sum(e > COVER_PSNR_TOLERANCE for e in errors)
    return result


def evaluate_methods(methods: list[HidingMethod], pairs: list[Pair], out_dir: str | Path,
                     progress: bool = True, cover_psnr: float | None = None,
                     frontier: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """``{"pairs": N, "results": [...], "frontier": [...]}``; each result also has its
    ``lsb_margin`` against the LSB frontier measured on the same pairs (``frontier``, when
    already measured). With ``cover_psnr`` every method hides at that target."""
    out = Path(out_dir)
    frontier = frontier or lsb_frontier(pairs)
    results = []
    with tqdm(total=len(methods) * len(pairs), desc="evaluating", unit="pair", file=sys.stderr,
              disable=not progress) as bar:
        for m in methods:
            bar.set_postfix(method=target_label(m, cover_psnr))
            r = evaluate_method(m, pairs, out, bar, cover_psnr)
            r["lsb_margin"] = lsb_margin(r["cover"]["psnr"], r["secret"]["psnr"], frontier)
            results.append(r)
    return {"pairs": len(pairs), "results": results, "frontier": frontier_points(frontier)}


def missed_label(result: dict[str, Any]) -> str:
    """`` (N off)`` for a result at a target with N pairs beyond the tolerance, else ``""``."""
    return f" ({result['missed_pairs']} off)" if result.get("missed_pairs") else ""


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table, one row per method."""
    header = ["method", "cover PSNR", "SSIM", "MAE", "RMSE", "secret PSNR", "SSIM", "MAE", "RMSE", "worst",
              "LSB margin", "seconds"]
    rows = [[r["method"], f"{r['cover']['psnr']:.2f}", f"{r['cover']['ssim']:.4f}", f"{r['cover']['mae']:.2f}",
             f"{r['cover']['rmse']:.2f}", f"{r['secret']['psnr']:.2f}", f"{r['secret']['ssim']:.4f}",
             f"{r['secret']['mae']:.2f}", f"{r['secret']['rmse']:.2f}", f"{r['worst_secret_psnr']:.2f}",
             f"{r['lsb_margin']:+.2f}", f"{r['seconds']:.1f}"] for r in report["results"]]
    notes = []
    if any("target" in r for r in report["results"]):
        header.append("target miss")
        for row, r in zip(rows, report["results"]):
            row.append(f"{r['worst_target_error']:.2f}{missed_label(r)}" if "target" in r else "-")
        notes.append(f"target miss: the largest |cover PSNR - target| of a pair (dB); (N off): N pairs more than "
                     f"{COVER_PSNR_TOLERANCE:g} dB off (LSB's whole bits, codec-lsbm's rate cap, or a target out of "
                     "a network's reach on the pair, hidden at its nearest strength)")
    return text_table(header, rows, notes, title=f"{report['pairs']} pairs; PSNR in dB, MAE/RMSE on the 0-255 "
                                                 "scale, worst = lowest secret PSNR of a pair")
