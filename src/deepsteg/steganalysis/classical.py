"""Classical detectors of LSB replacement: chi-square attack, RS analysis, sample pairs
analysis, and the visual attack as a number.

Each takes one uint8 RGB image ``(H, W, 3)`` and returns one float, higher meaning "more
likely a stego image". Two kinds of payload call for two kinds of detector:

- chi-square, RS and sample pairs analysis model LSB replacement with a *random* message
  (an encrypted or compressed payload, as the ``lsbK-xor`` baselines store), as in their
  papers: the message bits are independent of the cover and of each other. A raw image
  payload (the plain ``lsbK`` baselines, the high bits of a secret photo) is spatially
  smooth and breaks that assumption: these three then see a *cleaner* image than a cover.
- the visual attack looks for exactly that structure: low bit planes that are smoother
  than the planes above them, which no natural photo has.

The three colour channels are pooled: every channel's values (chi-square), pixel groups
(RS) and pixel pairs (sample pairs) count as samples of one greyscale image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import gammaincc

from deepsteg.errors import DeepStegError
from deepsteg.images import as_uint8_rgb

#: Categories (pairs of values) with fewer samples than this are left out of the chi-square sum.
CHI2_MIN_COUNT = 10
#: RS analysis: the flipping mask over groups of four horizontally adjacent pixels.
RS_MASK = np.array([0, 1, 1, 0], dtype=bool)


def _pixels(image: np.ndarray) -> np.ndarray:
    return as_uint8_rgb(image).astype(np.int16)


def _smaller_root(a: float, b: float, c: float) -> float:
    """The root of ``a x^2 + b x + c`` nearest zero (the vertex when there is no real root)."""
    if abs(a) < 1e-12:
        return 0.0 if abs(b) < 1e-12 else -c / b
    disc = b * b - 4.0 * a * c
    if disc < 0:
        return -b / (2.0 * a)
    r = np.sqrt(disc)
    return min((-b - r) / (2.0 * a), (-b + r) / (2.0 * a), key=abs)


def chi_square_attack(image: np.ndarray) -> float:
    """Westfeld & Pfitzmann's chi-square attack ("Attacks on Steganographic Systems", IH 1999).

    Replacing least significant bits with random message bits makes the two values of each
    pair ``(2i, 2i+1)`` (a "pair of values") equally frequent. The statistic compares each
    even value's count ``n_2i`` with its expectation under full embedding,
    ``(n_2i + n_2i+1) / 2``, over the 128 pairs of each channel (pairs with fewer than
    ``CHI2_MIN_COUNT`` samples left out), and the score is its p-value under a chi-square
    distribution with (categories - 1) degrees of freedom.

    Score in [0, 1]: near 1 when every LSB carries a random message bit, near 0 for a
    natural cover (unequal pair counts). Sequential embedding in part of the image is not
    scanned for: this is the whole-image test.
    """
    x = _pixels(image).reshape(-1, 3)
    hist = np.stack([np.bincount(x[:, c], minlength=256) for c in range(3)]).astype(np.float64)
    even, odd = hist[:, 0::2], hist[:, 1::2]
    total = even + odd
    keep = total >= CHI2_MIN_COUNT
    k = int(keep.sum())
    if k < 2:
        return 0.0
    expected = total[keep] / 2.0
    stat = float(np.sum((even[keep] - expected) ** 2 / expected))
    return float(gammaincc((k - 1) / 2.0, stat / 2.0))


def _rs_differences(groups: np.ndarray) -> tuple[float, float]:
    """``R_M - S_M`` and ``R_-M - S_-M`` for groups ``(n, 4)`` of int16 pixel values."""
    f = np.abs(np.diff(groups, axis=1)).sum(axis=1)
    pos = groups.copy()
    pos[:, RS_MASK] ^= 1  # F_1: 0<->1, 2<->3, ...
    neg = groups.copy()
    neg[:, RS_MASK] = ((neg[:, RS_MASK] + 1) ^ 1) - 1  # F_-1: -1<->0, 1<->2, ...
    f_pos = np.abs(np.diff(pos, axis=1)).sum(axis=1)
    f_neg = np.abs(np.diff(neg, axis=1)).sum(axis=1)
    return (float(np.mean(f_pos > f)) - float(np.mean(f_pos < f)),
            float(np.mean(f_neg > f)) - float(np.mean(f_neg < f)))


def rs_analysis(image: np.ndarray) -> float:
    """RS steganalysis of Fridrich, Goljan & Du ("Reliable Detection of LSB Steganography in
    Color and Grayscale Images", ACM Multimedia & Security Workshop 2001).

    The image is cut into groups of four horizontally adjacent values; the discrimination
    function is the group's total variation ``sum |x_i+1 - x_i|``. Flipping the LSBs of the
    masked (middle) values with ``F_1`` or the shifted flip ``F_-1`` makes a group regular
    (R: rougher, ``f`` grows) or singular (S: smoother). In a cover ``R_M ~ R_-M`` and ``S_M ~ S_-M``;
    LSB replacement pulls ``R_M`` and ``S_M`` together while pushing ``R_-M`` and ``S_-M``
    apart. Measuring the four counts on the image and on the image with every LSB flipped
    gives the paper's quadratic ``2(d1 + d0) z^2 + (d-0 - d-1 - d1 - 3 d0) z + d0 - d-0 = 0``,
    whose root nearest zero yields the message length ``p = z / (z - 1/2)``.

    Score: estimated fraction of values whose LSB carries a random message bit, ~0 for a
    cover and ~1 when every LSB does (not clipped: estimation noise can leave [0, 1]).
    """
    x = _pixels(image)
    h, w = x.shape[:2]
    w4 = w // 4 * 4
    if w4 == 0:
        raise DeepStegError(f"image {w}x{h} is too narrow for RS analysis (at least 4 pixels wide)")
    groups = x[:, :w4].transpose(2, 0, 1).reshape(-1, 4)
    d0, dn0 = _rs_differences(groups)
    d1, dn1 = _rs_differences(groups ^ 1)
    z = _smaller_root(2.0 * (d1 + d0), dn0 - dn1 - d1 - 3.0 * d0, d0 - dn0)
    if abs(z - 0.5) < 1e-12:
        return 1.0
    return float(z / (z - 0.5))


def sample_pairs_analysis(image: np.ndarray) -> float:
    """Sample pairs analysis of Dumitrescu, Wu & Wang ("Detection of LSB Steganography via
    Sample Pair Analysis", IEEE Trans. Signal Processing 51(7), 2003).

    Over all horizontally and vertically adjacent pairs ``(a, b)``, ``a <= b``: ``X`` and
    ``Y`` are the pairs with an odd difference whose smaller value is odd and even, ``C0``
    the pairs equal but for their LSBs (``a >> 1 == b >> 1``) and ``W`` those of them that
    differ (``b = a + 1``). A natural image has ``|X| ~ |Y|``. Flipping each LSB with
    probability ``q`` moves pairs between these sets with known probabilities, which gives
    the quadratic ``2|C0| q^2 - 2(|C0| + |Y| - |X| - |W|) q + |Y| - |X| = 0`` in the
    measured counts; its root nearest zero is the change rate ``q``.

    Score: estimated embedding rate ``p = 2q``, the fraction of values whose LSB carries a
    random message bit (~0 cover, ~1 full embedding; not clipped).
    """
    x = _pixels(image)
    u = np.concatenate([x[:, :-1].ravel(), x[:-1, :].ravel()])
    v = np.concatenate([x[:, 1:].ravel(), x[1:, :].ravel()])
    a, b = np.minimum(u, v), np.maximum(u, v)
    odd = ((b - a) & 1).astype(bool)
    same_high = (a >> 1) == (b >> 1)
    c0 = float(np.count_nonzero(same_high))
    w = float(np.count_nonzero(same_high & (b != a)))
    y = float(np.count_nonzero(odd & ((a & 1) == 0)))
    xs = float(np.count_nonzero(odd & ((a & 1) == 1)))
    if c0 == 0:
        return 0.0
    q = _smaller_root(2.0 * c0, -2.0 * (c0 + y - xs - w), y - xs)
    return float(2.0 * q)


def bit_plane_agreement(image: np.ndarray) -> np.ndarray:
    """For each bit plane ``j = 0..7`` (0 = least significant), the fraction of horizontally
    and vertically adjacent values whose bit ``j`` is equal: ``(8,)`` floats in [0, 1].

    About 0.5 for a plane of independent random bits, near 1 for a smooth plane.
    """
    x = as_uint8_rgb(image)
    h, w = x.shape[:2]
    n = (h * (w - 1) + (h - 1) * w) * x.shape[2]
    agree = np.empty(8)
    for j in range(8):
        plane = (x >> j) & 1
        equal = np.count_nonzero(plane[:, 1:] == plane[:, :-1]) + np.count_nonzero(plane[1:] == plane[:-1])
        agree[j] = equal / n
    return agree


def visual_attack(image: np.ndarray) -> float:
    """Westfeld & Pfitzmann's visual attack ("Attacks on Steganographic Systems", IH 1999) as a
    score: the largest drop in smoothness from one bit plane to the plane above it.

    Their attack displays the least significant bit planes: in a natural photo they look like
    noise and each plane up is smoother, while a plane that carries the high bits of another
    image shows that image's shapes. With ``a_j`` the :func:`bit_plane_agreement` of plane
    ``j``, a natural image has ``a_0 <= a_1 <= ... <= a_7`` up to noise; LSB-k replacement
    with an image payload puts the secret's most significant plane at ``j = k - 1`` under the
    cover's noisier plane ``k``.

    Score: ``max_j (a_j - a_j+1)``, about 0 for a cover (a few thousandths either side) and
    tenths for an image payload in the low planes. A random payload leaves the profile
    nearly monotone (its planes have ``a_j ~ 0.5``) and moves the score by thousandths only;
    covers cluster so tightly that even this shift can rank most such stego images above
    them, but the other three detectors are the ones built for that case.
    """
    a = bit_plane_agreement(image)
    return float(np.max(a[:-1] - a[1:]))


#: The classical detectors by the short names ``deepsteg detect`` reports.
CLASSICAL_DETECTORS: dict[str, Callable[[np.ndarray], float]] = {
    "chi2": chi_square_attack,
    "rs": rs_analysis,
    "spa": sample_pairs_analysis,
    "visual": visual_attack,
}
#: The detectors built for a random (encrypted) payload, and the one for an image payload.
RANDOM_PAYLOAD_DETECTORS = ("chi2", "rs", "spa")
IMAGE_PAYLOAD_DETECTORS = ("visual",)


def classical_scores(image: np.ndarray) -> dict[str, float]:
    """Every classical detector's score for one image, ``{"chi2": .., "rs": .., "spa": .., "visual": ..}``."""
    img = as_uint8_rgb(image)
    return {name: fn(img) for name, fn in CLASSICAL_DETECTORS.items()}
