"""Hiding methods behind one interface: the deep Baluja model and the LSB baselines."""

from deepsteg.methods.base import HidingMethod
from deepsteg.methods.deep import DeepModel
from deepsteg.methods.lsb import LSB
from deepsteg.methods.refine import DEFAULT_REFINE_STEPS, refine_stego

__all__ = ["DEFAULT_REFINE_STEPS", "LSB", "DeepModel", "HidingMethod", "refine_stego"]
