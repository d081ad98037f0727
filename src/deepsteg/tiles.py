"""Boxes ``(y0, y1, x0, x1)`` for processing an image in tiles (networks say where their tiles
may start, :meth:`deepsteg.nets.Network.tile_edges`; methods cut images with them)."""

from __future__ import annotations

from collections.abc import Callable

Box = tuple[int, int, int, int]


def grow_box(box: Box, by: int, h: int, w: int) -> Box:
    """``box`` grown by ``by`` pixels on every side, clipped to an ``h`` x ``w`` image."""
    y0, y1, x0, x1 = box
    return max(0, y0 - by), min(h, y1 + by), max(0, x0 - by), min(w, x1 + by)


def tile_boxes(h: int, w: int, tile: int, margin: int,
               edges: Callable[[int, int], list[int]] | None = None) -> list[tuple[Box, Box]]:
    """Tiles covering an ``h`` x ``w`` image in raster order: ``(outer, inner)`` boxes;
    ``outer`` is ``inner`` grown by ``margin`` (clipped to the image). ``edges(length, tile)``:
    where tiles start along a side, and ``length`` at the end (a network's ``tile_edges``);
    by default :func:`every_tile`."""
    if edges is None:
        edges = every_tile
    rows, cols = edges(h, tile), edges(w, tile)
    inner = [(y0, y1, x0, x1) for y0, y1 in zip(rows, rows[1:]) for x0, x1 in zip(cols, cols[1:])]
    return [(grow_box(b, margin, h, w), b) for b in inner]


def every_tile(length: int, tile: int) -> list[int]:
    """Tiles start every ``tile`` pixels along a side of ``length``; ``length`` ends the list."""
    return [*range(0, length, tile), length]
