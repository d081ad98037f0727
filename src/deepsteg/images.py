"""Reading and writing images: one list of accepted raster formats, upright RGB arrays, PNG out.

Images in memory are ``uint8`` arrays ``(H, W, 3)`` (RGB, 0-255). Inputs are decoded from
:data:`RASTER_FORMATS` only, turned upright by their EXIF orientation and converted to
8-bit RGB; outputs are written as 8-bit PNG through :func:`deepsteg.files.atomic_write`.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from deepsteg.errors import DeepStegError
from deepsteg.files import atomic_write

#: Default pixel limit (width * height) for any input image: guards against decompression bombs.
DEFAULT_MAX_PIXELS = 64_000_000
MIN_SIDE = 2
#: The raster formats an input may be in (Pillow's names). Nothing else is opened: no vector
#: or document formats (EPS would reach Ghostscript), no exotic containers.
RASTER_FORMATS = ("PNG", "JPEG", "WEBP", "AVIF", "BMP", "TIFF", "GIF", "PPM", "TGA")
_PIL_LIMIT = threading.Lock()


def _allow_pixels(n: int) -> None:
    """Let Pillow's own bomb guard pass images up to ``n`` pixels. The guard is a process-wide
    setting, so it is only ever raised (under a lock), never switched off: our ``max_pixels``
    check is the limit that applies."""
    with _PIL_LIMIT:
        if Image.MAX_IMAGE_PIXELS is not None and n > Image.MAX_IMAGE_PIXELS:
            Image.MAX_IMAGE_PIXELS = n


def _to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Greyscale, palette, 16-bit, CMYK and alpha images -> 8-bit RGB (alpha dropped)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        notes.append("alpha channel dropped")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)  # 16-bit samples (Pillow reads them as I;16 or I)
        im = Image.fromarray(np.clip(np.round(a * (255.0 / 65535.0)), 0, 255).astype(np.uint8))
    elif im.mode == "F":
        a = np.asarray(im, dtype=np.float64)
        im = Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8))
    return im.convert("RGB")


def read_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS,
               notes: list[str] | None = None) -> np.ndarray:
    """Read an image file in one of :data:`RASTER_FORMATS` as a ``uint8`` array ``(H, W, 3)``,
    turned upright as its EXIF orientation says.

    Raises :class:`DeepStegError` with a one-line reason for a missing file, a folder, an
    empty, truncated, damaged or non-raster file, an image smaller than 2x2 or above
    ``max_pixels``. Conversions (alpha dropped, rotated, first frame of an animation, ...)
    are appended to ``notes`` when given.
    """
    p = Path(path)
    if not p.exists():
        raise DeepStegError(f"{p}: no such file")
    if p.is_dir():
        raise DeepStegError(f"{p}: is a directory, not an image")
    if p.stat().st_size == 0:
        raise DeepStegError(f"{p}: empty file")
    notes = notes if notes is not None else []
    _allow_pixels(max_pixels)
    try:
        with Image.open(p, formats=RASTER_FORMATS) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise DeepStegError(
                    f"{p}: {w}x{h} = {w * h:,} pixels is above the limit of {max_pixels:,} "
                    "(raise it with --max-pixels)")
            if min(w, h) < MIN_SIDE:
                raise DeepStegError(f"{p}: {w}x{h} image is too small (at least {MIN_SIDE}x{MIN_SIDE})")
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                notes.append(f"first of {frames} frames used")
            im.load()
            upright = _upright(im, notes)
            arr = np.asarray(_to_rgb(upright, notes), dtype=np.uint8)
    except DeepStegError:
        raise
    except UnidentifiedImageError:
        raise DeepStegError(f"{p}: not an image file in a supported format ({', '.join(RASTER_FORMATS)})") from None
    except Image.DecompressionBombError:
        raise DeepStegError(f"{p}: more pixels than the limit of {max_pixels:,} (raise it with --max-pixels)") from None
    except Exception as e:  # any decoder failure on a damaged file is the file's fault: one line
        raise DeepStegError(f"{p}: cannot decode image ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return np.ascontiguousarray(arr)


def _upright(im: Image.Image, notes: list[str]) -> Image.Image:
    """``im`` turned as its EXIF orientation tag says (phone photos), with a note."""
    orientation = im.getexif().get(ExifTags.Base.Orientation, 1)
    if not isinstance(orientation, int) or not 2 <= orientation <= 8:  # 1 (or a bad tag): as stored
        return im
    notes.append(f"turned upright (EXIF orientation {orientation})")
    return ImageOps.exif_transpose(im)


def as_uint8_rgb(image: np.ndarray | Image.Image) -> np.ndarray:
    """A PIL image or array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` -> uint8 ``(H, W, 3)``."""
    if isinstance(image, Image.Image):
        return np.asarray(_to_rgb(image, []), dtype=np.uint8)
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise DeepStegError(f"expected a uint8 image array, got dtype {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise DeepStegError(f"expected an image array (H, W, 3), got shape {a.shape}")
    if min(a.shape[:2]) < MIN_SIDE:
        raise DeepStegError(f"image {a.shape[1]}x{a.shape[0]} is too small")
    return np.ascontiguousarray(a[:, :, :3])


#: zlib level of the PNGs DeepSteg writes: level 4 deflates a stego photo about 2.5x faster than
#: Pillow's default 6 into a file within a few percent of its size (benchmarks/speed.py, "png" rows).
PNG_COMPRESS_LEVEL = 4


def encode_png(array: np.ndarray) -> bytes:
    """A uint8 ``(H, W, 3)`` array as the bytes of an 8-bit RGB PNG."""
    buf = io.BytesIO()
    Image.fromarray(as_uint8_rgb(array), "RGB").save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def write_png(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 ``(H, W, 3)`` array as an 8-bit RGB PNG, atomically."""
    data = encode_png(array)

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return atomic_write(path, write)


def png_roundtrip(array: np.ndarray) -> np.ndarray:
    """Encode a uint8 image as PNG in memory and decode it again (what a saved file gives)."""
    return np.asarray(Image.open(io.BytesIO(encode_png(array))).convert("RGB"))


def resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a uint8 ``(H, W, 3)`` image to ``size = (W, H)`` with Lanczos filtering."""
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
