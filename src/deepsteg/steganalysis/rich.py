"""The field's standard detector for colour images: colour rich-model features with the FLD ensemble.

Features: CRMQ1 (Goljan, Fridrich and Cogranne, "Rich model for steganalysis of color images",
WIFS 2014; 5,404 co-occurrences of quantised noise residuals across R, G and B). Classifier: the
ensemble of Fisher linear discriminants on random subspaces (Kodovsky, Fridrich and Holub,
"Ensemble classifiers for steganalysis of digital media", IEEE TIFS 2012). Both come from the
``sealwatch`` package, which checks them against the authors' Matlab code.

``sealwatch`` imports ``torchvision`` (for its CNN parts) and ``pandas``/``h5py`` (for file helpers)
as the package loads, and its declared dependencies would replace the CPU torch; its rich models and
ensemble need only numpy and scipy. So it is installed without dependencies
(``pip install --no-deps sealwatch``; the Makefile does) and :func:`sealwatch_parts` loads just
those parts, without running the package's ``__init__``.

Detector error ``P_E = min over thresholds of (P_FA + P_MD) / 2`` (0.5: blind).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from functools import cache

import numpy as np

from deepsteg.errors import DeepStegError

#: CRMQ1's threshold (T = 3 gives the paper's 5,404 features).
CRM_T = 3
#: Modules of sealwatch that import what the rich models do not need; never loaded here.
_SKIPPED = ("sealwatch.tools.networks", "sealwatch.ensemble_classifier.helpers")


@cache
def sealwatch_parts() -> types.SimpleNamespace:
    """``crm`` (the colour rich model's module) and ``FldEnsembleTrainer`` from sealwatch, loaded
    without its torchvision, pandas and h5py imports. DeepStegError where sealwatch is not installed."""
    spec = importlib.util.find_spec("sealwatch")
    if spec is None or not spec.submodule_search_locations:
        raise DeepStegError("the rich-model detector needs sealwatch: pip install --no-deps sealwatch")
    if "sealwatch" not in sys.modules:
        package = types.ModuleType("sealwatch")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["sealwatch"] = package
        for name in _SKIPPED:
            sys.modules.setdefault(name, types.ModuleType(name))
    from sealwatch.ensemble_classifier.fld_ensemble_trainer import FldEnsembleTrainer
    from sealwatch.srm import crm

    return types.SimpleNamespace(crm=crm, FldEnsembleTrainer=FldEnsembleTrainer)


def crm_features(image: np.ndarray) -> np.ndarray:
    """CRMQ1 features of a uint8 ``(H, W, 3)`` image: float32 ``(5404,)``."""
    parts = sealwatch_parts()
    features = parts.crm.extract(np.ascontiguousarray(image[..., :3]), Tc=CRM_T)
    return np.concatenate([np.asarray(v, dtype=np.float32).ravel() for v in features.values()])


def detector_error(cover_scores: np.ndarray, stego_scores: np.ndarray) -> float:
    """``P_E``: the least ``(P_FA + P_MD) / 2`` over every threshold (a stego image scores higher)."""
    neg, pos = np.asarray(cover_scores, float), np.asarray(stego_scores, float)
    thresholds = np.concatenate([[-np.inf], np.unique(np.concatenate([neg, pos])), [np.inf]])
    false_alarms = (neg[None, :] > thresholds[:, None]).mean(axis=1)
    misses = (pos[None, :] <= thresholds[:, None]).mean(axis=1)
    return float(((false_alarms + misses) / 2).min())


def fld_ensemble(train_covers: np.ndarray, train_stegos: np.ndarray, seed: int = 0):
    """An FLD ensemble trained on paired features (float ``(N, D)`` each); its
    ``predict_confidence(X)`` scores images in -1..1 (stego high)."""
    parts = sealwatch_parts()
    trainer = parts.FldEnsembleTrainer(np.ascontiguousarray(train_covers, dtype=np.float64),
                                       np.ascontiguousarray(train_stegos, dtype=np.float64),
                                       seed=seed, verbose=0)
    ensemble, _ = trainer.train()
    return ensemble
