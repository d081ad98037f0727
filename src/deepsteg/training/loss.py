"""The loss of Baluja (NIPS 2017); the 8-bit rounding the stego image goes through is
:func:`deepsteg.tensors.quantize_8bit`.

``loss = ||c - c'||^2 + beta * ||s - s'||^2`` with per-pixel means (the mean squared
error on [0, 1] images; a constant rescaling of the paper's sums). The cover term depends
on the prep and hiding networks only, so it never trains the reveal network; the secret
term trains all three, through the stego image.

The cover term measures the stego image as it is saved: clamped to [0, 1], with the clamp's
true gradient, plus ``OVERSHOOT_WEIGHT`` times the squared overshoot past black or white. A
change that pushes a pixel into the clamp costs less than one the eye sees, so a network
learns to keep saturated colours where they are (the clamp cuts changes there on one side
only, which moves a patch's mean colour); the overshoot term keeps such changes bounded
(the 8-bit rounding's straight-through gradient would otherwise let them grow without limit).
``lowfreq`` adds the squared error of the ``LOWFREQ_POOL`` x ``LOWFREQ_POOL`` local means,
a penalty on the colour shifts the eye sees first (a flat patch turned a little orange).

``secret_power`` weighs each pair's secret error by that error to the power ``-secret_power``
(the weights taken as constants and scaled to a mean of 1 over the batch). The figure users
read is the mean PSNR over images, a mean of ``log(mse)``: at 1 the gradient is that of the
mean log error, which gives an easy secret's small error as much say as a hard one's large
error; at 0 (the paper's loss) the hard secrets decide nearly alone. A crop's own error stands
in for its photo's, which it over-weighs on a smooth patch of a busy photo: 0.5 is between.

``balanced`` divides each pair's loss by ``1 + beta``: the weights become ``1 / (1 + beta)`` on the
cover and ``beta / (1 + beta)`` on the secret. Each pair's minimiser stays the same, but a batch of
strengths drawn over a wide range of betas no longer takes nearly all of its gradient from its
largest betas, so a conditioned network learns its low strengths as well as its high ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Weight of the squared overshoot past [0, 1] beside the visible (clamped) change.
OVERSHOOT_WEIGHT = 0.25
#: Side in pixels of the blocks whose mean colour the ``lowfreq`` term compares.
LOWFREQ_POOL = 8
#: Keeps a weight finite for a secret revealed without error.
_EPS = 1e-10


def stego_loss(cover: torch.Tensor, stego: torch.Tensor, secret: torch.Tensor,
               revealed: torch.Tensor, beta: float | torch.Tensor, lowfreq: float = 0.0,
               balanced: bool = False, secret_power: float = 0.0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All images ``(N, 3, H, W)`` in [0, 1] (``stego`` may overshoot; it is clamped); ``beta``
    a float or per sample ``(N,)`` (a conditioned network's strengths); ``lowfreq`` the weight of
    the local-mean term (H, W multiples of :data:`LOWFREQ_POOL` when it is used); ``balanced``
    each pair's loss divided by ``1 + beta``; ``secret_power`` the secret errors' weighting (0:
    none, :func:`secret_weights`).
    Returns ``(loss, cover_mse, secret_mse)``, means over the batch (``cover_mse``: the
    visible per-pixel error alone)."""
    saved = stego.float().clamp(0.0, 1.0)
    change = saved - cover.float()
    cover_mse = (change ** 2).mean(dim=(1, 2, 3))
    secret_mse = ((revealed.float() - secret.float()) ** 2).mean(dim=(1, 2, 3))
    overshoot = ((stego.float() - saved) ** 2).mean(dim=(1, 2, 3))
    weighted = secret_mse * secret_weights(secret_mse, secret_power) if secret_power else secret_mse
    loss = cover_mse + OVERSHOOT_WEIGHT * overshoot + beta * weighted
    if lowfreq:
        loss = loss + lowfreq * (F.avg_pool2d(change, LOWFREQ_POOL) ** 2).mean(dim=(1, 2, 3))
    if balanced:
        loss = loss / (1 + beta)
    return loss.mean(), cover_mse.mean(), secret_mse.mean()


def secret_weights(secret_mse: torch.Tensor, power: float) -> torch.Tensor:
    """Each pair's weight ``(N,)`` for its secret error ``secret_mse`` ``(N,)``: the error to the
    power ``-power``, scaled to a mean of 1, with no gradient of its own (so at ``power`` 1 the
    weighted error's gradient is the batch's mean error times that of the mean log error)."""
    raw = (secret_mse.detach() + _EPS) ** -power
    return raw / raw.mean()
