"""Limits on the upload endpoints: request size (413), requests in flight (503), job slots.

:class:`UploadGuard` is plain ASGI middleware in front of ``POST /api/...``: it refuses a
body above the size limit, from its ``Content-Length`` before reading anything, or while
the body streams in when no length is given; it answers 408 to a body that takes longer
than its deadline to arrive (a client dripping bytes cannot hold a slot); and it answers
503 at once when too many upload requests are already in flight, so a burst cannot pile up
request bodies. :func:`header_deadline_protocol` closes a connection whose request headers
take too long (uvicorn has no such timeout of its own).
:class:`JobSlots` bounds how many decode + inference jobs run at the same time, and drops a
job whose client has gone by the time a slot is free. :class:`SecurityHeaders` adds the
headers every answer needs and refuses cross-origin uploads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from deepsteg.cancel import stop_when

T = TypeVar("T")


class Busy(Exception):
    """No job slot became free in time."""


class Gone(Exception):
    """The client went away before its job started: the job is dropped, not run."""


class JobSlots:
    """At most ``max_jobs`` jobs at once; :meth:`run` waits up to ``timeout`` s for a slot."""

    def __init__(self, max_jobs: int, timeout: float):
        if max_jobs < 1:
            raise ValueError("max_jobs must be at least 1")
        self.slots = threading.BoundedSemaphore(max_jobs)
        self.timeout = timeout

    def run(self, fn: Callable[..., T], *args: Any, gone: Callable[[], bool] | None = None) -> T:
        """Call ``fn(*args)`` in the calling (worker) thread once a slot is free, unless
        ``gone()`` says by then that the client has left (then :class:`Gone`); while it runs, long
        work (refinement steps, inference tiles) stops as soon as ``gone()`` says so
        (:class:`deepsteg.cancel.Cancelled`)."""
        if not self.slots.acquire(timeout=self.timeout):
            raise Busy(f"server busy: no free slot within {self.timeout:g} s, retry shortly")
        try:
            if gone is not None and gone():
                raise Gone("the client left before its job started")
            with stop_when(gone):
                return fn(*args)
        finally:
            self.slots.release()


class InFlight:
    """A thread-safe count of upload requests in flight, capped at ``limit``."""

    def __init__(self, limit: int):
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.count -= 1


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def send_json(send: Callable, status: int, detail: str, headers: tuple = ()) -> None:
    """Send a complete ``{"detail": ...}`` JSON response on a raw ASGI ``send``."""
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class UploadGuard:
    """ASGI middleware: body size limit and in-flight cap on ``POST`` under ``prefix``."""

    def __init__(self, app: Callable, max_body: int, in_flight: InFlight, prefix: str = "/api/",
                 body_timeout: float = 60.0):
        self.app = app
        self.body_timeout = body_timeout
        self.max_body = max_body
        self.in_flight = in_flight
        self.prefix = prefix

    def _too_large(self, size: int | None = None) -> str:
        what = f"upload of {size:,} bytes" if size is not None else "upload"
        return f"{what} is above the limit of {self.max_body:,} bytes"

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_json(send, 400, "invalid Content-Length header")
                return
            if int(length) > self.max_body:
                await send_json(send, 413, self._too_large(int(length)))
                return
        if not self.in_flight.enter():
            await send_json(send, 503, "server busy: too many requests in flight, retry shortly",
                            ((b"retry-after", b"5"),))
            return
        state = {"received": 0, "over": False, "slow": False, "started": False}
        deadline = time.monotonic() + self.body_timeout

        async def counted_receive() -> dict:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                state["slow"] = True
                raise _TooSlow from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body:
                    state["over"] = True
                    raise _TooLarge
            return message

        async def guarded_send(message: dict) -> None:
            if state["over"] or state["slow"]:
                return  # the app's answer to the aborted body is replaced by our 413 or 408
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except (_TooLarge, _TooSlow):
            pass
        except Exception:
            if not (state["over"] or state["slow"]):
                raise
        finally:
            self.in_flight.leave()
        if state["over"] and not state["started"]:
            await send_json(send, 413, self._too_large())
        elif state["slow"] and not state["started"]:
            await send_json(send, 408, f"upload too slow: the body did not arrive within {self.body_timeout:g} s",
                            ((b"connection", b"close"),))


#: Headers every response carries: no MIME sniffing, no framing by other sites, no referrer.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
#: The Content-Security-Policy of responses that set none themselves (API answers).
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every response, a strict CSP where the app
    set none, and ``POST`` requests from another origin refused (403): a page elsewhere cannot
    make a visitor's browser use this server."""

    def __init__(self, app: Callable):
        self.app = app

    @staticmethod
    def _cross_origin(scope: dict) -> bool:
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is None:  # not sent by a browser form or fetch from another page
            return False
        host = headers.get(b"host", b"").decode("latin-1")
        return origin.decode("latin-1").split("://", 1)[-1] != host

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] == "POST" and self._cross_origin(scope):
            await send_json(with_headers, 403, "cross-origin request refused")
            return
        await self.app(scope, receive, with_headers)


def header_deadline_protocol(seconds: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose request line and headers have not all
    arrived ``seconds`` after it opened or after its last response (a slow-header client)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _waiting_after: object = None  # the request cycle before the one whose headers are awaited

        def _start_deadline(self) -> None:
            self._stop_deadline()
            self._waiting_after = self.cycle
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            if not self.transport.is_closing():
                with contextlib.suppress(h11.LocalProtocolError):
                    self.conn.send(h11.ConnectionClosed())
                self.transport.close()

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_deadline()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self._deadline is not None and self.cycle is not self._waiting_after:
                self._stop_deadline()  # a new request's headers are all in

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._start_deadline()  # first: the call below may already read the next request's headers
            super().on_response_complete()

    return HeaderDeadline
