"""Training the Baluja networks on a folder of images, and exporting the result."""

from deepsteg.training.config import TrainConfig
from deepsteg.training.loop import train

__all__ = ["TrainConfig", "train"]
