"""How detectable are stego images? ROC AUC of each detector against each hiding method.

Protocol (``deepsteg detect``, the pairs of ``deepsteg eval``): the images of a folder,
sorted, are split in half; image ``i`` of the first half is the cover and image ``i`` of
the second half the secret of pair ``i`` (a secret of the other orientation is turned 90
degrees, then resized to its cover's size). Every method hides every pair; each stego
image is encoded as an 8-bit PNG and decoded again before any detector sees it. Covers are the negatives, stegos the
positives: AUC 0.5 means the detector cannot tell them apart, 1.0 that it always can,
and below 0.5 that it ranks the stego images as *cleaner* than the covers.

The classical detectors score every cover and stego image. The learned detector is
trained per method on ``N`` leaked pairs, the first ``N`` of a seeded permutation of the
pairs, and tested on the pairs after the largest usable ``N``: one fixed test set, whose
images never appear in any training set.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.evaluation.measure import hide_as_png
from deepsteg.methods import HidingMethod
from deepsteg.registry import LSB_BASELINES
from deepsteg.report import figure, text_table
from deepsteg.steganalysis.classical import CLASSICAL_DETECTORS, classical_scores
from deepsteg.steganalysis.learned import learned_scores

#: The baselines ``deepsteg detect`` adds: LSB with an image payload, then with a random-looking one,
#: then the codec payload embedded by LSB matching.
BASELINES = LSB_BASELINES + tuple(f"{name}-xor" for name in LSB_BASELINES) + ("codec-lsbm",)
DEFAULT_TRAIN_SIZES = (30, 60, 120, 180)
#: The learned detector is only run with at least this many test pairs left over.
MIN_TEST_PAIRS = 4


def roc_auc(negatives: Sequence[float], positives: Sequence[float]) -> float:
    """Area under the ROC curve: P(positive score > negative score), ties counting one half."""
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    pos = np.asarray(positives, dtype=np.float64)
    if neg.size == 0 or pos.size == 0:
        raise ValueError("roc_auc needs at least one negative and one positive score")
    if np.isnan(neg).any() or np.isnan(pos).any():
        raise ValueError("roc_auc got NaN scores")
    below = np.searchsorted(neg, pos, side="left")
    tied = np.searchsorted(neg, pos, side="right") - below
    return float((below.sum() + 0.5 * tied.sum()) / (neg.size * pos.size))


def roc_curve(negatives: Sequence[float], positives: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates, from (0, 0) to (1, 1), one point per distinct threshold."""
    neg = np.asarray(negatives, dtype=np.float64)
    pos = np.asarray(positives, dtype=np.float64)
    thresholds = np.unique(np.concatenate([neg, pos]))[::-1]
    fpr = (neg[None, :] >= thresholds[:, None]).mean(axis=1)
    tpr = (pos[None, :] >= thresholds[:, None]).mean(axis=1)
    return np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr])


def split_pairs(n_pairs: int, train_sizes: Sequence[int], seed: int) -> tuple[np.ndarray, list[int], np.ndarray]:
    """(seeded order of the pairs, usable training sizes, indices of the common test pairs)."""
    order = np.random.default_rng(seed).permutation(n_pairs)
    usable = sorted({n for n in train_sizes if 0 < n <= n_pairs - MIN_TEST_PAIRS})
    test = order[max(usable):] if usable else order[:0]
    return order, usable, np.sort(test)


def _floats(a: Sequence[float]) -> list[float]:
    return [float(v) for v in a]


def evaluate(pairs: Sequence[tuple[np.ndarray, np.ndarray]], methods: Sequence[HidingMethod],
             train_sizes: Sequence[int] = DEFAULT_TRAIN_SIZES, steps: int = 200, seed: int = 0,
             progress: bool = True) -> dict:
    """Hide every pair ``(cover, secret)`` (same size) with every method, score the covers and
    the PNG-decoded stegos, report AUCs.

    Returns a JSON-ready dict: ``pairs``, ``detectors``, ``cover_scores`` (classical, per
    detector), ``learned`` (usable and skipped training sizes, test pair indices, steps,
    seed) and ``methods[name]`` with ``auc`` (per classical detector), ``stego_scores`` and
    ``learned[str(N)]`` (``auc``, ``cover_scores``, ``stego_scores`` on the test pairs).
    """
    if len(pairs) < 2:
        raise DeepStegError(f"need at least 2 cover/secret pairs, got {len(pairs)}")
    if not methods:
        raise DeepStegError("no hiding method to evaluate")
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise DeepStegError(f"methods must have distinct names, got {names}")
    order, usable, test = split_pairs(len(pairs), train_sizes, seed)
    covers = [c for c, _ in pairs]
    test_covers = [covers[i] for i in test]
    bar = tqdm(total=len(pairs) * (1 + len(methods)) + len(methods) * len(usable), desc="covers", unit="step",
               disable=not progress, file=sys.stderr)
    cover_scores: dict[str, list[float]] = {d: [] for d in CLASSICAL_DETECTORS}
    for c in covers:
        for d, v in classical_scores(c).items():
            cover_scores[d].append(v)
        bar.update()
    report_methods: dict[str, dict] = {}
    for method in methods:
        bar.set_description(f"{method.label}: hiding")
        stego_scores: dict[str, list[float]] = {d: [] for d in CLASSICAL_DETECTORS}
        stegos = []
        for c, s in pairs:
            stego = hide_as_png(method, c, s)
            stegos.append(stego if usable else None)
            for d, v in classical_scores(stego).items():
                stego_scores[d].append(v)
            bar.update()
        learned = {}
        for n in usable:
            bar.set_description(f"{method.label}: cnn N={n}")
            train_idx = order[:n]
            scores = learned_scores([covers[i] for i in train_idx], [stegos[i] for i in train_idx],
                                    test_covers + [stegos[i] for i in test], steps=steps, seed=seed)
            neg, pos = scores[:len(test)], scores[len(test):]
            learned[str(n)] = {"auc": roc_auc(neg, pos), "cover_scores": _floats(neg), "stego_scores": _floats(pos)}
            bar.update()
        report_methods[method.label] = {
            "auc": {d: roc_auc(cover_scores[d], stego_scores[d]) for d in CLASSICAL_DETECTORS},
            "stego_scores": {d: _floats(v) for d, v in stego_scores.items()},
            "learned": learned,
        }
    bar.close()
    return {
        "pairs": len(pairs),
        "detectors": list(CLASSICAL_DETECTORS),
        "cover_scores": {d: _floats(v) for d, v in cover_scores.items()},
        "learned": {"train_sizes": usable, "skipped_sizes": sorted({n for n in train_sizes if n > 0} - set(usable)),
                    "test_pairs": [int(i) for i in test], "steps": steps, "seed": seed},
        "methods": report_methods,
    }


def format_table(report: dict) -> str:
    """One text table: a row per method, the AUC of each classical detector and of the CNN per N."""
    sizes = report["learned"]["train_sizes"]
    cols = [*report["detectors"], *(f"cnn N={n}" for n in sizes)]
    rows = []
    for name, r in report["methods"].items():
        vals = [r["auc"][d] for d in report["detectors"]] + [r["learned"][str(n)]["auc"] for n in sizes]
        rows.append([name, *(f"{v:.3f}" for v in vals)])
    notes = [f"ROC AUC, covers = negatives, stegos = positives, {report['pairs']} pairs (0.5 = undetectable)",
             "chi2, rs, spa: built for random (encrypted) payloads; visual: for image payloads in the low bits"]
    if sizes:
        notes.append(f"cnn: trained on N leaked pairs, tested on {len(report['learned']['test_pairs'])} other pairs")
    if report["learned"]["skipped_sizes"]:
        notes.append(f"cnn N={report['learned']['skipped_sizes']} skipped: needs N + {MIN_TEST_PAIRS} pairs")
    return text_table(["method", *cols], rows, notes)


def plot_roc(report: dict, path: str | Path) -> Path:
    """ROC curves, one panel per method, one curve per detector (and per N), as a PNG."""
    names = list(report["methods"])
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    with figure(path, nrows=nrow, ncols=ncol, figsize=(4.2 * ncol, 4.0 * nrow), squeeze=False) as (fig, axes):
        _draw_roc(fig, axes, report, names)
    return Path(path)


def _draw_roc(fig, axes, report: dict, names: list[str]) -> None:
    for ax, name in zip(axes.ravel(), names):
        r = report["methods"][name]
        for d in report["detectors"]:
            fpr, tpr = roc_curve(report["cover_scores"][d], r["stego_scores"][d])
            ax.plot(fpr, tpr, lw=1.4, label=f"{d} ({r['auc'][d]:.2f})")
        for n, lr in r["learned"].items():
            fpr, tpr = roc_curve(lr["cover_scores"], lr["stego_scores"])
            ax.plot(fpr, tpr, lw=1.0, ls="--", label=f"cnn N={n} ({lr['auc']:.2f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls=":")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title=name)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(f"Steganalysis ROC, {report['pairs']} pairs (stego images after PNG round trip)", fontsize=10)
