"""The warden's experiment: a detector trained on pairs the warden made with the public tool.

Covers without traces of an earlier JPEG: each photo of the given folders decoded and downscaled
by 2 with area averaging (:func:`~deepsteg.jpeg_traces.prepare_cover`), whole. Pair ``i``: cover
``i`` hides cover ``i + 1``'s image as its secret (a different photo, resized to fit). Every stego
image goes through an 8-bit PNG. The photos are split, seeded, into ``train_pairs`` for training
and the rest for testing: the detector never sees a test photo, as cover or as stego.

Each method's features are cached (``cache/LABEL.npz``, every :data:`_SAVE_EVERY` images) so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write
from deepsteg.images import png_roundtrip, read_image
from deepsteg.jpeg_traces import prepare_cover
from deepsteg.methods import HidingMethod
from deepsteg.metrics import psnr
from deepsteg.pairs import fit_secret
from deepsteg.steganalysis.detect import roc_auc
from deepsteg.steganalysis.rich import crm_features, detector_error, fld_ensemble

_SAVE_EVERY = 50
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def trace_free_covers(folders: Sequence[str | Path], limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """``(name, cover)`` for each photo of ``folders`` (sorted, recursively), downscaled by 2."""
    files = sorted(p for f in folders for p in Path(f).rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
    if limit is not None:
        files = files[:limit]
    if len(files) < 4:
        raise DeepStegError(f"the warden needs at least 4 photos, found {len(files)} in {', '.join(map(str, folders))}")
    return [(p.name, prepare_cover(read_image(p))) for p in files]


def _cached(cache: Path | None, label: str, count: int) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    if cache is None:
        return None, {}
    path = cache / f"{label}.npz"
    if not path.is_file():
        return None, {}
    with np.load(path) as z:
        if z["features"].shape[0] != count:
            return None, {}
        return z["features"], {k: z[k] for k in z.files if k != "features"}


def _save(cache: Path | None, label: str, features: np.ndarray, extra: dict[str, np.ndarray],
          images: dict[str, np.ndarray]) -> None:
    if cache is None:
        return
    cache.mkdir(parents=True, exist_ok=True)
    for name, arrays in ((f"{label}.npz", {"features": features, **extra}), (f"{label}-images.npz", images)):
        def write(tmp: Path, arrays: dict[str, np.ndarray] = arrays) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        atomic_write(cache / name, write)


def features_of(label: str, images: Callable[[int], tuple[np.ndarray, dict[str, float]]], count: int,
                cache: Path | None, progress: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """CRM features of ``images(i)`` for ``i < count`` (float32 ``(count, 5404)``) and the per-image
    figures it returned, resumed from and saved to ``cache``."""
    features, extra = _cached(cache, label, count)
    if features is None:
        features = np.full((count, 5404), np.nan, dtype=np.float32)
    todo = [i for i in range(count) if np.isnan(features[i, 0])]
    kept = _kept_images(cache, label)
    for n, i in enumerate(tqdm(todo, desc=label, unit="image", disable=not progress, file=sys.stderr)):
        try:
            image, figures = images(i)
        except DeepStegError:  # the method refuses this cover (too small): the pair is left out
            features[i] = np.inf
            continue
        features[i] = crm_features(image)
        kept[f"i{i}"] = image
        for k, v in figures.items():
            extra.setdefault(k, np.full(count, np.nan))[i] = v
        if (n + 1) % _SAVE_EVERY == 0:
            _save(cache, label, features, extra, kept)
    if todo:
        _save(cache, label, features, extra, kept)
    return features, extra


def _kept_images(cache: Path | None, label: str) -> dict[str, np.ndarray]:
    """The images already cached for ``label`` (key ``i<index>``), for a detector that learns from pixels."""
    path = cache / f"{label}-images.npz" if cache is not None else None
    if path is None or not path.is_file():
        return {}
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def cached_images(cache: Path, label: str, count: int, made: np.ndarray) -> list[np.ndarray | None]:
    """One method's ``count`` PNG-decoded stego images that its features were made from (None where
    ``made`` says the method refused the cover)."""
    kept = _kept_images(cache, label)
    missing = [i for i in range(count) if made[i] and f"i{i}" not in kept]
    if missing:
        raise DeepStegError(f"{label}: {len(missing)} of {count} images are not in {cache} (run --rich first)")
    return [kept[f"i{i}"] if made[i] else None for i in range(count)]


def payload_of(method: HidingMethod, stego: np.ndarray) -> float:
    """Bits per channel value a stealth or codec stego image carries (its sealed message), else NaN."""
    extract = getattr(method, "extract", None)
    if extract is None:
        return float("nan")
    from deepsteg.methods.codec import OVERHEAD

    return 8 * (len(extract(stego)) + OVERHEAD) / stego.size


def run_warden(covers: Sequence[tuple[str, np.ndarray]], methods: dict[str, HidingMethod], train_pairs: int,
               seed: int = 0, cache: Path | None = None, progress: bool = True, cnn_minutes: float = 0.0) -> dict:
    """Train CRM + FLD per method on ``train_pairs`` pairs and test it on the other photos' pairs;
    with ``cnn_minutes``, also train the SRNet-class CNN for that long per method (from the stego
    images kept in ``cache``, resuming its checkpoint there).

    Returns a JSON-ready dict: the split and, per method label, ``pe`` and ``auc`` on the test
    pairs, mean ``cover_psnr``, ``changed`` (share of channel values changed) and ``payload_bpc``,
    and ``cnn`` (``pe``, ``auc``, ``steps``) where the CNN ran.
    """
    count = len(covers)
    if not 2 <= train_pairs <= count - 2:
        raise DeepStegError(f"{train_pairs} training pairs of {count}: leave at least 2 for training and 2 for testing")
    order = np.random.default_rng(seed).permutation(count)
    train, test = order[:train_pairs], order[train_pairs:]
    images = [c for _, c in covers]
    cover_features, _ = features_of("cover", lambda i: (images[i], {}), count, cache, progress)
    report: dict = {"photos": count, "train_pairs": int(train.size), "test_pairs": int(test.size), "seed": seed,
                    "features": "CRMQ1 (5404)", "classifier": "FLD ensemble", "methods": {}}
    for label, method in methods.items():
        def stego(i: int, method: HidingMethod = method) -> tuple[np.ndarray, dict[str, float]]:
            cover = images[i]
            secret = fit_secret(cover, images[(i + 1) % count])
            s = png_roundtrip(method.hide(cover, secret))
            return s, {"cover_psnr": psnr(cover, s), "changed": float((s != cover).mean()),
                       "payload_bpc": payload_of(method, s)}

        stego_features, figures = features_of(label, stego, count, cache, progress)
        made = np.isfinite(stego_features[:, 0])
        train_m, test_m = train[made[train]], test[made[test]]
        ensemble = fld_ensemble(cover_features[train_m], stego_features[train_m], seed=seed)
        neg = ensemble.predict_confidence(cover_features[test_m].astype(np.float64))
        pos = ensemble.predict_confidence(stego_features[test_m].astype(np.float64))
        report["methods"][label] = {
            "pe": detector_error(neg, pos), "auc": roc_auc(neg, pos), "refused": int((~made).sum()),
            "train_pairs": int(train_m.size), "test_pairs": int(test_m.size),
            **{k: float(np.nanmean(v)) if not np.isnan(v).all() else None for k, v in figures.items()},
        }
        if cnn_minutes > 0 and cache is not None:
            stegos = cached_images(cache, label, count, made)
            report["methods"][label]["cnn"] = cnn_detector(images, stegos, train_m, test_m, cnn_minutes,
                                                           cache / f"{label}-srnet.pt", seed)
    return report


def cnn_detector(covers: Sequence[np.ndarray], stegos: Sequence[np.ndarray | None], train: np.ndarray, test: np.ndarray,
                 minutes: float, checkpoint: Path, seed: int) -> dict:
    """Train the SRNet-class CNN on the ``train`` pairs for ``minutes`` more, then its P_E and AUC on ``test``."""
    from deepsteg.steganalysis.srnet import srnet_scores, train_srnet

    net, steps = train_srnet([covers[i] for i in train], [stegos[i] for i in train], minutes, checkpoint, seed=seed,
                             log=lambda line: print(f"cnn: {line}", file=sys.stderr))
    neg, pos = srnet_scores(net, [covers[i] for i in test]), srnet_scores(net, [stegos[i] for i in test])
    return {"pe": detector_error(neg, pos), "auc": roc_auc(neg, pos), "steps": steps,
            "epochs": round(steps * 16 / len(train), 1)}


def format_warden(report: dict) -> str:
    """One text table: a row per method, its payload, cover PSNR, and the detector's P_E and AUC."""
    from deepsteg.report import text_table

    def number(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    rows = [[name, number(r.get("payload_bpc"), ".3f"), number(r.get("cover_psnr"), ".2f"), f"{r['pe']:.3f}",
             f"{r['auc']:.3f}", number(r.get("cnn", {}).get("pe"), ".3f"), number(r.get("cnn", {}).get("auc"), ".3f")]
            for name, r in report["methods"].items()]
    notes = [f"{report['features']} + {report['classifier']}, trained on {report['train_pairs']} pairs, tested on "
             f"{report['test_pairs']} pairs of other photos (covers downscaled by 2: no JPEG traces)",
             "P_E = min (false alarms + misses) / 2: 0.5 = blind; payload: bits per channel value carried"]
    return text_table(["method", "payload", "cover dB", "CRM P_E", "CRM AUC", "CNN P_E", "CNN AUC"], rows, notes)
