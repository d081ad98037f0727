"""The one text-table and figure helper every report uses (eval, robustness, detect, analyze,
the training curves)."""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from deepsteg.files import atomic_write


def cpu_name() -> str:
    """This machine's processor, as /proc/cpuinfo names it (benchmarks print it with every table)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str] = (),
               title: str | None = None) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned, each as wide
    as its widest cell, a rule under the header, ``notes`` lines after the rows."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines = ([title] if title else []) + [line(header), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + [line(r) for r in rows] + list(notes))


@contextlib.contextmanager
def figure(path: str | Path, dpi: int = 100, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """``with figure(path, figsize=...) as (fig, axes):`` draws with matplotlib's file-only
    backend and, on leaving, lays out, writes ``path`` as PNG (atomically) and frees the figure.
    Keyword arguments go to ``plt.subplots``; ``grid=False`` gives a bare figure (axes None)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if subplots.pop("grid", True):
        fig, axes = plt.subplots(**subplots)
    else:
        fig, axes = plt.figure(figsize=subplots.get("figsize")), None
    try:
        yield fig, axes
        fig.tight_layout()
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    finally:
        plt.close(fig)
