"""Hide-time refinement: tune the stego image against the fixed reveal network.

The hiding network gives a first stego image in one pass. Refinement then treats the stego
pixels as the variables of the paper's loss, with the networks frozen::

    minimise  log ||c - x||^2 + log ||s - R(round(x))||^2   over the stego image x

(``R``: the reveal network; ``round``: 8-bit quantisation with a straight-through gradient,
so the figures hold for the saved PNG file). The two logarithms weigh a dB of cover PSNR
against a dB of secret PSNR, the trade the LSB frontier measures. A few Adam steps in pixel
space raise the secret's PSNR by several dB at nearly the same cover PSNR; the reveal side
is unchanged (the reveal network reads only the stego image), so stego images made with
and without refinement reveal with the same model.

A model trained against JPEG (``DeepModel.survives_jpeg``) refines through the channel it is built
for: the revealed secret is scored after a real JPEG at :data:`JPEG_REFINE_QUALITY` of the
rounded stego image (:func:`jpeg_channel`, its gradient straight through), and the cover's
logarithm weighs :data:`JPEG_REFINE_COVER_WEIGHT` (:func:`jpeg_refinement`). Its one-pass
stego image moves every carrier by a share of its step whatever the carrier passes through a
JPEG; the reveal does not need most of that change, and refinement takes it back, starting
from the cover plus :data:`JPEG_REFINE_START` of that change: a robust model's steps (its
catalogue entry's ``usage.refine``) lift its cover PSNR by several dB at the same secret after a
JPEG (figures: docs/history/robust-models.md and the model cards).

Memory stays bounded on large images: the image is refined tile by tile in raster order
(Gauss-Seidel style). A tile's variables are its own pixels; its loss covers the revealed
secret on the tile grown by the reveal network's receptive-field radius ``margin``, computed
from the stego grown by ``2 * margin`` with the neighbours' current pixels. Every revealed
pixel thus enters the loss of the last tile that changes any pixel it depends on.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import torch
from tqdm import tqdm

from deepsteg.cancel import check
from deepsteg.jpeg import identity_through
from deepsteg.nets import Network
from deepsteg.tensors import quantize_8bit
from deepsteg.tiles import Box, grow_box, tile_boxes

#: Refinement steps per tile used by default (``load_model``, ``deepsteg hide``): none, the
#: default model's one pass. For it, refinement trades secret for cover at many times the
#: time; for the compact models it lifts the secret by several dB (docs/evaluation.md).
DEFAULT_REFINE_STEPS = 0
#: Adam's first step size, in grey levels; it decays linearly to a tenth over the steps.
REFINE_LR = 0.5
#: Keeps the logarithms finite when an error reaches zero.
_EPS = 1e-10
#: The JPEG quality a model trained against JPEG refines through: the lowest it is built for (a
#: stego image written as a JPEG below it refines through that file's quality).
JPEG_REFINE_QUALITY = 75
#: The weight of the cover's logarithm for such a model (the secret's is 1): it lets the
#: refinement give back cover PSNR its one pass spent on nothing a JPEG lets through
#: (docs/history/robust-models.md, "Refining through a real JPEG").
JPEG_REFINE_COVER_WEIGHT = 0.2
#: Adam's first step size (grey levels) for such a model, and the share of the one-pass change
#: its refinement starts from (the cover plus that share): starting nearer the cover, with larger
#: steps, ends with a cleaner cover at nearly the same secret (docs/history/robust-models.md, "Where the
#: refinement starts").
JPEG_REFINE_LR = 1.0
JPEG_REFINE_START = 0.7

Channel = Callable[[torch.Tensor], torch.Tensor]


def jpeg_channel(quality: int) -> Channel:
    """Pillow's JPEG at ``quality`` of 8-bit images ``(N, 3, H, W)`` in [0, 1], decoded, with the
    identity as its gradient (:func:`deepsteg.jpeg.identity_through`)."""
    return functools.partial(identity_through, quality=quality)


def jpeg_refinement(quality: int, cover_weight: float = JPEG_REFINE_COVER_WEIGHT) -> dict[str, Any]:
    """:func:`refine_stego`'s settings for a model trained against JPEG, aiming through a real
    JPEG at ``quality``: the channel, the cover's weight (a model's card may name its own,
    :class:`~deepsteg.methods.usage.Usage`), the first step size and the start."""
    return {"channel": jpeg_channel(quality), "cover_weight": cover_weight,
            "lr": JPEG_REFINE_LR, "start": JPEG_REFINE_START}


def refine_stego(net: Network, cover: torch.Tensor, secret: torch.Tensor, stego: torch.Tensor,
                 steps: int = DEFAULT_REFINE_STEPS, lr: float = REFINE_LR, tile: int = 0, margin: int = 11,
                 progress: bool | None = None, strength: float | None = None, channel: Channel | None = None,
                 cover_weight: float = 1.0, start: float = 1.0,
                 edges: Callable[[int, int], list[int]] | None = None) -> torch.Tensor:
    """Refine ``stego`` so that ``net.reveal`` recovers ``secret`` better from its 8-bit form
    (after ``channel``, where one is given: :func:`jpeg_channel`).

    ``cover``, ``secret``: ``(N, 3, H, W)`` float32 in [0, 1]; ``stego``: the hiding network's
    output for them, ``(N, 3, H, W)`` float32 (unclamped). A batch refines each image as on its
    own (the loss is the sum of each image's, and Adam's steps are per pixel). ``tile``: side of
    the tiles refined one after another (0: the whole image at once); ``margin``: the reveal
    network's receptive-field radius; ``strength``: what a conditioned invertible network's
    reveal needs (``net.reveal_needs_strength``); ``cover_weight``: the cover's logarithm's
    weight in the loss (the secret's is 1); ``start``: the refinement starts from the cover
    plus this share of the one-pass change ``stego - cover`` (1: from ``stego``); ``edges``:
    where tiles start along a side (the network's ``tile_edges``, :func:`tile_boxes`). Runs in
    float32 whatever autocast is active. Returns the refined stego ``(N, 3, H, W)``, float32,
    already on the 8-bit grid in [0, 1].
    """
    if steps < 0:
        raise ValueError(f"refinement steps must be >= 0, got {steps}")
    cover, secret = cover.float(), secret.float()
    x = stego.detach().float()
    if start != 1.0:
        x = cover + start * (x - cover)
    x = x.clamp(0, 1).clone()
    h, w = x.shape[-2:]
    boxes = tile_boxes(h, w, tile or max(h, w), margin, edges)  # (where the secret is scored, the tile)
    params = list(net.parameters())  # frozen: only the stego pixels are variables
    grad_state = [p.requires_grad for p in params]
    bar = tqdm(total=steps * len(boxes), desc="refining stego", unit="step", file=sys.stderr, leave=False,
               disable=(not steps) or (None if progress is None else not progress))
    try:
        for p in params:
            p.requires_grad_(False)
        with torch.autocast(x.device.type, enabled=False), torch.enable_grad():
            for scored, box in boxes:
                _refine_box(net, cover, secret, x, box, scored, margin, steps, lr, bar, strength, channel,
                            cover_weight)
    finally:
        for p, g in zip(params, grad_state):
            p.requires_grad_(g)
        bar.close()
    return torch.round(x * 255) / 255


def _image_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Each image's mean squared error ``(N,)`` between ``(N, 3, H, W)`` batches, kept above zero."""
    return ((a - b) ** 2).mean(dim=(1, 2, 3)) + _EPS


def _refine_box(net: Network, cover: torch.Tensor, secret: torch.Tensor, x: torch.Tensor,
                box: Box, scored: Box, margin: int, steps: int, lr: float, bar: tqdm,
                strength: float | None = None, channel: Channel | None = None, cover_weight: float = 1.0) -> None:
    """Adam on the pixels of ``box`` (``y0, y1, x0, x1``) of ``x``, in place; the revealed
    secret is scored on ``scored`` (``box`` grown by ``margin``), after ``channel`` when given."""
    h, w = x.shape[-2:]
    y0, y1, x0, x1 = box
    ly0, ly1, lx0, lx1 = scored
    iy0, iy1, ix0, ix1 = grow_box(box, 2 * margin, h, w)  # what the reveal network reads for it
    region = x[..., iy0:iy1, ix0:ix1]
    target_c = cover[..., y0:y1, x0:x1]
    target_s = secret[..., ly0:ly1, lx0:lx1]
    var = x[..., y0:y1, x0:x1].clone().requires_grad_(True)
    best = var.detach().clone()
    best_loss = torch.full(var.shape[:1], float("inf"))
    opt = torch.optim.Adam([var], lr=lr / 255)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1 - 0.9 * k / max(1, steps))
    for step in range(steps + 1):  # the last pass only scores the last step's pixels
        check()
        full = region.clone()
        full[..., y0 - iy0:y1 - iy0, x0 - ix0:x1 - ix0] = var
        received = quantize_8bit(full)
        if channel is not None:
            received = channel(received)
        revealed = net.reveal(received.contiguous(memory_format=torch.channels_last), strength)
        revealed = revealed[..., ly0 - iy0:ly1 - iy0, lx0 - ix0:lx1 - ix0]
        losses = cover_weight * torch.log(_image_mse(var, target_c)) + torch.log(_image_mse(revealed, target_s))
        with torch.no_grad():  # each image keeps its best pixels as received: a step that rounds badly is undone
            better = losses.detach().cpu() < best_loss
            best_loss = torch.where(better, losses.detach().cpu(), best_loss)
            best[better.to(best.device)] = var.detach()[better.to(best.device)]
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            var.clamp_(0, 1)
        bar.update()
    x[..., y0:y1, x0:x1] = best
