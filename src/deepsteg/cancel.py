"""Stopping long work from outside: a job checks, between its steps, whether it should stop.

The web server runs each hide in a worker thread under :func:`stop_when` with a callable that
says whether the client has gone; refinement steps and inference tiles call :func:`check`,
which raises :class:`Cancelled` once it has. The setting is a context variable, so each thread
(each job) has its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from deepsteg.errors import DeepStegError

_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("deepsteg_stop", default=None)


class Cancelled(DeepStegError):
    """The work was stopped because whoever asked for it no longer wants it."""


@contextlib.contextmanager
def stop_when(should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block, :func:`check` raises :class:`Cancelled` once ``should_stop()`` is true."""
    token = _STOP.set(should_stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def check() -> None:
    """Raise :class:`Cancelled` if the current job should stop."""
    should_stop = _STOP.get()
    if should_stop is not None and should_stop():
        raise Cancelled("cancelled: the work is no longer wanted")
