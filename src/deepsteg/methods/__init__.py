"""Hiding methods behind one interface: the deep Baluja model and the LSB baselines."""

from deepsteg.methods.base import HidingMethod, match_secret
from deepsteg.methods.deep import DeepModel
from deepsteg.methods.lsb import LSB

__all__ = ["LSB", "DeepModel", "HidingMethod", "match_secret"]
