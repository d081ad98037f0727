"""The trained Baluja networks behind the :class:`HidingMethod` interface.

Large images are processed in overlapping tiles, so memory stays bounded whatever the
image size: each tile is extended by a margin of at least the network's receptive-field
radius on every side, and only its centre is kept, so the tiled output equals the
whole-image output (up to floating-point summation order: at most 1 grey level).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from deepsteg.cancel import check
from deepsteg.errors import DeepStegError
from deepsteg.methods.base import HidingMethod
from deepsteg.methods.codec import NOT_FOUND
from deepsteg.methods.header import quantize_strength, read_strength, write_strength
from deepsteg.methods.keys import passphrase_bytes
from deepsteg.methods.refine import (
    JPEG_REFINE_COVER_WEIGHT,
    JPEG_REFINE_QUALITY,
    jpeg_refinement,
    refine_stego,
)
from deepsteg.methods.scramble import Scramble
from deepsteg.methods.sealed import image_keys, new_salt, read_header, write_header
from deepsteg.methods.strength import find_strength
from deepsteg.methods.usage import Usage
from deepsteg.metrics import psnr
from deepsteg.nets import Network
from deepsteg.nets.folded import FoldedInvertible
from deepsteg.nets.invertible import InvertibleStegoNet
from deepsteg.tensors import to_tensor, to_uint8
from deepsteg.tiles import tile_boxes

PRECISIONS = ("auto", "fp32", "bf16")
#: Tile side used by default. Tiles of about 384 pixels keep each layer's activations in
#: the CPU caches: hide + reveal of a 768x512 pair took 1.78 s in 384-pixel tiles against
#: 2.23 s whole (compact model, bf16, 2-core CPU), and memory stays bounded at any size.
DEFAULT_TILE = 384
GPU_TILE = 2048
#: Tile side for an invertible network at inference (:mod:`deepsteg.nets.folded`): it streams
#: each coupling in row strips, so a tile's memory is its Haar bands (96 bytes a pixel) and
#: large tiles waste no margins; a 12-megapixel photo is one tile.
FOLDED_TILE = 4096
#: Smallest tile side: below it the margins dominate (``--tile 1`` ran 25x slower).
MIN_TILE = 32
#: Largest tile refined at once: refinement keeps the reveal network's activations for the
#: backward pass (a 1024x1024 hide in 384-pixel tiles peaked 200 MiB above the one-pass hide).
MAX_REFINE_TILE = 1024


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def check_tile(tile: int | None) -> None:
    """DeepStegError unless ``tile`` is None (automatic), 0 (never tile) or at least :data:`MIN_TILE`."""
    if tile is not None and (tile < 0 or 0 < tile < MIN_TILE):
        raise DeepStegError(f"tile size must be 0 (never tile) or at least {MIN_TILE} pixels, got {tile}")


#: A keyed model's one-pass stego image below this cover PSNR (dB) gets a note: the validation photos
#: range from 38.5 to 47 dB at the default strength, a dithered image or a text document about 27-30 dB.
UNSUITED_COVER_DB = 35.0


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class DeepModel(HidingMethod):
    """A trained network (any design of :mod:`deepsteg.nets`) that hides and reveals uint8 images.

    ``precision``: ``fp32``, ``bf16`` (autocast; see :mod:`deepsteg.nets.baluja` for the
    layers that stay float32) or
    ``auto`` (bf16 where the CPU/GPU runs it natively, else fp32). ``tile``: process in
    tiles of this many pixels a side; ``None``: ``DEFAULT_TILE`` on the CPU, ``GPU_TILE``
    on a GPU; ``0``: never tile. ``refine``: hide-time refinement steps (see
    :mod:`deepsteg.methods.refine`; 0, this low-level class's default: the hiding network's
    output as it is; None: ``usage.refine``, which every user-facing entry point, ``load_model``
    included, passes unless told), run in float32 whatever ``precision``; a
    model trained against JPEG refines through a real one
    (:func:`~deepsteg.methods.refine.jpeg_channel`); ``progress``: a progress bar while
    refining (``None``: when stderr is a terminal); ``strength``: how strongly a conditioned network hides, in
    [0, 1] (None: ``usage.strength``, else the network's default). ``keyed``: hide
    the secret scrambled by a key from ``passphrase`` and a per-image salt, with a sealed
    header (:mod:`~deepsteg.methods.scramble`, :mod:`~deepsteg.methods.sealed`); None: as
    ``usage`` says. ``passphrase``: bytes (None: the public
    :data:`~deepsteg.methods.keys.PUBLIC_PASSPHRASE`, which anyone can use). ``fold``: run an
    invertible network's hides and reveals through :class:`~deepsteg.nets.folded.FoldedInvertible`
    (False: its training code under autocast, in tiles, as the other designs run). ``usage``: how
    the model hides unless told otherwise (:class:`~deepsteg.methods.usage.Usage`: a registered
    model's catalogue entry; None: what ``card``, the model file's card, says).
    """

    def __init__(self, net: Network, name: str = "model", card: dict[str, Any] | None = None,
                 device: str | torch.device = "cpu", precision: str = "auto", tile: int | None = None,
                 refine: int | None = 0, progress: bool | None = None, strength: float | None = None,
                 keyed: bool | None = None, passphrase: bytes | None = None, fold: bool = True,
                 usage: Usage | None = None):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=torch.channels_last).eval()  # type: ignore[call-overload]
        self.name = name
        self.card = card or {}  # provenance
        try:
            self.usage = usage if usage is not None else Usage.from_card(self.card)
        except ValueError as e:
            raise DeepStegError(f"{name}: its card: {e}") from None
        if precision == "auto":
            precision = "bf16" if bf16_supported(self.device) else "fp32"
        self.precision = precision
        check_tile(tile)
        self.tile = tile
        if refine is None:
            refine = self.usage.refine
        if refine < 0:
            raise DeepStegError(f"refinement steps must be >= 0, got {refine}")
        self.refine = refine
        self.progress = progress
        if strength is None and net.conditioned:
            strength = net.default_strength if self.usage.strength is None else self.usage.strength
        if strength is not None and not (net.conditioned and isinstance(strength, (int, float))
                                         and not isinstance(strength, bool) and 0 <= strength <= 1):
            raise DeepStegError(f"strength {strength!r}: only a conditioned network takes one, in [0, 1]")
        self.keyed = self.usage.keyed if keyed is None else keyed
        self.passphrase = passphrase_bytes(passphrase)
        self.needs_strength = net.reveal_needs_strength
        # an unkeyed reveal that needs the strength reads it from a header in the clear (methods.header);
        # a keyed one from its sealed header
        self.header = self.needs_strength and not self.keyed
        self.strength = None if strength is None else float(strength)
        self.targetable = net.conditioned
        self.survives_jpeg = self.usage.survives == "jpeg"
        self.refine_quality = JPEG_REFINE_QUALITY  # the JPEG such a model's refinement aims through
        weight = self.usage.refine_cover_weight  # and its cover's weight there
        self.refine_cover_weight = JPEG_REFINE_COVER_WEIGHT if weight is None else weight
        # tiles start on the network's block grid: margins and tile sides are multiples of it
        self.align = net.align
        # where tiles start along a side (between a design's windows, else anywhere on its grid)
        self.tile_edges = net.tile_edges
        self.hide_margin = _round_up(net.hide_margin, self.align)
        self.reveal_margin = _round_up(net.reveal_margin, self.align)
        self.fold = fold and isinstance(net, InvertibleStegoNet)
        # the folded networks made so far, shared by with_settings copies (and a server's threads)
        self._folded: dict[tuple[float | None, str], FoldedInvertible] = {}
        self._folding = threading.Lock()

    def _inference(self, strength: float | None) -> FoldedInvertible:
        """The folded network at ``strength`` in this model's precision (made once per strength)."""
        key = (strength, self.precision)
        with self._folding:
            folded = self._folded.get(key)
            if folded is None:
                if len(self._folded) >= 4:  # a cover-PSNR search folds one per try: keep the latest few
                    del self._folded[next(iter(self._folded))]
                assert isinstance(self.net, InvertibleStegoNet)
                dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
                folded = self._folded[key] = FoldedInvertible(self.net, strength, dtype)
        return folded

    def _reveal_fn(self, strength: float | None) -> Callable[..., torch.Tensor]:
        if self.fold:
            return self._inference(strength).reveal
        return functools.partial(self.net.reveal, strength=strength) if strength is not None else self.net.reveal

    def with_passphrase(self, passphrase: bytes) -> DeepModel:
        return self.with_settings(passphrase=passphrase_bytes(passphrase)) if self.keyed else self

    def for_jpeg_file(self, quality: int) -> DeepModel:
        """A model that survives JPEG refines through the file's JPEG where it is below
        :data:`~deepsteg.methods.refine.JPEG_REFINE_QUALITY` (a file above it may meet that one later)."""
        return self.with_settings(refine_quality=min(self.refine_quality, quality)) if self.survives_jpeg else self

    @property
    def label(self) -> str:
        """The name, with ``+refineN`` when the hide refines."""
        return f"{self.name}+refine{self.refine}" if self.refine else self.name

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16" and not self.fold:  # a folded network holds its weights in bf16 itself
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _input(self, image: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 ``(H, W, 3)``, or float ``(1, 3, H, W)`` as it is -> ``(1, 3, H, W)`` on the device."""
        x = (image if isinstance(image, torch.Tensor) else to_tensor(image)).to(self.device)
        return x if self.fold else x.contiguous(memory_format=torch.channels_last)  # a folded net: its own layout

    def _tile_size(self, h: int, w: int) -> int:
        tile = self.tile
        if tile is None:
            tile = FOLDED_TILE if self.fold else DEFAULT_TILE if self.device.type == "cpu" else GPU_TILE
        return _round_up(tile, self.align)

    @torch.inference_mode()
    def _apply(self, fn: Callable[..., torch.Tensor], images: list[np.ndarray | torch.Tensor], margin: int,
               raw: bool = False) -> np.ndarray | torch.Tensor:
        """``fn`` on same-size images (uint8 ``(H, W, 3)`` or float ``(1, 3, H, W)``), whole or in
        tiles: a uint8 ``(H, W, 3)`` result, or with ``raw`` the unrounded float32 ``(1, 3, H, W)`` output."""
        h, w = images[0].shape[-2:] if isinstance(images[0], torch.Tensor) else images[0].shape[:2]
        tile = self._tile_size(h, w)
        finish = (lambda y: y.float()) if raw else (lambda y: to_uint8(y)[0])
        with self._autocast():
            if not tile or (h <= tile and w <= tile):
                return finish(fn(*[self._input(im) for im in images]))
            out = torch.empty((1, 3, h, w), device=self.device) if raw else np.empty((h, w, 3), np.uint8)
            boxes = tile_boxes(h, w, tile, margin, self.tile_edges)
            for (oy0, oy1, ox0, ox1), (iy0, iy1, ix0, ix1) in tqdm(
                    boxes, desc=f"{self.name} tiles", unit="tile", file=sys.stderr, leave=False,
                    disable=None if len(boxes) > 8 else True):
                check()
                res = finish(fn(*[self._input(_crop(im, oy0, oy1, ox0, ox1)) for im in images]))
                if raw:
                    out[..., iy0:iy1, ix0:ix1] = res[..., iy0 - oy0:iy1 - oy0, ix0 - ox0:ix1 - ox0]
                else:
                    out[iy0:iy1, ix0:ix1] = res[iy0 - oy0:iy1 - oy0, ix0 - ox0:ix1 - ox0]
            return out

    def _apply_uint8(self, fn: Callable[..., torch.Tensor], images: list[np.ndarray | torch.Tensor],
                     margin: int) -> np.ndarray:
        out = self._apply(fn, images, margin)
        assert isinstance(out, np.ndarray)
        return out

    def _strength(self) -> float | None:
        """The strength the hide uses: for a header, one of the 256 levels it can carry."""
        return quantize_strength(self.strength) if self.needs_strength and self.strength is not None else self.strength

    def _hide_fn(self) -> Callable[..., torch.Tensor]:
        strength = self._strength()
        if self.fold:
            return self._inference(strength).hide
        return functools.partial(self.net.hide, strength=strength) if strength is not None else self.net.hide

    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        hidden, seal = self._prepare(secret)
        return seal(self._network_hide(cover, hidden), self._strength())

    def _hide_noting(self, cover: np.ndarray, secret: np.ndarray, notes: list[str]) -> np.ndarray:
        """:meth:`_hide`, with a note where the cover suits the network badly: a one-pass stego image
        more than :data:`UNSUITED_COVER_DB` below the cover PSNR the network gives photos."""
        stego = self._hide(cover, secret)
        if self.keyed and not self.refine:
            quality = psnr(cover, stego)
            if quality < UNSUITED_COVER_DB:
                notes.append(f"{self.name}: the stego image is only {quality:.1f} dB from this cover (photos: about "
                             "38 to 47 dB); a cover with flat areas, few colours or text suits the network badly, and "
                             "the secret comes back worse too: a photo works best")
        return stego

    def _prepare(self, secret: np.ndarray) -> tuple[np.ndarray | torch.Tensor, Callable[[np.ndarray, float | None], np.ndarray]]:
        """What the network hides, and what marks its stego image ``(stego, strength) -> stego``. A keyed
        model: the secret scrambled by the key of the passphrase and a new salt, and the sealed header
        (salt, strength) written into the rounded stego image; else the secret, and the header in the
        clear of a reveal that needs the strength (or nothing)."""
        if not self.keyed:
            return secret, lambda stego, strength: write_strength(stego, strength) if self.header else stego  # type: ignore[arg-type]
        salt = new_salt()
        keys = image_keys(self.passphrase, salt)
        h, w = secret.shape[:2]
        scrambled = Scramble(keys.scramble, h, w).apply(to_tensor(secret))
        return scrambled, lambda stego, strength: write_header(
            stego, self.passphrase, salt, 0 if strength is None else round(strength * 255), keys)

    def _network_hide(self, cover: np.ndarray, secret: np.ndarray | torch.Tensor) -> np.ndarray:
        """The network's stego image, uint8 ``(H, W, 3)``, one pass or refined; ``secret`` uint8
        ``(H, W, 3)`` or float ``(1, 3, H, W)`` (a scrambled one)."""
        if not self.refine:
            stego = self._apply_uint8(self._hide_fn(), [cover, secret], self.hide_margin)
        else:
            raw = self._apply(self._hide_fn(), [cover, secret], self.hide_margin, raw=True)
            assert isinstance(raw, torch.Tensor)
            h, w = cover.shape[:2]
            tile = min(self._tile_size(h, w) or MAX_REFINE_TILE, _round_up(MAX_REFINE_TILE, self.align))
            refined = refine_stego(self.net, self._input(cover), self._input(secret), raw,
                                   steps=self.refine, tile=0 if h <= tile and w <= tile else tile,
                                   margin=self.reveal_margin, edges=self.tile_edges, progress=self.progress,
                                   strength=self._strength() if self.needs_strength else None,
                                   **(jpeg_refinement(self.refine_quality, self.refine_cover_weight)
                                      if self.survives_jpeg else {}))
            stego = to_uint8(refined)[0]
        return stego

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, HidingMethod]:
        """A conditioned network: the strength whose one-pass stego image has ``cover_psnr`` on this
        image (:mod:`deepsteg.methods.strength`: on a large image, searched on a sample of tiles and
        checked by a full hide), then the usual refinement at that strength. A keyed model scrambles
        the secret once, with one salt, for every try."""
        if not self.targetable:
            return super()._hide_at(cover, secret, cover_psnr, notes, nearest)
        hidden, seal = self._prepare(secret)

        def one_pass(strength: float, c: np.ndarray, s: np.ndarray | torch.Tensor) -> np.ndarray:
            return self.with_settings(refine=0, strength=strength)._network_hide(c, s)

        strength, stego = find_strength(one_pass, cover, hidden, cover_psnr, self.align, nearest)
        tuned = self.with_settings(strength=strength)
        if self.refine:  # the search made this strength's one-pass stego image; refinement starts over
            stego = tuned._network_hide(cover, hidden)
        stego = seal(stego, tuned._strength())
        notes.append(f"{self.name}: strength {strength:.3f}, cover PSNR {psnr(cover, stego):.2f} dB")
        return stego, self  # the reveal reads any strength (or the stego image's header)

    @property
    def forcible(self) -> bool:
        """A keyed model reveals past its sealed header with ``force``."""
        return self.keyed

    def _reveal(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray:
        if self.keyed:
            return self._reveal_keyed(stego, notes, force)
        return self._apply_uint8(self._reveal_fn(read_strength(stego) if self.header else None), [stego],
                                 self.reveal_margin)

    def _reveal_keyed(self, stego: np.ndarray, notes: list[str], force: bool) -> np.ndarray:
        """The sealed header read and checked (DeepStegError unless it checks out or ``force``), the
        network's reveal at its strength, unscrambled by the key of the passphrase and its salt."""
        header = read_header(stego, self.passphrase)
        if header is None or not (header.authentic or force):
            raise DeepStegError(NOT_FOUND)
        if not header.authentic:
            notes.append(f"{self.name}: forced: the header does not check out (wrong passphrase, no hidden image, "
                         f"or a damaged one); revealed with the strength and salt it reads ({header.strength}/255)")
        raw = self._apply(self._reveal_fn(header.strength / 255 if self.needs_strength else None), [stego],
                          self.reveal_margin, raw=True)
        assert isinstance(raw, torch.Tensor)
        h, w = stego.shape[:2]
        return to_uint8(Scramble(header.keys.scramble, h, w).invert(raw))[0]


def _crop(image: np.ndarray | torch.Tensor, y0: int, y1: int, x0: int, x1: int) -> np.ndarray | torch.Tensor:
    """Rows ``y0:y1`` and columns ``x0:x1`` of a uint8 ``(H, W, 3)`` or a float ``(1, 3, H, W)`` image."""
    return image[..., y0:y1, x0:x1] if isinstance(image, torch.Tensor) else image[y0:y1, x0:x1]
