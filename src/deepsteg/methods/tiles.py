"""Boxes ``(y0, y1, x0, x1)`` for processing an image in tiles."""

from __future__ import annotations

Box = tuple[int, int, int, int]


def grow_box(box: Box, by: int, h: int, w: int) -> Box:
    """``box`` grown by ``by`` pixels on every side, clipped to an ``h`` x ``w`` image."""
    y0, y1, x0, x1 = box
    return max(0, y0 - by), min(h, y1 + by), max(0, x0 - by), min(w, x1 + by)


def tile_boxes(h: int, w: int, tile: int, margin: int) -> list[tuple[Box, Box]]:
    """Tiles covering an ``h`` x ``w`` image in raster order: ``(outer, inner)`` boxes;
    ``outer`` is ``inner`` grown by ``margin`` (clipped to the image)."""
    inner = [(y, min(h, y + tile), x, min(w, x + tile)) for y in range(0, h, tile) for x in range(0, w, tile)]
    return [(grow_box(b, margin, h, w), b) for b in inner]
