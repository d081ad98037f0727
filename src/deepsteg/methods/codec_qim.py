"""``codec-qim``: the codec method made to survive a JPEG of the stego image.

``codec-lsbm`` (:mod:`deepsteg.methods.codec`) compresses, encrypts and authenticates the secret
as a careful person would, but its lowest bits vanish in any JPEG. Here the same sealed
message travels where a JPEG keeps it:

1. **Carriers**: the luma DCT coefficients of every 8x8 block (JPEG's own grid), each moved by
   dither modulation (quantisation index modulation, Chen and Wornell 2001) to the nearest
   value whose position within a period of ``step`` grey levels encodes a symbol of ``b``
   bits: ``M = 2**b`` levels, one ``step / M`` apart (Gray-coded, so that a one-level slip
   costs one bit). A JPEG at quality ``q`` moves a coefficient by at most half its
   quantisation step ``t``; the symbol survives while that stays under half a level, so a
   carrier gets ``b = floor(log2(step / (MARGIN * t)))`` bits at the quality it is built for
   (``quality``, default 75) and none where that is below 1. All carriers share one step (for
   a fixed cover cost that carries the most, :meth:`deepsteg.nets.dither.DitherConfig.steps`),
   set by the cover PSNR: ``carriers * step**2 / 12 / 64`` per pixel (:func:`carrier_plan`).
2. **Clipping**: a change that pushes pixels past 0 or 255 is cut; the embedding is repeated on
   the clipped image (:data:`PROJECTIONS` times), which moves the coefficients back to their
   targets wherever the block's other pixels allow.
3. **Errors**: saturated blocks and chroma clipping in the decoder still flip some symbols (a few
   per cent at quality 75). The message is cut into Reed-Solomon codewords of 255 bytes
   (``reedsolo``), and its bits are spread over all the image's carriers by a keyed
   permutation (:class:`~deepsteg.methods.codec.KeyedPermutation`), so a damaged region costs
   every codeword a little rather than one codeword all. A codeword is decoded as read, and
   where that fails, with its bytes from blocks near 0 or 255 (:func:`risky_blocks`) erased.
   The hide picks the fewest parity bytes of :data:`PARITY_LEVELS` with which its own stego
   image, through a real JPEG at ``quality``, still reveals; the reveal tries each level in turn.
4. **Secret**: as large a codec file as the remaining bytes hold (the binary search of
   :func:`~deepsteg.methods.codec.encode_to_fit`), sealed with the passphrase as ``codec-lsbm``
   seals it. Unused carriers take random symbols, so the whole image is changed alike.

Like every digital scheme it has a cliff: a JPEG well below ``quality``, a resize or a crop
flips too many symbols, and the reveal fails the tag check ("no hidden image found") instead of
showing a degraded secret.

Images are uint8 ``(H, W, 3)``; the blocks cover the largest multiple of 8 in each side, the
rest of the cover is left as it is.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass

import numpy as np
import reedsolo

from deepsteg import jpeg
from deepsteg.errors import DeepStegError
from deepsteg.jpeg import BLOCK, LUMA, dct_basis, luma_table, zigzag
from deepsteg.methods import codec
from deepsteg.methods.codec import (
    DEFAULT_CODEC,
    NOT_FOUND,
    OVERHEAD,
    PREFIX,
    CodecLSBM,
    KeyedPermutation,
    encode_to_fit,
    positions_key,
)

#: The lowest JPEG quality the embedding is built to survive, by default.
DEFAULT_QUALITY = 75
#: The cover PSNR (dB) the default steps are set for: the robust model's operating point (the
#: stego images land a little below it, where clipping makes the embedding repeat).
DEFAULT_COVER_PSNR = 33.5
#: A level's half-width over the largest error of one JPEG at the built-for quality: room for
#: a second one (a JPEG file, then a chat app's): the smallest that left no validation pair
#: unrevealed after JPEG 80 then 75 (docs/robustness.md).
MARGIN = 1.8
#: Embedding passes on the clipped image.
PROJECTIONS = 10
#: The cover PSNRs (dB) a hide may aim at: a target is met at the nearest, and a reveal tries
#: its own setting first, then each of these (the steps follow the cover PSNR).
COVER_PSNR_GRID = tuple(float(x) for x in range(30, 46))
#: A block is read as risky (its bytes erased where error correction fails without, :func:`risky_blocks`)
#: when this share of its pixels is within SATURATED levels of 0 or 255.
RISKY_SHARE = 0.25
SATURATED = 5
#: The JPEG qualities a hide checks its stego image through (those at or above the one it is built
#: for, and that one): it promises to survive every quality from its own up, and the errors of a
#: JPEG do not shrink steadily with its quality (tests/test_codec_qim.py checks each one in between).
CHECKED_QUALITIES = (75, 80, 85, 90, 95)
#: Reed-Solomon parity bytes per 255-byte codeword that a hide may use, fewest first.
PARITY_LEVELS = (32, 64, 96, 128, 160, 192, 224)
_CODEWORD = 255
_POSITIONS_SALT = b"deepsteg codec-qim positions v1"


@dataclass(frozen=True)
class CarrierPlan:
    """``step`` (grey levels), the carriers' row-major DCT indices ``(K,)`` and bits ``(K,)``."""

    step: float
    carriers: np.ndarray
    bits: np.ndarray

    @property
    def bits_per_block(self) -> int:
        return int(self.bits.sum())


def carrier_plan(cover_psnr: float, quality: int, margin: float = MARGIN) -> CarrierPlan:
    """The carriers that hold the most bits through a JPEG at ``quality`` at one shared step that
    spends the cover PSNR: the ``K`` most finely quantised coefficients (zigzag order among equals),
    each given the most bits whose levels stay ``margin`` times wider than the JPEG's largest
    error, for the ``K`` (the fewest, among equals) at which every one of them holds a bit and
    the total is largest. More carriers mean a smaller step, so fewer bits each."""
    order = np.array(zigzag())
    table = luma_table(quality)[order]
    order, table = order[np.argsort(table, kind="stable")], np.sort(table, kind="stable")
    mse = 255.0**2 / 10 ** (cover_psnr / 10)
    best: CarrierPlan | None = None
    for k in range(1, BLOCK * BLOCK + 1):
        step = math.sqrt(mse * 12 * BLOCK * BLOCK / k)
        levels = step / (margin * table[:k])
        if levels.min() < 2:
            break  # the k-th carrier holds no bit at this step, nor at any smaller one
        bits = np.floor(np.log2(levels)).astype(int)
        if best is None or bits.sum() > best.bits_per_block:
            best = CarrierPlan(step, order[:k], bits)
    if best is None:
        raise DeepStegError(f"no DCT coefficient can carry a symbol through a JPEG at quality {quality} "
                            f"at a {cover_psnr:g} dB cover: aim at a lower cover PSNR or a higher quality")
    return best


def _blocks(image: np.ndarray) -> tuple[int, int]:
    return image.shape[0] // BLOCK, image.shape[1] // BLOCK


def luma_coefficients(image: np.ndarray, plan: CarrierPlan) -> np.ndarray:
    """``image`` ``(H, W, 3)`` (any real type, 0..255) -> its carriers' luma DCT coefficients
    ``(blocks, K)`` in grey levels, blocks in raster order."""
    rows, cols = _blocks(image)
    y = image[: rows * BLOCK, : cols * BLOCK].astype(np.float64) @ np.array(LUMA)
    blocks = y.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK * BLOCK)
    return blocks @ _basis(plan).T


def _basis(plan: CarrierPlan) -> np.ndarray:
    return dct_basis().double().numpy()[plan.carriers]


def embed_symbols(cover: np.ndarray, symbols: np.ndarray, plan: CarrierPlan) -> np.ndarray:
    """``cover`` uint8 ``(H, W, 3)`` with each block's carriers moved to the phase of its symbol
    ``(blocks, K)`` (ints in ``0 .. 2**bits - 1``); the same change goes to R, G and B. Returns uint8."""
    rows, cols = _blocks(cover)
    basis, levels = _basis(plan), 2.0**plan.bits
    target = (symbols + 0.5) / levels  # phase, in periods
    x = cover.astype(np.float64)
    inner = x[: rows * BLOCK, : cols * BLOCK]
    for _ in range(PROJECTIONS):
        offset = target - luma_coefficients(inner, plan) / plan.step
        change = plan.step * (offset - np.round(offset)) @ basis  # (blocks, 64)
        pixels = change.reshape(rows, cols, BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(rows * BLOCK, cols * BLOCK)
        np.clip(inner + pixels[..., None], 0, 255, out=inner)
    return np.round(x).astype(np.uint8)


def read_symbols(stego: np.ndarray, plan: CarrierPlan) -> np.ndarray:
    """The symbols ``(blocks, K)`` that ``stego`` uint8 ``(H, W, 3)`` carries (the nearest level)."""
    levels = 2**plan.bits
    phase = np.mod(luma_coefficients(stego, plan) / plan.step, 1.0)
    return np.floor(phase * levels).astype(np.int64) % levels


def risky_blocks(image: np.ndarray) -> np.ndarray:
    """Whether each block ``(blocks,)`` of ``image`` uint8 ``(H, W, 3)`` has :data:`RISKY_SHARE`
    or more of its pixels within :data:`SATURATED` levels of 0 or 255 in some channel: there the
    embedding and a JPEG's decoder clip: after a JPEG at quality 75, a tenth to a quarter of such
    blocks' symbols came out wrong, 0-3% of the others' (two validation photos)."""
    rows, cols = _blocks(image)
    inner = image[: rows * BLOCK, : cols * BLOCK]
    near = ((inner <= SATURATED) | (inner >= 255 - SATURATED)).any(-1)
    return near.reshape(rows, BLOCK, cols, BLOCK).mean((1, 3)).reshape(-1) >= RISKY_SHARE


def symbols_to_bits(symbols: np.ndarray, plan: CarrierPlan) -> np.ndarray:
    """Symbols ``(blocks, K)`` -> their bits ``(blocks * bits_per_block,)``, each symbol's Gray
    code high bit first, carriers in order within a block."""
    gray = symbols ^ (symbols >> 1)
    planes = [(gray[:, j:j + 1] >> np.arange(b - 1, -1, -1)) & 1 for j, b in enumerate(plan.bits)]
    return np.concatenate(planes, axis=1).astype(np.uint8).reshape(-1)


def bits_to_symbols(bits: np.ndarray, plan: CarrierPlan) -> np.ndarray:
    """The inverse of :func:`symbols_to_bits`."""
    per_block = bits.reshape(-1, plan.bits_per_block).astype(np.int64)
    out, at = np.empty((per_block.shape[0], len(plan.bits)), np.int64), 0
    for j, b in enumerate(plan.bits):
        gray = (per_block[:, at:at + b] << np.arange(b - 1, -1, -1)).sum(1)
        value, shift = gray.copy(), gray >> 1
        while shift.any():
            value ^= shift
            shift >>= 1
        out[:, j], at = value, at + b
    return out


class CodecQIM(CodecLSBM):
    """Codec + authenticated encryption + Reed-Solomon + dither modulation on JPEG's luma grid
    (the module docstring). ``quality``: the lowest JPEG quality the stego image is made to
    survive; ``cover_psnr``: the cover PSNR the steps are set for."""

    survives_jpeg = True

    def __init__(self, passphrase: bytes | str | None = None, codec: str = DEFAULT_CODEC,
                 cover_psnr: float = DEFAULT_COVER_PSNR, quality: int = DEFAULT_QUALITY, name: str = "codec-qim"):
        if not (isinstance(quality, int) and 1 <= quality <= 100):
            raise DeepStegError(f"JPEG quality must be an integer in 1..100, got {quality!r}")
        super().__init__(passphrase=passphrase, codec=codec, cover_psnr=cover_psnr, name=name)
        self.quality = quality
        self.file_quality: int | None = None  # the JPEG quality the stego image is written at, if it is
        self._positions_key = positions_key(self.passphrase, _POSITIONS_SALT)

    @property
    def lowest_jpeg_quality(self) -> int:  # type: ignore[override]
        return self.quality

    def for_jpeg_file(self, quality: int) -> CodecQIM:
        """The hide's check then runs the JPEG file first, then a JPEG at :attr:`quality`."""
        return self.with_settings(file_quality=quality)

    def plan(self) -> CarrierPlan:
        return carrier_plan(self.cover_psnr, self.quality)

    def _codewords(self, shape: tuple[int, ...]) -> int:
        rows, cols = shape[0] // BLOCK, shape[1] // BLOCK
        return rows * cols * self.plan().bits_per_block // (8 * _CODEWORD)

    def capacity(self, shape: tuple[int, ...], parity: int = PARITY_LEVELS[0]) -> int:
        """Bytes of codec file a cover of ``shape`` takes with ``parity`` bytes per codeword."""
        return self._codewords(shape) * (_CODEWORD - parity) - OVERHEAD

    def _hide(self, cover: np.ndarray, secret: np.ndarray) -> np.ndarray:
        """The fewest parity bytes with which a JPEG of the stego image (of its JPEG file,
        :meth:`for_jpeg_file`) at ``quality`` leaves every codeword needing at most half the
        corrections its parity pays for (headroom for another JPEG on the way), and a JPEG at each
        of :data:`CHECKED_QUALITIES` above it at most three quarters. DeepStegError if none does:
        the hide keeps its promise or makes no stego image."""
        stego = None
        for parity in PARITY_LEVELS:
            budget = self.capacity(cover.shape, parity)
            data = encode_to_fit(secret, self.codec, budget) if budget > 0 else None
            if data is None:
                break
            message = self.seal(data)
            stego = self.embed(cover, message, parity)
            count = math.ceil(len(message) / (_CODEWORD - parity))
            worst = [self._worst_codeword(received, parity, count) for received in self._journeys(stego)]
            limits = [parity // 2] + [3 * parity // 4] * (len(worst) - 1)  # the built-for quality first
            if all(w is not None and w <= limit for w, limit in zip(worst, limits)):
                return stego
        if stego is None:
            raise DeepStegError(f"the secret does not fit: even the lowest {self.codec} quality needs more than "
                                f"{max(self.capacity(cover.shape), 0)} bytes in this {cover.shape[1]}x{cover.shape[0]} "
                                "cover")
        raise DeepStegError(f"{self.name}: at a {self.cover_psnr:g} dB cover this image would not survive every JPEG "
                            f"of quality {self.quality} or more with any error correction; a lower --cover-psnr "
                            "(a stronger embedding) may")

    def _journeys(self, stego: np.ndarray) -> list[np.ndarray]:
        """What the check reads: the stego image through its JPEG file, if any, then a JPEG at
        ``quality`` and at each of :data:`CHECKED_QUALITIES` above it."""
        written = jpeg.roundtrip(stego, self.file_quality) if self.file_quality else stego
        qualities = [self.quality, *(q for q in CHECKED_QUALITIES if q > self.quality)]
        return [jpeg.roundtrip(written, q) for q in qualities]

    def _worst_codeword(self, stego: np.ndarray, parity: int, count: int) -> int | None:
        """The most corrections (errors twice, erasures once: what the parity pays for) in any of
        the first ``count`` codewords ``stego`` carries, or None if one is beyond correction."""
        reading, worst = self._read(stego, self.plan()), 0
        for i in range(count):
            cost = _corrections(reading, self._word_positions(reading, i), parity)
            if cost is None:
                return None
            worst = max(worst, cost)
        return worst

    def _hide_at(self, cover: np.ndarray, secret: np.ndarray, cover_psnr: float, notes: list[str],
                 nearest: bool) -> tuple[np.ndarray, CodecLSBM]:
        """The steps set for the point of :data:`COVER_PSNR_GRID` nearest ``cover_psnr`` (a target
        off the grid's ends is refused unless ``nearest``)."""
        lo, hi = COVER_PSNR_GRID[0], COVER_PSNR_GRID[-1]
        if not lo <= cover_psnr <= hi and not nearest:
            raise DeepStegError(f"{self.name} hides at cover PSNRs from {lo:g} to {hi:g} dB, not {cover_psnr:g}")
        tuned = self.with_settings(cover_psnr=min(COVER_PSNR_GRID, key=lambda x: abs(x - cover_psnr)))
        plan = tuned.plan()
        notes.append(f"{self.name}: steps for {tuned.cover_psnr:g} dB ({plan.step:.1f} grey levels, "
                     f"{plan.bits_per_block} bits per 8x8 block)")
        return tuned._hide(cover, secret), tuned

    def embed(self, cover: np.ndarray, message: bytes, parity: int) -> np.ndarray:
        """``cover`` with ``message`` in Reed-Solomon codewords of ``parity`` parity bytes, its
        bits at the keyed positions, every other carrier random."""
        plan, k = self.plan(), _CODEWORD - parity
        rows, cols = _blocks(cover)
        slots = rows * cols * plan.bits_per_block
        padded = message + codec.random_bytes(-len(message) % k)
        coded = bytes(_reed_solomon(parity).encode(padded))
        if 8 * len(coded) > slots:
            raise DeepStegError(f"the message needs {len(coded)} bytes, the cover holds {slots // 8}")
        bits = np.frombuffer(codec.random_bytes(slots // 8 + 1), np.uint8)
        bits = np.unpackbits(bits)[:slots].copy()
        bits[self._positions(slots, 0, len(coded))] = np.unpackbits(np.frombuffer(coded, np.uint8))
        return embed_symbols(cover, bits_to_symbols(bits, plan), plan)

    def _positions(self, slots: int, first: int, count: int) -> np.ndarray:
        """The carrier bit positions of message bytes ``first .. first + count``: each byte takes
        8 consecutive bits (one or two blocks' symbols, so a wrong symbol costs one byte), the
        bytes spread over the image by the keyed permutation."""
        byte = KeyedPermutation(slots // 8, self._positions_key)(np.arange(first, first + count, dtype=np.uint64))
        return (8 * byte.astype(np.int64)[:, None] + np.arange(8)).reshape(-1)

    def _word_positions(self, reading: Reading, index: int) -> np.ndarray:
        return self._positions(reading.bits.size, _CODEWORD * index, _CODEWORD)

    @staticmethod
    def _read(stego: np.ndarray, plan: CarrierPlan) -> Reading:
        risky = np.repeat(risky_blocks(stego), plan.bits_per_block)
        return Reading(symbols_to_bits(read_symbols(stego, plan), plan), risky)

    def extract(self, stego: np.ndarray) -> bytes:
        """The codec file hidden in ``stego``: this method's steps first, then those of each
        cover PSNR of :data:`COVER_PSNR_GRID`, each with every parity level; DeepStegError if none
        decodes and passes the tag check."""
        for cover_psnr in dict.fromkeys((self.cover_psnr, *COVER_PSNR_GRID)):
            reading = self._read(stego, carrier_plan(cover_psnr, self.quality))
            for parity in PARITY_LEVELS:
                try:
                    return self._extract_at(reading, parity)
                except (reedsolo.ReedSolomonError, DeepStegError):
                    continue
        raise DeepStegError(NOT_FOUND)

    def _extract_at(self, reading: Reading, parity: int) -> bytes:
        k = _CODEWORD - parity

        def codewords(first: int, count: int) -> bytes:
            if 8 * _CODEWORD * (first + count) > reading.bits.size:
                raise DeepStegError(NOT_FOUND)
            return b"".join(_decode(reading, self._word_positions(reading, i), parity)[0]
                            for i in range(first, first + count))

        first = math.ceil(PREFIX / k)  # the codewords that hold the prefix (two at 224 parity bytes)
        head = codewords(0, first)

        def body(n: int) -> bytes:
            end, total = PREFIX + n, math.ceil((PREFIX + n) / k)
            return (head + (codewords(first, total - first) if total > first else b""))[PREFIX:end]

        return self.unseal(head[:PREFIX], body)


@dataclass(frozen=True)
class Reading:
    """A stego image's carrier bits ``(slots,)`` uint8, and whether each lies in a risky block."""

    bits: np.ndarray
    risky: np.ndarray


def _decode(reading: Reading, positions: np.ndarray, parity: int) -> tuple[bytes, int]:
    """The message bytes of the codeword at bit ``positions`` (``(255 * 8,)``), and the corrections
    it took (errors count twice, erasures once: what the parity pays for): decoded as read, or if
    that fails, with its bytes from risky blocks erased. ReedSolomonError if neither decodes."""
    erased = _erasures(reading, positions, parity)
    try:
        return _decode_with(reading, positions, parity, erased[:0])
    except reedsolo.ReedSolomonError:
        if not erased.size:
            raise
        return _decode_with(reading, positions, parity, erased)


def _corrections(reading: Reading, positions: np.ndarray, parity: int) -> int | None:
    """The fewest corrections with which the codeword at ``positions`` decodes, as read or with its
    risky bytes erased; None if it does not decode either way. Erased, it costs at least one
    correction per erasure, so it is tried only where as read costs more (or fails)."""
    erased, cost = _erasures(reading, positions, parity), None
    with contextlib.suppress(reedsolo.ReedSolomonError):
        cost = _decode_with(reading, positions, parity, erased[:0])[1]
    if erased.size and (cost is None or cost > erased.size):
        with contextlib.suppress(reedsolo.ReedSolomonError):
            erased_cost = _decode_with(reading, positions, parity, erased)[1]
            cost = erased_cost if cost is None else min(cost, erased_cost)
    return cost


def _erasures(reading: Reading, positions: np.ndarray, parity: int) -> np.ndarray:
    """The codeword's byte indices from risky blocks (none where there are more of them than
    parity bytes). Erasing them pays where most are wrong: a risky byte costs one correction
    erased, a wrong one two as read."""
    erased = np.flatnonzero(reading.risky[positions].reshape(-1, 8).any(1))
    return erased if erased.size <= parity else erased[:0]


@functools.cache
def _reed_solomon(parity: int) -> reedsolo.RSCodec:
    """The Reed-Solomon codec of 255-byte codewords with ``parity`` parity bytes (made once: its
    generator polynomials take milliseconds to build)."""
    return reedsolo.RSCodec(parity, nsize=_CODEWORD)


def _decode_with(reading: Reading, positions: np.ndarray, parity: int, erased: np.ndarray) -> tuple[bytes, int]:
    """The codeword at ``positions`` decoded with the bytes ``erased`` (indices) erased, and the
    corrections it took; ReedSolomonError if it does not decode."""
    rs = _reed_solomon(parity)
    word = np.packbits(reading.bits[positions]).tobytes()
    message, _, errata = rs.decode(word, erase_pos=erased.tolist() or None)
    return bytes(message), 2 * len(errata) - erased.size

__all__ = ["CarrierPlan", "CodecQIM", "carrier_plan", "embed_symbols", "read_symbols",
           "risky_blocks"]
