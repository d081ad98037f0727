"""The configuration of a training run, saved with every checkpoint."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from deepsteg.nets import ARCHITECTURES
from deepsteg.training.loss import LOWFREQ_POOL

SCHEDULES = ("cosine", "constant", "wsd")


@dataclass
class TrainConfig:
    data: str
    out: str
    val: str | None = None
    arch: str = "compact"  # a key of deepsteg.nets.ARCHITECTURES
    steps: int = 20000
    batch: int = 16
    crop: int = 64
    beta: float = 0.75
    beta_range: str = ""  # "LO,HI": a conditioned network's secret weight, log-uniform over strengths 0..1
    lr: float = 1e-3
    schedule: str = "cosine"  # after a linear warm-up: "cosine", "constant" or "wsd"
    warmup: int = 200
    decay_steps: int = 1000  # "wsd": constant, then a linear decay over the last decay_steps
    min_lr_ratio: float = 0.02
    seed: int = 0
    precision: str = "auto"  # "auto", "bf16" or "fp32"
    compile: bool = True  # torch.compile the training step (compiles once, ~20 s, then faster)
    noise: float = 0.0  # std (0-255 scale) of Gaussian noise on the stego image, besides rounding
    distort: str = ""  # distortions mixed into the channel per sample: "jpeg,noise,resize" (see training.distortions)
    jpeg_quality: str = "50,95"  # "LO,HI": the range the ``jpeg`` distortion draws each sample's quality from
    clip_grad: float = 0.0  # clip the global gradient norm to this before each step (0: off)
    lowfreq: float = 0.0  # weight of the cover's local-mean (8x8 block colour) error in the loss
    secret_power: float = 0.0  # each pair's secret error weighed by itself to -this (training.loss; 1: mean PSNR)
    saturate: float = 0.0  # share of covers given patches of saturated colour (training.data)
    scramble: bool = False  # hide each secret scrambled by a random key (a keyed model; methods.scramble)
    val_every: int = 1000
    diverge: float = 4.0  # stop when a validation loss is this many times the run's best so far (0: never)
    val_pairs: int = 16
    ckpt_every: int = 250
    log_every: int = 10
    threads: int = 0  # 0: torch's default
    init: str | None = None  # start from an exported model's weights (registry name or .safetensors file)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value}")
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.arch!r}; one of {sorted(ARCHITECTURES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}")
        if self.decay_steps < 0 or self.warmup < 0:
            raise ValueError("warmup and decay_steps must be >= 0")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError("precision must be auto, bf16 or fp32")
        if self.threads < 0:
            raise ValueError("threads must be >= 0 (0: torch's default)")
        for name in ("steps", "batch", "crop", "val_every", "val_pairs", "ckpt_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.lr <= 0 or self.beta < 0:
            raise ValueError("lr must be > 0 and beta >= 0")
        if self.clip_grad < 0:
            raise ValueError("clip_grad must be >= 0 (0: off)")
        if self.diverge and self.diverge <= 1:
            raise ValueError("diverge must be > 1 (times the best validation loss) or 0 (never stop)")
        if self.lowfreq < 0:
            raise ValueError("lowfreq must be >= 0 (0: off)")
        if not 0 <= self.secret_power <= 1:
            raise ValueError("secret_power must be in [0, 1] (0: the paper's loss)")
        if self.lowfreq and self.crop % LOWFREQ_POOL:
            raise ValueError(f"lowfreq needs a crop that is a multiple of {LOWFREQ_POOL}")
        if not 0 <= self.saturate <= 1:
            raise ValueError("saturate must be in [0, 1]")
        from deepsteg.training.distortions import parse_spec

        parse_spec(self.distort)
        self.jpeg_qualities()
        if self.beta_range:
            self.betas()

    @property
    def uses_jpeg(self) -> bool:
        """Whether the channel runs the real JPEG encoder (``jpeg`` in :attr:`distort`): such a run
        trains eagerly and validates from a real JPEG as well."""
        from deepsteg.training.distortions import parse_spec

        return "jpeg" in parse_spec(self.distort)

    def betas(self) -> tuple[float, float]:
        """``beta_range`` as ``(lo, hi)``; ValueError unless ``0 < lo < hi``, both finite."""
        try:
            lo, hi = (float(x) for x in self.beta_range.split(","))
        except ValueError:
            raise ValueError(f"beta_range must be 'LO,HI', got {self.beta_range!r}") from None
        if not 0 < lo < hi < math.inf:
            raise ValueError(f"beta_range needs 0 < LO < HI, both finite, got {self.beta_range!r}")
        return lo, hi

    def jpeg_qualities(self) -> tuple[int, int]:
        """``jpeg_quality`` as ``(lo, hi)``; ValueError unless ``1 <= lo <= hi <= 100``."""
        try:
            lo, hi = (int(x) for x in self.jpeg_quality.split(","))
        except ValueError:
            raise ValueError(f"jpeg_quality must be 'LO,HI' (integers), got {self.jpeg_quality!r}") from None
        if not 1 <= lo <= hi <= 100:
            raise ValueError(f"jpeg_quality needs 1 <= LO <= HI <= 100, got {self.jpeg_quality!r}")
        return lo, hi

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    #: Fields that may change when a run is resumed (the rest must match the checkpoint).
    #: Changing the schedule fields on resume is how a long run gets its final decay
    #: ("wsd": resume a copy of the run with more steps to decay over); changing ``beta``
    #: moves the balance between cover and secret quality from then on (``beta_range`` the range a
    #: conditioned network learns: widening it on resume extends the strengths it has learnt).
    RESUMABLE_CHANGES = ("steps", "val", "val_every", "val_pairs", "ckpt_every", "log_every", "threads", "out", "data",
                         "schedule", "decay_steps", "min_lr_ratio", "compile", "init", "beta", "clip_grad", "distort",
                         "jpeg_quality", "lowfreq", "secret_power", "saturate", "beta_range", "diverge")

    def lr_at(self, step: int) -> float:
        """Learning rate for optimizer step ``step`` (0-based)."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        if self.schedule == "constant":
            return self.lr
        if self.schedule == "wsd":
            start = self.steps - self.decay_steps
            if step < start:
                return self.lr
            t = min(1.0, (step - start + 1) / max(1, self.decay_steps))
            return self.lr * (1 - (1 - self.min_lr_ratio) * t)
        t = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))
