"""glibc malloc settings for DeepSteg's processes (each a no-op where glibc is not the allocator).

A command that hides or reveals a large photo allocates and frees the same few tensors of a
strip thousands of times (:mod:`deepsteg.nets.folded`). glibc serves blocks above its mmap
threshold with fresh mappings that the kernel zeroes page by page, and gives freed heap
memory back above its trim threshold, so every strip faulted its temporaries in again: a
third of a 12-megapixel hide's CPU time went to the kernel. :func:`keep_working_memory` keeps
them in the heap; :func:`limit_arenas` keeps a long-running server's memory flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
#: The largest mmap threshold glibc accepts on 64-bit machines.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20


def _mallopt(option: int, value: int) -> None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(option, value)
    except OSError:
        pass


def keep_working_memory() -> None:
    """Blocks up to 32 MiB from the heap, and up to 256 MiB of freed memory kept for reuse: for a
    command that runs one job and exits (see the module docstring)."""
    _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    _mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def limit_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX`` would): with one arena per worker
    thread, resident memory kept growing under bursts of requests (fragmentation); capped, it
    stays flat (``benchmarks/web_memory.py``). ``DEEPSTEG_MALLOC_ARENAS`` overrides the number
    (0: leave glibc's default)."""
    arenas = int(os.environ.get("DEEPSTEG_MALLOC_ARENAS", arenas) or 0)
    if arenas > 0:
        _mallopt(M_ARENA_MAX, arenas)
