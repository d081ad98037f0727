"""``deepsteg serve``: a web page and HTTP API over hide/reveal (optional ``web`` extra).

This module imports nothing beyond the standard library, so the limits below can be read
without FastAPI installed; the app itself is :func:`deepsteg.web.app.create_app`.
"""

#: Pixel limit (width * height) of each uploaded image; lower than the CLI's, as a server
#: holds several images at once.
MAX_PIXELS = 4_000_000
#: Largest request body accepted (all uploaded files together), in bytes.
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
#: Hide/reveal jobs (decoding + inference + encoding) run at the same time.
MAX_JOBS = 2
#: Upload requests in flight (running or waiting for a job slot); more get 503 at once.
MAX_PENDING = 32
#: Seconds a request waits for a job slot before it gets 503.
QUEUE_TIMEOUT = 120.0
#: Seconds an upload's whole body may take to arrive before it gets 408 (a dripping client).
BODY_TIMEOUT = 60.0
#: Seconds a connection may take to send a request's line and headers before it is closed.
HEADER_TIMEOUT = 10.0
