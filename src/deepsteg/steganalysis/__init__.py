"""Steganalysis: how detectable is a stego image?

Classical detectors of LSB replacement (chi-square attack, RS analysis, sample pairs
analysis, the visual attack), a small learned CNN detector trained on leaked cover/stego pairs, and the
``deepsteg detect`` evaluation (ROC AUC per hiding method and detector).
"""

from deepsteg.steganalysis.classical import (
    CLASSICAL_DETECTORS,
    IMAGE_PAYLOAD_DETECTORS,
    RANDOM_PAYLOAD_DETECTORS,
    bit_plane_agreement,
    chi_square_attack,
    classical_scores,
    rs_analysis,
    sample_pairs_analysis,
    visual_attack,
)
from deepsteg.steganalysis.detect import (
    BASELINES,
    DEFAULT_TRAIN_SIZES,
    evaluate,
    format_table,
    plot_roc,
    roc_auc,
    roc_curve,
)
from deepsteg.steganalysis.learned import ResidualCNN, learned_scores, score_images, train_detector

__all__ = [
    "BASELINES",
    "CLASSICAL_DETECTORS",
    "DEFAULT_TRAIN_SIZES",
    "IMAGE_PAYLOAD_DETECTORS",
    "RANDOM_PAYLOAD_DETECTORS",
    "ResidualCNN",
    "bit_plane_agreement",
    "chi_square_attack",
    "classical_scores",
    "evaluate",
    "format_table",
    "learned_scores",
    "plot_roc",
    "roc_auc",
    "roc_curve",
    "rs_analysis",
    "sample_pairs_analysis",
    "score_images",
    "train_detector",
    "visual_attack",
]
