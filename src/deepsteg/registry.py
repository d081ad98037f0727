"""The one model registry: a name maps to everything needed to build and trust a model.

``list_models()`` and ``load_model(name_or_path)`` read it. Deep models point at a
``.safetensors`` file whose sha256 is checked on load: inside the package
(``deepsteg/pretrained``) for the default and current models, in the source repository's
``models/`` folder for superseded ones (a checkout loads them by name; an installed package
lists them and names the file). LSB baselines are exact functions and need no file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from deepsteg.errors import DeepStegError
from deepsteg.methods import LSB, DeepModel, HidingMethod
from deepsteg.methods.codec import CodecLSBM
from deepsteg.methods.codec_qim import CodecQIM
from deepsteg.methods.stealth import Stealth
from deepsteg.methods.usage import Usage
from deepsteg.weights import load_net

BALUJA = 'Baluja, "Hiding Images in Plain Sight: Deep Steganography", NIPS 2017'


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue entry: what the model is (``design``, a key of
    :data:`deepsteg.nets.ARCHITECTURES`; ``arch``, in words), where its weights are and their
    hash, how it hides unless told otherwise (``usage``), and its ``status``."""

    name: str
    kind: str  # "deep", "lsb" or "codec" (codec-lsbm, codec-qim, stealth)
    description: str
    arch: str = ""
    design: str = ""
    usage: Usage = field(default_factory=Usage)
    weights: str = ""  # file name inside deepsteg/pretrained (superseded: models/)
    sha256: str = ""
    value_range: str = "uint8 RGB in, uint8 RGB out; networks see float [0, 1]"
    paper: str = BALUJA
    licence: str = "MIT"
    targetable: bool = False  # hides at a cover PSNR target (LSB, codec-lsbm, conditioned networks)
    status: str = "current"  # "default", "current" or "superseded" (weights outside the package)
    extra: dict = field(default_factory=dict)

    @property
    def keyed(self) -> bool:
        """Whether only the passphrase reveals (else anyone with DeepSteg can)."""
        return self.kind == "codec" or self.usage.keyed


_LSB_PAPER = "classic least-significant-bit substitution"

REGISTRY: dict[str, ModelInfo] = {
    f"lsb{k}": ModelInfo(
        name=f"lsb{k}", kind="lsb", paper=_LSB_PAPER, targetable=True,
        description=f"secret's {k} high bits in the cover's {k} low bits (baseline)")
    for k in range(1, 5)
}
REGISTRY.update({
    f"lsb{k}-xor": ModelInfo(
        name=f"lsb{k}-xor", kind="lsb", paper=_LSB_PAPER, targetable=True,
        description=f"lsb{k} with the stored bits XORed with a public pseudo-random stream "
                    "(looks like an encrypted payload)")
    for k in range(1, 5)
})

REGISTRY["codec-lsbm"] = ModelInfo(
    name="codec-lsbm", kind="codec", targetable=True, paper="image codec + ChaCha20-Poly1305 + LSB matching (as steghide-like tools do)",
    description="the secret as an AVIF file, encrypted and authenticated with a passphrase, embedded by LSB matching "
                "at pseudo-random positions; cover PSNR >= 50 dB",
    value_range="uint8 RGB in, uint8 RGB out")

REGISTRY["codec-qim"] = ModelInfo(
    name="codec-qim", kind="codec", targetable=True,
    paper="image codec + ChaCha20-Poly1305 + Reed-Solomon + dither modulation on JPEG's luma DCT grid",
    description="codec-lsbm's sealed AVIF file carried by the luma DCT coefficients of 8x8 blocks, built to survive "
                "a JPEG down to quality 75; cover PSNR about 33 dB; fails below that quality",
    value_range="uint8 RGB in, uint8 RGB out")
REGISTRY["stealth"] = ModelInfo(
    name="stealth", kind="codec",
    paper="AVIF + ChaCha20-Poly1305 + HILL costs (Li et al., ICIP 2014) + syndrome-trellis codes (Filler, Judas and "
          "Fridrich, IEEE TIFS 2011)",
    description="a small payload that rich-model detectors struggle to find: the secret as a small AVIF file, "
                "encrypted and authenticated with a passphrase, embedded where the cover is busy by syndrome-trellis "
                "codes; needs a cover that was never a JPEG (deepsteg hide --stealth --prepare-cover)",
    value_range="uint8 RGB in, uint8 RGB out")
#: The class of each codec method.
_CODEC_METHODS = {"codec-lsbm": CodecLSBM, "codec-qim": CodecQIM, "stealth": Stealth}

#: The LSB baselines every comparison adds unless told not to.
LSB_BASELINES = tuple(f"lsb{k}" for k in range(1, 5))
#: Every baseline of a comparison: LSB substitution, and the practical rival.
BASELINES = LSB_BASELINES + ("codec-lsbm",)
#: The baselines of ``deepsteg robustness``: those, and the codec method built to survive JPEG.
ROBUSTNESS_BASELINES = BASELINES + ("codec-qim",)

#: The licence of every network trained here.
_TRAINED_LICENCE = "MIT (weights); trained on ImageNet and BSDS500 photos, research use"

REGISTRY["deepsteg-compact-v11"] = ModelInfo(
    name="deepsteg-compact-v11", kind="deep", arch="compact: 50/10/5 filters (65 channels), residual output",
    design="compact",
    description="Baluja networks trained by DeepSteg on 2,199 ImageNet/BSDS500 photos, 100,165 steps in eleven "
                "stages, three on a GPU (see its card)",
    weights="deepsteg-compact-v11.safetensors",
    sha256="bb39abf48cf8c6be7c57f669bbf9c98942731d5471e30b8f45b62da5e9e18665",
    licence=_TRAINED_LICENCE)


def _invertible(name: str, description: str, sha256: str, strength: float | None = None, keyed: bool = False,
                status: str = "superseded") -> ModelInfo:
    """A model of the ``inn`` design, or of ``inn-cond`` (its weights: ``NAME.safetensors``, :func:`weights_path`)."""
    arch = "invertible network in the Haar domain, 8 coupling blocks of 56 channels"
    conditioned = strength is not None
    if keyed:
        arch = f"inn-cond: {arch}, conditioned on a strength, hiding the secret scrambled by a key (sealed header)"
    elif conditioned:
        arch = f"inn-cond: {arch}, conditioned on a strength (its byte in the stego image)"
    else:
        arch = f"inn: {arch}"
    return ModelInfo(
        name=name, kind="deep", description=description, weights=f"{name}.safetensors", sha256=sha256, arch=arch,
        design="inn-cond" if conditioned else "inn", usage=Usage(strength=strength, keyed=keyed),
        paper='Jing et al., "HiNet: Deep Image Hiding by Invertible Network", ICCV 2021 (design); ' + BALUJA + " (task)",
        licence=_TRAINED_LICENCE, targetable=conditioned, status=status)


REGISTRY["deepsteg-keyed-v1"] = _invertible(
    "deepsteg-keyed-v1",
    "deepsteg-inn-cond-v1 trained on by DeepSteg to hide a secret scrambled by a key from the passphrase and a "
    "per-image salt: only the passphrase reveals; a wrong one, or a clean photo, gives \"no hidden image found\"; "
    "a cover PSNR from its strongest to its faintest hide, about 31 to 50 dB on average (--cover-psnr)",
    "dfae9222f9f39778dc2393403b0e3eae84325a4cf4b5ca476f41e552ec7eb861", strength=0.4157, keyed=True,
    status="default")
REGISTRY["deepsteg-inn-cond-v1"] = _invertible(
    "deepsteg-inn-cond-v1",
    "deepsteg-inn-v2 conditioned on a strength and trained by DeepSteg over a range of secret weights: any cover "
    "PSNR from about 31-35 to 45-51 dB per photo (--cover-psnr); by default one pass at strength 0.42",
    "1c2c8156b7c81557a3e152a68e494a0f373e438c32c77061611ce263060a403b", strength=0.42)
REGISTRY["deepsteg-inn-v2"] = _invertible(
    "deepsteg-inn-v2",
    "deepsteg-inn-v1 fine-tuned by DeepSteg to keep saturated colours (figures in its card)",
    "31a1af9cb56081d4cf54ab90fdf546df8e40d1dd30ef25f6e2994d0b70cfb86f")
REGISTRY["deepsteg-inn-v1"] = _invertible(
    "deepsteg-inn-v1",
    "invertible network trained by DeepSteg for 40 minutes on 2 CPU cores (the architecture bake-off); "
    "saturated colours shift (superseded by deepsteg-inn-v2)",
    "c0f2fe45eb0ed832649df1c1cd2e8438f5527319e05e7eba1089332c8d82fc5c")

def _robust(name: str, arch: str, description: str, sha256: str, status: str = "superseded", refine: int = 0,
            refine_cover_weight: float | None = None) -> ModelInfo:
    """A model of a dither design, trained against JPEG (its weights: ``NAME.safetensors``, :func:`weights_path`)."""
    return ModelInfo(
        name=name, kind="deep", arch=arch, description=description, weights=f"{name}.safetensors", sha256=sha256,
        design=arch.split(":")[0],
        usage=Usage(refine=refine, refine_cover_weight=refine_cover_weight, survives="jpeg"),
        paper="Chen and Wornell, Quantization index modulation, IEEE Trans. Information Theory 2001 (hiding "
              "layer); " + BALUJA + " (task)",
        licence=_TRAINED_LICENCE, status=status)


REGISTRY["deepsteg-robust-v1"] = _robust(
    "deepsteg-robust-v1",
    "dither-k28: encoder and decoder on 8x8 blocks around dither modulation of 28 luma DCT "
    "coefficients per JPEG block, in 128-pixel windows",
    "trained by DeepSteg against Pillow's real JPEG (quality 70-90); short of the secret aimed at after a "
    "JPEG 75 (figures in its card)",
    "f085059c72826110bc64c0be57166ab81c3699d9c488dd96bbe08088894e583c")

REGISTRY["deepsteg-robust-v2"] = _robust(
    "deepsteg-robust-v2",
    "dither-flat: deepsteg-robust-v1's design with all 28 dither steps equal (more through a JPEG "
    "for the same cover cost), in 128-pixel windows",
    "deepsteg-robust-v1 trained on by DeepSteg with equal steps against Pillow's real JPEG (quality "
    "75-90); short of the secret aimed at after a JPEG 75 (figures in its card)",
    "016475e7f4f5b92477d50bd5348ca91bec76d729f12db0c556ff70f3a35a062a")

REGISTRY["deepsteg-robust-v3"] = _robust(
    "deepsteg-robust-v3",
    "dither-flat-30: deepsteg-robust-v2's design with its steps set for a 30 dB cover (1.41x larger), "
    "hiding with 60 refinement steps through a real JPEG 75 that lift the cover back, in 128-pixel windows",
    "deepsteg-robust-v2 trained on by DeepSteg with the larger steps against Pillow's real JPEG (quality "
    "75-90); short of the secret aimed at after a JPEG 75 (figures in its card)",
    "1851dd3dc3f417fe81d56c0361ff17e2946686d62eb0c58c8f79a157034c41e6", refine=60)

REGISTRY["deepsteg-robust-v4"] = _robust(
    "deepsteg-robust-v4",
    "dither-flat-30: deepsteg-robust-v3's design, hiding with 120 refinement steps through a real JPEG 75 "
    "that weigh the cover 0.06 against the secret, in balanced windows of at most 128 pixels",
    "deepsteg-robust-v3 trained on by DeepSteg against Pillow's real JPEG (quality 75-80), each pair's "
    "secret weighed by its own error; survives a JPEG down to quality 75 (figures in its card and "
    "docs/robustness.md)",
    "b3057b3aef6cea99c5650955783164e1cdefe5d452a322c71063317d36294653", status="current", refine=120,
    refine_cover_weight=0.06)

DEFAULT_MODEL = "deepsteg-keyed-v1"


def list_models() -> list[ModelInfo]:
    """Every registered model, the default first."""
    return sorted(REGISTRY.values(), key=lambda m: (m.name != DEFAULT_MODEL, m.kind != "deep", m.name))


#: Where a source checkout keeps the superseded models' weights (not part of the package).
SUPERSEDED_FOLDER = Path(__file__).resolve().parents[2] / "models"


def weights_path(info: ModelInfo) -> Path:
    """The model's weights file: in the package, or for a superseded model in :data:`SUPERSEDED_FOLDER`."""
    if info.status == "superseded":
        return SUPERSEDED_FOLDER / info.weights
    return Path(str(resources.files("deepsteg") / "pretrained" / info.weights))


def available(info: ModelInfo) -> bool:
    """Whether the model can be loaded here: not a deep model, or its weights file is present."""
    return info.kind != "deep" or weights_path(info).is_file()


def _check_available(info: ModelInfo) -> None:
    if not available(info):
        raise DeepStegError(f"{info.name} is superseded and not part of the installed package: its weights are "
                            f"models/{info.weights} in DeepSteg's source repository (load that file by its path)")


def default_refine(name: str) -> int | None:
    """The hide-time refinement steps the registry's model ``name`` hides with when told none (its
    catalogue entry's); None for a method without refinement (LSB, the codec methods)."""
    info = REGISTRY[name]
    return info.usage.refine if info.kind == "deep" else None


def load_model(name_or_path: str | os.PathLike | None = None, device: str = "cpu",
               precision: str = "auto", tile: int | None = None, refine: int | None = None,
               progress: bool | None = None, passphrase: bytes | None = None) -> HidingMethod:
    """Build a hiding method from a registry name or a ``.safetensors`` model file.

    With no argument, the default trained model. ``precision``, ``tile``, ``refine`` (hide-time
    refinement steps, 0: none; None: the model's own, its card's ``default_refine``, else
    :data:`~deepsteg.methods.refine.DEFAULT_REFINE_STEPS`) and ``progress`` apply to deep models (see
    :class:`~deepsteg.methods.DeepModel`); ``passphrase`` to the keyed models and the codec methods
    (None: the public one, which anyone can use). Raises :class:`DeepStegError` for an
    unknown name, a missing file, a hash mismatch or weights that do not fit.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    key = str(name_or_path)
    if not key.strip():
        raise DeepStegError("the model name is empty: give a registered name (deepsteg models) or a .safetensors file")
    info = REGISTRY.get(key)
    if info is not None:
        if info.kind == "lsb":
            bits, _, variant = info.name[3:].partition("-")
            return LSB(int(bits), xor=variant == "xor")
        if info.kind == "codec":
            return _CODEC_METHODS[info.name](passphrase=passphrase, name=info.name)
        _check_available(info)
        net, card = load_net(weights_path(info), sha256=info.sha256)
        return DeepModel(net, name=info.name, card=card, usage=info.usage, device=device, precision=precision, tile=tile,
                         refine=refine, progress=progress, passphrase=passphrase)
    p = Path(key)
    if p.suffix == ".safetensors" or p.exists():
        net, card = load_net(p)
        return DeepModel(net, name=p.name, card=card, device=device, precision=precision, tile=tile,
                         refine=refine, progress=progress, passphrase=passphrase)
    known = ", ".join(sorted(REGISTRY))
    raise DeepStegError(f"unknown model {key!r}: not a registered name ({known}) nor a .safetensors file")


def resolve_methods(models: list[str], baselines: bool = True, baseline_names: tuple[str, ...] = BASELINES,
                    refine: int | None = None) -> list[HidingMethod]:
    """The methods a comparison runs: ``models`` (the default model when none is named and
    one ships), then ``baseline_names`` (``lsb1``..``lsb4``, ``codec-lsbm``) unless ``baselines`` is False;
    each name once. Deep models hide with ``refine`` refinement steps (None: each its own; their ``label``, the name
    comparisons print, then ends in ``+refineN``)."""
    names = list(models) or [DEFAULT_MODEL]
    if baselines:
        names += list(baseline_names)
    names = list(dict.fromkeys(names))
    if not names:
        raise DeepStegError("nothing to evaluate: give --model or drop --no-baselines")
    return [load_model(n, refine=refine, progress=False) for n in names]
