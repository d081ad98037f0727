"""Syndrome-trellis codes (STC): embed a message while changing the cheapest cover values.

Filler, Judas and Fridrich, "Minimizing Additive Distortion in Steganography Using
Syndrome-Trellis Codes", IEEE TIFS 2011. The receiver reads the message as the syndrome
``H y`` (mod 2) of the stego values' lowest bits ``y``; the sender picks, among all ``y``
with that syndrome, the one of least total cost, by the Viterbi algorithm over a trellis of
``2**h`` states. ``H`` is a band matrix: one message bit per block of about ``n / m`` cover
bits, each cover bit's column a copy of a fixed ``h``-bit pattern (its lowest bit set: it
touches its own message bit; its highest set: it reaches ``h - 1`` bits further).

Long covers are cut into segments of at most :data:`SEGMENT` values, each carrying its
share of the message, so the trellis's memory stays bounded (``SEGMENT * 2**h`` bits).
The layout depends only on ``n``, ``m`` and ``h``: the receiver needs nothing else.

:func:`embed_lsb` is binary embedding with ternary freedom: where a value's lowest bit must
change, it moves by whichever of +1 and -1 costs less.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: The constraint height: 2**h trellis states; a higher h embeds closer to the bound, slower (with
#: HILL's costs at 0.1 bits per value: h = 8, 10, 12 reach 84%, 88%, 91% of the bound's efficiency).
DEFAULT_HEIGHT = 12
#: Cover values per trellis segment (bounds the path memory to SEGMENT * 2**h bits a thread).
SEGMENT = 1 << 17
#: A cost that no embedding pays unless it must (a value that cannot move that way).
WET = 1e10
_PATTERN_SEED = 0x57C0


def patterns(h: int, count: int) -> np.ndarray:
    """``count`` fixed column patterns of ``h`` bits, lowest and highest bit set (uint32 ``(count,)``)."""
    rng = np.random.default_rng(_PATTERN_SEED + h)
    middle = rng.integers(0, 1 << max(h - 2, 0), size=count, dtype=np.int64) << 1
    return (middle | 1 | (1 << (h - 1))).astype(np.uint32)


def _block_ends(n: int, m: int) -> np.ndarray:
    """The exclusive end of each of the ``m`` blocks of ``n`` values: widths differ by at most one."""
    return ((np.arange(1, m + 1, dtype=np.int64) * n) // m).astype(np.int64)


def _viterbi(lsb, cost, message, ends, columns, h):  # pragma: no cover - compiled
    states = 1 << h
    words = (states + 63) // 64
    n = lsb.size
    path = np.zeros((n, words), dtype=np.uint64)
    w = np.full(states, np.inf)
    w[0] = 0.0
    nw = np.empty(states)
    i = 0
    for j in range(message.size):
        k = 0
        while i < ends[j]:
            c = columns[k]
            w0 = cost[i] if lsb[i] == 1 else 0.0  # y = 0
            w1 = cost[i] if lsb[i] == 0 else 0.0  # y = 1
            for word in range(words):
                acc = np.uint64(0)
                base = word << 6
                for t in range(min(64, states)):
                    s = base + t
                    a = w[s] + w0
                    b = w[s ^ c] + w1
                    take = b < a
                    nw[s] = b if take else a
                    acc |= np.uint64(take) << np.uint64(t)
                path[i, word] = acc
            w, nw = nw, w
            i += 1
            k += 1
        bit = message[j]
        half = states >> 1
        for s in range(half):
            nw[s] = w[(s << 1) | bit]
        for s in range(half, states):
            nw[s] = np.inf
        w, nw = nw, w
    s = int(np.argmin(w))
    y = np.empty(n, dtype=np.uint8)
    for j in range(message.size - 1, -1, -1):
        s = ((s << 1) | message[j]) & (states - 1)
        start = ends[j - 1] if j > 0 else 0
        for i in range(ends[j] - 1, start - 1, -1):
            bit = (path[i, s >> 6] >> np.uint64(s & 63)) & np.uint64(1)
            y[i] = bit
            if bit:
                s ^= columns[i - start]
    return y


def _syndrome(lsb, ends, columns):  # pragma: no cover - compiled
    message = np.empty(ends.size, dtype=np.uint8)
    s = 0
    i = 0
    for j in range(ends.size):
        k = 0
        while i < ends[j]:
            if lsb[i]:
                s ^= columns[k]
            i += 1
            k += 1
        message[j] = s & 1
        s >>= 1
    return message


@functools.cache
def _compiled():
    """The trellis and the syndrome, compiled by numba on first use (importing numba costs 0.4 s, which
    a command that never embeds should not pay); both release the GIL."""
    from numba import njit

    return njit(cache=True, nogil=True)(_viterbi), njit(cache=True, nogil=True)(_syndrome)


def _segments(n: int, m: int) -> list[tuple[int, int, int, int]]:
    """``(start, stop, message start, message stop)`` of each segment: equal lengths, the message
    shared in proportion."""
    count = max(1, -(-n // SEGMENT))
    cuts = [n * k // count for k in range(count + 1)]
    shares = [m * k // count for k in range(count + 1)]
    return [(cuts[k], cuts[k + 1], shares[k], shares[k + 1]) for k in range(count)]


def _check(n: int, m: int) -> None:
    if m < 0 or 2 * m > n:
        raise ValueError(f"an STC carries at most one message bit per two cover values: {m} bits in {n}")


def embed(lsb: np.ndarray, cost: np.ndarray, message: np.ndarray, h: int = DEFAULT_HEIGHT) -> np.ndarray:
    """The cheapest bits ``y`` (uint8 ``(n,)``, 0/1) whose syndrome is ``message``.

    ``lsb``: the cover's bits, uint8 ``(n,)``; ``cost``: the cost of changing each, float
    ``(n,)`` (>= 0; :data:`WET` for a bit that should stay); ``message``: uint8 ``(m,)`` bits,
    at most ``n / 2`` of them.
    """
    lsb = np.ascontiguousarray(lsb, dtype=np.uint8)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    message = np.ascontiguousarray(message, dtype=np.uint8)
    _check(lsb.size, message.size)
    y = lsb.copy()

    def run(segment: tuple[int, int, int, int]) -> None:
        a, b, ma, mb = segment
        if mb > ma:
            ends = _block_ends(b - a, mb - ma)
            columns = patterns(h, int(np.diff(ends, prepend=0).max()))
            y[a:b] = _compiled()[0](lsb[a:b], cost[a:b], message[ma:mb], ends, columns, h)

    segments = _segments(lsb.size, message.size)
    if len(segments) == 1:
        run(segments[0])
    else:  # the trellis releases the GIL: segments run side by side
        with ThreadPoolExecutor(max_workers=min(len(segments), os.cpu_count() or 1)) as pool:
            list(pool.map(run, segments))
    return y


def extract(lsb: np.ndarray, m: int, h: int = DEFAULT_HEIGHT) -> np.ndarray:
    """The ``m`` message bits (uint8 ``(m,)``) that :func:`embed` put in bits ``lsb`` (uint8 ``(n,)``)."""
    lsb = np.ascontiguousarray(lsb, dtype=np.uint8) & 1
    _check(lsb.size, m)
    parts = []
    for a, b, ma, mb in _segments(lsb.size, m):
        if mb > ma:
            ends = _block_ends(b - a, mb - ma)
            parts.append(_compiled()[1](lsb[a:b], ends, patterns(h, int(np.diff(ends, prepend=0).max()))))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)


def embed_lsb(values: np.ndarray, cost_plus: np.ndarray, cost_minus: np.ndarray, message: np.ndarray,
              h: int = DEFAULT_HEIGHT) -> np.ndarray:
    """uint8 ``values`` ``(n,)`` whose lowest bits carry ``message`` (:func:`extract` reads it), each
    changed value moved by +1 or -1, whichever of ``cost_plus`` and ``cost_minus`` (float ``(n,)``)
    is lower; a move out of 0..255 must cost :data:`WET`."""
    v = values.astype(np.int16)
    plus_cheaper = cost_plus <= cost_minus
    y = embed(v & 1, np.where(plus_cheaper, cost_plus, cost_minus), message, h)
    step = np.where(plus_cheaper, 1, -1).astype(np.int16)
    out = np.where(y != (v & 1), v + step, v)
    if out.min() < 0 or out.max() > 255:
        raise ValueError("a value left 0..255: its move must cost WET")
    return out.astype(np.uint8)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H(p) in bits, elementwise (0 at p = 0 or 1)."""
    p = np.clip(p, 1e-300, 1.0)
    q = np.clip(1.0 - p, 1e-300, 1.0)
    return -(p * np.log2(p) + q * np.log2(q))


def bound_distortion(cost: np.ndarray, m: int) -> float:
    """The least expected cost of carrying ``m`` bits in binary values with change costs ``cost``
    (the rate-distortion bound: change probabilities ``1 / (1 + exp(lambda * cost))``, ``lambda``
    set so their entropies add up to ``m``)."""
    cost = np.asarray(cost, dtype=np.float64)

    def flips(lam: float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(np.minimum(lam * cost, 700.0)))

    lo, hi = 0.0, 1.0
    while binary_entropy(flips(hi)).sum() > m:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if binary_entropy(flips(mid)).sum() > m else (lo, mid)
    return float((flips(hi) * cost).sum())
