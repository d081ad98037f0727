"""Evaluation: every method hides every pair, figures measured on real 8-bit PNG files."""

from deepsteg.evaluation.frontier import lsb_margin
from deepsteg.evaluation.run import evaluate_methods

__all__ = ["evaluate_methods", "lsb_margin"]
